"""Card text, rendered safely: a `rich.text.Text` built from cloze segments, never markup.

`[bold]`, `[@click=app.quit]`, `{{c1::...}}` left in plain words and HTML tags all show
literally. Control characters (C0 except newline and tab, DEL, C1: the bytes behind ESC, CSI
and OSC sequences) are stripped at render time so a card cannot drive the terminal.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from rich.text import Text

from flashcore.core.cloze import Segment
from flashcore.core.html_text import Style, last_style, split_marks

_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")

ROLE_STYLES = {
    "text": "",
    "blank": "bold yellow",
    "answer": "bold cyan",
}


def clean(text: str) -> str:
    """`text` without control characters (newlines and tabs are kept; CRLF becomes LF)."""
    return _CONTROL.sub("", text.replace("\r\n", "\n"))


MARK_STYLES = {
    Style.BOLD: "bold",
    Style.ITALIC: "italic",
    Style.UNDERLINE: "underline",
    Style.IMAGE: "magenta",
}


def _mark_style(style: Style) -> str:
    return " ".join(name for flag, name in MARK_STYLES.items() if flag in style)


def shorten_topic(path: str, width: int) -> str:
    """Keep the most specific end of a topic path: `…::Hypersensitivity::Type I`."""
    path = clean(path).replace("\n", " ")
    if len(path) <= width:
        return path
    parts = path.split("::")
    while len(parts) > 1:
        parts = parts[1:]
        candidate = "…::" + "::".join(parts)
        if len(candidate) <= width:
            return candidate
    leaf = "…::" + parts[-1] if "::" in path else path
    return leaf[: max(1, width - 1)] + "…"  # the leaf's start: "…::Sensitivity and spe…"


def render_segments(segments: Iterable[Segment], *, base_style: str = "") -> Text:
    """One `Text` for a card side; each segment styled by its role, its text verbatim. Text
    converted from HTML carries style marks (core.html_text): bold, italics, underline and
    image placeholders are styled from them, the marks themselves never shown."""
    text = Text(style=base_style, overflow="fold", no_wrap=False)
    style = Style.PLAIN
    for segment in segments:
        role = ROLE_STYLES.get(segment.role, "")
        for run, run_style in split_marks(segment.text, style):
            text.append(clean(run), style=" ".join(p for p in (role, _mark_style(run_style)) if p))
        style = last_style(segment.text, style)
    return text


def render_plain(value: str, *, style: str = "") -> Text:
    return render_segments([Segment(value)], base_style=style)


def same_text(shown: Text | None, text: Text) -> bool:
    """Whether `text` would draw exactly what `shown` draws (characters, styles, base style)."""
    return (
        shown is not None
        and shown.plain == text.plain
        and shown.style == text.style
        and shown.spans == text.spans
    )
