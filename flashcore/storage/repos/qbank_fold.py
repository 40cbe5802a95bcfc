"""An import's batch folded into the kept sums (repos.qbank_sums) as it is published: the
import counts its attempts per group and day from its memory, and the sums take them in one
short write, so the weights that follow and the reports after it read none of its attempts
(at 200,000 cards and 1,000,000 attempts, a report read and grouped the 100,000 attempts of
the last import until a report synced the sums: ~1.2 s each time)."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from datetime import date
from typing import TYPE_CHECKING, Any, cast

from sqlalchemy import func, select, update

from flashcore.storage.repos.common import _driver, dialect_of, insert_many, update_many
from flashcore.storage.repos.qbank import MISSED, tallied_attempts
from flashcore.storage.repos.qbank_sums import Key, _digest, _listed_ids, _state
from flashcore.storage.tables import qbank_attempts, qbank_sums, qbank_sums_state

if TYPE_CHECKING:
    from flashcore.storage.repos.common import Executor

__all__ = ["DayCount", "Made", "batch_ids", "fold_batch", "group_days", "listed_qids", "sums_kept"]

DayCount = tuple[Key, date, int, int]  # group, day, attempts, misses

# An attempt as an import holds it: (source, qid, outcome, ISO day, topic, category, system).
Held = tuple[str, str, str, str, str, str, str]


def sums_kept(conn: Executor, profile_id: int) -> bool:
    """Whether the profile keeps sums (a report of a large history started them)."""
    s = qbank_sums_state.c
    found = conn.execute(select(s.profile_id).where(s.profile_id == profile_id)).first()
    return found is not None


def listed_qids(conn: Executor, profile_id: int) -> tuple[frozenset[str], str]:
    """The question ids the profile's live notes list (an attempt at one is grouped by its
    source and id, see `_group_keys`), and their digest as the sums' state keeps it."""
    ids = {str(q) for q in conn.execute(_listed_ids(profile_id)).scalars()}
    return frozenset(ids), _digest(ids)


def group_days(attempts: Iterable[Held], listed: frozenset[str]) -> list[DayCount]:
    """Attempts counted per group and day as the database groups them (`qbank_sums`: by
    source, id and texts for a question id some note lists, else by the texts alone), in the
    order each (group, day) first comes."""
    held = attempts if isinstance(attempts, list) else list(attempts)
    keys = [
        (source, qid, topic, category, system, day)
        if qid in listed
        else ("", "", topic, category, system, day)
        for source, qid, _outcome, day, topic, category, system in held
    ]
    counted = Counter(keys)  # counted in C: ~3x the loop it replaced
    missed = Counter([key for key, a in zip(keys, held, strict=True) if a[2] in MISSED])
    days: dict[str, date] = {}
    out: list[DayCount] = []
    for key, n in counted.items():
        source, qid, topic, category, system, day = key
        on_date = days.get(day) or days.setdefault(day, date.fromisoformat(day))
        out.append(((source, qid, topic, category, system), on_date, n, missed.get(key, 0)))
    return out


def batch_ids(conn: Executor, batch_id: int, first_id: int) -> dict[str, int]:
    """Each attempt of a batch by its fingerprint: its id (ids from `first_id` on)."""
    a = qbank_attempts.c
    rows = conn.execute(
        select(a.fingerprint, a.id).where(a.id >= first_id, a.batch_id == batch_id)
    ).all()
    return {str(fp): int(i) for fp, i in rows}


# Rows a fold wrote for its batch's (group, day) pairs: (group, day) -> (row id, attempts,
# misses) in the row, so that a later step of the same fold adds to them (one row per pair).
Made = dict[tuple[Key, date], tuple[int, int, int]]


