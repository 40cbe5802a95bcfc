"""Missed-question logs -> `AttemptSpec` values: UWorld result pastes, CSV/TSV exports, id lists.

Pure: bytes in, values out; no database, no clock. Every problem is collected with its line
before anything fails, and a damaged input ends in a `QbankFormatError`, never in wrong data:

- binary files (ZIP, SQLite, PDF, gzip, .xls, NUL bytes) are refused before decoding;
- text is UTF-8 (BOM stripped) or UTF-16 with a BOM, else cp1252; a file that mixes UTF-8 with
  other bytes is refused rather than decoded into mojibake;
- line ends are universal (CRLF, LF, CR); line numbers are the physical lines a row starts on;
- a quote that never closes is reported where it opened and does not swallow the rows after it;
- ids that a spreadsheet mangled (`1.23457E+11`, `2-Jan`, `118154.0`) are row errors;
- dates written `3/4/2024` are read day- or month-first only when the file itself shows which
  (a `3/14/2024` somewhere in it); otherwise they are ambiguous and a row error.
"""

from __future__ import annotations

import csv
import hashlib
import re
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from operator import itemgetter
from typing import Any

from flashcore.core.errors import Problem, QbankFormatError, UsageError

__all__ = ["FORMATS", "OUTCOMES", "AttemptSpec", "ParsedLog", "fingerprint", "parse_qbank"]

OUTCOMES = ("correct", "incorrect", "omitted")
FORMATS = ("auto", "uworld", "csv", "qids")


@dataclass(frozen=True, slots=True)
class AttemptSpec:
    """One attempt at a question-bank question, as read from a log."""

    source: str  # lower-case bank name: "uworld", "amboss", "nbme", or user-given
    qid: str  # bare id, leading zeros kept: "118154"
    outcome: str  # "correct" | "incorrect" | "omitted"
    on_date: date  # the day attempted
    subject: str = ""
    system: str = ""
    category: str = ""
    topic: str = ""
    seconds: int | None = None
    line: int = 0  # 1-based line in the input where the row starts


@dataclass(frozen=True, slots=True)
class ParsedLog:
    """What a log held: the attempts read, and (only with `skip_invalid`) the rows skipped."""

    format: str  # "uworld" | "csv" | "qids"
    attempts: tuple[AttemptSpec, ...]
    rows_read: int
    skipped: tuple[Problem, ...]


def fingerprint(a: AttemptSpec) -> str:
    """A stable identity for an attempt: sha256 hex of `source|qid|date|outcome`."""
    key = f"{a.source}|{a.qid}|{a.on_date.isoformat()}|{a.outcome}"
    return hashlib.sha256(key.encode("utf-8")).hexdigest()


def parse_qbank(
    data: bytes,
    *,
    path: str,
    fmt: str = "auto",
    source: str = "uworld",
    default_date: date,
    outcome: str | None = None,
    skip_invalid: bool = False,
) -> ParsedLog:
    """Read a missed-question log.

    `fmt` is "auto", "uworld", "csv" or "qids". `source` is the bank for rows that name none;
    `outcome` is the outcome of rows without a result (else "incorrect"); `default_date` the
    day of rows without a date. Raises `QbankFormatError` with every problem found, unless
    `skip_invalid`, when bad rows are returned in `skipped`; a file-level problem (binary file,
    no question id column, no rows at all) raises either way. Bad arguments raise `UsageError`.
    """
    if fmt not in FORMATS:
        raise UsageError(f"unknown log format {fmt!r}: use {', '.join(FORMATS)}")
    if isinstance(default_date, datetime) or not isinstance(default_date, date):
        raise UsageError(f"default_date must be a date, not {type(default_date).__name__}")
    default_source = _clean_source(source)
    if default_source is None:
        raise UsageError(f"bank name {source!r}: use letters and digits, e.g. uworld")
    fallback = None
    if outcome is not None:
        fallback = _OUTCOME_WORDS.get(outcome.strip().lower())
        if fallback is None:
            raise UsageError(f"unknown outcome {outcome!r}: use correct, incorrect or omitted")

    text = _decode(data, path)
    lines = text.split("\n")
    controls = _control_lines(text)
    ctx = _Context(path, default_source, default_date, fallback, controls)
    chosen = _detect(lines) if fmt == "auto" else fmt
    stray = None
    if chosen == "qids":
        stray = _parse_qids(lines, ctx, detecting=fmt == "auto")
        if stray is not None:
            chosen, ctx = "csv", _Context(path, default_source, default_date, fallback, controls)
    if chosen == "uworld":
        _parse_uworld(lines, ctx)
    elif chosen == "csv":
        _parse_csv(lines, ctx)
        if stray is not None and ctx.fatal:
            line, token = stray
            why = f" (not read as a list of ids: line {line} has {_show(token)})"
            ctx.problems = [Problem(p.path, p.line, p.message + why) for p in ctx.problems]
    return _finish(chosen, ctx, skip_invalid)


