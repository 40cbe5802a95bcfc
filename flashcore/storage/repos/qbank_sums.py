"""The attempts summed per group (schema 0016: `qbank_sums`, `qbank_sums_state`), so that the
weakness report reads a few thousand sums and the attempts added since, not every attempt.

The groups are `decayed_groups`'s: a question some note lists by its source, id and texts, any
other attempt by its texts. A group's decayed sums are `sum 0.5 ** ((today - day) / half_life)`;
with a settling day S that factors into `0.5 ** ((today - S) / half_life)` times the stored
`sum 2 ** ((day - S) / half_life)`, exact for every attempt dated before S, which no later day
sees as recent (`today - day > half_life`) or as future. Attempts from S on are kept per group
and day (the recent window moves over them); the report folds both on its day.

The sums are a cache: `sync` brings them up to date in a write transaction (the attempts added
since, by id; settling again once S lags the window by SETTLE_AFTER_DAYS; rebuilt from every
attempt when the half-life, the listed question ids or the attempts removed make them stale).
`cached_groups` answers from them plus the attempts added since their last sync, or says it
cannot (None) and the caller sums the attempts as before.
"""

from __future__ import annotations

import hashlib
import math
from collections.abc import Iterable
from datetime import date, timedelta
from typing import TYPE_CHECKING, Any

from sqlalchemy import (
    Date,
    Float,
    and_,
    case,
    cast,
    func,
    literal,
    select,
)

from flashcore.storage.light_rules import SETTLE_AFTER_DAYS as SETTLE_AFTER_DAYS
from flashcore.storage.light_rules import SYNC_FROM as SYNC_FROM
from flashcore.storage.light_rules import sums_usable
from flashcore.storage.repos.common import dialect_of
from flashcore.storage.repos.qbank import (
    MISSED,
    DecayedGroup,
    can_decay,
    shown,
    summed_groups,
    tallied_attempts,
)
from flashcore.storage.repos.qbank_sums_rows import (
    Key,
    _date_value,
    _day,
    _day_or_none,
    _DayRow,
    _Settled,
    _State,
    _state,
    count_day,
)
from flashcore.storage.repos.qbank_windows import read_windows
from flashcore.storage.tables import (
    note_qids,
    notes,
    qbank_attempts,
    qbank_sums,
)

if TYPE_CHECKING:
    from flashcore.storage.repos.common import Executor

__all__ = [
    "SETTLE_AFTER_DAYS",
    "SYNC_FROM",
    "decayed_groups",
]

# SETTLE_AFTER_DAYS and SYNC_FROM: see storage.light_rules (the driver-only report reads them).


def _listed_ids(profile_id: int) -> Any:
    # `+ 0`: from the listed ids to their note by id (SQLite would otherwise walk every note
    # of the profile: at 200,000 notes, 10,000 listing an id, 0.13 -> 0.004 CPU-s; an
    # import's fold and the weights' sums each read them).
    return (
        select(note_qids.c.qid)
        .join(notes, notes.c.id == note_qids.c.note_id)
        .where((notes.c.profile_id + 0) == profile_id, notes.c.removed.is_(False))
    )


def _listed_digest(conn: Executor, profile_id: int) -> str:
    """A digest of the question ids the profile's notes list (they decide the groups)."""
    return _digest({str(q) for q in conn.execute(_listed_ids(profile_id)).scalars()})


def _digest(ids: set[str]) -> str:
    return hashlib.sha256("\n".join(sorted(ids)).encode()).hexdigest()


def _group_keys(profile_id: int) -> list[Any]:
    a = qbank_attempts.c
    is_listed = a.qid.in_(_listed_ids(profile_id))
    return [
        case((is_listed, a.source), else_=""),
        case((is_listed, a.qid), else_=""),
        a.topic,
        a.category,
        a.system,
    ]


