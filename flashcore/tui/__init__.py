"""The review app (Textual): `flashcore review` opens it through `flashcore.tui.run`."""
