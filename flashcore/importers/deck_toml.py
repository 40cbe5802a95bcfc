"""Deck files (`decks/*.toml`) -> DeckSpec. Every problem is collected with its line; a file with
any problem yields nothing. The format is documented in decks/README.md."""

from __future__ import annotations

import re
import tomllib
from collections.abc import Callable
from pathlib import Path
from typing import Any

from flashcore.core import cloze
from flashcore.core.errors import DeckFormatError, Problem
from flashcore.core.model import DeckSpec, NoteKind, NoteSpec
from flashcore.core.text import (
    DECK_KEY_CHARS,
    DECK_NAME_CHARS,
    TAG_CHARS,
    control_problem,
    name_problem,
    shown,
)
from flashcore.core.topics import topic_problem

MAX_FIELD_CHARS = 100_000  # per field (front, back, cloze, extra); decks/README.md says why
DECK_KEYS = {"name", "key", "description", "html"}
CARD_KEYS = {"id", "front", "back", "cloze", "extra", "topics", "qids", "tags"}
_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,199}$")
_QID = re.compile(r"^[a-z][a-z0-9_-]{0,49}:[A-Za-z0-9._-]{1,64}$")
MAX_NESTING = 100  # arrays and inline tables inside each other (a deck needs two)
_TOML_LINE = re.compile(r"\(at line (\d+), column \d+\)")
_CARDS_HEADER = re.compile(r"^\s*\[\[\s*cards\s*\]\]")
_DECK_HEADER = re.compile(r"^\s*\[\s*deck\s*\]")
_KEY_LINE = re.compile(r"^\s*([A-Za-z0-9_-]+|\"[^\"]*\")\s*=")
_Report = Callable[[int | None, str], None]  # (line, message): one problem of the file


class _Lines:
    """Finds the line of each `[[cards]]` block and of keys inside it (tomllib has no positions)."""

    def __init__(self, text: str) -> None:
        self.lines = text.splitlines()
        self.card_starts = [i + 1 for i, ln in enumerate(self.lines) if _CARDS_HEADER.match(ln)]
        self.deck_start = next(
            (i + 1 for i, ln in enumerate(self.lines) if _DECK_HEADER.match(ln)), None
        )

    def card(self, index: int) -> int | None:
        return self.card_starts[index] if index < len(self.card_starts) else None

    def key_in_block(self, start: int | None, key: str) -> int | None:
        if start is None:
            return None
        for offset, line in enumerate(self.lines[start:], start=start + 1):
            if line.lstrip().startswith("["):
                break
            m = _KEY_LINE.match(line)
            if m and m.group(1).strip('"') == key:
                return offset
        return start


def parse_deck_file(path: Path, data: bytes | None = None) -> DeckSpec:
    """Parse one deck file; raises DeckFormatError listing every problem as `path:line: ...`."""
    where = str(path)
    raw = path.read_bytes() if data is None else data
    if raw.startswith(b"\xef\xbb\xbf"):
        raw = raw[3:]
    if b"\x00" in raw:
        line: int | None = raw[: raw.index(b"\x00")].count(b"\n") + 1
        raise DeckFormatError([Problem(where, line, "not a text file: contains NUL bytes")])
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        bad_line = raw[: exc.start].count(b"\n") + 1
        raise DeckFormatError([Problem(where, bad_line, "not UTF-8 text")]) from None
    try:
        doc = tomllib.loads(text)
    except RecursionError:
        line = _too_deep(text)
        message = f"invalid TOML: arrays or tables nested more than {MAX_NESTING} deep"
        raise DeckFormatError([Problem(where, line, message)]) from None
    except tomllib.TOMLDecodeError as exc:
        message = str(exc)
        m = _TOML_LINE.search(message)
        line = int(m.group(1)) if m else None
        message = _TOML_LINE.sub("", message).strip()
        raise DeckFormatError([Problem(where, line, f"invalid TOML: {message}")]) from None
    return _build(where, doc, _Lines(text))