def _day_rows(
    conn: Executor, profile_id: int, after_id: int, since: date | None = None
) -> tuple[list[_DayRow], int, int]:
    """The attempts with an id above `after_id` (dated `since` or later) that readers see (none
    of a batch still being written), counted per group and day by the database; with how many
    they are and the highest id among them."""
    a = qbank_attempts.c
    keys = [*_group_keys(profile_id), a.on_date]
    missed = func.coalesce(func.sum(case((a.outcome.in_(MISSED), 1), else_=0)), 0)
    # After an id: read from there by id (SQLite would otherwise walk the profile's every
    # attempt in its index, ~0.15 s at 1,100,000 attempts, to find a few new ones). Every
    # attempt: in table order (through the (profile_id, on_date) index, schema 0023, 1.1M
    # attempts took 6.2 + 2.3 s CPU against 5.2 + 0.4). From a day: by that index.
    profile = a.profile_id if after_id < 0 and since is not None else a.profile_id + 0
    where = [a.id > after_id, profile == profile_id, shown(profile_id)]
    if since is not None:
        where.append(a.on_date >= _date_value(conn, since))
    found = conn.execute(
        select(*keys, func.count(), missed, func.max(a.id)).where(*where).group_by(*keys)
    ).all()
    rows, total, highest = [], 0, after_id
    for source, qid, topic, category, system, on_date, n, m, top in map(tuple, found):
        rows.append(_DayRow((source, qid, topic, category, system), _day(on_date), int(n), int(m)))
        total += int(n)
        highest = max(highest, int(top))
    return rows, total, highest


def _stored(
    conn: Executor, profile_id: int, upto: int | None
) -> tuple[dict[Key, _Settled], list[_DayRow]]:
    """The profile's settled rows and per-day rows that readers read (ids up to `upto`)."""
    c = qbank_sums.c
    settled: dict[Key, _Settled] = {}
    days: list[_DayRow] = []
    rows = conn.execute(
        select(
            c.source, c.qid, c.topic, c.category, c.system, c.on_date, c.attempts, c.misses,
            c.decayed_attempts, c.decayed_misses, c.last_miss, c.last_correct,
        ).where(*_visible(profile_id, upto))
    ).all()  # fmt: skip
    for source, qid, topic, category, system, on_date, n, m, dn, dm, lm, lc in rows:
        key = (source, qid, topic, category, system)
        if on_date is None:
            settled[key] = _Settled(
                int(n), int(m), float(dn), float(dm), _day_or_none(lm), _day_or_none(lc)
            )
        else:
            days.append(_DayRow(key, _day(on_date), int(n), int(m)))
    return settled, days


# ------------------------------------------------------------------ reading


def decayed_groups(
    conn: Executor,
    profile_id: int,
    today: date,
    half_life: float,
    listed: Iterable[str] | None = None,
) -> list[DecayedGroup]:
    """The profile's attempts summed per group on `today` (`repos.qbank.summed_groups`): from
    the kept sums and the attempts added since when they can answer, else from every attempt.
    `listed`: the question ids the profile's live notes list, when the caller has read them."""
    cached = cached_groups(conn, profile_id, today, half_life, listed)
    if cached is not None:
        return cached
    return summed_groups(conn, profile_id, today, half_life)


def cached_groups(
    conn: Executor,
    profile_id: int,
    today: date,
    half_life: float,
    listed: Iterable[str] | None = None,
) -> list[DecayedGroup] | None:
    """`decayed_groups` from the sums and the attempts added since, or None when the sums
    cannot answer for `today` (none yet, another half-life or listed ids, a settling day too
    late for `today`, attempts removed since)."""
    state = _state(conn, profile_id)
    if state is None or not _usable(state, today, half_life):
        return None
    digest = _listed_digest(conn, profile_id) if listed is None else _digest(set(listed))
    if state.listed != digest:
        return None
    added, count, _ = _day_rows(conn, profile_id, state.last_attempt_id)
    if state.attempts + count != tallied_attempts(conn, profile_id):
        return None
    days: list[_DayRow] = []
    if state.window_day is not None:  # a row per group, the days that moved since its day
        start = read_windows(conn, profile_id, state, today, half_life)
    elif can_decay(conn):  # the sums folded by the database, the few added since here
        start = _folded(conn, profile_id, state, today, half_life)
    else:
        settled, days = _stored(conn, profile_id, state.sums_upto)
        start = _start(settled, state.settled_before, today, half_life)
    if not state.read_the_same(_state(conn, profile_id)):  # a sync committed between reads
        return None
    return _fold(start, [*days, *added], today, half_life)


def _usable(state: _State, today: date, half_life: float) -> bool:
    return sums_usable(state.half_life, state.settled_before, today, half_life)


