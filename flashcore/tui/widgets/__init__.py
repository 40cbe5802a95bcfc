"""Reusable widgets. Card text is always a `rich.text.Text`, never markup."""
