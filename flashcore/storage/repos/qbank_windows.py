"""The kept sums' windows (schema 0020: `qbank_windows`): each group's attempts folded as a
report reads them on one day T (the state's `window_day`), so that a report reads one row per
group (and one more per import since, which folds its batch as another row) instead of the
group's settled row and its per-day rows, and adds only the per-day rows that entered or left
its window since T (none on T itself).

A window's decayed sums are kept as the settled rows keep them (`2 ** ((day - S) / half_life)`
for the settling day S): a report on any day D >= T scales them by `0.5 ** ((D - S) / half_life)`.
Its recent counts are those dated T - floor(half_life) to T; on D the days that left that range
are taken off and the days after T up to D added (`as_of`)."""

from __future__ import annotations

import math
from collections.abc import Generator, Iterable, Sequence
from datetime import date, timedelta
from typing import TYPE_CHECKING, Any

from sqlalchemy import String, and_, delete, or_, select, type_coerce

from flashcore.storage.repos.common import _driver, dialect_of, insert_many
from flashcore.storage.repos.qbank_sums_rows import (
    Key,
    _date_value,
    _DayRow,
    _Settled,
    _State,
    count_day,
    day_of,
)
from flashcore.storage.tables import qbank_sums, qbank_windows

if TYPE_CHECKING:
    from flashcore.storage.repos.common import Executor

__all__ = [
    "Window",
    "WindowRow",
    "fold_windows",
    "fold_windows_in_slices",
    "insert_windows",
    "read_windows",
    "stored_windows",
    "window_rows",
    "write_windows",
]

# A group's window: attempts, misses, decayed attempts, decayed misses (relative to S), recent
# attempts, recent misses, last miss, last correct (up to T), all misses, last miss any.
Window = list[Any]


def _empty() -> Window:
    return [0, 0, 0.0, 0.0, 0, 0, None, None, 0, None]


def window_rows(
    settled: dict[Key, _Settled], days: Iterable[_DayRow], settle: date, on: date,
    half_life: float,
) -> dict[Key, Window]:  # fmt: skip
    """Each group's window on `on` from its settled sums (taken at `settle`) and its rows per
    day (any day: those before `settle` count as old, those after `on` only as misses)."""
    out: dict[Key, Window] = {}
    for key, s in settled.items():
        out[key] = [
            s.attempts, s.misses, s.decayed_attempts, s.decayed_misses, 0, 0, s.last_miss,
            s.last_correct, s.misses, s.last_miss,
        ]  # fmt: skip
    _add_days(out, days, settle, on, half_life)
    return out


def fold_windows(
    days: Iterable[tuple[Key, date, int, int]], settle: date, on: date, half_life: float
) -> dict[Key, Window]:
    """The windows of a batch's (group, day) counts alone: what its fold adds beside the
    groups' windows."""
    out: dict[Key, Window] = {}
    _add_days(out, (_DayRow(k, d, n, m) for k, d, n, m in days), settle, on, half_life)
    return out


def fold_windows_in_slices(
    days: Sequence[tuple[Key, date, int, int]], settle: date, on: date, half_life: float,
    rows: int,
) -> Generator[None, None, dict[Key, Window]]:  # fmt: skip
    """`fold_windows`, yielding after each `rows` (group, day) counts (the same windows,
    returned: each day's weight is worked out the same way in every slice)."""
    out: dict[Key, Window] = {}
    for start in range(0, len(days), max(1, rows)):
        part = days[start : start + rows]
        _add_days(out, (_DayRow(k, d, n, m) for k, d, n, m in part), settle, on, half_life)
        yield
    return out


def _add_days(
    out: dict[Key, Window], days: Iterable[_DayRow], settle: date, on: date, half_life: float
) -> None:
    recent_from = on - timedelta(days=math.floor(half_life))
    weights: dict[date, float] = {}
    for row in days:
        g = out.get(row.key)
        if g is None:
            g = out[row.key] = _empty()
        day, n, m = row.on_date, row.attempts, row.misses
        if m:
            g[8] += m
            if g[9] is None or day > g[9]:
                g[9] = day
        if day > on:
            continue
        w = weights.get(day)
        if w is None:
            w = weights[day] = 2.0 ** ((day - settle).days / half_life)
        count_day(g, day, n, m, w, recent_from)


_NAMES = (
    "profile_id", "source", "qid", "topic", "category", "system", "attempts", "misses",
    "decayed_attempts", "decayed_misses", "recent_attempts", "recent_misses", "last_miss",
    "last_correct", "all_misses", "last_miss_any",
)  # fmt: skip

WindowRow = tuple[Any, ...]  # a window as the database stores it (`_NAMES`)


def stored_windows(
    conn: Executor, profile_id: int, windows: Iterable[tuple[Key, Window]]
) -> list[WindowRow]:
    """The windows as rows of the profile, their days as the dialect stores them (SQLite: ISO
    text, each day converted once), for `insert_windows`."""
    if dialect_of(conn).name != "sqlite":
        return [(profile_id, *key, *w) for key, w in windows]
    texts: dict[date, str] = {}

    def iso(day: date | None) -> str | None:
        if day is None:
            return None
        text = texts.get(day)
        if text is None:
            text = texts[day] = day.isoformat()
        return text

    return [
        (profile_id, *key, n, m, da, dm, ra, rm, iso(lm), iso(lc), am, iso(lma))
        for key, (n, m, da, dm, ra, rm, lm, lc, am, lma) in windows
    ]