# --- bytes -> text ---------------------------------------------------------------------------

_MAGIC = (
    (b"PK\x03\x04", "a ZIP archive"),
    (b"PK\x05\x06", "a ZIP archive"),
    (b"SQLite format 3\x00", "a SQLite database"),
    (b"%PDF-", "a PDF document"),
    (b"\x1f\x8b", "a gzip archive"),
    (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1", "an Excel 97-2003 workbook (.xls)"),
)
_UTF8_SEQUENCE = re.compile(
    rb"[\xc2-\xdf][\x80-\xbf]|[\xe0-\xef][\x80-\xbf]{2}|[\xf0-\xf4][\x80-\xbf]{3}"
)
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")
_NOT_C0 = bytes(b for b in range(256) if not _CONTROL.match(chr(b)) or b >= 0x80)
_C1_UTF8 = re.compile(rb"\xc2[\x80-\x9f]")


# cp1252 leaves 0x81, 0x8D, 0x8F, 0x90, 0x9D undefined: read as Latin-1 they stay the C1 control
# characters of the same number, and the control-character check reports their line.
_LATIN1_TO_CP1252 = str.maketrans(
    {chr(b): bytes([b]).decode("cp1252", errors="ignore") or chr(b) for b in range(0x80, 0xA0)}
)


def _line_at(data: bytes | str, offset: int) -> int:
    """The 1-based line of `offset`, counting CRLF, LF and a lone CR as one line end each."""
    head = data[:offset]
    if isinstance(head, bytes):
        return head.count(b"\n") + head.count(b"\r") - head.count(b"\r\n") + 1
    return head.count("\n") + head.count("\r") - head.count("\r\n") + 1


def _fatal(path: str, line: int | None, message: str) -> QbankFormatError:
    return QbankFormatError([Problem(path, line, message)])


def _decode(data: bytes, path: str) -> str:
    """Text with `\\n` line ends, or a QbankFormatError for a file that is not text."""
    for magic, kind in _MAGIC:
        if data.startswith(magic):
            raise _fatal(path, 1, f"not a text file: looks like {kind}")
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        try:
            text = data.decode("utf-16")  # Excel's "Unicode Text"; the BOM names the order
        except UnicodeDecodeError:
            raise _fatal(path, None, "not valid UTF-16 text although it starts like it") from None
    else:
        nul = data.find(b"\x00")
        if nul >= 0:
            line = _line_at(data, nul)
            raise _fatal(path, line, f"not a text file: contains NUL bytes (line {line})")
        text = _decode_8bit(data.removeprefix(b"\xef\xbb\xbf"), path)
    if "\r" in text:
        text = text.replace("\r\n", "\n").replace("\r", "\n")
    return text


def _decode_8bit(data: bytes, path: str) -> str:
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as error:
        if _UTF8_SEQUENCE.search(data):
            line = _line_at(data, error.start)
            byte = data[error.start]
            raise _fatal(
                path,
                line,
                f"byte 0x{byte:02X} is not UTF-8 although the rest of the file is; "
                "save the file as UTF-8",
            ) from None
    try:
        return data.decode("cp1252")
    except UnicodeDecodeError:
        return data.decode("latin-1").translate(_LATIN1_TO_CP1252)


def _control_lines(text: str) -> dict[int, str]:
    """Lines holding a C0/C1 control character (other than tab and line ends): line -> char."""
    raw = text.encode("utf-8")  # a quick look first: C0 as bytes, C1 as their UTF-8 form
    if not raw.translate(None, _NOT_C0) and (raw.isascii() or not _C1_UTF8.search(raw)):
        return {}
    found: dict[int, str] = {}
    line, pos = 1, 0
    for match in _CONTROL.finditer(text):
        line += text.count("\n", pos, match.start())
        pos = match.start()
        found.setdefault(line, match.group())
    return found


# --- shared row building ---------------------------------------------------------------------

_OUTCOME_WORDS = {
    **dict.fromkeys(("correct", "right", "yes", "true", "1"), "correct"),
    **dict.fromkeys(("incorrect", "wrong", "no", "false", "0"), "incorrect"),
    **dict.fromkeys(("omitted", "omit", "skipped", "skip", "unanswered"), "omitted"),
}
_SOURCE = re.compile(r"[a-z0-9][a-z0-9 ._-]{0,39}")
_QID = re.compile(r"[A-Za-z0-9._-]{1,64}")
_PREFIXED = re.compile(r"([A-Za-z][A-Za-z0-9_-]{0,39})\s*:\s*(.*)", re.DOTALL)
_SCIENTIFIC = re.compile(r"[+-]?\d+(?:[.,]\d+)?[eE][+-]?\d+")
_MONTH = (
    r"(?:jan(?:uary)?|feb(?:ruary)?|mar(?:ch)?|apr(?:il)?|may|june?|july?|aug(?:ust)?"
    r"|sep(?:t(?:ember)?)?|oct(?:ober)?|nov(?:ember)?|dec(?:ember)?)"
)
_DATE_LIKE = re.compile(rf"\d{{1,2}}[-/ ]{_MONTH}|{_MONTH}[-/ ]\d{{1,4}}", re.IGNORECASE)
_DECIMAL = re.compile(r"\d+[.,]0+")


def _clean_source(raw: str) -> str | None:
    name = raw.strip().lower()
    return name if _SOURCE.fullmatch(name) else None


def _show(text: str, limit: int = 40) -> str:
    return repr(text if len(text) <= limit else text[:limit] + "…")


def _split_qid(raw: str) -> tuple[str, str, str]:
    """(bank prefix or "", bare id, error or "") for a question id cell or token."""
    if raw.isdigit() and raw.isascii() and len(raw) <= 64:
        return "", raw, ""
    prefix = ""
    qid = raw.strip()
    match = _PREFIXED.fullmatch(qid)
    if match:
        prefix, qid = match.group(1).lower(), match.group(2).strip()
    if not qid:
        return prefix, "", "empty question id"
    if _SCIENTIFIC.fullmatch(qid):
        why = "scientific notation; format the column as Text"
        return prefix, qid, f"question id looks mangled by a spreadsheet ({_show(qid)} is {why})"
    if _DATE_LIKE.fullmatch(qid):
        why = "looks like a date"
        return prefix, qid, f"question id looks mangled by a spreadsheet ({_show(qid)} {why})"
    if _DECIMAL.fullmatch(qid):
        why = "is a whole number written as a decimal"
        return prefix, qid, f"question id looks mangled by a spreadsheet ({_show(qid)} {why})"
    if not _QID.fullmatch(qid):
        return (
            prefix,
            qid,
            f"question id {_show(qid)} is not an id "
            "(letters, digits, '-', '_' or '.'; at most 64 characters)",
        )
    return prefix, qid, ""


_MONTHS = {
    name: number
    for number, names in enumerate(
        (
            ("jan", "january"),
            ("feb", "february"),
            ("mar", "march"),
            ("apr", "april"),
            ("may",),
            ("jun", "june"),
            ("jul", "july"),
            ("aug", "august"),
            ("sep", "sept", "september"),
            ("oct", "october"),
            ("nov", "november"),
            ("dec", "december"),
        ),
        start=1,
    )
    for name in names
}
_TIME_OF_DAY = (
    r"(?:[T ]\s*\d{1,2}:\d{2}(?::\d{2}(?:[.,]\d+)?)?\s*(?:[AaPp]\.?[Mm]\.?)?"
    r"\s*(?:Z|UTC|GMT|[+-]\d{2}:?\d{2})?)?"
)
_YMD = re.compile(rf"(\d{{4}})[-/](\d{{1,2}})[-/](\d{{1,2}}){_TIME_OF_DAY}")
_SLASHED = re.compile(rf"(\d{{1,2}})/(\d{{1,2}})/(\d{{4}}|\d{{2}}){_TIME_OF_DAY}")
_DAY_MONTH = re.compile(rf"(\d{{1,2}})[ -]([A-Za-z]{{3,9}})\.?,?[ -](\d{{4}}){_TIME_OF_DAY}")
_MONTH_DAY = re.compile(rf"([A-Za-z]{{3,9}})\.? (\d{{1,2}}),? (\d{{4}}){_TIME_OF_DAY}")
_FIRST_YEAR, _LAST_YEAR = 1970, 2099


def _slash_order(values: Iterable[str]) -> str:
    """The order the file's slashed dates show: "mdy", "dmy", "both" (they disagree) or ""."""
    month_first = day_first = False
    for value in values:
        match = _SLASHED.fullmatch(value.strip())
        if match:
            first, second = int(match.group(1)), int(match.group(2))
            month_first |= second > 12 >= first
            day_first |= first > 12 >= second
    if month_first and day_first:
        return "both"
    return "mdy" if month_first else "dmy" if day_first else ""


def _parse_date(raw: str, order: str) -> date | str:
    """The date, or an error message."""
    text = raw.strip()
    month_name = ""
    if match := _YMD.fullmatch(text):
        year, month, day = int(match.group(1)), int(match.group(2)), int(match.group(3))
    elif match := _SLASHED.fullmatch(text):
        first, second, year = int(match.group(1)), int(match.group(2)), int(match.group(3))
        if len(match.group(3)) == 2:
            year += 2000
        if first == second or second > 12 >= first or (order == "mdy" and first <= 12):
            month, day = first, second
        elif first > 12 >= second or (order == "dmy" and second <= 12):
            month, day = second, first
        elif first > 12 and second > 12:
            return f"bad date {_show(raw)}"
        else:
            why = "the file has both" if order == "both" else "nothing in the file tells"
            return (
                f"ambiguous date {_show(raw)} (day-first or month-first? {why}); "
                "write it as YYYY-MM-DD"
            )
    elif match := _DAY_MONTH.fullmatch(text):
        day, month_name, year = int(match.group(1)), match.group(2), int(match.group(3))
        month = 0
    elif match := _MONTH_DAY.fullmatch(text):
        month_name, day, year = match.group(1), int(match.group(2)), int(match.group(3))
        month = 0
    else:
        return f"unrecognized date {_show(raw)} (use YYYY-MM-DD)"
    if month_name:
        month = _MONTHS.get(month_name.lower(), 0)
        if not month:
            return f"unrecognized month in date {_show(raw)}"
    if not _FIRST_YEAR <= year <= _LAST_YEAR:
        return f"date {_show(raw)} is outside {_FIRST_YEAR}-{_LAST_YEAR}"
    try:
        return date(year, month, day)
    except ValueError:
        return f"bad date {_show(raw)}"


_DURATION = re.compile(
    r"(?:(\d+)\s*h(?:ours?|rs?)?\s*)?"
    r"(?:(\d+)\s*m(?:in(?:ute)?s?)?\s*)?"
    r"(?:(\d+)\s*s(?:ec(?:ond)?s?)?)?",
    re.IGNORECASE,
)
_CLOCK = re.compile(r"(?:(\d+):)?(\d{1,2}):(\d{2})")
_NO_TIME = frozenset(("", "-", "--", "n/a", "na"))
_FRACTION = re.compile(r"\d+[.,]\d+")


def _parse_seconds(raw: str) -> int | str | None:
    """Seconds from `75`, `75.4`, `75 sec`, `1 min 5 sec`, `1:05`; None when blank (or `-`);
    else an error message."""
    text = raw.strip()
    if text.isdigit() and text.isascii():
        return int(text)
    if text.lower() in _NO_TIME:
        return None
    if _FRACTION.fullmatch(text):
        return round(float(text.replace(",", ".")))
    if match := _CLOCK.fullmatch(text):
        hours, minutes, secs = (int(g) if g else 0 for g in match.groups())
        return hours * 3600 + minutes * 60 + secs
    match = _DURATION.fullmatch(text)
    if match and any(match.groups()):
        hours, minutes, secs = (int(g) if g else 0 for g in match.groups())
        return hours * 3600 + minutes * 60 + secs
    return f"unrecognized time spent {_show(raw)} (use seconds, e.g. 75 or '1 min 15 sec')"


@dataclass(slots=True)
class _Context:
    """What a parse has found so far, and the cell values already read (raw cell -> value;
    `None` stands for an absent column). Only good values are cached, so a row whose cells are
    all cached and whose id is plain digits takes the fast path in `add`."""

    path: str
    source: str
    default_date: date
    outcome: str | None
    controls: dict[int, str]
    attempts: list[AttemptSpec] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)
    rows_read: int = 0
    fatal: bool = False
    date_order: str = ""
    sources: dict[str | None, str] = field(default_factory=dict)
    outcomes: dict[str | None, str] = field(default_factory=dict)
    dates: dict[str | None, date] = field(default_factory=dict)
    times: dict[str | None, int | None] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.sources.update({None: self.source, "": self.source})
        self.outcomes[None] = self.outcome or "incorrect"
        if self.outcome:
            self.outcomes[""] = self.outcome
        self.dates.update({None: self.default_date, "": self.default_date})
        self.times.update({None: None, "": None})

    def fail(self, line: int | None, message: str) -> None:
        self.problems.append(Problem(self.path, line, message))

    def give_up(self, line: int | None, message: str) -> None:
        """A problem with the whole file: no row can be read."""
        self.fail(line, message)
        self.fatal = True

    def control_in(self, first: int, last: int) -> str:
        """An error message if a control character is on lines first..last, else ""."""
        for line in range(first, last + 1):
            char = self.controls.get(line)
            if char is not None:
                return f"control character U+{ord(char):04X} in a field (is this a text file?)"
        return ""

    def add(
        self,
        line: int,
        qid: str,
        result: str | None,
        when: str | None,
        bank: str | None,
        subject: str,
        system: str,
        category: str,
        topic: str,
        spent: str | None,
    ) -> None:
        """Record one row as an attempt, or one problem naming every fault in it."""
        source = self.sources.get(bank)
        outcome = self.outcomes.get(result)
        on_date = self.dates.get(when)
        seconds = self.times.get(spent, -1)
        if (
            source
            and outcome
            and on_date
            and seconds != -1
            and qid.isdigit()
            and qid.isascii()
            and len(qid) <= 64
        ):
            self.attempts.append(
                AttemptSpec(
                    source,
                    qid,
                    outcome,
                    on_date,
                    subject.strip(),
                    system.strip(),
                    category.strip(),
                    topic.strip(),
                    seconds,
                    line,
                )
            )
        else:
            texts = (subject, system, category, topic)
            self._add_checked(line, qid, result, when, bank, spent, texts)

    def _add_checked(
        self,
        line: int,
        qid_cell: str,
        result: str | None,
        when: str | None,
        bank: str | None,
        spent: str | None,
        texts: tuple[str, str, str, str],
    ) -> None:
        errors: list[str] = []
        prefix, qid, error = _split_qid(qid_cell)
        if error:
            errors.append(error)
        source = self._source(bank, errors)
        if prefix:
            if bank is not None and bank.strip() and source and prefix != source:
                errors.append(f"question id prefix {prefix!r} disagrees with bank {source!r}")
            source = prefix
        outcome = self._outcome(result, errors)
        on_date = self._date(when, errors)
        seconds = self._seconds(spent, errors)
        if errors:
            self.fail(line, "; ".join(errors))
            return
        assert source and outcome and on_date
        subject, system, category, topic = (text.strip() for text in texts)
        self.attempts.append(
            AttemptSpec(
                source, qid, outcome, on_date, subject, system, category, topic, seconds, line
            )
        )

    def _source(self, cell: str | None, errors: list[str]) -> str:
        if (known := self.sources.get(cell)) is not None:
            return known
        assert cell is not None
        named = _clean_source(cell)
        if named is None:
            errors.append(f"bank name {_show(cell.strip())} is not a name")
            return ""
        self.sources[cell] = named
        return named

    def _outcome(self, cell: str | None, errors: list[str]) -> str:
        if (known := self.outcomes.get(cell)) is not None:
            return known
        assert cell is not None
        word = cell.strip()
        outcome = _OUTCOME_WORDS.get(word.lower()) if word else self.outcome
        if outcome is None:
            errors.append(
                f"unknown result {_show(word)} (use correct, incorrect, omitted, "
                "yes/no, true/false, 1/0 or right/wrong)"
                if word
                else "empty result (use correct, incorrect or omitted)"
            )
            return ""
        self.outcomes[cell] = outcome
        return outcome

    def _date(self, cell: str | None, errors: list[str]) -> date | None:
        if (known := self.dates.get(cell)) is not None:
            return known
        assert cell is not None
        found = _parse_date(cell, self.date_order) if cell.strip() else self.default_date
        if isinstance(found, str):
            errors.append(found)
            return None
        self.dates[cell] = found
        return found

    def _seconds(self, cell: str | None, errors: list[str]) -> int | None:
        if (known := self.times.get(cell, -1)) != -1:
            return known
        assert cell is not None
        found = _parse_seconds(cell)
        if isinstance(found, str):
            errors.append(found)
            return None
        self.times[cell] = found
        return found


