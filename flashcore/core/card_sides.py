"""What one card shows: its front, its back and its extra, from its note's fields. Pure, and
the one place the reviewer, `due` and `cards` take card text from, so they agree.

Text of an `html` deck (Anki packages, TOML decks with `html = true`) is read as HTML and
becomes terminal text with style marks (`core.html_text`); other text is shown as written.
"""

from __future__ import annotations

from dataclasses import dataclass

from flashcore.core import cloze
from flashcore.core.html_text import image_names, strip_marks, to_terminal
from flashcore.core.model import basic_sides


@dataclass(frozen=True, slots=True)
class Sides:
    front: list[cloze.Segment]
    back: list[cloze.Segment]
    extra: str
    images: tuple[str, ...]  # media names the card's fields show, in order, each once

    @property
    def front_plain(self) -> str:
        return strip_marks("".join(s.text for s in self.front))


def _shown(value: str, html: bool) -> str:
    return to_terminal(value, marks=True) if html else strip_marks(value)


def card_sides(kind: str, fields: dict[str, str], ordinal: int, *, html: bool) -> Sides:
    if kind == "cloze":
        raw = [fields.get("text", ""), fields.get("extra", "")]
        text = _shown(raw[0], html)
        front = cloze.render(text, ordinal, reveal=False)
        back = cloze.render(text, ordinal, reveal=True)
        extra = _shown(raw[1], html)
    else:
        raw = list(basic_sides(fields, ordinal))
        front = [cloze.Segment(_shown(raw[0], html))]
        back = [cloze.Segment(_shown(raw[1], html), "answer")]
        extra = _shown(raw[2], html)
    images: dict[str, None] = {}
    if html:
        for value in raw:
            images.update(dict.fromkeys(n for n in image_names(value) if n))
    return Sides(front, back, extra, tuple(images))


def front_preview(kind: str, fields: dict[str, str], ordinal: int, *, html: bool) -> str:
    """The card's front as one line of plain text (for listings)."""
    text = card_sides(kind, fields, ordinal, html=html).front_plain
    return " ".join(text.split())
