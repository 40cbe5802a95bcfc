"""How a student pastes today's incorrect questions into `flashcore qbank import -`: the
command that prints the clipboard on each platform (shown by Home, the weakness screen and
`qbank import --help`)."""

from __future__ import annotations

IMPORT_PASTE = "flashcore qbank import -"

# (platform, command that prints the clipboard); X11's xclip reads the copied text with
# `-selection clipboard` (without it, the mouse selection).
CLIPBOARD_COMMANDS: tuple[tuple[str, str], ...] = (
    ("macOS", "pbpaste"),
    ("Linux", "xclip -o -selection clipboard"),
    ("Wayland", "wl-paste"),
    ("Windows", "Get-Clipboard"),
)


def paste_lines(indent: str = "  ") -> list[str]:
    """One line per platform: `macOS    pbpaste | flashcore qbank import -`."""
    width = max(len(name) for name, _ in CLIPBOARD_COMMANDS)
    return [f"{indent}{name:<{width}}  {cmd} | {IMPORT_PASTE}" for name, cmd in CLIPBOARD_COMMANDS]
