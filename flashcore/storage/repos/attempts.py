"""Question-bank attempts read grouped, as matching them to topics needs them: counted in SQL
so 100,000 attempts cost a few grouped rows."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from datetime import date
from typing import TYPE_CHECKING, Any

from sqlalchemy import and_, func, select, true

from flashcore.storage.repos.qbank import MISSED as MISSED  # what counts as a miss
from flashcore.storage.repos.qbank import shown
from flashcore.storage.tables import note_qids, notes, qbank_attempts

if TYPE_CHECKING:
    from flashcore.storage.repos.common import Executor

Texts = tuple[str, str, str]  # (topic, category, system)
# Attempts at one question id with the same texts, day and outcome: (source, qid, topic,
# category, system, on_date, missed, count).
QidGroup = tuple[str, str, str, str, str, date, bool, int]
# Attempts of no listed question with the same texts, day and outcome: (topic, category,
# system, on_date, missed, count).
TextGroup = tuple[str, str, str, date, bool, int]

# Up to this many (source, qid) pairs listed by cards, attempts are split by an IN list of their
# ids (one pass over the attempts, no per-attempt lookup); beyond it (an AnKing-sized deck with
# thousands of question ids) by a subquery of the listed ids, which the database works out once.
QID_LIST_MAX = 2000


def grouped_attempts(
    conn: Executor,
    profile_id: int,
    listed_pairs: Sequence[tuple[str, str]],
    skip_batch: int | None = None,
    *,
    list_max: int = QID_LIST_MAX,
) -> tuple[Iterator[QidGroup], Iterator[TextGroup]]:
    """The profile's attempts (but batch `skip_batch`'s) grouped: those whose question id some
    card lists (`listed_pairs`, (source, qid); by id and texts) and the others (by texts). The
    first group may hold an id listed only under another source: the caller sorts them out.
    Iterators: each runs its statement when first read. `list_max`: see QID_LIST_MAX."""
    a = qbank_attempts.c
    missed = a.outcome.in_(MISSED)
    listed: Any
    unlisted: Any
    if len(listed_pairs) <= list_max:
        # `profile_id + 0`: read the attempts in table order (a whole profile's), not through
        # an index on profile_id (now (profile_id, on_date), schema 0023),
        # which SQLite would otherwise pick (0.21 -> 0.15 s per 100k).
        mine = (a.profile_id + 0) == profile_id
        qids = sorted({qid for _source, qid in listed_pairs})  # one column: SQLite indexes it
        listed = a.qid.in_(qids) if qids else None
        unlisted = a.qid.notin_(qids) if qids else true()
    else:
        mine = (a.profile_id + 0) == profile_id
        # The ids of the profile's listed questions, worked out once by the database (a
        # lookup per attempt in note_qids took ~25 s over 1,000,000 attempts).
        qids_listed = (
            select(note_qids.c.qid)
            .join(notes, notes.c.id == note_qids.c.note_id)
            .where(notes.c.profile_id == profile_id, notes.c.removed.is_(False))
        )
        listed = a.qid.in_(qids_listed)
        unlisted = a.qid.notin_(qids_listed)
    mine = and_(mine, shown(profile_id))
    if skip_batch is not None:
        mine = and_(mine, a.batch_id != skip_batch)
    texts_of = (a.topic, a.category, a.system, a.on_date, missed)

    def by_qid() -> Iterator[QidGroup]:
        if listed is None:
            return
        for source, qid, topic, category, system, on_date, was_missed, count in conn.execute(
            select(a.source, a.qid, *texts_of, func.count())
            .where(mine, listed)
            .group_by(a.source, a.qid, *texts_of)
        ):
            yield source, qid, topic, category, system, on_date, bool(was_missed), int(count)

    def by_text() -> Iterator[TextGroup]:
        for topic, category, system, on_date, was_missed, count in conn.execute(
            select(*texts_of, func.count()).where(mine, unlisted).group_by(*texts_of)
        ):
            yield topic, category, system, on_date, bool(was_missed), int(count)

    return by_qid(), by_text()


# Misses at one question with the same texts, day and "% correct others": (source, qid, topic,
# category, system, on_date, others, count).
ShareGroup = tuple[str, str, str, str, str, date, int, int]


def missed_shares(conn: Executor, profile_id: int, since: date) -> list[ShareGroup]:
    """The profile's misses dated `since` or later whose log gave the question's "% correct
    others" (schema 0025), grouped; read by the index on (profile_id, on_date). A log without
    the column adds nothing here."""
    a = qbank_attempts.c
    found = conn.execute(
        select(a.source, a.qid, a.topic, a.category, a.system, a.on_date, a.others, func.count())
        .where(
            a.profile_id == profile_id,
            a.on_date >= since,
            a.outcome.in_(MISSED),
            a.others.is_not(None),
            shown(profile_id),
        )
        .group_by(a.source, a.qid, a.topic, a.category, a.system, a.on_date, a.others)
    )
    return [
        (source, qid, topic, category, system, on_date, int(others), int(count))
        for source, qid, topic, category, system, on_date, others, count in found
    ]
