"""Missed-question logs -> attempts: UWorld result pastes, CSV/TSV exports, id lists.

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

Logs are read as a stream, so memory does not grow with the file: a first pass over the bytes
settles the encoding (and hashes them), a second decodes and parses in chunks of `Row` tuples
(`QbankReader.chunks`). Two things only the whole file shows restart the second pass: a list of
ids that turns out to hold a word (it is a CSV), and a slashed date whose order a later row
settles. `parse_qbank` collects the stream into `AttemptSpec` values.
"""

from __future__ import annotations

import codecs
import csv
import hashlib
import io
import os
import re
import shutil
import tempfile
from collections.abc import Callable, Generator, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from itertools import chain, repeat
from operator import itemgetter
from pathlib import Path
from typing import IO, Any

from flashcore.core.errors import Problem, QbankFormatError, UsageError

__all__ = [
    "FORMATS",
    "OUTCOMES",
    "AttemptSpec",
    "LogSource",
    "ParsedLog",
    "QbankReader",
    "Row",
    "fingerprint",
    "parse_qbank",
]

OUTCOMES = ("correct", "incorrect", "omitted")
FORMATS = ("auto", "uworld", "csv", "qids")
CHUNK_ROWS = 20_000  # rows per chunk handed to the caller
READ_BYTES = 1 << 20  # bytes read and decoded at a time
MAX_LINE = 32 << 20  # a longer line is not a question log (and would have to sit in memory)
MAX_SECONDS = 86_400  # time spent on one question: more than a day is not a time
FIELD_LIMIT = 131_072  # the csv module's cell limit; longer cells are row errors everywhere

# One attempt as the stream carries it: (fingerprint, source, qid, outcome, ISO date, subject,
# system, category, topic, seconds, line). Plain tuples: a 1 GB log holds millions of them.
Row = tuple[str, str, str, str, str, str, str, str, str, int | None, int]


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


# A fingerprint is the first 128 bits of the sha256, in hex (schema 0005; 64 hex digits before):
# half the bytes in the attempts table and its unique index, which a 100,000-row import writes.
FINGERPRINT_CHARS = 32


def fingerprint(a: AttemptSpec) -> str:
    """A stable identity for an attempt: sha256 of `source|qid|date|outcome`, its first 128
    bits in hex."""
    return _fingerprint(a.source, a.qid, a.on_date.isoformat(), a.outcome)


def _fingerprint(source: str, qid: str, iso_day: str, outcome: str) -> str:
    digest = hashlib.sha256(f"{source}|{qid}|{iso_day}|{outcome}".encode()).hexdigest()
    return digest[:FINGERPRINT_CHARS]


class LogSource:
    """A log's bytes, readable from the start more than once: bytes in memory, a file, or a
    stream (stdin) copied to a temporary file as it is read."""

    def __init__(self, data: bytes | str | os.PathLike[str] | IO[bytes]) -> None:
        self._bytes: bytes | None = None
        self._path: Path | None = None
        self._spool: IO[bytes] | None = None
        if isinstance(data, bytes | bytearray | memoryview):
            self._bytes = bytes(data)
            self.size = len(self._bytes)
        elif isinstance(data, str | os.PathLike):
            self._path = Path(data)
            self.size = self._path.stat().st_size
        else:
            spool = tempfile.SpooledTemporaryFile(max_size=READ_BYTES * 8)  # noqa: SIM115
            shutil.copyfileobj(data, spool, READ_BYTES)
            self.size = spool.tell()
            self._spool = spool

    def open(self) -> IO[bytes]:
        """A fresh binary reader at the first byte (close it when done)."""
        if self._bytes is not None:
            return io.BytesIO(self._bytes)
        if self._path is not None:
            return self._path.open("rb")
        assert self._spool is not None
        self._spool.seek(0)
        return io.BufferedReader(_View(self._spool), READ_BYTES)

    def close(self) -> None:
        if self._spool is not None:
            self._spool.close()

    def __enter__(self) -> LogSource:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()


class _View(io.RawIOBase):
    """A reader of the spool with a position of its own (the spool is read more than once,
    sometimes by two readers at a time); closing it leaves the spool open."""

    def __init__(self, inner: IO[bytes]) -> None:
        self._inner = inner
        self._pos = 0

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        self._inner.seek(self._pos)
        data = self._inner.read(len(buffer))
        buffer[: len(data)] = data
        self._pos += len(data)
        return len(data)

    def seek(self, offset: int, whence: int = 0) -> int:
        base = (0, self._pos, self._inner.seek(0, 2))[whence]
        self._pos = base + offset
        return self._pos

    def tell(self) -> int:
        return self._pos