def _finish(fmt: str, ctx: _Context, skip_invalid: bool) -> ParsedLog:
    problems = sorted(ctx.problems, key=lambda p: p.line or 0)
    if ctx.fatal or (problems and not skip_invalid):
        raise QbankFormatError(problems)
    if not ctx.attempts:
        raise QbankFormatError([*problems, Problem(ctx.path, None, "no question rows found")])
    return ParsedLog(fmt, tuple(ctx.attempts), ctx.rows_read, tuple(problems))


# --- column names ----------------------------------------------------------------------------

_ROLES: dict[str, tuple[str, ...]] = {
    "qid": ("questionid", "qid", "id", "question"),
    "result": ("result", "outcome", "status", "correct", "iscorrect"),
    "date": (
        "date",
        "answered",
        "timestamp",
        "attempted",
        "dateanswered",
        "answeredon",
        "answeredat",
        "attemptedon",
        "attemptedat",
        "datetime",
    ),
    "subject": ("subject", "subjects"),
    "system": ("system", "systems"),
    "category": ("category", "categories"),
    "topic": ("topic", "topics", "title"),
    "source": ("source", "bank", "qbank"),
    "seconds": ("timespent", "time", "seconds", "timespentsec", "timesec", "timeseconds"),
    "others": ("correctothers", "percentcorrectothers", "otherscorrect"),
}
_OPTIONAL = ("result", "date", "source", "subject", "system", "category", "topic", "seconds")