def _build(where: str, doc: dict[str, Any], lines: _Lines) -> DeckSpec:
    problems: list[Problem] = []

    def problem(line: int | None, message: str) -> None:
        problems.append(Problem(where, line, message))

    for key in doc:
        if key not in {"deck", "cards"}:
            problem(None, f"unknown top-level key {key!r} (expected [deck] and [[cards]])")
    deck = doc.get("deck")
    if not isinstance(deck, dict):
        problem(None, "missing [deck] table with a name")
        deck = {}
    name, deck_key, description, html = _deck_table(deck, lines, problem)
    cards = doc.get("cards", [])
    if not isinstance(cards, list):
        problem(None, "cards must be an array of tables ([[cards]])")
        cards = []
    notes = _notes(cards, lines, problem)
    if problems:
        raise DeckFormatError(problems)
    return DeckSpec(
        name=_clean_name(name),
        key=deck_key.strip(),
        notes=tuple(notes),
        description=description,
        html=html,
        path=where,
    )


def _deck_table(
    deck: dict[str, Any], lines: _Lines, problem: _Report
) -> tuple[str, str, str, bool]:
    """The [deck] table's name, key, description and html flag; each value with a problem is
    reported and left empty."""
    at = lines.deck_start
    for key in deck:
        if key not in DECK_KEYS:
            problem(lines.key_in_block(at, key), f"unknown deck key {key!r}")
    name = deck.get("name")
    if not isinstance(name, str) or not name.strip():
        problem(at, "[deck] needs a name")
        name = ""
    elif (why := name_problem(_clean_name(name), DECK_NAME_CHARS)) is not None:
        problem(lines.key_in_block(at, "name"), f"deck name {why}")
        name = ""
    deck_key = deck.get("key", name)
    if "key" not in deck and not name:
        deck_key = ""  # the key would be the name, whose problem is reported
    elif not isinstance(deck_key, str) or not deck_key.strip() or ":" in deck_key.replace("::", ""):
        problem(lines.key_in_block(at, "key"), "deck key must be text without ':'")
        deck_key = ""
    elif (why := name_problem(deck_key.strip(), DECK_KEY_CHARS)) is not None:
        problem(lines.key_in_block(at, "key"), f"deck key {why}")
        deck_key = ""
    description = deck.get("description", "")
    if isinstance(description, str) and len(description) > MAX_FIELD_CHARS:
        problem(lines.key_in_block(at, "description"), too_long("description", description))
        description = ""
    elif isinstance(description, str) and (why := control_problem(description, text=True)):
        problem(lines.key_in_block(at, "description"), f"description {why}")
        description = ""
    html = deck.get("html", False)
    if not isinstance(html, bool):
        problem(lines.key_in_block(at, "html"), "html must be true or false")
        html = False
    return name, deck_key, str(description), html


def _notes(cards: list[Any], lines: _Lines, problem: _Report) -> list[NoteSpec]:
    """The notes of the [[cards]] entries, each id once."""
    notes: list[NoteSpec] = []
    seen: dict[str, int | None] = {}
    for index, card in enumerate(cards):
        start = lines.card(index)
        note = _card(card, start, lines, problem)
        if note is None:
            continue
        if note.local_id in seen:
            first = seen[note.local_id]
            problem(start, f"duplicate id {note.local_id!r} (first used at line {first})")
            continue
        seen[note.local_id] = start
        notes.append(note)
    return notes


def too_long(what: str, value: str) -> str:
    """The problem of a field over `MAX_FIELD_CHARS`."""
    return (
        f"{what} is {len(value):,} characters; a field may hold at most {MAX_FIELD_CHARS:,} "
        "(see decks/README.md)"
    )


def _clean_name(name: str) -> str:
    return "::".join(part.strip() for part in name.split("::") if part.strip())


def _card(card: Any, start: int | None, lines: _Lines, problem: _Report) -> NoteSpec | None:
    if not isinstance(card, dict):
        problem(start, "each [[cards]] entry must be a table")
        return None
    ok = True
    for key in card:
        if key not in CARD_KEYS:
            problem(lines.key_in_block(start, key), f"unknown card key {key!r}")
            ok = False
    local_id = card.get("id")
    if local_id is None:
        problem(start, "card has no id")
        return None
    if not isinstance(local_id, str) or not _ID.match(local_id):
        problem(lines.key_in_block(start, "id"), f"bad id {local_id!r}: letters, digits, . _ -")
        return None
    read = _CardValues(card, local_id, start, lines, problem)
    front, back, text, extra = (read.text(k) for k in ("front", "back", "cloze", "extra"))
    if read.refused:
        return None  # reported by read.text
    topics, qids, tags = read.texts("topics"), read.texts("qids"), read.texts("tags")
    ok = read.lists_ok(topics, qids, tags) and ok
    made = read.kind_and_fields(front, back, text)
    if made is None:
        return None
    kind, fields = made
    if extra:
        fields["extra"] = extra
    if not ok:
        return None
    return NoteSpec(
        local_id=local_id,
        kind=kind,
        fields=fields,
        topics=topics,
        qids=tuple(q.lower() for q in qids),
        tags=tags,
        line=start,
    )


