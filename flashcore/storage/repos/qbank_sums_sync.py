"""Bringing the kept sums (repos.qbank_sums) up to date in a write transaction: the attempts
added since folded in, the settling day moved, or everything summed afresh when stale."""

from __future__ import annotations

from datetime import date
from typing import TYPE_CHECKING, Any

from sqlalchemy import Date, Float, case, cast, delete, func, insert, literal, select, update

from flashcore.storage.light_rules import sums_lag
from flashcore.storage.repos.common import dialect_of
from flashcore.storage.repos.qbank import MISSED, can_decay, shown, tallied_attempts
from flashcore.storage.repos.qbank_sums import (
    _day_rows,
    _group_keys,
    _listed_digest,
    _stored,
    _usable,
)
from flashcore.storage.repos.qbank_sums_rows import (
    Key,
    _date_value,
    _day_or_none,
    _DayRow,
    _Settled,
    _state,
    latest_settling_day,
)
from flashcore.storage.repos.qbank_windows import clear_windows, window_rows, write_windows
from flashcore.storage.tables import qbank_attempts, qbank_sums, qbank_sums_state, qbank_windows

if TYPE_CHECKING:
    from flashcore.storage.repos.common import Executor

__all__ = ["sums_need_sync", "sync_sums"]


def _settled_rows(
    conn: Executor, profile_id: int, settle: date, half_life: float
) -> tuple[dict[Key, _Settled], int, int]:
    """The attempts dated before `settle` summed per group by the database, each weighed
    `2 ** ((day - settle) / half_life)` there; with how many and the highest id."""
    a = qbank_attempts.c
    if dialect_of(conn).name == "sqlite":
        age: Any = func.julianday(a.on_date) - func.julianday(settle.isoformat())
        weight: Any = func.pow(2.0, age / float(half_life))
    else:
        age = a.on_date - literal(settle, Date)
        weight = func.power(2.0, cast(age, Float) / float(half_life))
    missed = a.outcome.in_(MISSED)
    keys = _group_keys(profile_id)
    found = conn.execute(
        select(
            *keys,
            func.count(),
            func.coalesce(func.sum(case((missed, 1), else_=0)), 0),
            func.coalesce(func.sum(weight), 0.0),
            func.coalesce(func.sum(case((missed, weight), else_=0.0)), 0.0),
            func.max(case((missed, a.on_date), else_=None)),
            func.max(case((~missed, a.on_date), else_=None)),
            func.max(a.id),
        )
        .where(
            a.profile_id == profile_id,
            shown(profile_id),
            a.on_date < _date_value(conn, settle),
        )
        .group_by(*keys)
    ).all()
    out: dict[Key, _Settled] = {}
    total, highest = 0, 0
    for source, qid, topic, category, system, n, m, dn, dm, lm, lc, top in found:
        out[(source, qid, topic, category, system)] = _Settled(
            int(n), int(m), float(dn), float(dm), _day_or_none(lm), _day_or_none(lc)
        )
        total += int(n)
        highest = max(highest, int(top))
    return out, total, highest


def sums_need_sync(conn: Executor, profile_id: int, today: date, half_life: float) -> bool:
    """Whether `sync_sums` has work worth a write transaction: no sums, other settings, a
    settling day to move, or at least SYNC_FROM attempts added since (one cheap look)."""
    state = _state(conn, profile_id)
    if state is None:
        return True
    return sums_lag(state.half_life, state.settled_before, state.attempts,
                    tallied_attempts(conn, profile_id), today, half_life)  # fmt: skip