def _normal(name: str) -> str:
    """`Question ID`, `question_id` and `QUESTION-ID` all become `questionid`."""
    return "".join(ch for ch in name.lower() if ch.isalnum())


def _columns(header: Sequence[str]) -> tuple[dict[str, int], list[str]]:
    """The column of each role the header names, and complaints about repeated names."""
    names = [_normal(cell) for cell in header]
    found: dict[str, int] = {}
    complaints = []
    for role, aliases in _ROLES.items():
        for alias in aliases:
            where = [i for i, name in enumerate(names) if name == alias]
            if where:
                found[role] = where[0]
                if len(where) > 1:
                    columns = " and ".join(str(i + 1) for i in where)
                    complaints.append(
                        f"column {header[where[0]].strip()!r} appears more than once "
                        f"(columns {columns})"
                    )
                break
    return found, complaints


_ABSENT = (None, "")  # appended to a row: cell `width` is an absent key, `width + 1` an absent text
_KEYS = ("result", "date", "source", "seconds")


def _row_reader(roles: dict[str, int], width: int) -> Callable[[list[Any]], tuple[Any, ...]]:
    """Picks (qid, result, date, source, subject, system, category, topic, time) from a row with
    `_ABSENT` appended: None for an absent result/date/source/time column, "" for absent text."""
    return itemgetter(
        *(roles.get(role, width if role in _KEYS else width + 1) for role in ("qid", *_OPTIONAL))
    )


