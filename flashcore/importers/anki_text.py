"""Anki "Notes in Plain Text" files -> one DeckSpec per deck named in the file.

Reads what Anki writes (File > Export > Notes in Plain Text, with or without the deck, note type
and GUID columns) and the import headers Anki understands (`#columns:`, `#deck:`, `#notetype:`,
`#tags:`). Fields are CSV-style: a field starting with `"` is quoted, `""` is a quote inside it,
and it may hold the separator and newlines. A line starting with `#` is a header at the top of
the file and a comment after it, as in Anki. Every problem is collected with its line; a file
with any problem yields nothing.
"""

from __future__ import annotations

import hashlib
import re
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from flashcore.core import anking, cloze
from flashcore.core.errors import DeckFormatError, Problem
from flashcore.core.model import DeckSpec, NoteKind, NoteSpec
from flashcore.core.text import DECK_NAME_CHARS, TAG_CHARS, name_problem, shown
from flashcore.core.topics import clean_path
from flashcore.importers.deck_toml import MAX_FIELD_CHARS, too_long

SEPARATOR_NAMES = {
    "tab": "\t",
    "comma": ",",
    "semicolon": ";",
    "pipe": "|",
    "space": " ",
    "colon": ":",
}
SPECIAL_COLUMNS = ("guid", "notetype", "deck", "tags")
# Headers that steer Anki's duplicate handling; they say nothing about the notes themselves.
IGNORED_HEADERS = {"if matches", "match scope"}
QBANK_SOURCES = ("uworld", "amboss", "nbme", "kaplan", "truelearn")

_BOM = b"\xef\xbb\xbf"
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")
_HEADER = re.compile(r"#([^:]*):(.*)\Z")
_QUOTED = re.compile(r'"((?:[^"]*"")*[^"]*)"')
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


@dataclass(slots=True)
class _Headers:
    """What the `#key:value` lines at the top of the file say; columns are 0-based."""

    separator: str | None = None
    html: bool = False
    columns_raw: str | None = None
    columns: list[str] | None = None
    columns_line: int | None = None
    notetype: str | None = None
    deck: str | None = None
    tags: tuple[str, ...] = ()
    special: dict[str, int] = field(default_factory=dict)
    special_lines: dict[str, int] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class _Record:
    line: int
    cells: list[str]


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
    text, warnings = _decode(data, where, problem)
    if problems:
        raise DeckFormatError(problems)

    lines = text.split("\n")
    header_count = _header_line_count(lines)
    headers = _read_headers(lines[:header_count], problem, warnings.append, where)
    first_data = lines[header_count] if header_count < len(lines) else ""
    separator = headers.separator or _sniff_separator(first_data)
    if headers.columns_raw is not None:
        named = _read_records(
            headers.columns_raw, 0, headers.columns_line or 1, separator, problem, [], where
        )
        headers.columns = named[0].cells if named else []
    start = sum(len(line) + 1 for line in lines[:header_count])
    records = _read_records(text, start, header_count + 1, separator, problem, warnings, where)
    if not records:
        raise DeckFormatError(problems or [Problem(where, None, "no notes found")])

    layout = _layout(headers, records, problem)
    if layout is None:
        raise DeckFormatError(_by_line(problems))
    fallback_deck = clean_path(headers.deck or default_deck or "") or path.stem
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
    if problems:
        raise DeckFormatError(_by_line(problems))
    return [
        DeckSpec(
            name=name,
            key=name,
            notes=tuple(notes),
            html=headers.html,
            path=where,
            warnings=(*warnings, *deck_warnings.get(name, [])),
        )
        for name, notes in decks.items()
    ]


def _by_line(problems: list[Problem]) -> list[Problem]:
    return sorted(problems, key=lambda p: (p.line is not None, p.line or 0))