def insert_windows(conn: Executor, rows: Sequence[WindowRow]) -> None:
    """Insert rows made by `stored_windows` (in the caller's transaction)."""
    if not rows:
        return
    if dialect_of(conn).name == "sqlite":
        _driver(conn).executemany(
            f"INSERT INTO qbank_windows ({', '.join(_NAMES)}) VALUES "
            f"({', '.join('?' for _ in _NAMES)})",
            rows,
        )
        return
    insert_many(conn, qbank_windows, [dict(zip(_NAMES, row, strict=True)) for row in rows])


def write_windows(conn: Executor, profile_id: int, windows: dict[Key, Window]) -> None:
    """Insert the windows as rows of the profile (in the caller's transaction)."""
    insert_windows(conn, stored_windows(conn, profile_id, windows.items()))


def clear_windows(conn: Executor, profile_id: int) -> None:
    conn.execute(delete(qbank_windows).where(qbank_windows.c.profile_id == profile_id))


def read_windows(
    conn: Executor, profile_id: int, state: _State, today: date, half_life: float
) -> dict[Key, Window]:
    """The groups on `today` (on or after the state's window day, with the state's half-life)
    as `qbank_sums._fold` starts from them: the windows summed per group, the per-day rows
    that entered or left the window since its day applied, the decayed sums scaled to
    `today`."""
    assert state.window_day is not None
    w = qbank_windows.c
    where = [w.profile_id == profile_id]
    if state.windows_upto is not None:
        where.append(w.id <= state.windows_upto)
    # Read as stored and added up here: a group has a row or two (one more per import since
    # the windows' day); grouping them in the database took longer than reading them.
    # SQLite's days come as their ISO text, each distinct day parsed once (`_Days`): the
    # column type parsed every value of ~18,000 rows, ~30 ms a report.
    days, (lm_, lc_, lma_) = _Days(), _dated(conn, w.last_miss, w.last_correct, w.last_miss_any)
    rows = conn.execute(
        select(
            w.source, w.qid, w.topic, w.category, w.system, w.attempts, w.misses,
            w.decayed_attempts, w.decayed_misses, w.recent_attempts, w.recent_misses,
            lm_, lc_, w.all_misses, lma_,
        ).where(*where)
    ).all()  # fmt: skip
    out: dict[Key, Window] = {}
    for source, qid, topic, category, system, n, m, da, dm, ra, rm, lm, lc, am, lma in rows:
        key = (source, qid, topic, category, system)
        g = out.get(key)
        lm, lc, lma = days[lm], days[lc], days[lma]
        if g is None:
            out[key] = [n, m, da, dm, ra, rm, lm, lc, am, lma]
            continue
        g[0] += n
        g[1] += m
        g[2] += da
        g[3] += dm
        g[4] += ra
        g[5] += rm
        if lm is not None and (g[6] is None or lm > g[6]):
            g[6] = lm
        if lc is not None and (g[7] is None or lc > g[7]):
            g[7] = lc
        g[8] += am
        if lma is not None and (g[9] is None or lma > g[9]):
            g[9] = lma
    if today > state.window_day:
        _move(conn, profile_id, state, today, half_life, out)
    scale = 0.5 ** ((today - state.settled_before).days / half_life)
    for g in out.values():
        g[2] *= scale
        g[3] *= scale
    return out


class _Days(dict[Any, date | None]):
    """A day as read (a date, SQLite's ISO text, or None) -> the date, each parsed once."""

    def __init__(self) -> None:
        super().__init__({None: None})

    def __missing__(self, value: Any) -> date | None:
        day = self[value] = day_of(value)
        return day


def _dated(conn: Executor, *columns: Any) -> list[Any]:
    """Date columns as read for `_Days`: SQLite's as their stored text."""
    if dialect_of(conn).name != "sqlite":
        return list(columns)
    return [type_coerce(c, String) for c in columns]


def _move(
    conn: Executor, profile_id: int, state: _State, today: date, half_life: float,
    out: dict[Key, Window],
) -> None:  # fmt: skip
    """Move the windows from their day T to `today`: the days after T up to `today` counted
    (recent from today - floor(half_life)), the days that were recent on T and are not on
    `today` taken off the recent counts."""
    assert state.window_day is not None
    then, span = state.window_day, math.floor(half_life)
    recent_from = today - timedelta(days=span)
    c = qbank_sums.c
    entering = and_(c.on_date > _date_value(conn, then), c.on_date <= _date_value(conn, today))
    leaving = and_(
        c.on_date >= _date_value(conn, then - timedelta(days=span)),
        c.on_date < _date_value(conn, min(recent_from, then + timedelta(days=1))),
    )
    where = [c.profile_id == profile_id, or_(entering, leaving)]
    if state.sums_upto is not None:
        where.append(c.id <= state.sums_upto)
    rows = conn.execute(
        select(c.source, c.qid, c.topic, c.category, c.system, c.on_date, c.attempts, c.misses)
        .where(*where)
    ).all()  # fmt: skip
    weights: dict[date, float] = {}
    for source, qid, topic, category, system, on_date, n, m in rows:
        key = (source, qid, topic, category, system)
        g = out.get(key)
        if g is None:
            g = out[key] = _empty()
        day = day_of(on_date)
        assert day is not None
        if day <= then:  # recent on T, not on today
            g[4] -= n
            g[5] -= m
            continue
        wt = weights.get(day)
        if wt is None:
            wt = weights[day] = 2.0 ** ((day - state.settled_before).days / half_life)
        count_day(g, day, n, m, wt, recent_from)