def parse_qbank(
    data: bytes,
    *,
    path: str,
    fmt: str = "auto",
    source: str = "uworld",
    default_date: date,
    outcome: str | None = None,
    skip_invalid: bool = False,
    latest: date | None = None,
) -> ParsedLog:
    """Read a missed-question log.

    `fmt` is "auto", "uworld", "csv" or "qids". `source` is the bank for rows that name none;
    `outcome` is the outcome of rows without a result (else "incorrect"); `default_date` the
    day of rows without a date. Raises `QbankFormatError` with every problem found, unless
    `skip_invalid`, when bad rows are returned in `skipped`; a file-level problem (binary file,
    no question id column, no rows at all) raises either way. Bad arguments raise `UsageError`.
    """
    reader = QbankReader(
        LogSource(data),
        path=path,
        fmt=fmt,
        source=source,
        default_date=default_date,
        outcome=outcome,
        skip_invalid=skip_invalid,
        latest=latest,
    )
    days: dict[str, date] = {}
    attempts: list[AttemptSpec] = []
    for chunk in reader.chunks():
        if chunk is None:
            attempts.clear()
            continue
        for _fp, bank, qid, result, iso, subject, system, category, topic, secs, line in chunk:
            day = days.get(iso)
            if day is None:
                day = days[iso] = date.fromisoformat(iso)
            attempts.append(
                AttemptSpec(bank, qid, result, day, subject, system, category, topic, secs, line)
            )
    return ParsedLog(reader.format, tuple(attempts), reader.rows_read, reader.skipped)


class QbankReader:
    """A log read as a stream of `Row` chunks (see `chunks`); arguments as for `parse_qbank`.

    Construction reads the bytes once (encoding, binary refusal, `content_hash`) and raises
    `QbankFormatError` for a file that is not text.
    """

    def __init__(
        self,
        data: LogSource,
        *,
        path: str,
        fmt: str = "auto",
        source: str = "uworld",
        default_date: date,
        outcome: str | None = None,
        skip_invalid: bool = False,
        chunk_rows: int = CHUNK_ROWS,
        latest: date | None = None,
    ) -> None:
        if fmt not in FORMATS:
            raise UsageError(f"unknown log format {_show(fmt)}: use {', '.join(FORMATS)}")
        if isinstance(default_date, datetime) or not isinstance(default_date, date):
            raise UsageError(f"default_date must be a date, not {type(default_date).__name__}")
        problem = date_problem(default_date, latest)
        if problem is not None:
            raise UsageError(f"--date {default_date}: {problem}")
        default_source = _clean_source(source)
        if default_source is None:
            raise UsageError(f"bank name {_show(source)}: use letters and digits, e.g. uworld")
        fallback = None
        if outcome is not None:
            fallback = _OUTCOME_WORDS.get(outcome.strip().lower())
            if fallback is None:
                raise UsageError(
                    f"unknown outcome {_show(outcome)}: use correct, incorrect or omitted"
                )
        self.data = data
        self.path = path
        self.fmt = fmt
        self.chunk_rows = chunk_rows
        self.skip_invalid = skip_invalid
        self.latest = latest
        self._settings = (path, default_source, default_date, fallback)
        self.encoding = _inspect(data, path)
        self.content_hash = self.encoding.sha256
        self.size = data.size
        self.format = ""
        self.rows_read = 0
        self.skipped: tuple[Problem, ...] = ()
        self._lines: _LineReader | None = None

    @property
    def position(self) -> int:
        """Bytes of the file read so far by the current pass (for a progress bar)."""
        return self._lines.position if self._lines is not None else 0

    def chunks(self) -> Iterator[list[Row] | None]:
        """Lists of rows in file order, then `format`, `rows_read` and `skipped` are set.

        `None` means "start over": forget the rows received so far (the file turned out to be
        another format, or a late row settled the order of slashed dates). After the last chunk
        a file with problems raises `QbankFormatError` (unless `skip_invalid` and some rows are
        good); a caller must not keep anything until the iteration ends without an error.
        """
        fixed_order: str | None = None
        fmt = self.fmt
        started = False
        while True:
            ctx = _Context(
                *self._settings,
                chunk_rows=self.chunk_rows,
                fixed_order=fixed_order,
                latest=self.latest,
            )
            if started:
                yield None
            started = True
            lines = self._lines = _LineReader(self.data, self.path, self.encoding, ctx.controls)
            stream = iter(lines)
            chosen = fmt
            if fmt == "auto":
                chosen, stream = _detect(stream)
            stray = None
            if chosen == "qids":
                stray = yield from _parse_qids(stream, ctx, detecting=fmt == "auto")
                if stray is not None:
                    chosen = "csv"
                    ctx = _Context(
                        *self._settings,
                        chunk_rows=self.chunk_rows,
                        fixed_order=fixed_order,
                        latest=self.latest,
                    )
                    yield None
                    lines = self._lines = _LineReader(
                        self.data, self.path, self.encoding, ctx.controls
                    )
                    stream = iter(lines)
            if chosen == "uworld":
                yield from _parse_uworld(stream, ctx)
            elif chosen == "csv":
                yield from _parse_csv(stream, ctx)
            if ctx.rows:
                yield _flush(ctx)
            if ctx.order_used - {ctx.date_order}:
                fixed_order, fmt = ctx.date_order, chosen
                continue
            if stray is not None and ctx.fatal:
                line, token = stray
                why = f" (not read as a list of ids: line {line} has {_show(token)})"
                ctx.problems = [Problem(p.path, p.line, p.message + why) for p in ctx.problems]
            break
        self.format = chosen
        self.rows_read = ctx.rows_read
        problems = sorted(ctx.problems, key=lambda p: p.line or 0)
        if ctx.fatal or (problems and not self.skip_invalid):
            raise QbankFormatError(problems)
        if not ctx.good_rows:
            raise QbankFormatError([*problems, Problem(self.path, None, "no question rows found")])
        self.skipped = tuple(problems)


