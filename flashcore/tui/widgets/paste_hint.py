"""The clipboard commands that paste today's incorrect questions into `flashcore qbank import -`,
one line per platform (Home's first-run note and the empty weakness screen show them)."""

from __future__ import annotations

from rich.text import Text

from flashcore.core.clipboard import CLIPBOARD_COMMANDS, IMPORT_PASTE


def paste_text() -> Text:
    """`  macOS    pbpaste | flashcore qbank import -`, one line each (each starts with a
    newline)."""
    width = max(len(name) for name, _ in CLIPBOARD_COMMANDS) + 2
    text = Text()
    for name, command in CLIPBOARD_COMMANDS:
        text.append(f"\n  {name:<{width}}", style="dim")
        text.append(f"{command} | {IMPORT_PASTE}", style="bold cyan")
    return text
