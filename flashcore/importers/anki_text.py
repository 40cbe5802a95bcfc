"""Anki "Notes in Plain Text" files -> one DeckSpec per deck named in the file.

Reads what Anki writes (File > Export > Notes in Plain Text, with or without the deck, note type
and GUID columns) and the import headers Anki understands (`#columns:`, `#deck:`, `#notetype:`,
`#tags:`); the syntax (decoding, headers, CSV-style records) is `anki_text_syntax`'s, what the
columns mean (fields, note kind, GUID, tags, deck) is read here. Every problem is collected with
its line; a file with any problem yields nothing.
"""

from __future__ import annotations

import hashlib
import re
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from flashcore.core import anking, cloze
from flashcore.core.errors import DeckFormatError, Problem
from flashcore.core.model import DeckSpec, NoteKind, NoteSpec
from flashcore.core.text import DECK_NAME_CHARS, TAG_CHARS, name_problem, shown
from flashcore.core.topics import clean_path
from flashcore.importers.anki_text_syntax import (
    IGNORED_HEADERS,
    SEPARATOR_NAMES,
    SPECIAL_COLUMNS,
    Headers,
    Record,
    read_syntax,
)
from flashcore.importers.deck_toml import MAX_FIELD_CHARS, too_long

__all__ = [
    "GUID_CHARS",
    "IGNORED_HEADERS",
    "QBANK_SOURCES",
    "SEPARATOR_NAMES",
    "SPECIAL_COLUMNS",
    "parse_anki_text",
    "qids_from_tags",
]

QBANK_SOURCES = ("uworld", "amboss", "nbme", "kaplan", "truelearn")

_CLOZE_MARK = re.compile(r"\{\{c\d+::")
_QBANK_PART = re.compile(r"#?(" + "|".join(QBANK_SOURCES) + r")(?:[ _-].*)?\Z", re.IGNORECASE)
_ASCII_NUMBER = re.compile(r"[0-9]{1,64}\Z")  # a longer number is no question id
GUID_CHARS = 200
# `#columns:` names that mean a special column rather than a note field.
_SPECIAL_NAMES = {
    "guid": "guid",
    "notetype": "notetype",
    "note type": "notetype",
    "deck": "deck",
    "tags": "tags",
}


@dataclass(frozen=True, slots=True)
class _Layout:
    """Which column holds what, fixed for the whole file."""

    width: int
    width_from: str
    special: dict[str, int]
    field_columns: list[int]
    field_names: list[str] | None


def parse_anki_text(
    path: Path, data: bytes | None = None, *, default_deck: str | None = None
) -> list[DeckSpec]:
    """Parse an Anki plain-text notes file; `data` replaces reading `path` when given.

    The deck of a note is its deck column, else `#deck:`, else `default_deck`, else the file
    stem. Raises DeckFormatError listing every problem as `path:line: ...`.
    """
    where = str(path)
    problems: list[Problem] = []

    def problem(line: int | None, message: str) -> None:
        problems.append(Problem(where, line, message))

    if data is None:
        try:
            data = path.read_bytes()
        except OSError as exc:
            raise DeckFormatError([Problem(where, None, f"cannot read: {exc.strerror}")]) from None
    syntax = read_syntax(where, data, problems)
    headers = syntax.headers
    layout = _layout(headers, syntax.records, problem)
    if layout is None:
        raise DeckFormatError(_by_line(problems))
    fallback_deck = clean_path(headers.deck or default_deck or "") or path.stem
    decks, deck_warnings = _by_deck(syntax.records, layout, headers, fallback_deck, problem, where)
    if problems:
        raise DeckFormatError(_by_line(problems))
    return [
        DeckSpec(
            name=name,
            key=name,
            notes=tuple(notes),
            html=headers.html,
            path=where,
            warnings=(*syntax.warnings, *deck_warnings.get(name, [])),
        )
        for name, notes in decks.items()
    ]