def sync_sums(conn: Executor, profile_id: int, today: date, half_life: float) -> None:
    """Bring the profile's sums up to date for `today` (in the caller's write transaction):
    the attempts added since folded in and the settling day moved to the latest allowed, or
    everything summed afresh when the sums are stale."""
    s = qbank_sums_state.c
    conn.execute(  # one sync at a time per profile (PostgreSQL: the row lock)
        select(s.profile_id).where(s.profile_id == profile_id).with_for_update()
    ).first()
    state = _state(conn, profile_id)
    listed = _listed_digest(conn, profile_id)
    total = tallied_attempts(conn, profile_id)
    settle = latest_settling_day(today, half_life)
    fresh = state is not None and _usable(state, today, half_life) and state.listed == listed
    settled: dict[Key, _Settled] = {}
    days: list[_DayRow] = []
    base = settle
    after = -1
    if fresh:
        assert state is not None
        added, count, highest = _day_rows(conn, profile_id, state.last_attempt_id)
        if state.attempts + count == total:
            settled, days = _stored(conn, profile_id, state.sums_upto)
            days.extend(added)
            base, after = state.settled_before, highest
        else:
            fresh = False
    consistent = True
    if not fresh and can_decay(conn):  # the settled part summed by the database
        settled, old, old_top = _settled_rows(conn, profile_id, settle, half_life)
        days, recent, after = _day_rows(conn, profile_id, -1, since=settle)
        count, after = old + recent, max(after, old_top, 0)
        consistent = count == total
    elif not fresh:
        days, count, after = _day_rows(conn, profile_id, -1)
        after = max(after, 0)
        consistent = count == total  # else the tallies are wrong (`check` repairs them)
    settled, days = _settle(settled, base, days, settle, half_life)
    conn.execute(delete(qbank_sums).where(qbank_sums.c.profile_id == profile_id))
    clear_windows(conn, profile_id)  # and any rows a fold was writing: it stops at its next step
    write_windows(conn, profile_id, window_rows(settled, days, settle, today, half_life))
    rows = [
        {
            "profile_id": profile_id, "source": k[0], "qid": k[1], "topic": k[2],
            "category": k[3], "system": k[4], "on_date": None, "attempts": v.attempts,
            "misses": v.misses, "decayed_attempts": v.decayed_attempts,
            "decayed_misses": v.decayed_misses, "last_miss": v.last_miss,
            "last_correct": v.last_correct,
        }
        for k, v in settled.items()
    ] + [
        {
            "profile_id": profile_id, "source": r.key[0], "qid": r.key[1], "topic": r.key[2],
            "category": r.key[3], "system": r.key[4], "on_date": r.on_date,
            "attempts": r.attempts, "misses": r.misses, "decayed_attempts": 0.0,
            "decayed_misses": 0.0, "last_miss": None, "last_correct": None,
        }
        for r in days
    ]  # fmt: skip
    for start in range(0, len(rows), 5000):
        conn.execute(insert(qbank_sums), rows[start : start + 5000])
    values = {
        "half_life": half_life, "settled_before": settle, "last_attempt_id": after,
        "attempts": total if consistent else -1, "listed": listed, "window_day": today,
        "sums_upto": _highest(conn, qbank_sums, profile_id),
        "windows_upto": _highest(conn, qbank_windows, profile_id), "folding": None,
    }  # fmt: skip
    if state is None:
        conn.execute(insert(qbank_sums_state).values(profile_id=profile_id, **values))
    else:
        conn.execute(update(qbank_sums_state).where(s.profile_id == profile_id).values(**values))


def _highest(conn: Executor, table: Any, profile_id: int) -> int:
    """The highest id among the profile's rows of `table` (0: none)."""
    c = table.c
    found = conn.execute(select(func.max(c.id)).where(c.profile_id == profile_id)).scalar()
    return 0 if found is None else int(found)


def _settle(
    settled: dict[Key, _Settled],
    base: date,
    days: list[_DayRow],
    settle: date,
    half_life: float,
) -> tuple[dict[Key, _Settled], list[_DayRow]]:
    """The settled sums moved from `base` to `settle` with the days before `settle` folded in;
    the later days merged per group and day."""
    rescale = 2.0 ** ((base - settle).days / half_life)
    out: dict[Key, _Settled] = {}
    for key, v in settled.items():
        out[key] = _Settled(
            v.attempts, v.misses, v.decayed_attempts * rescale, v.decayed_misses * rescale,
            v.last_miss, v.last_correct,
        )  # fmt: skip
    later: dict[tuple[Key, date], list[int]] = {}
    weights: dict[date, float] = {}
    for row in days:
        if row.on_date >= settle:
            got = later.setdefault((row.key, row.on_date), [0, 0])
            got[0] += row.attempts
            got[1] += row.misses
            continue
        w = weights.get(row.on_date)
        if w is None:
            w = weights[row.on_date] = 2.0 ** ((row.on_date - settle).days / half_life)
        if row.key not in out:
            out[row.key] = _Settled()
        v = out[row.key]
        v.attempts += row.attempts
        v.misses += row.misses
        v.decayed_attempts += row.attempts * w
        v.decayed_misses += row.misses * w
        if row.misses and (v.last_miss is None or row.on_date > v.last_miss):
            v.last_miss = row.on_date
        if row.attempts > row.misses and (v.last_correct is None or row.on_date > v.last_correct):
            v.last_correct = row.on_date
    merged = [_DayRow(k, d, n, m) for (k, d), (n, m) in later.items()]
    return out, merged
