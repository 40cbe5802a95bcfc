"""Any CSV/TSV export with a header row; quotes that never close are reported where
they opened and do not swallow the rows after them."""

from __future__ import annotations

import csv
import re
from collections.abc import Generator, Iterator, Sequence
from itertools import chain, islice
from typing import Any

from flashcore.importers.qbank.attempts import Row
from flashcore.importers.qbank.cells import show, split_qid
from flashcore.importers.qbank.columns import ABSENT, column_roles, row_reader
from flashcore.importers.qbank.rows import FIELD_LIMIT, Context, flush, observe
from flashcore.importers.qbank.table import SplitRows

_DELIMITERS = ("\t", ";", ",")


_RUN_ROWS = 1_000  # plain rows read and added together (see importers.qbank.table)


_EXCEL_SEP = re.compile(r"sep=(.)")


def _sniff(header: str) -> tuple[str, list[str]]:
    """The delimiter that makes the header name a question id column (the one giving the most
    columns if several do), and the header's cells split by it."""
    best: tuple[int, int, str, list[str]] | None = None
    for delimiter in _DELIMITERS:
        if delimiter not in header:
            continue
        cells = next(csv.reader([header], delimiter=delimiter), [])
        has_qid = "qid" in column_roles(cells)[0]
        score = (int(has_qid), len(cells))
        if best is None or score > best[:2]:
            best = (*score, delimiter, cells)
    if best is None:
        return ",", next(csv.reader([header]), [])
    return best[2], best[3]


def parse_csv(lines: Iterator[str], ctx: Context) -> Iterator[list[Row]]:
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
    roles, complaints = column_roles(header)
    if "qid" not in roles:
        found = ", ".join(show(cell.strip()) for cell in header)
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

    def quoted(self, line: str, ctx: Context) -> tuple[int, int, list[str]] | None:
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

    def plain_run(self, count: int) -> list[str] | None:
        """The file's next `count` lines (fewer at its end), or None while lines are being
        read again (see `_again`)."""
        if self.lines is not self.source:
            return None
        return list(islice(self.source, count))

    def put_back(self, lines: list[str]) -> None:
        """Lines `plain_run` took, to be read again one at a time."""
        self.source = self.lines = chain(lines, self.source)

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
        if len(cells) == width and not split_qid(cells[qid_column])[2]:
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
    ctx: Context,
) -> Iterator[list[Row]]:
    body = _Body(_Records(lines, number, delimiter, width, roles["qid"]), roles, ctx)
    records, limit = body.records, ctx.chunk_rows
    while True:
        if body.in_runs():
            lines_run = records.plain_run(body.run)
            if lines_run is not None:
                if not lines_run:
                    return
                if body.add_run(lines_run):
                    if len(ctx.rows) >= limit:
                        yield flush(ctx)
                    continue
        quoted, ended = yield from body.one_at_a_time()
        if quoted is None:
            if ended:
                return
            continue
        record = records.quoted(quoted, ctx)
        if record is not None:
            body.take(*record)
        if len(ctx.rows) >= limit:
            yield flush(ctx)


class _Body:
    """The rows of a CSV body: runs of plain lines (see importers.qbank.table) while they
    last, else one line at a time (a run that holds anything else is read again that way)."""

    def __init__(self, records: _Records, roles: dict[str, int], ctx: Context) -> None:
        self.records, self.ctx = records, ctx
        self.width, self.qid_column = records.width, records.qid_column
        self.date_column = roles.get("date")
        self.pick = row_reader(roles, self.width)
        self.split = SplitRows(roles, self.qid_column, self.pick)  # plain rows, not yet added
        self.run = min(_RUN_ROWS, ctx.chunk_rows)
        self.singly_to = records.number  # the lines up to this one are read one at a time

    def in_runs(self) -> bool:
        """Whether the next lines may be read as a run."""
        records = self.records
        return (
            records.number >= self.singly_to
            and records.lines is records.source
            and (not self.ctx.controls)
        )

    def add_run(self, lines: list[str]) -> bool:
        """Add these lines if they are all plain rows; else put them back to be read one at a
        time (False). A control character in them is known once they are read."""
        records = self.records
        first = records.number + 1
        if not self.ctx.controls and self.split.take(lines, first, records.delimiter, self.width):
            records.number += len(lines)
            self.split.add_to(self.ctx)
            return True
        records.put_back(lines)
        self.singly_to = records.number + len(lines)
        return False

    def one_at_a_time(self) -> Generator[list[Row], None, tuple[str | None, bool]]:
        """Read lines one at a time until a quoted one (returned, with False), the end of the
        file (None, True) or the end of the lines to read this way (None, False)."""
        ctx, records, split = self.ctx, self.records, self.split
        width, qid_column, controls, limit = (
            self.width,
            self.qid_column,
            ctx.controls,
            ctx.chunk_rows,
        )
        delimiter = records.delimiter
        number = records.number
        quoted, ended = None, True
        for line in records.lines:
            number += 1
            if '"' in line or len(line) > FIELD_LIMIT:
                quoted, ended = line, False
                break
            cells: list[Any] = line.split(delimiter) if line else []
            if len(cells) == width and cells[qid_column] and number not in controls:
                split.rows.append(cells)
                split.lines.append(number)
                if len(split.rows) >= self.run:
                    split.add_to(ctx)
            else:
                split.add_to(ctx)  # the plain rows before this one first
                self.take(number, number, cells)
            if len(ctx.rows) >= limit:
                split.add_to(ctx)
                records.number = number
                yield flush(ctx)
            records.number = number
            if self.in_runs():
                ended = False
                break
        split.add_to(ctx)
        records.number = number
        return quoted, ended

    def take(self, first: int, last: int, cells: list[str]) -> None:
        """One row read on its own (lines first..last), added or failed."""
        ctx, width, qid_column = self.ctx, self.width, self.qid_column
        if (len(cells) != width or not cells[qid_column]) and not any(map(str.strip, cells)):
            return  # a blank line, or Excel's ",,,," for one
        ctx.rows_read += 1
        if ctx.controls and (error := ctx.control_in(first, last)):
            if len(cells) == width:
                observe(ctx, cells, self.date_column)
            ctx.fail(first, error)
        elif len(cells) != width:
            ctx.fail(first, f"row has {len(cells)} cells but the header has {width}")
        else:
            row: list[Any] = cells
            row += ABSENT
            ctx.add(first, *self.pick(row))
