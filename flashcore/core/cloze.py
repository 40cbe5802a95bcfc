"""Cloze deletions: `{{c1::answer}}` or `{{c1::answer::hint}}`; one card per number."""

from __future__ import annotations

import re
from dataclasses import dataclass

_CLOZE = re.compile(r"\{\{c(\d+)::(.*?)(?:::(.*?))?\}\}", re.DOTALL)


@dataclass(frozen=True, slots=True)
class Segment:
    """A piece of rendered cloze text. `role` is `text`, `blank` or `answer`."""

    text: str
    role: str = "text"


def ordinals(text: str) -> list[int]:
    """The deletion numbers in a cloze text, sorted and unique (each is one card)."""
    return sorted({int(m.group(1)) for m in _CLOZE.finditer(text) if int(m.group(1)) > 0})


def render(text: str, ordinal: int, *, reveal: bool) -> list[Segment]:
    """Segments for card `ordinal`: its deletion is `[...]` (or `[hint]`) on the front and the
    highlighted answer on the back; the other deletions are shown filled."""
    out: list[Segment] = []
    pos = 0
    for m in _CLOZE.finditer(text):
        if m.start() > pos:
            out.append(Segment(text[pos : m.start()]))
        number, answer, hint = int(m.group(1)), m.group(2), m.group(3)
        if number != ordinal:
            out.append(Segment(answer))
        elif reveal:
            out.append(Segment(answer, "answer"))
        else:
            out.append(Segment(f"[{hint}]" if hint else "[...]", "blank"))
        pos = m.end()
    if pos < len(text):
        out.append(Segment(text[pos:]))
    return out


def render_plain(text: str, ordinal: int, *, reveal: bool) -> str:
    return "".join(s.text for s in render(text, ordinal, reveal=reveal))
