"""The topic index as stored: topics and their parents, aliases, the question ids notes list
and the topics notes are linked to (what matching an attempt reads). Every note's topics are
read only where every note is needed (the cards' weights); the rest reads the notes that list
a question id and how many notes each set of topics links (`linked_sets`)."""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from sqlalchemy import func, select

from flashcore.storage.repos.common import chunks
from flashcore.storage.tables import note_qids, note_topics, notes, topic_aliases, topics

if TYPE_CHECKING:
    from flashcore.storage.repos.common import Executor


@dataclass(frozen=True, slots=True)
class StoredIndex:
    paths: dict[int, str]  # topic id -> path
    parent: dict[int, int | None]
    aliases: list[tuple[str, str]]  # (alias key, the topic path it names)
    qid_notes: dict[tuple[str, str], list[int]]  # (source, qid) -> live notes listing it
    note_topics: dict[int, list[int]]  # note id -> its topics (every note, or see `linked_sets`)
    # Without every note's topics: notes counted per set of linked topics (sorted ids), and
    # `note_topics` holds only the notes that list a question id.
    linked_sets: Counter[tuple[int, ...]] | None = None


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
    notes of one topic counted by the database; the few linked to several read one by one."""
    nt, tp = note_topics.c, topics.c
    per_topic = conn.execute(
        select(nt.topic_id, func.count())
        .where(nt.topic_id.in_(select(tp.id).where(tp.profile_id == profile_id)))
        .group_by(nt.topic_id)
    ).all()
    several = (
        select(nt.note_id).group_by(nt.note_id).having(func.count() > 1)
    )  # every profile's: filtering them by profile first costs more than it saves
    multi: dict[int, list[int]] = defaultdict(list)
    for note_id, topic_id in conn.execute(
        select(nt.note_id, nt.topic_id).where(
            nt.note_id.in_(several),
            # `+ 0`: look the listed notes up by id (SQLite would otherwise try every pair of
            # a listed note and a profile's topic: 70 ms for the starter decks' 431 notes)
            (nt.topic_id + 0).in_(select(tp.id).where(tp.profile_id == profile_id)),
        )
    ).all():
        multi[note_id].append(topic_id)
    out: Counter[tuple[int, ...]] = Counter()
    alone = Counter({int(t): int(n) for t, n in per_topic})
    for linked in multi.values():
        for t in linked:
            alone[t] -= 1
        out[tuple(sorted(linked))] += 1
    for t, n in alone.items():
        if n > 0:
            out[(t,)] += n
    return out