# --- format detection ------------------------------------------------------------------------

_UWORLD_ID = re.compile(r"\s*\d+\s*-\s*(\S+)\s*")
_ID_TOKEN = re.compile(r"(?:[A-Za-z][A-Za-z0-9_-]{0,39}:)?\d{1,64}")


def _is_uworld_row(line: str) -> bool:
    if "\t" not in line:
        return False
    first = line.split("\t", 1)[0]
    return bool(_UWORLD_ID.match(first)) and not _DATE_LIKE.fullmatch(first.strip())


def _detect(lines: Sequence[str]) -> str:
    """The format the first lines suggest; "qids" is confirmed by `_parse_qids` reading on."""
    filled = (line for line in lines if line.strip())
    first = next(filled, None)
    if first is None:
        return "qids"
    if _is_uworld_row(first):
        return "uworld"
    second = next(filled, None)
    if "\t" in first and second is not None and _is_uworld_row(second):
        return "uworld"
    if all(map(_ID_TOKEN.fullmatch, first.replace(",", " ").split())):
        return "qids"
    return "csv"


# --- qids: a plain list of ids ---------------------------------------------------------------


def _parse_qids(lines: Sequence[str], ctx: _Context, *, detecting: bool) -> tuple[int, str] | None:
    """Read every token as an id; when `detecting`, stop at the first token that is not digits
    or bank:digits, since the file is then not a list of ids, and return its line and text."""
    add = ctx.add
    for number, line in enumerate(lines, start=1):
        tokens = line.replace(",", " ").split()
        if not tokens:
            continue
        if detecting and not all(map(_ID_TOKEN.fullmatch, tokens)):
            return number, next(t for t in tokens if not _ID_TOKEN.fullmatch(t))
        ctx.rows_read += len(tokens)
        if ctx.controls and (error := ctx.control_in(number, number)):
            ctx.fail(number, error)
            continue
        for token in tokens:
            add(number, token, None, None, None, "", "", "", "", None)
    return None