def _decode(
    data: bytes, where: str, problem: Callable[[int | None, str], None]
) -> tuple[str, list[str]]:
    """The text with LF line ends, and warnings; reports binary files and undecodable bytes."""
    warnings: list[str] = []
    if data.startswith(b"PK\x03\x04"):
        problem(None, "not a text file: looks like a ZIP archive")
        return "", warnings
    if data.startswith(b"SQLite format 3\x00"):
        problem(None, "not a text file: looks like a SQLite database")
        return "", warnings
    if b"\x00" in data:
        utf16 = data.startswith((b"\xff\xfe", b"\xfe\xff"))
        hint = " (it looks like UTF-16; save it as UTF-8)" if utf16 else ""
        problem(None, "not a text file: contains NUL bytes" + hint)
        return "", warnings
    has_bom = data.startswith(_BOM)
    body = data[len(_BOM) :] if has_bom else data
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = body[: exc.start].count(b"\n") + 1
        if has_bom:
            problem(line, "not valid UTF-8 although the file starts with a UTF-8 byte order mark")
            return "", warnings
        try:
            text = body.decode("cp1252")
        except UnicodeDecodeError as exc1252:
            bad = body[exc1252.start]
            problem(
                body[: exc1252.start].count(b"\n") + 1,
                f"neither UTF-8 nor cp1252 text: byte 0x{bad:02X} has no meaning in either",
            )
            return "", warnings
        warnings.append(f"{where}:{line}: not valid UTF-8; read as cp1252 (Windows-1252)")
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    for number, line_text in enumerate(text.split("\n"), start=1):
        m = _CONTROL.search(line_text)
        if m:
            problem(
                number,
                f"control character U+{ord(m.group()):04X} in text "
                "(only tab and newline are allowed)",
            )
    return text, warnings


def _header_line_count(lines: list[str]) -> int:
    """How many lines at the top are headers, comments or blank."""
    count = 0
    for line in lines:
        if line.strip() and not line.startswith("#"):
            break
        count += 1
    return count


def _read_headers(
    lines: list[str],
    problem: Callable[[int | None, str], None],
    warn: Callable[[str], None],
    where: str,
) -> _Headers:
    headers = _Headers()
    seen: dict[str, int] = {}
    for number, line in enumerate(lines, start=1):
        m = _HEADER.match(line)
        if not m:
            continue  # a blank line or a comment
        key, raw = m.group(1).strip().lower(), m.group(2)
        value = raw.strip()
        if key in seen:
            problem(number, f"header #{key} given twice (first on line {seen[key]})")
            continue
        seen[key] = number
        if key == "separator":
            separator = raw if len(raw) == 1 else SEPARATOR_NAMES.get(value.lower())
            if separator is None or separator in '"\n':
                names = ", ".join(name.capitalize() for name in SEPARATOR_NAMES)
                problem(number, f"unknown separator {raw!r}: use {names} or one character")
            else:
                headers.separator = separator
        elif key == "html":
            if value.lower() not in {"true", "false"}:
                problem(number, f"#html must be true or false, not {value!r}")
            headers.html = value.lower() == "true"
        elif key == "columns":
            headers.columns_raw = raw  # split once the separator is known
            headers.columns_line = number
        elif key == "notetype":
            headers.notetype = value or None
        elif key == "deck":
            headers.deck = value or None
        elif key == "tags":
            headers.tags = tuple(value.split())
        elif key.endswith(" column") and key.removesuffix(" column") in SPECIAL_COLUMNS:
            name = key.removesuffix(" column")
            if not value.isascii() or not value.isdigit() or int(value) < 1:
                problem(number, f"#{key} must be a column number from 1, not {value!r}")
                continue
            column = int(value) - 1
            for other, other_column in headers.special.items():
                if other_column == column:
                    problem(number, f"#{key} and #{other} column both name column {value}")
            headers.special[name] = column
            headers.special_lines[name] = number
        elif key not in IGNORED_HEADERS:
            warn(f"{where}:{number}: unknown header #{key} ignored")
    return headers


def _sniff_separator(line: str) -> str:
    """Tab if the line has one outside quotes, else the more frequent of comma and semicolon."""
    outside = "".join(part for index, part in enumerate(line.split('"')) if index % 2 == 0)
    if "\t" in outside:
        return "\t"
    if outside.count(";") > outside.count(","):
        return ";"
    return "," if "," in outside else "\t"


