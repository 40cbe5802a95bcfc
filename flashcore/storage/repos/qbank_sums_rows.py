"""What the kept sums' modules share (repos.qbank_sums, qbank_windows, qbank_fold, the sync):
a group's key, the state row, the rows they read, and their days as the dialects give them."""

from __future__ import annotations

import functools
from dataclasses import dataclass
from datetime import date
from typing import TYPE_CHECKING, Any

from sqlalchemy import select

from flashcore.storage.light_rules import latest_settling_day as latest_settling_day
from flashcore.storage.repos.common import dialect_of
from flashcore.storage.tables import qbank_sums_state

if TYPE_CHECKING:
    from flashcore.storage.repos.common import Executor

Key = tuple[str, str, str, str, str]  # source, qid, topic, category, system


@dataclass(frozen=True, slots=True)
class _State:
    half_life: float
    settled_before: date
    last_attempt_id: int
    attempts: int
    listed: str
    # Schema 0020: the windows' day (None: no windows), the highest row ids readers read
    # (None: every row), the import folding now (None: none).
    window_day: date | None = None
    sums_upto: int | None = None
    windows_upto: int | None = None
    folding: str | None = None

    def read_the_same(self, other: _State | None) -> bool:
        """Whether a reader reads the same sums under `other` (a fold may start meanwhile)."""
        return other is not None and (
            self.half_life, self.settled_before, self.last_attempt_id, self.attempts,
            self.listed, self.window_day, self.sums_upto, self.windows_upto,
        ) == (
            other.half_life, other.settled_before, other.last_attempt_id, other.attempts,
            other.listed, other.window_day, other.sums_upto, other.windows_upto,
        )  # fmt: skip


@dataclass(frozen=True, slots=True)
class _DayRow:
    key: Key
    on_date: date
    attempts: int
    misses: int


@dataclass(slots=True)
class _Settled:
    attempts: int = 0
    misses: int = 0
    decayed_attempts: float = 0.0
    decayed_misses: float = 0.0
    last_miss: date | None = None
    last_correct: date | None = None


def _state(conn: Executor, profile_id: int) -> _State | None:
    s = qbank_sums_state.c
    row = conn.execute(
        select(
            s.half_life, s.settled_before, s.last_attempt_id, s.attempts, s.listed,
            s.window_day, s.sums_upto, s.windows_upto, s.folding,
        ).where(s.profile_id == profile_id)
    ).first()  # fmt: skip
    if row is None:
        return None
    hl, settled, last, attempts, listed, window, sums_upto, windows_upto, folding = row
    return _State(
        float(hl), _day(settled), int(last), int(attempts), str(listed), day_of(window),
        None if sums_upto is None else int(sums_upto),
        None if windows_upto is None else int(windows_upto), folding,
    )  # fmt: skip


def _date_value(conn: Executor, day: date) -> Any:
    return day.isoformat() if dialect_of(conn).name == "sqlite" else day


@functools.lru_cache(maxsize=4096)
def _parsed(text: str) -> date:
    return date.fromisoformat(text)


def day_of(value: Any) -> date | None:
    """A day as the database gives it (a date, SQLite's ISO text, or NULL)."""
    if value is None or isinstance(value, date):
        return value
    return _parsed(str(value))


def _day(value: Any) -> date:
    return value if isinstance(value, date) else _parsed(str(value))


def _day_or_none(value: Any) -> date | None:
    return day_of(value)


def count_day(g: list[Any], day: date, n: int, m: int, weight: float, recent_from: date) -> None:
    """One day's attempts `n` and misses `m` of a group, counted into its sums or window `g`
    (the counts, their decayed sums by `weight`, the recent counts from `recent_from`, the
    last miss and correct): the fold of the kept sums and the qbank windows alike."""
    g[0] += n
    g[1] += m
    g[2] += n * weight
    g[3] += m * weight
    if day >= recent_from:
        g[4] += n
        g[5] += m
    if m and (g[6] is None or day > g[6]):
        g[6] = day
    if n > m and (g[7] is None or day > g[7]):
        g[7] = day