# --- uworld: the Test Results table as pasted ------------------------------------------------

_UWORLD_COLUMNS = {  # a paste without a header; the "n - QID" cell is always column 0
    "subject": 1,
    "system": 2,
    "category": 3,
    "topic": 4,
    "others": 5,
    "seconds": 6,
}
_PERCENT = re.compile(r"\d{1,3}(?:[.,]\d+)?\s*%?")


def _uworld_header(line: str) -> dict[str, int] | None:
    """The columns a header line names, or None if the line is not a UWorld header."""
    cells = line.split("\t")
    if _UWORLD_ID.match(cells[0]):
        return None
    roles, _ = _columns(cells)
    roles.pop("qid", None)
    known = sum(1 for index in roles.values() if index > 0)
    return roles if known >= 2 else None


def _parse_uworld(lines: Sequence[str], ctx: _Context) -> None:
    start = next((i for i, line in enumerate(lines) if line.strip()), len(lines))
    header_line = ""
    roles: dict[str, int] | None = None
    if start < len(lines):
        roles = _uworld_header(lines[start])
        if roles is not None:
            header_line = lines[start].rstrip("\t ")
            start += 1
    headed = roles is not None
    if roles is None:
        roles = dict(_UWORLD_COLUMNS)
    roles["qid"] = 0
    width = max(roles.values(), default=0) + 1
    if headed:
        width = max(width, len(header_line.split("\t")))
    if "date" in roles:
        column = roles["date"]
        ctx.date_order = _slash_order(
            {cells[column] for cells in (line.split("\t") for line in lines) if len(cells) > column}
        )
    pick = _row_reader(roles, width)
    others = roles.get("others")
    add = ctx.add
    padding = ("",) * width
    for index in range(start, len(lines)):
        line = lines[index]
        if not line.strip():
            continue
        number = index + 1
        if headed and line.rstrip("\t ") == header_line:
            continue  # a second page pasted with its header
        ctx.rows_read += 1
        if ctx.controls and (error := ctx.control_in(number, number)):
            ctx.fail(number, error)
            continue
        cells = line.split("\t")
        while len(cells) > 1 and not cells[-1].strip():
            cells.pop()
        if len(cells) > width:
            ctx.fail(number, f"row has {len(cells)} columns; a UWorld row has at most {width}")
            continue
        match = _UWORLD_ID.fullmatch(cells[0])
        if match is None or _DATE_LIKE.fullmatch(cells[0].strip()):
            ctx.fail(
                number,
                f"expected 'n - QID' (e.g. '3 - 118154') in the first column, "
                f"found {_show(cells[0].strip())}",
            )
            continue
        if len(cells) < width:
            cells += padding[len(cells) :]
        value = cells[others].strip() if others is not None else ""
        if (
            value
            and not (value.rstrip("%").isdigit() or _PERCENT.fullmatch(value))
            and (value.lower() not in _NO_TIME)
        ):
            ctx.fail(number, f"expected '% correct others' (e.g. 62%), found {_show(value)}")
            continue
        row: list[Any] = cells
        row[0] = match.group(1)
        row += _ABSENT
        add(number, *pick(row))


