"""The log as a stream of row chunks (`QbankReader`), and `parse_qbank`, which collects it."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, datetime

from flashcore.core.errors import Problem, QbankFormatError, UsageError
from flashcore.importers.qbank.attempts import FORMATS, AttemptSpec, ParsedLog, Row
from flashcore.importers.qbank.cells import OUTCOME_WORDS, clean_source, date_problem, show
from flashcore.importers.qbank.csvlog import parse_csv
from flashcore.importers.qbank.detection import detect
from flashcore.importers.qbank.qids import parse_qids
from flashcore.importers.qbank.rows import CHUNK_ROWS, Context, flush
from flashcore.importers.qbank.text import LineReader, LogSource, inspect_encoding
from flashcore.importers.qbank.uworld import parse_uworld
from flashcore.importers.score_report import looks_like_report

REPORT_HEAD = 4096  # the bytes a score report is recognised by


def _opens_as_toml_deck(head: bytes) -> bool:
    """Whether the first line that is not blank or a comment opens a TOML deck's table."""
    for line in head.splitlines():
        line = line.strip()
        if line and not line.startswith(b"#"):
            return line.startswith((b"[deck]", b"[[cards]]"))
    return False


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
        for (
            _fp,
            bank,
            qid,
            result,
            iso,
            subject,
            system,
            category,
            topic,
            secs,
            line,
            others,
        ) in chunk:
            day = days.get(iso)
            if day is None:
                day = days[iso] = date.fromisoformat(iso)
            attempts.append(
                AttemptSpec(
                    bank, qid, result, day, subject, system, category, topic, secs, line, others
                )
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
            raise UsageError(f"unknown log format {show(fmt)}: use {', '.join(FORMATS)}")
        if isinstance(default_date, datetime) or not isinstance(default_date, date):
            raise UsageError(f"default_date must be a date, not {type(default_date).__name__}")
        problem = date_problem(default_date, latest)
        if problem is not None:
            raise UsageError(f"--date {default_date}: {problem}")
        default_source = clean_source(source)
        if default_source is None:
            raise UsageError(f"bank name {show(source)}: use letters and digits, e.g. uworld")
        fallback = None
        if outcome is not None:
            fallback = OUTCOME_WORDS.get(outcome.strip().lower())
            if fallback is None:
                raise UsageError(
                    f"unknown outcome {show(outcome)}: use correct, incorrect or omitted"
                )
        self.data = data
        self.path = path
        self.fmt = fmt
        self.chunk_rows = chunk_rows
        self.skip_invalid = skip_invalid
        self.latest = latest
        self._settings = (path, default_source, default_date, fallback)
        self.encoding = inspect_encoding(data, path)
        self.content_hash = self.encoding.sha256
        self.size = data.size
        self.format = ""
        self.rows_read = 0
        self.skipped: tuple[Problem, ...] = ()
        self._lines: LineReader | None = None

    @property
    def position(self) -> int:
        """Bytes of the file read so far by the current pass (for a progress bar)."""
        return self._lines.position if self._lines is not None else 0

    def _pass(self, fixed_order: str | None) -> tuple[Context, Iterator[str]]:
        """A fresh read of the file: its context and its lines from the start."""
        ctx = Context(
            *self._settings,
            chunk_rows=self.chunk_rows,
            fixed_order=fixed_order,
            latest=self.latest,
        )
        self._lines = LineReader(self.data, self.path, self.encoding, ctx.controls)
        return ctx, iter(self._lines)

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
            if started:
                yield None
            started = True
            ctx, stream = self._pass(fixed_order)
            chosen = fmt
            if fmt == "auto":
                chosen, stream = detect(stream)
            stray = None
            if chosen == "qids":
                stray = yield from parse_qids(stream, ctx, detecting=fmt == "auto")
                if stray is not None:
                    chosen = "csv"
                    yield None
                    ctx, stream = self._pass(fixed_order)
            if chosen == "uworld":
                yield from parse_uworld(stream, ctx)
            elif chosen == "csv":
                yield from parse_csv(stream, ctx)
            if ctx.rows:
                yield flush(ctx)
            if ctx.order_used - {ctx.date_order}:
                fixed_order, fmt = ctx.date_order, chosen
                continue
            if stray is not None and ctx.fatal:
                line, token = stray
                why = f" (not read as a list of ids: line {line} has {show(token)})"
                ctx.problems = [Problem(p.path, p.line, p.message + why) for p in ctx.problems]
            break
        self.format = chosen
        self.rows_read = ctx.rows_read
        problems = sorted(ctx.problems, key=lambda p: p.line or 0)
        if ctx.fatal:
            raise QbankFormatError(self._told_report(problems), whole_file=True)
        if problems and not self.skip_invalid:
            raise QbankFormatError(problems)
        if not ctx.good_rows:
            raise QbankFormatError(
                [*problems, Problem(self.path, None, "no question rows found")], whole_file=True
            )
        self.skipped = tuple(problems)

    def _told_report(self, problems: list[Problem]) -> list[Problem]:
        """`problems`, or, for a self-assessment's score report, one problem naming the command
        that reads it."""
        with self.data.open() as f:
            head = f.read(REPORT_HEAD)
        file = "FILE" if self.path.startswith("<") else self.path  # stdin: save it first
        if looks_like_report(head):
            told = (
                "a self-assessment's score report, not a missed-question log: load it with "
                f"`flashcore assess add NAME SCORE --report {file}`"
            )
        elif self.path.lower().endswith(".toml") or _opens_as_toml_deck(head):
            told = f"a flashcard deck, not a missed-question log: load it with `flashcore decks add {file}`"
        else:
            return problems
        return [Problem(self.path, None, told)]