# --- bytes -> text ---------------------------------------------------------------------------

_MAGIC = (
    (b"PK\x03\x04", "a ZIP archive"),
    (b"PK\x05\x06", "a ZIP archive"),
    (b"SQLite format 3\x00", "a SQLite database"),
    (b"%PDF-", "a PDF document"),
    (b"\x1f\x8b", "a gzip archive"),
    (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1", "an Excel 97-2003 workbook (.xls)"),
)
_UTF8_BOM = b"\xef\xbb\xbf"
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


def _fatal(path: str, line: int | None, message: str) -> QbankFormatError:
    return QbankFormatError([Problem(path, line, message)])


@dataclass(frozen=True, slots=True)
class _Encoding:
    codec: str  # "utf-8", "utf-16" or "cp1252" (read as Latin-1, then translated)
    skip: int  # bytes before the text (a UTF-8 BOM)
    sha256: str  # of every byte


def _inspect(data: LogSource, path: str) -> _Encoding:
    """The first pass: refuse binary files, choose the encoding, hash the bytes."""
    digest = hashlib.sha256()
    with data.open() as f:
        head = f.read(READ_BYTES)
        for magic, kind in _MAGIC:
            if head.startswith(magic):
                raise _fatal(path, 1, f"not a text file: looks like {kind}")
        utf16 = head.startswith((b"\xff\xfe", b"\xfe\xff"))
        skip = 0 if utf16 or not head.startswith(_UTF8_BOM) else len(_UTF8_BOM)
        decoder = codecs.getincrementaldecoder("utf-16" if utf16 else "utf-8")()
        bad: tuple[int, int] | None = None  # (offset after the BOM, byte) of the first non-UTF-8
        mixed = False  # the file also holds valid multi-byte UTF-8
        offset, tail, chunk = 0, b"", head
        while True:
            digest.update(chunk)
            text = chunk[skip:] if offset == 0 else chunk
            final = not chunk
            if utf16:
                try:
                    decoder.decode(text, final)
                except UnicodeDecodeError:
                    raise _fatal(
                        path, None, "not valid UTF-16 text although it starts like it"
                    ) from None
            else:
                nul = text.find(b"\x00")
                if nul >= 0:
                    line = _line_of(data, skip + offset + nul)
                    raise _fatal(path, line, f"not a text file: contains NUL bytes (line {line})")
                if bad is None and not (text.isascii() and not decoder.getstate()[0]):
                    pending = len(decoder.getstate()[0])
                    try:
                        decoder.decode(text, final)
                    except UnicodeDecodeError as error:
                        at = offset - pending + error.start
                        bad = (at, _byte_at(data, skip + at))
                if not mixed and not text.isascii():
                    mixed = bool(_UTF8_SEQUENCE.search(tail + text))
                tail = text[-3:]
            if final:
                break
            offset += len(text)
            chunk = f.read(READ_BYTES)
    if utf16:
        return _Encoding("utf-16", 0, digest.hexdigest())
    if bad is None:
        return _Encoding("utf-8", skip, digest.hexdigest())
    if mixed:
        at, byte = bad
        raise _fatal(
            path,
            _line_of(data, skip + at),
            f"byte 0x{byte:02X} is not UTF-8 although the rest of the file is; "
            "save the file as UTF-8",
        )
    return _Encoding("cp1252", skip, digest.hexdigest())


def _byte_at(data: LogSource, offset: int) -> int:
    with data.open() as f:
        f.seek(offset)
        return f.read(1)[0]


def _line_of(data: LogSource, offset: int) -> int:
    """The 1-based line of byte `offset`, counting CRLF, LF and a lone CR as one end each."""
    ends, done, previous = 0, 0, b""
    with data.open() as f:
        while done < offset:
            chunk = f.read(min(READ_BYTES, offset - done))
            if not chunk:
                break
            ends += chunk.count(b"\n") + chunk.count(b"\r") - chunk.count(b"\r\n")
            if previous.endswith(b"\r") and chunk.startswith(b"\n"):
                ends -= 1
            previous, done = chunk, done + len(chunk)
    return ends + 1


def _control_lines(text: str, first_line: int, found: dict[int, str]) -> None:
    """Record the lines holding a C0/C1 control character (other than tab and line ends):
    line -> char, for `text` whose first line is `first_line`."""
    raw = text.encode("utf-8")  # a quick look first: C0 as bytes, C1 as their UTF-8 form
    if not raw.translate(None, _NOT_C0) and (raw.isascii() or not _C1_UTF8.search(raw)):
        return
    line, pos = first_line, 0
    for match in _CONTROL.finditer(text):
        line += text.count("\n", pos, match.start())
        pos = match.start()
        found.setdefault(line, match.group())


class _LineReader:
    """The second pass: the text's lines (line ends removed; CRLF and CR count as LF), decoded
    a megabyte at a time. Control characters are noted in `controls` before their lines are
    handed out; `position` counts the bytes read."""

    def __init__(
        self, data: LogSource, path: str, encoding: _Encoding, controls: dict[int, str]
    ) -> None:
        self.data = data
        self.path = path
        self.encoding = encoding
        self.controls = controls
        self.position = 0

    def __iter__(self) -> Iterator[str]:
        latin = self.encoding.codec == "cp1252"
        decoder = codecs.getincrementaldecoder("latin-1" if latin else self.encoding.codec)()
        carry, number, cr = "", 0, False
        with self.data.open() as f:
            f.seek(self.encoding.skip)
            self.position = self.encoding.skip
            while True:
                chunk = f.read(READ_BYTES)
                self.position += len(chunk)
                final = not chunk
                text = decoder.decode(chunk, final)
                if latin and not text.isascii():
                    text = text.translate(_LATIN1_TO_CP1252)
                if cr:
                    text, cr = "\r" + text, False
                if "\r" in text:
                    if text.endswith("\r") and not final:
                        text, cr = text[:-1], True  # a CRLF may straddle the chunks
                    text = text.replace("\r\n", "\n").replace("\r", "\n")
                block = carry + text if carry else text
                if final:
                    whole, carry = block, ""
                else:
                    cut = block.rfind("\n")
                    if cut < 0:
                        carry = block
                        if len(carry) > MAX_LINE:
                            raise _fatal(
                                self.path,
                                number + 1,
                                f"line longer than {MAX_LINE // (1 << 20)} MB: "
                                "not a question-bank log",
                            )
                        continue
                    whole, carry = block[:cut], block[cut + 1 :]
                _control_lines(whole, number + 1, self.controls)
                lines = whole.split("\n")
                number += len(lines)
                yield from lines
                if final:
                    return


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


def _parse_date(raw: str, order: str, latest: date | None = None) -> date | str:
    """The date, or an error message. A day after `latest` (tomorrow, for an import: a
    question bank's day may run ahead of the student's) is refused: it would count nowhere."""
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
    if not _possible_time(text[match.end(3) :]):
        return f"impossible time of day in date {_show(raw)}"
    try:
        found = date(year, month, day)
    except ValueError:
        return f"bad date {_show(raw)}"
    if latest is not None and found > latest:
        return f"date {_show(raw)} is in the future (the latest day accepted is {latest})"
    return found


_HOUR_MINUTE = re.compile(r"[T ]\s*(\d{1,2}):(\d{2})(?::(\d{2}))?(?:[.,]\d+)?\s*([AaPp])?")
_OFFSET = re.compile(r"([+-])(\d{2}):?(\d{2})\s*\Z")


def _possible_time(tail: str) -> bool:
    """Whether the time of day after a date (`T09:30`, ` 9:30 PM`, `+05:30`...) can exist."""
    if not tail.strip():
        return True
    clock = _HOUR_MINUTE.match(tail)
    if clock is None:
        return True  # the date patterns admit no other time of day
    hour, minute = int(clock.group(1)), int(clock.group(2))
    second = int(clock.group(3) or 0)
    if minute > 59 or second > 59:
        return False
    if not (1 <= hour <= 12 if clock.group(4) else hour <= 23):
        return False
    offset = _OFFSET.search(tail)
    return offset is None or (int(offset.group(2)) <= 14 and int(offset.group(3)) <= 59)


def date_problem(day: date, latest: date | None) -> str | None:
    """Why `day` (a `--date`, or the default day of rows without one) cannot be an attempt's
    day, with the words a date in a file gets; None when it can."""
    found = _parse_date(day.isoformat(), "", latest)
    return found if isinstance(found, str) else None


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
    else an error message (a time over MAX_SECONDS is one)."""
    text = raw.strip()
    if text.isdigit() and text.isascii():
        return int(text) if len(text) <= 6 and int(text) <= MAX_SECONDS else _too_long(raw)
    if text.lower() in _NO_TIME:
        return None
    if _FRACTION.fullmatch(text):
        value = float(text.replace(",", "."))
        return round(value) if value <= MAX_SECONDS else _too_long(raw)
    match = _CLOCK.fullmatch(text) or _DURATION.fullmatch(text)
    if match and any(match.groups()):
        if any(g and len(g) > 6 for g in match.groups()):
            return _too_long(raw)
        hours, minutes, secs = (int(g) if g else 0 for g in match.groups())
        total = hours * 3600 + minutes * 60 + secs
        return total if total <= MAX_SECONDS else _too_long(raw)
    return f"unrecognized time spent {_show(raw)} (use seconds, e.g. 75 or '1 min 15 sec')"


def _too_long(raw: str) -> str:
    return f"time spent {_show(raw)} is more than a day (at most {MAX_SECONDS:,} seconds)"


_CACHE_LIMIT = 50_000  # distinct cell values remembered per column (timestamps are all distinct)


@dataclass(slots=True)
class _Context:
    """What a parse has found so far, and the cell values already read (raw cell -> value;
    `None` stands for an absent column). Only good values are cached, so a row whose cells are
    all cached and whose id is plain digits takes the fast path in `add`.

    Slashed dates: `date_order` is what the rows read so far show (unless `fixed_order`), and
    `order_used` the orders an ambiguous date was read under; when that is not just the final
    order, the reader starts over with the final one fixed.
    """

    path: str
    source: str
    default_date: date
    outcome: str | None
    chunk_rows: int = CHUNK_ROWS
    fixed_order: str | None = None
    latest: date | None = None
    controls: dict[int, str] = field(default_factory=dict)
    rows: list[Row] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)
    rows_read: int = 0
    good_rows: int = 0
    fatal: bool = False
    date_order: str = ""
    order_used: set[str] = field(default_factory=set)
    month_first: bool = False
    day_first: bool = False
    sources: dict[str | None, str] = field(default_factory=dict)
    outcomes: dict[str | None, str] = field(default_factory=dict)
    dates: dict[str | None, str] = field(default_factory=dict)
    times: dict[str | None, int | None] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.fixed_order is not None:
            self.date_order = self.fixed_order
        self._seed()

    def _seed(self) -> None:
        self.sources.update({None: self.source, "": self.source})
        self.outcomes[None] = self.outcome or "incorrect"
        if self.outcome:
            self.outcomes[""] = self.outcome
        day = self.default_date.isoformat()
        self.dates.update({None: day, "": day})
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

    def observe(self, cell: str) -> None:
        """Let a date cell tell the file's order of slashed dates (3/14/2024 is month-first)."""
        if self.fixed_order is not None or "/" not in cell:
            return
        match = _SLASHED.fullmatch(cell.strip())
        if match:
            first, second = int(match.group(1)), int(match.group(2))
            self.month_first |= second > 12 >= first
            self.day_first |= first > 12 >= second
            if self.month_first and self.day_first:
                self.date_order = "both"
            else:
                self.date_order = "mdy" if self.month_first else "dmy" if self.day_first else ""

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
        day = self.dates.get(when)
        seconds = self.times.get(spent, -1)
        if (
            source
            and outcome
            and day
            and seconds != -1
            and qid.isdigit()
            and qid.isascii()
            and len(qid) <= 64
        ):
            self.rows.append(
                (
                    hashlib.sha256(f"{source}|{qid}|{day}|{outcome}".encode()).hexdigest()[
                        :FINGERPRINT_CHARS
                    ],
                    source,
                    qid,
                    outcome,
                    day,
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
        day = self._date(when, errors)
        seconds = self._seconds(spent, errors)
        if errors:
            self.fail(line, "; ".join(errors))
            return
        assert source and outcome and day
        subject, system, category, topic = (text.strip() for text in texts)
        fp = _fingerprint(source, qid, day, outcome)
        self.rows.append(
            (fp, source, qid, outcome, day, subject, system, category, topic, seconds, line)
        )

    def _remember(self, cache: dict[str | None, Any], cell: str, value: object) -> None:
        if len(cache) > _CACHE_LIMIT:
            cache.clear()
            self._seed()
        cache[cell] = value

    def _source(self, cell: str | None, errors: list[str]) -> str:
        if (known := self.sources.get(cell)) is not None:
            return known
        assert cell is not None
        named = _clean_source(cell)
        if named is None:
            errors.append(f"bank name {_show(cell.strip())} is not a name")
            return ""
        self._remember(self.sources, cell, named)
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
        self._remember(self.outcomes, cell, outcome)
        return outcome

    def _date(self, cell: str | None, errors: list[str]) -> str:
        if (known := self.dates.get(cell)) is not None:
            return known
        assert cell is not None
        self.observe(cell)
        if _order_matters(cell):
            self.order_used.add(self.date_order)
        found = (
            _parse_date(cell, self.date_order, self.latest) if cell.strip() else self.default_date
        )
        if isinstance(found, str):
            errors.append(found)
            return ""
        day = found.isoformat()
        self._remember(self.dates, cell, day)
        return day

    def _seconds(self, cell: str | None, errors: list[str]) -> int | None:
        if (known := self.times.get(cell, -1)) != -1:
            return known
        assert cell is not None
        found = _parse_seconds(cell)
        if isinstance(found, str):
            errors.append(found)
            return None
        self._remember(self.times, cell, found)
        return found


def _order_matters(cell: str) -> bool:
    """Whether reading `cell` depends on the file's date order (3/4/2024, but not 4/4/2024)."""
    if "/" not in cell:
        return False
    match = _SLASHED.fullmatch(cell.strip())
    if match is None:
        return False
    first, second = int(match.group(1)), int(match.group(2))
    return first != second and first <= 12 and second <= 12


def _flush(ctx: _Context) -> list[Row]:
    """The rows gathered so far, handed over; the context starts a new chunk."""
    rows = ctx.rows
    ctx.good_rows += len(rows)
    ctx.rows = []
    return rows


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


def _detect(lines: Iterator[str]) -> tuple[str, Iterator[str]]:
    """The format the first lines suggest ("qids" is confirmed by `_parse_qids` reading on),
    and the lines again from the first."""
    blank = 0
    filled: list[str] = []
    for line in lines:
        if line.strip():
            filled.append(line)
            if len(filled) == 2:
                break
        elif filled:
            filled.append(line)
        else:
            blank += 1  # leading blank lines are read as "" again (every format skips them)
    again = chain(repeat("", blank), filled, lines)
    found = [line for line in filled if line.strip()]
    if not found:
        return "qids", again
    first = found[0]
    if _is_uworld_row(first):
        return "uworld", again
    if "\t" in first and len(found) > 1 and _is_uworld_row(found[1]):
        return "uworld", again
    if all(map(_ID_TOKEN.fullmatch, first.replace(",", " ").split())):
        return "qids", again
    return "csv", again


# --- qids: a plain list of ids ---------------------------------------------------------------


def _parse_qids(
    lines: Iterable[str], ctx: _Context, *, detecting: bool
) -> Generator[list[Row], None, tuple[int, str] | None]:
    """Read every token as an id; when `detecting`, stop at the first token that is not digits
    or bank:digits, since the file is then not a list of ids, and return its line and text."""
    add = ctx.add
    limit = ctx.chunk_rows
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
        if len(ctx.rows) >= limit:
            yield _flush(ctx)
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


def _parse_uworld(lines: Iterator[str], ctx: _Context) -> Iterator[list[Row]]:
    number = 0
    first = ""
    for first in lines:
        number += 1
        if first.strip():
            break
    else:
        return
    header_line = ""
    roles = _uworld_header(first)
    headed = roles is not None
    if roles is None:
        roles = dict(_UWORLD_COLUMNS)
        rest: Iterator[str] = chain([first], lines)
        number -= 1
    else:
        header_line = first.rstrip("\t ")
        rest = lines
    roles["qid"] = 0
    width = max(roles.values(), default=0) + 1
    if headed:
        width = max(width, len(header_line.split("\t")))
    date_column = roles.get("date")
    pick = _row_reader(roles, width)
    others = roles.get("others")
    add = ctx.add
    padding = ("",) * width
    limit = ctx.chunk_rows
    for line in rest:
        number += 1
        if not line.strip():
            continue
        if headed and line.rstrip("\t ") == header_line:
            continue  # a second page pasted with its header
        ctx.rows_read += 1
        cells = line.split("\t")
        if ctx.controls and (error := ctx.control_in(number, number)):
            _observe(ctx, cells, date_column)
            ctx.fail(number, error)
            continue
        while len(cells) > 1 and not cells[-1].strip():
            cells.pop()
        if len(cells) > width:
            _observe(ctx, cells, date_column)
            ctx.fail(number, f"row has {len(cells)} columns; a UWorld row has at most {width}")
            continue
        match = _UWORLD_ID.fullmatch(cells[0])
        if match is None or _DATE_LIKE.fullmatch(cells[0].strip()):
            _observe(ctx, cells, date_column)
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
            _observe(ctx, cells, date_column)
            ctx.fail(number, f"expected '% correct others' (e.g. 62%), found {_show(value)}")
            continue
        row: list[Any] = cells
        row[0] = match.group(1)
        row += _ABSENT
        add(number, *pick(row))
        if len(ctx.rows) >= limit:
            yield _flush(ctx)


def _observe(ctx: _Context, cells: Sequence[str], column: int | None) -> None:
    """A row that fails before its date is read still shows the file's date order."""
    if column is not None and len(cells) > column:
        ctx.observe(cells[column])


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


def _parse_csv(lines: Iterator[str], ctx: _Context) -> Iterator[list[Row]]:
    number = 0
    line = ""
    for line in lines:
        number += 1
        if line.strip():
            break
    else:
        return
    forced = _EXCEL_SEP.fullmatch(line.strip())
    if forced:  # Excel's "sep=;" hint line
        for line in lines:
            number += 1
            if line.strip():
                break
        else:
            return
    if error := ctx.control_in(number, number):
        ctx.give_up(number, error)
        return
    if forced:
        delimiter = forced.group(1)
        header = next(csv.reader([line], delimiter=delimiter), [])
    else:
        delimiter, header = _sniff(line)
    roles, complaints = _columns(header)
    if "qid" not in roles:
        found = ", ".join(_show(cell.strip()) for cell in header)
        ctx.give_up(
            number,
            "no question id column (looked for 'question id', 'qid', 'id' or 'question'); "
            f"columns found: {found}",
        )
        return
    for complaint in complaints:
        ctx.give_up(number, complaint)
    if complaints:
        return
    yield from _read_csv_rows(lines, number, delimiter, len(header), roles, ctx)


_UNTERMINATED = "unterminated quote: the quoted cell opened on this line never closes"


class _Records:
    """The records of a CSV body, one physical line at a time.

    A line without a quote is split on the delimiter (what csv would do, only faster). A line
    with one goes to csv (strict, so stray quotes raise), which may read on for a quoted line
    break. A quote that never closes is found two ways: csv raises (at the end of the data or
    at a stray quote), or a record spans lines that each look like a whole row of their own.
    Either way the problem is reported at the line where the quote opened and reading restarts
    on the line after it: the lines after it are read again (`_replay`).
    """

    def __init__(
        self, lines: Iterator[str], number: int, delimiter: str, width: int, qid_column: int
    ) -> None:
        self.source = lines  # the file's remaining lines
        self.lines: Iterator[str] = lines  # what to read next: replayed lines, then the file's
        self.replay: list[str] = []
        self.replay_start = 0  # line number of replay[0]
        self.number = number  # the last line read
        self.delimiter = delimiter
        self.width = width
        self.qid_column = qid_column
        self.taken: list[str] = []
        self.slot: list[str] = []
        self.reader = csv.reader(self._feed(), delimiter=delimiter, strict=True)

    def _feed(self) -> Iterator[str]:
        while True:
            if self.slot:
                line = self.slot.pop()
            else:
                more = next(self.lines, None)
                if more is None:
                    return
                line = more
                self.taken.append(line)
            yield line + "\n"

    def quoted(self, line: str, ctx: _Context) -> tuple[int, int, list[str]] | None:
        """The record starting with `line` (just read as line `self.number`), or None when it
        was unreadable (reported, and the lines to read again set up)."""
        first = self.number
        self.taken = [line]
        self.slot.append(line)
        try:
            cells = next(self.reader)
        except csv.Error as error:
            last = first + len(self.taken) - 1
            opened = _quote_opened(self.taken, first, self.delimiter)
            if opened:
                ctx.fail(opened, _UNTERMINATED)
                self._again(first, opened, last)
            else:
                quotes = any('"' in text for text in self.taken)
                why = "a quoted cell must end right after its closing quote" if quotes else error
                ctx.fail(first, f"unreadable row ({why})")
                self.number = last
            self.reader = csv.reader(self._feed(), delimiter=self.delimiter, strict=True)
            return None
        last = first + len(self.taken) - 1
        if last > first:
            opened = _swallowed(self.taken, first, self.delimiter, self.width, self.qid_column)
            if opened:
                ctx.fail(opened, _UNTERMINATED)
                self._again(first, opened, last)
                return None
        self.number = last
        return first, last, cells

    def _again(self, first: int, opened: int, last: int) -> None:
        """Read the lines after `opened` again, up to `last`, then carry on."""
        unread = []
        if self.replay and last + 1 < self.replay_start + len(self.replay):
            unread = self.replay[last + 1 - self.replay_start :]
        self.replay = self.taken[opened - first + 1 :] + unread
        self.replay_start = opened + 1
        self.number = opened
        self.lines = chain(self.replay, self.source)


def _swallowed(rec: Sequence[str], first: int, delimiter: str, width: int, qid_column: int) -> int:
    """The line where a quote opened if a multi-line record swallowed whole rows, else 0.

    A genuine quoted line break continues text, and the line that ends it has an odd number of
    quotes; a line with balanced quotes that reads as a full row with an id is a row.
    """
    for line in rec[1:]:
        if line.count('"') % 2:
            continue
        cells = next(csv.reader([line], delimiter=delimiter), [])
        if len(cells) == width and not _split_qid(cells[qid_column])[2]:
            return _quote_opened(rec, first, delimiter)
    return 0


def _quote_opened(rec: Sequence[str], first: int, delimiter: str) -> int:
    """The line where the record's first quoted cell that spans a line end (or never closes)
    opened; 0 if every quoted cell closes on its own line."""
    at_start, quoted, opened = True, False, 0
    for number, line in enumerate(rec, start=first):
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
    lines: Iterator[str],
    number: int,
    delimiter: str,
    width: int,
    roles: dict[str, int],
    ctx: _Context,
) -> Iterator[list[Row]]:
    pick = _row_reader(roles, width)
    qid_column = roles["qid"]
    date_column = roles.get("date")
    add = ctx.add
    controls = ctx.controls
    limit = ctx.chunk_rows
    records = _Records(lines, number, delimiter, width, qid_column)

    def take(first: int, last: int, cells: list[str]) -> None:
        if (len(cells) != width or not cells[qid_column]) and not any(map(str.strip, cells)):
            return  # a blank line, or Excel's ",,,," for one
        ctx.rows_read += 1
        if controls and (error := ctx.control_in(first, last)):
            if len(cells) == width:
                _observe(ctx, cells, date_column)
            ctx.fail(first, error)
        elif len(cells) != width:
            ctx.fail(first, f"row has {len(cells)} cells but the header has {width}")
        else:
            row: list[Any] = cells
            row += _ABSENT
            add(first, *pick(row))

    while True:
        quoted = None
        number = records.number
        for line in records.lines:
            number += 1
            if '"' in line or len(line) > FIELD_LIMIT:
                quoted = line
                break
            cells: list[Any] = line.split(delimiter) if line else []
            if len(cells) == width and cells[qid_column] and number not in controls:
                ctx.rows_read += 1
                cells += _ABSENT
                add(number, *pick(cells))
            else:
                take(number, number, cells)
            if len(ctx.rows) >= limit:
                records.number = number
                yield _flush(ctx)
        records.number = number
        if quoted is None:
            return
        record = records.quoted(quoted, ctx)
        if record is not None:
            take(*record)
        if len(ctx.rows) >= limit:
            yield _flush(ctx)