# --- csv: any CSV/TSV export with a header ---------------------------------------------------

_DELIMITERS = ("\t", ";", ",")
_EXCEL_SEP = re.compile(r"sep=(.)")


def _sniff(header: str) -> tuple[str, list[str]]:
    """The delimiter that makes the header name a question id column (the one giving the most
    columns if several do), and the header's cells split by it."""
    best: tuple[int, int, str, list[str]] | None = None
    for delimiter in _DELIMITERS:
        if delimiter not in header:
            continue
        cells = next(csv.reader([header], delimiter=delimiter), [])
        has_qid = "qid" in _columns(cells)[0]
        score = (int(has_qid), len(cells))
        if best is None or score > best[:2]:
            best = (*score, delimiter, cells)
    if best is None:
        return ",", next(csv.reader([header]), [])
    return best[2], best[3]


def _parse_csv(lines: Sequence[str], ctx: _Context) -> None:
    start = next((i for i, line in enumerate(lines) if line.strip()), len(lines))
    if start == len(lines):
        return
    forced = _EXCEL_SEP.fullmatch(lines[start].strip())
    if forced:  # Excel's "sep=;" hint line
        start = next((i for i in range(start + 1, len(lines)) if lines[i].strip()), len(lines))
        if start == len(lines):
            return
    header_number = start + 1
    if error := ctx.control_in(header_number, header_number):
        ctx.give_up(header_number, error)
        return
    if forced:
        delimiter = forced.group(1)
        header = next(csv.reader([lines[start]], delimiter=delimiter), [])
    else:
        delimiter, header = _sniff(lines[start])
    roles, complaints = _columns(header)
    if "qid" not in roles:
        found = ", ".join(_show(cell.strip()) for cell in header)
        ctx.give_up(
            header_number,
            "no question id column (looked for 'question id', 'qid', 'id' or 'question'); "
            f"columns found: {found}",
        )
        return
    for complaint in complaints:
        ctx.give_up(header_number, complaint)
    if complaints:
        return
    _read_csv_rows(lines, start + 1, delimiter, len(header), roles, ctx)


