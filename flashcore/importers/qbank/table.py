"""Rows of a table added a column at a time: where every cell of a run of split rows is a
value the pass has read before (its caches), the run becomes attempts in a few passes over
its columns (C loops: a 100,000-row export spends about half the time it took row by row);
otherwise each row goes through `Context.add`, which gives the same attempts, in order."""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from itertools import repeat
from operator import itemgetter
from typing import Any

from flashcore.importers.qbank.attempts import FINGERPRINT_CHARS
from flashcore.importers.qbank.columns import ABSENT
from flashcore.importers.qbank.rows import FIELD_LIMIT, Context

# The roles `columns.row_reader` picks, in its order (after the question id).
_KEYS = ("result", "date", "source", "seconds", "others")
_TEXTS = ("subject", "system", "category", "topic")
_QID_CHARS = 64  # a plain id (digits) up to this long needs no checking


class SplitRows:
    """Rows split into exactly `width` cells (no quote, no control character), kept with
    their line numbers until `add_to` adds them to the context, in order."""

    def __init__(
        self, roles: dict[str, int], qid: int, pick: Callable[[list[Any]], tuple[Any, ...]]
    ) -> None:
        self.qid = qid
        self.columns = {role: roles.get(role) for role in (*_KEYS, *_TEXTS)}
        self.pick = pick
        self.lines: list[int] = []
        self.rows: list[list[str]] = []

    def take(self, lines: list[str], first: int, delimiter: str, width: int) -> bool:
        """Keep these lines (the first is line `first`) if each is a plain row: no quote, no
        cell over FIELD_LIMIT, `width` cells and a question id; False (none kept) if not."""
        if '"' in "".join(lines) or max(map(len, lines)) > FIELD_LIMIT:
            return False
        rows = list(map(str.split, lines, repeat(delimiter)))
        if set(map(len, rows)) != {width} or not all(map(itemgetter(self.qid), rows)):
            return False
        self.rows += rows
        self.lines += range(first, first + len(lines))
        return True

    def add_to(self, ctx: Context) -> None:
        """Add the rows kept to `ctx` (as `ctx.add` would, one by one; counted as read) and
        forget them."""
        lines, rows = self.lines, self.rows
        if not rows:
            return
        self.lines, self.rows = [], []
        ctx.rows_read += len(rows)
        if not self._add_columns(ctx, lines, rows):
            add, pick = ctx.add, self.pick
            for line, cells in zip(lines, rows, strict=True):
                add(line, *pick(cells + list(ABSENT)))

    def _add_columns(self, ctx: Context, lines: list[int], rows: list[list[str]]) -> bool:
        """Add the rows a column at a time if every cell is a value read before (and every
        id plain digits); False (nothing added) otherwise."""
        table = list(zip(*rows, strict=True))
        qids = table[self.qid]
        if not (
            all(map(str.isdigit, qids))
            and all(map(str.isascii, qids))
            and max(map(len, qids)) <= _QID_CHARS
        ):
            return False
        at = self.columns

        def known(role: str, cache: dict[str | None, Any]) -> Any:
            column = at[role]
            if column is None:
                return repeat(cache[None])  # an absent column: its value for every row
            return list(map(cache.get, table[column], repeat(-1)))

        sources = known("source", ctx.sources)
        outcomes = known("result", ctx.outcomes)
        days = known("date", ctx.dates)
        seconds = known("seconds", ctx.times)
        shares = known("others", ctx.shares)
        # A value read before is never empty (nor None); -1 stands for one not read before.
        if any(isinstance(v, list) and -1 in v for v in (sources, outcomes, days, seconds, shares)):
            return False
        sha = hashlib.sha256
        keys = zip(sources, qids, days, outcomes, strict=False)  # (some may be `repeat`)
        fingerprints = [
            sha(f"{s}|{q}|{d}|{o}".encode()).hexdigest()[:FINGERPRINT_CHARS] for s, q, d, o in keys
        ]
        texts = [
            repeat("") if (i := at[role]) is None else map(str.strip, table[i]) for role in _TEXTS
        ]
        ctx.rows.extend(
            zip(fingerprints, sources, qids, outcomes, days, *texts, seconds, lines, shares,
                strict=False)
        )  # fmt: skip
        return True