class _CardValues:
    """Reads one [[cards]] entry's values, reporting each problem at the line of its key."""

    def __init__(
        self, card: dict[str, Any], local_id: str, start: int | None, lines: _Lines,
        problem: _Report,
    ) -> None:  # fmt: skip
        self.card, self.local_id, self.start = card, local_id, start
        self.lines, self.problem = lines, problem
        self.refused: list[str] = []  # fields `text` reported (too long, not text, controls)

    def _report(self, key: str, message: str) -> None:
        self.problem(self.lines.key_in_block(self.start, key), f"card {self.local_id}: {message}")

    def text(self, key: str) -> str | None:
        value: object = self.card.get(key)
        if value is None:
            return None
        if not isinstance(value, str):
            why = f"{key} must be text"
        elif len(value) > MAX_FIELD_CHARS:
            why = too_long(key, value)
        elif (control := control_problem(value, text=True)) is not None:
            why = f"{key} {control}"
        else:
            return value
        self._report(key, why)
        self.refused.append(key)
        return None

    def texts(self, key: str) -> tuple[str, ...]:
        value = self.card.get(key, [])
        if isinstance(value, str):
            value = [value]
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            self._report(key, f"{key} must be a list of text")
            return ()
        return tuple(v.strip() for v in value if v.strip())

    def lists_ok(
        self, topics: tuple[str, ...], qids: tuple[str, ...], tags: tuple[str, ...]
    ) -> bool:
        """Whether every qid, tag and topic is acceptable (each problem reported)."""
        ok = True
        for qid in qids:
            if not _QID.match(qid.lower()):
                self._report("qids", f"qid {shown(qid)} must look like source:id (uworld:118154; "
                             "a source of at most 50 characters, an id of at most 64)")  # fmt: skip
                ok = False
        for tag in tags:
            why = name_problem(tag, TAG_CHARS)
            if why is None and any(ch.isspace() for ch in tag):
                why = "has spaces"
            if why is not None:
                self._report("tags", f"tag {shown(tag)} {why}")
                ok = False
        for topic in topics:
            why = topic_problem(topic)
            if why is not None:
                self._report("topics", f"topic {shown(topic)} {why}")
                ok = False
        return ok

    def kind_and_fields(
        self, front: str | None, back: str | None, text: str | None
    ) -> tuple[NoteKind, dict[str, str]] | None:
        """A cloze note from `cloze`, else a basic one from front and back; None when they
        make no note (reported)."""
        if text is not None:
            if front is not None or back is not None:
                self.problem(
                    self.start, f"card {self.local_id}: has both cloze and front/back; use one"
                )
                return None
            faults = cloze.problems(text)
            for fault in faults:
                self._report("cloze", fault)
            if faults:
                return None
            if not cloze.ordinals(text):
                self._report("cloze", "cloze has no deletion like {{c1::...}}")
                return None
            return NoteKind.CLOZE, {"text": text}
        if front is None or not front.strip():
            self.problem(self.start, f"card {self.local_id}: needs front and back, or cloze")
            return None
        if back is None or not back.strip():
            self.problem(self.start, f"card {self.local_id}: has a front but no back")
            return None
        return NoteKind.BASIC, {"front": front, "back": back}


def _too_deep(text: str) -> int | None:
    """The line where arrays or inline tables first nest more than MAX_NESTING deep (strings
    and comments skipped), for a file tomllib could not read for its depth."""
    depth, line, i, n = 0, 1, 0, len(text)
    while i < n:
        ch = text[i]
        if ch == "\n":
            line += 1
        elif ch == "#":
            end = text.find("\n", i)
            i = n if end < 0 else end
            continue
        elif ch in "\"'":
            quote = ch * 3 if text.startswith(ch * 3, i) else ch
            j = i + len(quote)
            while j < n and not text.startswith(quote, j):
                if text[j] == "\n":
                    line += 1
                j += 2 if ch == '"' and text[j] == "\\" else 1
            i = j + len(quote)
            continue
        elif ch in "[{":
            depth += 1
            if depth > MAX_NESTING:
                return line
        elif ch in "]}":
            depth = max(0, depth - 1)
        i += 1
    return None