def _records(
    lines: Sequence[str], start: int, delimiter: str, width: int, qid_column: int, ctx: _Context
) -> Iterator[tuple[int, int, list[str]]]:
    """(first line, last line, cells) of each record from line index `start` on.

    csv does the quoting (strict, so stray quotes raise). A quote that never closes is found
    two ways: csv raises (at the end of the data or at a stray quote), or a record spans lines
    that each look like a whole row of their own. Either way the problem is reported at the
    line where the quote opened and reading restarts on the line after it.
    """
    resume: int | None = start
    while resume is not None:
        base, resume = resume, None
        reader = csv.reader(
            (lines[i] + "\n" for i in range(base, len(lines))), delimiter=delimiter, strict=True
        )
        done = 0
        try:
            for cells in reader:
                first, last = base + done + 1, base + reader.line_num
                done = reader.line_num
                if last > first:
                    opened = _swallowed(lines, first, last, delimiter, width, qid_column)
                    if opened:
                        ctx.fail(opened, _UNTERMINATED)
                        resume = opened
                        break
                yield first, last, cells
        except csv.Error as error:
            first, last = base + done + 1, base + reader.line_num
            opened = _quote_opened(lines, first, last, delimiter)
            if opened:
                ctx.fail(opened, _UNTERMINATED)
                resume = opened
            else:
                quotes = any('"' in lines[number - 1] for number in range(first, last + 1))
                why = "a quoted cell must end right after its closing quote" if quotes else error
                ctx.fail(first, f"unreadable row ({why})")
                resume = last


_UNTERMINATED = "unterminated quote: the quoted cell opened on this line never closes"


def _swallowed(
    lines: Sequence[str], first: int, last: int, delimiter: str, width: int, qid_column: int
) -> int:
    """The line where a quote opened if a multi-line record swallowed whole rows, else 0.

    A genuine quoted line break continues text, and the line that ends it has an odd number of
    quotes; a line with balanced quotes that reads as a full row with an id is a row.
    """
    for number in range(first + 1, last + 1):
        line = lines[number - 1]
        if line.count('"') % 2:
            continue
        cells = next(csv.reader([line], delimiter=delimiter), [])
        if len(cells) == width and not _split_qid(cells[qid_column])[2]:
            return _quote_opened(lines, first, last, delimiter)
    return 0


def _quote_opened(lines: Sequence[str], first: int, last: int, delimiter: str) -> int:
    """The line where the record's first quoted cell that spans a line end (or never closes)
    opened; 0 if every quoted cell closes on its own line."""
    at_start, quoted, opened = True, False, 0
    for number in range(first, last + 1):
        line = lines[number - 1]
        i, end = 0, len(line)
        while i < end:
            char = line[i]
            if quoted:
                if char == '"':
                    if i + 1 < end and line[i + 1] == '"':
                        i += 1
                    else:
                        quoted, at_start = False, False
            elif char == '"' and at_start:
                quoted, opened = True, number
            else:
                at_start = char == delimiter
            i += 1
        if quoted:
            return opened
        at_start = True
    return 0


def _read_csv_rows(
    lines: Sequence[str],
    start: int,
    delimiter: str,
    width: int,
    roles: dict[str, int],
    ctx: _Context,
) -> None:
    pick = _row_reader(roles, width)
    qid_column = roles["qid"]
    add = ctx.add
    controls = ctx.controls
    records = list(_records(lines, start, delimiter, width, qid_column, ctx))
    if "date" in roles:  # the whole column decides whether 3/4/2024 is March or April
        column = roles["date"]
        ctx.date_order = _slash_order(
            {cells[column] for _, _, cells in records if len(cells) == width}
        )
    for first, last, cells in records:
        if (len(cells) != width or not cells[qid_column]) and not any(map(str.strip, cells)):
            continue  # a blank line, or Excel's ",,,," for one
        ctx.rows_read += 1
        if controls and (error := ctx.control_in(first, last)):
            ctx.fail(first, error)
        elif len(cells) != width:
            ctx.fail(first, f"row has {len(cells)} cells but the header has {width}")
        else:
            row: list[Any] = cells
            row += _ABSENT
            add(first, *pick(row))
