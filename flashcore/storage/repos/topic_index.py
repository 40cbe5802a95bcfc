"""The topic index as stored: topics and their parents, aliases, the question ids notes list
and the topics notes are linked to (what matching an attempt reads)."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from typing import TYPE_CHECKING

from sqlalchemy import select

from flashcore.storage.tables import note_qids, note_topics, notes, topic_aliases, topics

if TYPE_CHECKING:
    from flashcore.storage.repos.common import Executor


@dataclass(frozen=True, slots=True)
class StoredIndex:
    paths: dict[int, str]  # topic id -> path
    parent: dict[int, int | None]
    aliases: list[tuple[str, str]]  # (alias key, the topic path it names)
    qid_notes: dict[tuple[str, str], list[int]]  # (source, qid) -> live notes listing it
    note_topics: dict[int, list[int]]  # note id -> its topics


def stored_index(conn: Executor, profile_id: int) -> StoredIndex:
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
    nq, nt, n, tp = note_qids, note_topics, notes, topics
    qid_notes: dict[tuple[str, str], list[int]] = defaultdict(list)
    for source, qid, qid_note in conn.execute(
        select(nq.c.source, nq.c.qid, nq.c.note_id)
        .join(n, n.c.id == nq.c.note_id)
        .where(n.c.profile_id == profile_id, n.c.removed.is_(False))
    ).all():
        qid_notes[(source, qid)].append(qid_note)
    topics_of_note: dict[int, list[int]] = defaultdict(list)
    for note_id, linked_topic in conn.execute(
        select(nt.c.note_id, nt.c.topic_id)
        .join(tp, tp.c.id == nt.c.topic_id)
        .where(tp.c.profile_id == profile_id)
    ).all():
        topics_of_note[note_id].append(linked_topic)
    return StoredIndex(paths, parent, aliases, dict(qid_notes), dict(topics_of_note))
