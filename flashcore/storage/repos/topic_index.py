"""The topic index as stored: topics and their parents, aliases, the question ids notes list
and the topics notes are linked to (what matching an attempt reads). Every note's topics are
read only where every note is needed (the cards' weights); the rest reads the notes that list
a question id and how many notes each set of topics links (`linked_sets`)."""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from sqlalchemy import String, cast, func, insert, select, text, update

from flashcore.storage.index_cache import TOPIC_INDEX_TRIGGERS, topic_index_cache
from flashcore.storage.index_codec import StoredIndex as StoredIndex
from flashcore.storage.index_codec import decoded, encoded
from flashcore.storage.index_codec import index_digest as index_digest
from flashcore.storage.repos.common import chunks, dialect_of
from flashcore.storage.tables import note_qids, note_topics, notes, topic_aliases, topics

if TYPE_CHECKING:
    from flashcore.storage.repos.common import Executor


def stored_index(conn: Executor, profile_id: int, *, every_note: bool = True) -> StoredIndex:
    """The index; without `every_note`, the notes' topics only for the notes that list a
    question id, and the notes counted per set of topics (a few grouped rows: at 200,000
    notes, ~0.1 s instead of ~1 s)."""
    paths: dict[int, str] = {}
    parent: dict[int, int | None] = {}
    for topic_id, path, parent_id in conn.execute(
        select(topics.c.id, topics.c.path, topics.c.parent_id).where(
            topics.c.profile_id == profile_id
        )
    ):
        paths[topic_id] = path
        parent[topic_id] = parent_id
    aliases = [
        (alias_key, topic_path)
        for alias_key, topic_path in conn.execute(
            select(topic_aliases.c.alias_key, topic_aliases.c.topic_path).where(
                topic_aliases.c.profile_id == profile_id
            )
        )
    ]
    # The two big reads use Core columns and plain tuples (no ORM row loading): at 50,000
    # cards the daily refresh spent most of its time there.
    nt, tp = note_topics, topics
    if not every_note:
        qid_notes, listing = _listed(conn, profile_id, with_topics=True)
        return StoredIndex(
            paths, parent, aliases, qid_notes, listing, linked_sets(conn, profile_id)
        )  # fmt: skip
    qid_notes, _ = _listed(conn, profile_id, with_topics=False)
    topics_of_note: dict[int, list[int]] = defaultdict(list)
    for note_id, linked_topic in conn.execute(
        select(nt.c.note_id, nt.c.topic_id)
        .join(tp, tp.c.id == nt.c.topic_id)
        .where(tp.c.profile_id == profile_id)
    ).all():
        topics_of_note[note_id].append(linked_topic)
    return StoredIndex(paths, parent, aliases, qid_notes, dict(topics_of_note))


def _listed(
    conn: Executor, profile_id: int, *, with_topics: bool
) -> tuple[dict[tuple[str, str], list[int]], dict[int, list[int]]]:
    """The live notes that list a question id, per (source, qid) in note id order; with
    `with_topics`, those notes' topics too, in the same read (their links joined on)."""
    nq, nt, n = note_qids.c, note_topics.c, notes.c
    columns = [nq.source, nq.qid, nq.note_id]
    query = select(*columns, nt.topic_id) if with_topics else select(*columns)
    if with_topics:
        query = query.outerjoin(note_topics, nt.note_id == nq.note_id)
    rows = conn.execute(
        query.join(notes, n.id == nq.note_id)
        # `+ 0`: from the few listed notes to their note by id (SQLite would otherwise walk
        # every note of the profile: 200,000 notes, 10,000 listing an id, 4x the time)
        .where((n.profile_id + 0) == profile_id, n.removed.is_(False))
        .order_by(nq.note_id, nq.source, nq.qid, *([nt.topic_id] if with_topics else []))
    ).all()
    qid_notes: dict[tuple[str, str], list[int]] = defaultdict(list)
    topics_of: dict[int, list[int]] = defaultdict(list)
    first_pair: dict[int, tuple[str, str]] = {}
    for row in rows:
        pair, note_id = (row[0], row[1]), row[2]
        listed = qid_notes[pair]
        if not listed or listed[-1] != note_id:
            listed.append(note_id)
        if with_topics and row[3] is not None and first_pair.setdefault(note_id, pair) == pair:
            topics_of[note_id].append(row[3])
    return dict(qid_notes), dict(topics_of)


def topics_of_notes(conn: Executor, note_ids: Sequence[int]) -> dict[int, list[int]]:
    """The topics each of these notes is linked to (notes without any: absent)."""
    out: dict[int, list[int]] = defaultdict(list)
    nt = note_topics.c
    for chunk in chunks(sorted(set(note_ids)), 900):
        for note_id, topic_id in conn.execute(
            select(nt.note_id, nt.topic_id).where(nt.note_id.in_(chunk))
        ).all():
            out[note_id].append(topic_id)
    return dict(out)