def _read_records(
    text: str,
    start: int,
    first_line: int,
    separator: str,
    problem: Callable[[int | None, str], None],
    warnings: list[str],
    where: str,
) -> list[_Record]:
    """Split the data part into records. Unlike Python's csv module, an unterminated quote or
    text after a closing quote is an error, never silently merged into the field."""
    boundary = re.compile(f"[{re.escape(separator)}\\n]")
    records: list[_Record] = []
    pos, line, end = start, first_line, len(text)
    while pos < end:
        if text[pos] == "\n":
            pos, line = pos + 1, line + 1
            continue
        if text[pos] == "#":
            warnings.append(f"{where}:{line}: line starting with '#' skipped as a comment")
            stop = text.find("\n", pos)
            pos, line = (end if stop < 0 else stop + 1), line + 1
            continue
        record_line, cells, broken = line, [], False
        while True:
            if text.startswith('"', pos):
                m = _QUOTED.match(text, pos)
                if m is None:
                    last = line + text.rstrip("\n").count("\n", pos)
                    problem(
                        line,
                        "unterminated quote: the field opened here never closes "
                        f"(it would swallow lines {line}-{last})",
                    )
                    return records
                opened = line
                cells.append(m.group(1).replace('""', '"'))
                line += m.group(1).count("\n")
                pos = m.end()
                if pos < end and text[pos] not in (separator, "\n"):
                    where_opened = f" of a field opened on line {opened}" if opened != line else ""
                    problem(
                        line,
                        f"text after the closing quote{where_opened} "
                        '(write a quote inside a quoted field as "")',
                    )
                    broken = True
                    stop = text.find("\n", pos)
                    pos = end if stop < 0 else stop
            else:
                stop_at = boundary.search(text, pos)
                stop = stop_at.start() if stop_at else end
                cells.append(text[pos:stop])
                pos = stop
            if pos >= end:
                break
            if text[pos] == "\n":
                pos, line = pos + 1, line + 1
                break
            pos += 1  # the separator
        if not broken:
            records.append(_Record(record_line, cells))
    return records


def _layout(
    headers: _Headers, records: list[_Record], problem: Callable[[int | None, str], None]
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
    record: _Record,
    layout: _Layout,
    headers: _Headers,
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

    fields = [cells[i] for i in layout.field_columns]
    notetype = special("notetype") or headers.notetype
    if notetype:
        kind = NoteKind.CLOZE if "cloze" in notetype.lower() else NoteKind.BASIC
    else:
        text_field = fields[_field_order(NoteKind.CLOZE, layout.field_names, len(fields))[0]]
        kind = NoteKind.CLOZE if _CLOZE_MARK.search(text_field) else NoteKind.BASIC
    main, second = _field_order(kind, layout.field_names, len(fields))
    if not fields[main].strip():
        problem(line, "the first field is empty")
        return None, "", None
    warning = None
    if kind is NoteKind.BASIC:
        if second is None:
            problem(line, "basic note has no back: the row has only one field")
            return None, "", None
        note_fields = {"front": fields[main], "back": fields[second]}
        if not fields[second].strip():
            warning = f"{where}:{line}: basic note has an empty back"
    else:
        faults = cloze.problems(fields[main])
        for fault in faults:
            problem(line, fault)
        if faults:
            return None, "", None
        if not cloze.ordinals(fields[main]):
            problem(line, "cloze note has no deletion like {{c1::...}}")
            return None, "", None
        note_fields = {"text": fields[main]}
        if second is not None and fields[second].strip():
            note_fields["extra"] = fields[second]
    guid = special("guid")
    if len(guid) > GUID_CHARS:
        problem(line, f"GUID is {len(guid):,} characters long; at most {GUID_CHARS}")
        return None, "", None
    local_id = guid or "h" + hashlib.sha256(fields[main].encode()).hexdigest()[:16]
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
