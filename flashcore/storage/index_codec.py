"""The topic index as a report reads it, without SQLAlchemy: `StoredIndex` (what
`repos.topic_index` reads or keeps), its light form as stored in `topic_index_cache` (schema
0024) and its digest. The driver-only report (`storage.light_read`) decodes the kept index
with these, as `repos.topic_index.kept_index` does."""

from __future__ import annotations

import hashlib
import json
from collections import Counter
from dataclasses import dataclass, field

# How many `tr_topic_index_*` triggers `storage.index_cache` makes: the index is kept only
# while every one of them is in place.
TOPIC_INDEX_TRIGGERS = 13


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
    # The digest of its light form as stored (`index_digest`), when it was read from there.
    digest: str | None = field(default=None, compare=False)


def index_digest(stored: StoredIndex) -> str | None:
    """A digest of the light index (sha256 of its stored form, as `keep_index` stores it):
    two indexes read alike have the same; None for an index of every note's topics. What the
    kept topic scores are checked against (`storage.scores_kept`)."""
    if stored.digest is not None:
        return stored.digest
    if stored.linked_sets is None:
        return None
    return hashlib.sha256(encoded(stored).encode()).hexdigest()


def encoded(s: StoredIndex) -> str:
    """The light index as `topic_index_cache` stores it (JSON, every mapping in its order)."""
    assert s.linked_sets is not None  # the light index only
    return json.dumps(
        [
            [[t, path, s.parent[t]] for t, path in s.paths.items()],
            s.aliases,
            [[source, qid, notes] for (source, qid), notes in s.qid_notes.items()],
            list(s.note_topics.items()),
            [[list(linked), n] for linked, n in s.linked_sets.items()],
        ],
        separators=(",", ":"),
    )


def decoded(payload: str) -> StoredIndex:
    """`encoded`'s index, with the digest of the stored text."""
    topic_rows, aliases, qids, note_rows, sets = json.loads(payload)
    return StoredIndex(
        {t: path for t, path, _ in topic_rows},
        {t: parent for t, _, parent in topic_rows},
        [(key, path) for key, path in aliases],
        {(source, qid): notes for source, qid, notes in qids},
        {note: linked for note, linked in note_rows},
        Counter({tuple(linked): n for linked, n in sets}),
        hashlib.sha256(payload.encode()).hexdigest(),
    )