def linked_sets(conn: Executor, profile_id: int) -> Counter[tuple[int, ...]]:
    """The profile's notes linked to topics, counted per set of topics (sorted ids): the
    notes of one topic counted by the database; the notes linked to several, each note's
    topics put together by the database and those counted per set (a few hundred sets at
    35,000 notes of two topics each, where reading every note's links took ~0.1 s CPU more)."""
    nt, tp = note_topics.c, topics.c
    mine = select(tp.id).where(tp.profile_id == profile_id)
    per_topic = conn.execute(
        select(nt.topic_id, func.count()).where(nt.topic_id.in_(mine)).group_by(nt.topic_id)
    ).all()
    several = (
        select(nt.note_id).group_by(nt.note_id).having(func.count() > 1)
    )  # every profile's: filtering them by profile first costs more than it saves
    per_note = (
        select(func.aggregate_strings(cast(nt.topic_id, String), ",").label("ids"))
        .where(
            nt.note_id.in_(several),
            # `+ 0`: look the listed notes up by id (SQLite would otherwise try every pair of
            # a listed note and a profile's topic: 70 ms for the starter decks' 431 notes)
            (nt.topic_id + 0).in_(mine),
        )
        .group_by(nt.note_id)
        .subquery()
    )
    out: Counter[tuple[int, ...]] = Counter()
    alone = Counter({int(t): int(n) for t, n in per_topic})
    # A set's ids in any order (the database's order within a note is not promised): sorted
    # here, so two texts of one set count together.
    for ids, n in conn.execute(select(per_note.c.ids, func.count()).group_by(per_note.c.ids)):
        linked = tuple(sorted(int(t) for t in ids.split(",")))
        for t in linked:
            alone[t] -= n
        out[linked] += n
    for t, n in alone.items():
        if n > 0:
            out[(t,)] += n
    return out


# ---------------------------------------------------------------- the index kept (schema 0024)


@dataclass(frozen=True, slots=True)
class KeptIndex:
    """What `kept_index` found: the stored index if it is current; the generation under which
    an index read now may be stored (None: not while `unseen`); and whether no reader has
    looked at the current generation (`observe_index` first, or the triggers would not count
    the next change)."""

    stored: StoredIndex | None
    gen: int | None
    unseen: bool = False


def kept_index(conn: Executor, profile_id: int, *, read: bool = True) -> KeptIndex:
    """Inside the caller's read transaction: the light index as stored, if current (without
    `read`, not decoded: only whether it is). SQLite only, and only with every trigger of
    `storage.index_cache` in place; else nothing is kept and nothing is to be looked at."""
    if dialect_of(conn).name != "sqlite" or _triggers(conn) != TOPIC_INDEX_TRIGGERS:
        return KeptIndex(None, None)
    c = topic_index_cache.c
    row = conn.execute(
        select(c.gen, c.observed, c.built, c.payload if read else c.built).where(
            c.profile_id == profile_id
        )
    ).first()
    if row is None:
        return KeptIndex(None, None, unseen=True)
    gen, observed, built, payload = row
    if built == gen:
        return KeptIndex(decoded(payload) if read else None, gen)
    return KeptIndex(None, gen if observed == gen else None, unseen=observed != gen)


def observe_index(conn: Executor, profile_id: int) -> None:
    """(A write.) From now on the triggers count the profile's generation up at its next
    change, so that an index read after this may be stored (`keep_index`)."""
    c = topic_index_cache.c
    done = conn.execute(
        update(topic_index_cache).where(c.profile_id == profile_id).values(observed=c.gen)
    )
    if not getattr(done, "rowcount", 0):
        conn.execute(insert(topic_index_cache).values(profile_id=profile_id, gen=0, observed=0))


def keep_index(conn: Executor, profile_id: int, gen: int, stored: StoredIndex) -> bool:
    """(A write.) Store `stored`, read at generation `gen`, unless the generation moved since
    (a change committed after the read): whether it was stored."""
    c = topic_index_cache.c
    done = conn.execute(
        update(topic_index_cache)
        .where(c.profile_id == profile_id, c.gen == gen, c.observed == gen)
        .values(built=gen, payload=encoded(stored))
    )
    return bool(getattr(done, "rowcount", 0))


def _triggers(conn: Executor) -> int:
    return int(
        conn.execute(
            text("SELECT count(*) FROM sqlite_master WHERE type = 'trigger' AND name GLOB :like"),
            {"like": "tr_topic_index_*"},
        ).scalar_one()
    )