def fold_batch(
    conn: Executor,
    profile_id: int,
    listed: str,
    after_id: int | None,
    through_id: int,
    days: Iterable[DayCount],
    count: int,
    unfolded: int = 0,
    made: Made | None = None,
) -> Made | None:
    """Fold a run of a published batch's attempts into the sums (in the caller's write
    transaction): those with ids up to `through_id`, `count` of them, counted per group and
    day by the import from its memory (`days`, grouped with the listed ids of digest
    `listed`). The sums must stand just before them: holding every attempt up to `after_id`,
    or, for the batch's first run (`after_id` None), every attempt but the batch's
    `unfolded` ones. Else None and nothing written: readers read the rest by id, as before.
    A batch folds in a few short steps: between them, readers read the sums and the attempts
    after the last id folded, which is the same. The rows an earlier step wrote (`made`) are
    added to; returns the rows this step wrote (`made` itself is left as it is, so that a
    step tried again starts from the same place)."""
    s = qbank_sums_state.c
    conn.execute(  # one writer of the sums at a time per profile (PostgreSQL: the row lock)
        select(s.profile_id).where(s.profile_id == profile_id).with_for_update()
    ).first()
    state = _state(conn, profile_id)
    if state is None or state.listed != listed or state.last_attempt_id >= through_id:
        return None
    if after_id is None:
        if state.attempts + unfolded != tallied_attempts(conn, profile_id):
            return None  # another batch came or went since the sums were taken
    elif state.last_attempt_id != after_id:
        return None  # summed afresh meanwhile
    out = _write_days(conn, profile_id, days, made or {})
    conn.execute(
        update(qbank_sums_state)
        .where(s.profile_id == profile_id)
        .values(last_attempt_id=through_id, attempts=state.attempts + count)
    )
    return out


def _write_days(conn: Executor, profile_id: int, days: Iterable[DayCount], made: Made) -> Made:
    """The (group, day) counts written: added to the rows in `made`, else new rows; the rows
    written, with what they now hold."""
    c = qbank_sums.c
    out: Made = {}
    new: list[DayCount] = []
    for key, day, n, m in days:
        had = made.get((key, day))
        if had is None:
            new.append((key, day, n, m))
        else:
            out[(key, day)] = (had[0], had[1] + n, had[2] + m)
    update_many(
        conn, qbank_sums,
        [{"id": row_id, "attempts": n, "misses": m} for row_id, n, m in out.values()],
        key="id",
    )  # fmt: skip
    before = conn.execute(select(func.coalesce(func.max(c.id), 0))).scalar_one()
    if new and dialect_of(conn).name == "sqlite":
        _insert_sqlite(conn, profile_id, new)
        last = conn.execute(select(func.max(c.id))).scalar_one()
        if last == before + len(new):  # SQLite numbered them in order: no read-back
            for row_id, (key, day, n, m) in enumerate(new, before + 1):
                out[(key, day)] = (row_id, n, m)
            return out
    elif new:
        insert_many(conn, qbank_sums, [
            {
                "profile_id": profile_id, "source": k[0], "qid": k[1], "topic": k[2],
                "category": k[3], "system": k[4], "on_date": day, "attempts": n, "misses": m,
                "decayed_attempts": 0.0, "decayed_misses": 0.0, "last_miss": None,
                "last_correct": None,
            }
            for k, day, n, m in new
        ])  # fmt: skip
    if new:  # the rows just written (ours alone: the state's row lock is held)
        for row_id, owner, *k, on_date, n, m in conn.execute(
            select(c.id, c.profile_id, c.source, c.qid, c.topic, c.category, c.system,
                   c.on_date, c.attempts, c.misses)
            .where(c.id > before)  # by id alone: the profile's index would read all its rows
        ).all():  # fmt: skip
            if owner != profile_id:
                continue  # another profile's, written meanwhile (PostgreSQL)
            day = on_date if isinstance(on_date, date) else date.fromisoformat(str(on_date))
            out[(cast(Key, tuple(k)), day)] = (int(row_id), int(n), int(m))
    return out


def _insert_sqlite(conn: Executor, profile_id: int, new: list[DayCount]) -> None:
    """The new (group, day) rows by the driver's executemany, their values as SQLite stores
    them (a day through the column type's own processing, once per day): the fold writes
    ~30,000 rows for 100,000 attempts over a week."""
    dialect = dialect_of(conn)
    process = qbank_sums.c.on_date.type.dialect_impl(dialect).bind_processor(dialect)
    stored: dict[date, Any] = {}
    for _key, day, _n, _m in new:
        if day not in stored:
            stored[day] = process(day) if process is not None else day
    _driver(conn).executemany(
        "INSERT INTO qbank_sums (profile_id, source, qid, topic, category, system, on_date,"
        " attempts, misses, decayed_attempts, decayed_misses) VALUES"
        " (?, ?, ?, ?, ?, ?, ?, ?, ?, 0.0, 0.0)",
        [(profile_id, *key, stored[day], n, m) for key, day, n, m in new],
    )