def _by_deck(
    records: list[Record],
    layout: _Layout,
    headers: Headers,
    fallback_deck: str,
    problem: Callable[[int | None, str], None],
    where: str,
) -> tuple[dict[str, list[NoteSpec]], dict[str, list[str]]]:
    """The records' notes grouped by deck, and each deck's warnings; reports bad deck names
    (once each) and duplicate keys."""
    decks: dict[str, list[NoteSpec]] = {}
    deck_warnings: dict[str, list[str]] = {}
    seen: dict[str, int] = {}
    deck_names: dict[str, bool] = {}  # deck name -> acceptable (each reported once)
    for record in records:
        note, deck, warning = _note(record, layout, headers, fallback_deck, problem, where)
        if note is None:
            continue
        if deck not in deck_names:
            why = name_problem(deck, DECK_NAME_CHARS)
            deck_names[deck] = why is None
            if why is not None:
                problem(record.line, f"deck name {shown(deck)} {why}")
        if not deck_names[deck]:
            continue
        if note.local_id in seen:
            first = seen[note.local_id]
            problem(
                record.line,
                f"duplicate key {note.local_id!r} on lines {first} and {record.line}"
                + ("" if "guid" in layout.special else " (same first field)"),
            )
            continue
        seen[note.local_id] = record.line
        decks.setdefault(deck, []).append(note)
        if warning:
            deck_warnings.setdefault(deck, []).append(warning)
    return decks, deck_warnings


def _by_line(problems: list[Problem]) -> list[Problem]:
    return sorted(problems, key=lambda p: (p.line is not None, p.line or 0))


def _layout(
    headers: Headers, records: list[Record], problem: Callable[[int | None, str], None]
) -> _Layout | None:
    special = dict(headers.special)
    names = headers.columns
    if names is not None:
        width, width_from = len(names), f"#columns on line {headers.columns_line}"
        for index, name in enumerate(names):
            kind = _SPECIAL_NAMES.get(name.strip().lower())
            if kind and kind not in special and index not in special.values():
                special[kind] = index
    else:
        # The most common width, so that one bad row is reported alone even when it comes first.
        widths = Counter(len(record.cells) for record in records)
        width = widths.most_common(1)[0][0]
        model = next(record for record in records if len(record.cells) == width)
        width_from = f"line {model.line}"
    ok = True
    for name, column in special.items():
        if column >= width:
            line = headers.special_lines.get(name)
            problem(line, f"#{name} column is {column + 1} but rows have {width} columns")
            ok = False
    field_columns = [i for i in range(width) if i not in special.values()]
    if not field_columns:
        problem(None, "no column is left for the note's fields")
        ok = False
    if not ok:
        return None
    field_names = [names[i].strip().lower() for i in field_columns] if names else None
    return _Layout(width, width_from, special, field_columns, field_names)


def _note(
    record: Record,
    layout: _Layout,
    headers: Headers,
    fallback_deck: str,
    problem: Callable[[int | None, str], None],
    where: str,
) -> tuple[NoteSpec | None, str, str | None]:
    """The note of one record, its deck name and a warning; reports the record's problems."""
    line, cells = record.line, record.cells
    if len(cells) != layout.width:
        problem(
            line,
            f"row has {len(cells)} columns, expected {layout.width} (as on {layout.width_from})",
        )
        return None, "", None

    for column, cell in enumerate(cells):
        if len(cell) > MAX_FIELD_CHARS:
            problem(line, too_long(f"column {column + 1}", cell))
            return None, "", None

    def special(name: str) -> str:
        column = layout.special.get(name)
        return cells[column].strip() if column is not None else ""

    made = _fields(
        line,
        [cells[i] for i in layout.field_columns],
        layout,
        special("notetype") or headers.notetype,
        problem,
        where,
    )
    if made is None:
        return None, "", None
    kind, note_fields, warning = made
    guid = special("guid")
    if len(guid) > GUID_CHARS:
        problem(line, f"GUID is {len(guid):,} characters long; at most {GUID_CHARS}")
        return None, "", None
    main = note_fields["front" if kind is NoteKind.BASIC else "text"]
    local_id = guid or "h" + hashlib.sha256(main.encode()).hexdigest()[:16]
    tags = tuple(dict.fromkeys((*special("tags").split(), *headers.tags)))
    for tag in tags:
        why = name_problem(tag, TAG_CHARS)
        if why is not None:
            problem(line, f"tag {shown(tag)} {why}")
            return None, "", None
    deck = clean_path(special("deck")) or fallback_deck
    note = NoteSpec(
        local_id=local_id,
        kind=kind,
        fields=note_fields,
        qids=qids_from_tags(tags),
        tags=tags,
        line=line,
    )
    return note, deck, warning


