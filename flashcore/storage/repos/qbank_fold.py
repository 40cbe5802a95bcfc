"""An import's batch folded into the kept sums (repos.qbank_sums) as it is published: the
import counts its attempts per group and day from its memory, and the sums take them in one
short write, so the weights that follow and the reports after it read none of its attempts
(at 200,000 cards and 1,000,000 attempts, a report read and grouped the 100,000 attempts of
the last import until a report synced the sums: ~1.2 s each time)."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date
from typing import TYPE_CHECKING

from sqlalchemy import func, select, update

from flashcore.storage.repos.common import insert_many
from flashcore.storage.repos.qbank import MISSED, tallied_attempts
from flashcore.storage.repos.qbank_sums import Key, _digest, _listed_ids, _state
from flashcore.storage.tables import qbank_attempts, qbank_sums, qbank_sums_state

if TYPE_CHECKING:
    from flashcore.storage.repos.common import Executor

__all__ = ["DayCount", "fold_batch", "group_days", "listed_qids", "sums_kept"]

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
    source, id and texts for a question id some note lists, else by the texts alone)."""
    counted: dict[tuple[str, str, str, str, str, str], list[int]] = {}
    for source, qid, outcome, day, topic, category, system in attempts:
        if qid in listed:
            key = (source, qid, topic, category, system, day)
        else:
            key = ("", "", topic, category, system, day)
        c = counted.get(key)
        if c is None:
            c = counted[key] = [0, 0]
        c[0] += 1
        if outcome in MISSED:
            c[1] += 1
    days: dict[str, date] = {}
    out: list[DayCount] = []
    for (source, qid, topic, category, system, day), (n, m) in counted.items():
        on_date = days.get(day) or days.setdefault(day, date.fromisoformat(day))
        out.append(((source, qid, topic, category, system), on_date, n, m))
    return out


def fold_batch(
    conn: Executor,
    profile_id: int,
    batch_id: int,
    first_id: int,
    listed: str,
    days: Iterable[tuple[Key, date, int, int]],
    count: int,
) -> bool:
    """Fold a batch just published into the sums (in the caller's write transaction): its
    attempts counted per group and day by the import, from its memory (`days`: group, day,
    attempts, misses; grouped with the listed ids of digest `listed`; `count` attempts in all,
    ids from `first_id` on). Only when the sums stand just before it: the same listed ids,
    every attempt but the batch's already in (else False: nothing written, and the sums
    answer as before, from the attempts added since). Readers then read no attempt of it."""
    s, a = qbank_sums_state.c, qbank_attempts.c
    conn.execute(  # one writer of the sums at a time per profile (PostgreSQL: the row lock)
        select(s.profile_id).where(s.profile_id == profile_id).with_for_update()
    ).first()
    state = _state(conn, profile_id)
    if state is None or state.listed != listed or state.last_attempt_id >= first_id:
        return False
    if state.attempts + count != tallied_attempts(conn, profile_id):
        return False  # another batch came or went since the sums were taken
    highest = conn.execute(
        select(func.max(a.id)).where(a.id >= first_id, a.batch_id == batch_id)
    ).scalar()
    if highest is None:
        return False
    rows = [
        {
            "profile_id": profile_id, "source": k[0], "qid": k[1], "topic": k[2],
            "category": k[3], "system": k[4], "on_date": day, "attempts": n, "misses": m,
            "decayed_attempts": 0.0, "decayed_misses": 0.0, "last_miss": None,
            "last_correct": None,
        }
        for k, day, n, m in days
    ]  # fmt: skip
    insert_many(conn, qbank_sums, rows)
    conn.execute(
        update(qbank_sums_state)
        .where(s.profile_id == profile_id)
        .values(last_attempt_id=int(highest), attempts=state.attempts + count)
    )
    return True