def _start(
    settled: dict[Key, _Settled], settled_before: date, today: date, half_life: float
) -> dict[Key, list[Any]]:
    """The settled sums as `_fold` starts from them on `today`: per group, attempts, misses,
    decayed attempts, decayed misses, recent attempts, recent misses, last miss, last
    correct, all misses, last miss any."""
    scale = 0.5 ** ((today - settled_before).days / half_life)
    return {
        key: [
            s.attempts, s.misses, s.decayed_attempts * scale, s.decayed_misses * scale, 0, 0,
            s.last_miss, s.last_correct, s.misses, s.last_miss,
        ]
        for key, s in settled.items()
    }  # fmt: skip


def _visible(profile_id: int, upto: int | None) -> list[Any]:
    """The profile's qbank_sums rows that readers read: none an import's fold is writing."""
    c = qbank_sums.c
    return [c.profile_id == profile_id] + ([] if upto is None else [c.id <= upto])


def _folded(
    conn: Executor, profile_id: int, state: _State, today: date, half_life: float
) -> dict[Key, list[Any]]:
    """`_start` with every stored per-day row folded in (`_fold`'s arithmetic), summed per
    group by the database: a report reads ~10,000 groups, not ~50,000 rows into Python."""
    c = qbank_sums.c
    settled_before = state.settled_before
    day, upto = c.on_date, _date_value(conn, today)
    if dialect_of(conn).name == "sqlite":
        age: Any = func.julianday(upto) - func.julianday(day)
    else:
        age = cast(literal(today, Date) - day, Float)
    w = func.power(0.5, age / float(half_life))
    scale = 0.5 ** ((today - settled_before).days / half_life)
    settled, counted = day.is_(None), day <= upto
    recent = and_(counted, day >= _date_value(conn, today - timedelta(days=math.floor(half_life))))

    def total(*whens: tuple[Any, Any]) -> Any:
        return func.coalesce(func.sum(case(*whens, else_=0)), 0)

    rows = conn.execute(
        select(
            c.source, c.qid, c.topic, c.category, c.system,
            total((settled, c.attempts), (counted, c.attempts)),
            total((settled, c.misses), (counted, c.misses)),
            total((settled, c.decayed_attempts * scale), (counted, c.attempts * w)),
            total((settled, c.decayed_misses * scale), (counted, c.misses * w)),
            total((recent, c.attempts)),
            total((recent, c.misses)),
            func.max(case((settled, c.last_miss), (and_(counted, c.misses > 0), day))),
            func.max(case((settled, c.last_correct), (and_(counted, c.attempts > c.misses), day))),
            func.coalesce(func.sum(c.misses), 0),
            func.max(case((settled, c.last_miss), (c.misses > 0, day))),
        )
        .where(*_visible(profile_id, state.sums_upto))
        .group_by(c.source, c.qid, c.topic, c.category, c.system)
    ).all()  # fmt: skip
    return {
        (r[0], r[1], r[2], r[3], r[4]): [
            int(r[5]), int(r[6]), float(r[7]), float(r[8]), int(r[9]), int(r[10]),
            _day_or_none(r[11]), _day_or_none(r[12]), int(r[13]), _day_or_none(r[14]),
        ]
        for r in rows
    }  # fmt: skip


def _fold(
    sums: dict[Key, list[Any]], days: Iterable[_DayRow], today: date, half_life: float
) -> list[DecayedGroup]:
    """The groups on `today`, as `decayed_groups` sums them: `sums` (see `_start`) with
    these per-day rows added."""
    weights: dict[date, float] = {}
    recent_from = today - timedelta(days=math.floor(half_life))
    for row in days:
        g = sums.get(row.key)
        if g is None:
            g = sums[row.key] = [0, 0, 0.0, 0.0, 0, 0, None, None, 0, None]
        day, n, m = row.on_date, row.attempts, row.misses
        if m:
            g[8] += m
            if g[9] is None or day > g[9]:
                g[9] = day
        if day > today:
            continue
        w = weights.get(day)
        if w is None:
            w = weights[day] = 0.5 ** ((today - day).days / half_life)
        count_day(g, day, n, m, w, recent_from)  # recent: an age of at most the half-life
    return [  # in the order of the keys, as SQLite's GROUP BY gives them
        DecayedGroup(key[0], key[1], key[2], key[3], key[4], *sums[key]) for key in sorted(sums)
    ]
