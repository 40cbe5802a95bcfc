"""The plain-text syntax Anki reads (File > Import, Notes in Plain Text): the bytes as text
(UTF-8, else cp1252; binary files refused), the `#key:value` headers at the top, and the
CSV-style records after them (a field starting with `"` is quoted, `""` is a quote inside it,
and it may hold the separator and newlines). What the columns mean is `anki_text`'s part.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field

from flashcore.core.errors import DeckFormatError, Problem

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

_BOM = b"\xef\xbb\xbf"
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")
_HEADER = re.compile(r"#([^:]*):(.*)\Z")
_QUOTED = re.compile(r'"((?:[^"]*"")*[^"]*)"')


@dataclass(slots=True)
class Headers:
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
class Record:
    line: int
    cells: list[str]


@dataclass(frozen=True, slots=True)
class Syntax:
    """A file as read: its headers, its records and the warnings reading it gave."""

    headers: Headers
    records: list[Record]
    warnings: list[str]


def read_syntax(where: str, data: bytes, problems: list[Problem]) -> Syntax:
    """Decode `data`, read its headers (the `#columns:` names once the separator is known)
    and split its records, adding each problem to `problems`. Raises DeckFormatError when the
    bytes are no text or hold no record."""

    def problem(line: int | None, message: str) -> None:
        problems.append(Problem(where, line, message))

    text, warnings = decode(data, where, problem)
    if problems:
        raise DeckFormatError(problems)
    lines = text.split("\n")
    header_count = header_line_count(lines)
    headers = read_headers(lines[:header_count], problem, warnings.append, where)
    first_data = lines[header_count] if header_count < len(lines) else ""
    separator = headers.separator or sniff_separator(first_data)
    if headers.columns_raw is not None:
        named = read_records(
            headers.columns_raw, 0, headers.columns_line or 1, separator, problem, [], where
        )
        headers.columns = named[0].cells if named else []
    start = sum(len(line) + 1 for line in lines[:header_count])
    records = read_records(text, start, header_count + 1, separator, problem, warnings, where)
    if not records:
        raise DeckFormatError(problems or [Problem(where, None, "no notes found")])
    return Syntax(headers, records, warnings)


def decode(
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


def header_line_count(lines: list[str]) -> int:
    """How many lines at the top are headers, comments or blank."""
    count = 0
    for line in lines:
        if line.strip() and not line.startswith("#"):
            break
        count += 1
    return count


def read_headers(
    lines: list[str],
    problem: Callable[[int | None, str], None],
    warn: Callable[[str], None],
    where: str,
) -> Headers:
    headers = Headers()
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


def sniff_separator(line: str) -> str:
    """Tab if the line has one outside quotes, else the more frequent of comma and semicolon."""
    outside = "".join(part for index, part in enumerate(line.split('"')) if index % 2 == 0)
    if "\t" in outside:
        return "\t"
    if outside.count(";") > outside.count(","):
        return ";"
    return "," if "," in outside else "\t"


def read_records(
    text: str,
    start: int,
    first_line: int,
    separator: str,
    problem: Callable[[int | None, str], None],
    warnings: list[str],
    where: str,
) -> list[Record]:
    """Split the data part into records. Unlike Python's csv module, an unterminated quote or
    text after a closing quote is an error, never silently merged into the field."""
    boundary = re.compile(f"[{re.escape(separator)}\\n]")
    records: list[Record] = []
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
            records.append(Record(record_line, cells))
    return records
