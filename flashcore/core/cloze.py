"""Cloze deletions: `{{c1::answer}}` or `{{c1::answer::hint}}`; one card per number.

Deletions may nest, as in Anki (2.1.56 and later): `Outer {{c1::inner {{c2::nested}} text}}`
makes two cards. Card c1 hides the whole c1 deletion, c2's text with it (`Outer [...]`); card
c2 hides only c2 and shows c1's text (`Outer inner [...] text`). On the back the card's own
deletion is the highlighted answer and every other deletion shows its text. Inside a deletion
the first `::` of a run of its own text starts the hint, as Anki reads it.

A `}}` with no deletion open is plain text (LaTeX and code use it). The loaders refuse what
Anki would silently drop or misread (`problems`): a `{{cN::` that is never closed, a number
outside 1 to MAX_ORDINAL, deletions nested more than MAX_DEPTH deep. Text stored before those
checks still renders: an unclosed or too deeply nested opening is shown as it is written.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

MAX_ORDINAL = 999  # c1 to c999: one card each (Anki's own limit is higher; no deck needs it)
MAX_DEPTH = 10  # deletions inside deletions (Anki ignores openings beyond ten)
_TOKEN = re.compile(r"\{\{c(\d+)::|\}\}")
_HINT = "::"


@dataclass(frozen=True, slots=True)
class Segment:
    """A piece of rendered cloze text. `role` is `text`, `blank` or `answer`."""

    text: str
    role: str = "text"


@dataclass(frozen=True, slots=True)
class Deletion:
    """One `{{cN::...}}`: its number (-1 when too long to be one), what it holds (text and
    nested deletions, in order) and its hint."""

    number: int
    parts: tuple[str | Deletion, ...]
    hint: str | None = None
    start: int = 0  # where `{{cN::` begins in the text


Node = str | Deletion


def _number(digits: str) -> int:
    return int(digits) if len(digits) <= 6 else -1


@dataclass(slots=True)
class _Open:
    number: int
    start: int
    parts: list[Node]
    hint: str | None = None


def _pairs(text: str) -> tuple[set[int], list[str]]:
    """Positions of the tokens that open and close deletions (an opening closed within
    MAX_DEPTH, and its `}}`), and the problems."""
    problems: list[str] = []
    stack: list[re.Match[str]] = []
    closed: set[int] = set()
    too_deep = False
    for token in _TOKEN.finditer(text):
        if token.group(1) is not None:
            stack.append(token)
            too_deep |= len(stack) > MAX_DEPTH
        elif stack:
            opening = stack.pop()
            if len(stack) < MAX_DEPTH:
                closed.update((opening.start(), token.start()))
    if too_deep:
        problems.append(f"cloze deletions nested more than {MAX_DEPTH} deep")
    for opening in stack:
        problems.append(f"unclosed cloze deletion {_quote(opening.group())} (no matching }}}})")
    return closed, problems


def _quote(token: str) -> str:
    return repr(token if len(token) <= 20 else token[:12] + "…::")


def parse(text: str) -> list[Node]:
    """The text as plain runs and deletions (see the module's docstring)."""
    closed, _ = _pairs(text)
    return _parse(text, closed)


def _parse(text: str, closed: set[int]) -> list[Node]:
    root: list[Node] = []
    stack: list[_Open] = []
    pos = 0

    def add_text(run: str) -> None:
        if not run:
            return
        if stack:
            top = stack[-1]
            head, sep, tail = run.partition(_HINT)
            if head:
                top.parts.append(head)
            if sep:
                top.hint = tail
        else:
            root.append(run)

    for token in _TOKEN.finditer(text):
        if token.start() not in closed:
            continue  # an unclosed or too deep opening, a stray `}}`: text as written
        add_text(text[pos : token.start()])
        pos = token.end()
        if token.group(1) is not None:
            stack.append(_Open(_number(token.group(1)), token.start(), []))
        else:
            done = stack.pop()
            node = Deletion(done.number, tuple(done.parts), done.hint, done.start)
            (stack[-1].parts if stack else root).append(node)
    add_text(text[pos:])
    return root


def _deletions(nodes: list[Node] | tuple[Node, ...]) -> list[Deletion]:
    found: list[Deletion] = []
    for node in nodes:
        if isinstance(node, Deletion):
            found.append(node)
            found.extend(_deletions(node.parts))
    return found


def ordinals(text: str) -> list[int]:
    """The deletion numbers in a cloze text, sorted and unique (each is one card); c0 and
    numbers beyond MAX_ORDINAL make none."""
    return sorted({d.number for d in _deletions(parse(text)) if 0 < d.number <= MAX_ORDINAL})


def problems(text: str) -> list[str]:
    """What is wrong with the deletions of a cloze text, for a loader's `path:line:`."""
    return read(text)[1]


def read(text: str) -> tuple[list[int], list[str]]:
    """`ordinals` and `problems` of a cloze text from one pass over its tokens (an import reads
    35,000: the tokens' digits as one list, paired by their places in it, where `_pairs`
    and `parse` make a match object of each token twice)."""
    tokens = _TOKEN.findall(text)  # an opening's digits, or "" for a `}}`
    if not tokens:
        return [], []
    openings = tokens[::2]
    if len(tokens) % 2 == 0 and "" not in openings and not any(tokens[1::2]):
        # Deletions side by side, none inside another (most notes): each opening closed by
        # the `}}` after it; numbers of 1 to MAX_ORDINAL, no problem.
        side_by_side = sorted({_number(digits) for digits in openings})
        if side_by_side[0] > 0 and side_by_side[-1] <= MAX_ORDINAL:
            return side_by_side, []
    stack: list[int] = []
    closed: set[int] = set()  # the places of the openings closed within MAX_DEPTH
    too_deep = False
    for at, digits in enumerate(tokens):
        if digits:
            stack.append(at)
            too_deep |= len(stack) > MAX_DEPTH
        elif stack:
            opening = stack.pop()
            if len(stack) < MAX_DEPTH:
                closed.add(opening)
    found: list[str] = []
    if too_deep:
        found.append(f"cloze deletions nested more than {MAX_DEPTH} deep")
    for at in stack:
        token = "{{c" + tokens[at] + "::"
        found.append(f"unclosed cloze deletion {_quote(token)} (no matching }}}})")
    # Every closed opening is one deletion (what `parse` would make of it), in text order.
    numbers: set[int] = set()
    out_of_range = False
    for at in sorted(closed):
        digits = tokens[at]
        number = _number(digits)
        if 0 < number <= MAX_ORDINAL:
            numbers.add(number)
        elif number != 0 and not out_of_range:
            out_of_range = True
            shown = digits if len(digits) <= 12 else digits[:12] + "…"
            found.append(f"cloze number c{shown} out of range: use c1 to c{MAX_ORDINAL}")
    return sorted(numbers), found


def render(text: str, ordinal: int, *, reveal: bool) -> list[Segment]:
    """Segments for card `ordinal`: its deletion is `[...]` (or `[hint]`) on the front and the
    highlighted answer on the back; the other deletions are shown filled."""
    out: list[Segment] = []
    _render(parse(text), ordinal, reveal, out, answer=False)
    merged: list[Segment] = []
    for segment in out:
        if merged and merged[-1].role == segment.role != "blank":
            merged[-1] = Segment(merged[-1].text + segment.text, segment.role)
        elif segment.text or segment.role == "blank":
            merged.append(segment)
    return merged


def _render(
    nodes: list[Node] | tuple[Node, ...],
    ordinal: int,
    reveal: bool,
    out: list[Segment],
    *,
    answer: bool,
) -> None:
    for node in nodes:
        if isinstance(node, str):
            out.append(Segment(node, "answer" if answer else "text"))
        elif answer or node.number != ordinal:
            _render(node.parts, ordinal, reveal, out, answer=answer)
        elif reveal:
            _render(node.parts, ordinal, reveal, out, answer=True)
        else:
            out.append(Segment(f"[{node.hint}]" if node.hint else "[...]", "blank"))


def render_plain(text: str, ordinal: int, *, reveal: bool) -> str:
    return "".join(s.text for s in render(text, ordinal, reveal=reveal))