def _fields(
    line: int,
    fields: list[str],
    layout: _Layout,
    notetype: str | None,
    problem: Callable[[int | None, str], None],
    where: str,
) -> tuple[NoteKind, dict[str, str], str | None] | None:
    """The note's kind (from its note type's name, else a cloze mark in its text) and fields,
    and a warning; None when they make no note (the problem reported)."""
    if notetype:
        kind = NoteKind.CLOZE if "cloze" in notetype.lower() else NoteKind.BASIC
    else:
        text_field = fields[_field_order(NoteKind.CLOZE, layout.field_names, len(fields))[0]]
        kind = NoteKind.CLOZE if _CLOZE_MARK.search(text_field) else NoteKind.BASIC
    main, second = _field_order(kind, layout.field_names, len(fields))
    if not fields[main].strip():
        problem(line, "the first field is empty")
        return None
    if kind is NoteKind.BASIC:
        if second is None:
            problem(line, "basic note has no back: the row has only one field")
            return None
        empty_back = not fields[second].strip()
        warning = f"{where}:{line}: basic note has an empty back" if empty_back else None
        return kind, {"front": fields[main], "back": fields[second]}, warning
    faults = cloze.problems(fields[main])
    for fault in faults:
        problem(line, fault)
    if faults:
        return None
    if not cloze.ordinals(fields[main]):
        problem(line, "cloze note has no deletion like {{c1::...}}")
        return None
    note_fields = {"text": fields[main]}
    if second is not None and fields[second].strip():
        note_fields["extra"] = fields[second]
    return kind, note_fields, None


def _field_order(kind: NoteKind, names: list[str] | None, count: int) -> tuple[int, int | None]:
    """Indexes of the main field (front/text) and the second (back/extra) among the fields:
    by name when `#columns:` names them, else the first two."""
    wanted = ("front", ("back",)) if kind is NoteKind.BASIC else ("text", ("extra", "back extra"))
    main = names.index(wanted[0]) if names and wanted[0] in names else 0
    named = [names.index(n) for n in wanted[1] if n in names] if names else []
    rest = [i for i in range(count) if i != main]
    second = named[0] if named else (rest[0] if rest else None)
    return main, second


def qids_from_tags(tags: tuple[str, ...]) -> tuple[str, ...]:
    """Question ids in AnKing-style tags: `#AK_Step1_v12::#UWorld::Step::118154` ->
    `uworld:118154` (a known question-bank part followed, at some depth, by a numeric leaf)."""
    qids: dict[str, None] = {}
    for tag in tags:
        known = anking.question_id(tag)
        if known is not None:
            qids[known] = None
            continue
        if anking.is_uworld_tag(tag):
            continue  # a UWorld tag that names no Step question (COMLEX's ids are read above)
        parts = tag.split("::")
        leaf = parts[-1].strip()
        if len(parts) < 2 or not _ASCII_NUMBER.match(leaf):
            continue
        for part in parts[:-1]:
            m = _QBANK_PART.match(part.strip())
            if m:
                qids[f"{m.group(1).lower()}:{leaf}"] = None
                break
    return tuple(qids)
