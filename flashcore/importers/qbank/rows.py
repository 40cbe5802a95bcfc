"""Building rows: the state of one pass over a log (problems, date order, caches) and
the chunks it hands out."""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from flashcore.core.errors import Problem
from flashcore.importers.qbank.attempts import FINGERPRINT_CHARS, Row, fingerprint_fields
from flashcore.importers.qbank.cells import (
    OUTCOME_WORDS,
    SLASHED,
    clean_source,
    parse_date,
    parse_seconds,
    show,
    split_qid,
)

CHUNK_ROWS = 20_000  # rows per chunk handed to the caller
FIELD_LIMIT = 131_072  # the csv module's cell limit; longer cells are row errors everywhere


_CACHE_LIMIT = 50_000  # distinct cell values remembered per column (timestamps are all distinct)


@dataclass(slots=True)
class Context:
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
    shares: dict[str | None, int | None] = field(default_factory=dict)

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
        self.shares.update({None: None, "": None})

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
        match = SLASHED.fullmatch(cell.strip())
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
        others: str | None = None,
    ) -> None:
        """Record one row as an attempt, or one problem naming every fault in it. `others`:
        the "% correct others" cell (UWorld), kept as a whole percent (None: absent or not a
        percent from 0 to 100)."""
        source = self.sources.get(bank)
        outcome = self.outcomes.get(result)
        day = self.dates.get(when)
        seconds = self.times.get(spent, -1)
        share = self.shares.get(others, -1)
        if (
            source
            and outcome
            and day
            and seconds != -1
            and share != -1
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
                    share,
                )
            )
        else:
            texts = (subject, system, category, topic)
            self._add_checked(line, qid, result, when, bank, spent, texts, others)

    def _add_checked(
        self,
        line: int,
        qid_cell: str,
        result: str | None,
        when: str | None,
        bank: str | None,
        spent: str | None,
        texts: tuple[str, str, str, str],
        others: str | None = None,
    ) -> None:
        errors: list[str] = []
        prefix, qid, error = split_qid(qid_cell)
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
        fp = fingerprint_fields(source, qid, day, outcome)
        share = self._share(others)
        self.rows.append(
            (fp, source, qid, outcome, day, subject, system, category, topic, seconds, line, share)
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
        named = clean_source(cell)
        if named is None:
            errors.append(f"bank name {show(cell.strip())} is not a name")
            return ""
        self._remember(self.sources, cell, named)
        return named

    def _outcome(self, cell: str | None, errors: list[str]) -> str:
        if (known := self.outcomes.get(cell)) is not None:
            return known
        assert cell is not None
        word = cell.strip()
        outcome = OUTCOME_WORDS.get(word.lower()) if word else self.outcome
        if outcome is None:
            errors.append(
                f"unknown result {show(word)} (use correct, incorrect, omitted, "
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
            parse_date(cell, self.date_order, self.latest) if cell.strip() else self.default_date
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
        found = parse_seconds(cell)
        if isinstance(found, str):
            errors.append(found)
            return None
        self._remember(self.times, cell, found)
        return found

    def _share(self, cell: str | None) -> int | None:
        if (known := self.shares.get(cell, -1)) != -1:
            return known
        assert cell is not None
        found = parse_share(cell)
        self._remember(self.shares, cell, found)
        return found


def parse_share(cell: str) -> int | None:
    """A "% correct others" cell (`62%`, `62`, `61.5 %`, `61,5%`) as a whole percent; None
    when it is not a percent from 0 to 100 (`--`, `N/A`, empty): the share is then unknown."""
    text = cell.strip().rstrip("%").strip().replace(",", ".")
    try:
        value = float(text)
    except ValueError:
        return None
    if not 0.0 <= value <= 100.0 or value != value:
        return None
    return int(value + 0.5)


def _order_matters(cell: str) -> bool:
    """Whether reading `cell` depends on the file's date order (3/4/2024, but not 4/4/2024)."""
    if "/" not in cell:
        return False
    match = SLASHED.fullmatch(cell.strip())
    if match is None:
        return False
    first, second = int(match.group(1)), int(match.group(2))
    return first != second and first <= 12 and second <= 12


def flush(ctx: Context) -> list[Row]:
    """The rows gathered so far, handed over; the context starts a new chunk."""
    rows = ctx.rows
    ctx.good_rows += len(rows)
    ctx.rows = []
    return rows


def observe(ctx: Context, cells: Sequence[str], column: int | None) -> None:
    """A row that fails before its date is read still shows the file's date order."""
    if column is not None and len(cells) > column:
        ctx.observe(cells[column])
