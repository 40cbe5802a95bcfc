"""The topic index: topics, their match keys, aliases, and the notes that list a question id
(what matching an attempt to topics reads), as `load_index` builds it from the stored index
(read, or kept between reports: `storage.index_cache`)."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from flashcore.core import topics as topic_keys
from flashcore.core.matching import TopicMatcher
from flashcore.storage.index_codec import index_digest

if TYPE_CHECKING:
    from flashcore.storage.index_codec import StoredIndex
    from flashcore.storage.repos.common import Executor


@dataclass(slots=True)
class TopicIndex:
    """Everything needed to match attempts: topics, their match keys, aliases, qid owners."""

    paths: dict[int, str]
    parent: dict[int, int | None]
    # The topics' match keys (None until a matcher needs them: `match_keys`; a report read
    # from kept scores matches no text).
    by_key: dict[str, int] | None
    aliases: dict[str, int]
    qid_notes: dict[tuple[str, str], list[int]]
    # Note id -> its topics: every note's, or (`linked_sets` given: a light index, see
    # `load_index`) only the notes that list a question id.
    note_topics: dict[int, list[int]]
    linked_sets: Counter[tuple[int, ...]] | None = None
    # What it was built from (for `digest`; None: built otherwise, never kept scores).
    stored: StoredIndex | None = None
    _question_topics: dict[tuple[str, str], set[int]] = field(default_factory=dict)
    _ancestors: dict[int, tuple[int, ...]] = field(default_factory=dict)
    _matcher: TopicMatcher | None = None  # the topics' words, worked out once (see `matcher`)

    @property
    def every_note(self) -> bool:
        """Whether `note_topics` holds every note's topics."""
        return self.linked_sets is None

    def topic_sets(self) -> Counter[tuple[int, ...]]:
        """The notes linked to topics, counted per set of linked topics."""
        if self.linked_sets is not None:
            return self.linked_sets
        return Counter(tuple(sorted(linked)) for linked in self.note_topics.values())

    def notes_below(self) -> tuple[Counter[int], int]:
        """Per topic, its notes and its sub-topics' (each note once); and the notes linked
        to any topic. Counted per set of linked topics: 200,000 notes link a few thousand."""
        sets = self.topic_sets()
        below: Counter[int] = Counter()
        for linked, n in sets.items():
            for node in {node for t in linked for node in (t, *self.ancestors(t))}:
                below[node] += n
        return below, sum(sets.values())

    def digest(self) -> str | None:
        """A digest of what it was built from (`repos.topic_index.index_digest`): the kept
        topic scores hold it (None: not a light index, nothing is kept)."""
        return None if self.stored is None else index_digest(self.stored)

    def qid_topics(self, notes_of_qid: list[int]) -> set[int]:
        """The topics of the notes that list a question id (an attempt counts once each)."""
        return {t for n in notes_of_qid for t in self.note_topics.get(n, ())}

    def question_topics(self, pair: tuple[str, str]) -> set[int]:
        """`qid_topics` of the notes that list this (source, qid), worked out once each."""
        found = self._question_topics.get(pair)
        if found is None:
            found = self._question_topics[pair] = self.qid_topics(self.qid_notes.get(pair, []))
        return found

    def matcher(self) -> TopicMatcher:
        """A fresh text matcher over these topics and aliases (it has learned nothing yet);
        the topics' words are worked out for the first one and shared by the next."""
        if self._matcher is None:
            if self.by_key is None:
                self.by_key = match_keys(self.paths, self.parent)
            self._matcher = TopicMatcher(self.paths, self.parent, self.by_key, self.aliases)
        return self._matcher.fresh()

    def ancestors(self, topic_id: int) -> tuple[int, ...]:
        """Its parent, the parent's parent, ... up to its subject (worked out once each)."""
        found = self._ancestors.get(topic_id)
        if found is None:
            out = []
            current = self.parent.get(topic_id)
            while current is not None:
                out.append(current)
                current = self.parent.get(current)
            found = self._ancestors[topic_id] = tuple(out)
        return found


def load_index(
    session: Executor,
    profile_id: int,
    *,
    every_note: bool = False,
    stored: StoredIndex | None = None,
) -> TopicIndex:
    """The profile's topic index (from `stored`, as read or kept, if given; else the one a
    report kept, while current: `storage.index_cache`). Matching, scoring and reports need only
    the notes that list a question id and the notes counted per set of topics; `every_note`
    reads every note's topics too (the cards' weights need them)."""
    from flashcore.storage.repos import topic_index as topics_repo

    if stored is None and not every_note:
        # An import's summary and weights, a day's first refresh: one row decoded instead of
        # every listed note read (at 200,000 notes ~0.13 -> ~0.07 CPU-s)
        stored = topics_repo.kept_index(session, profile_id).stored
    stored = stored or topics_repo.stored_index(session, profile_id, every_note=every_note)
    return index_of(stored)


def index_of(stored: StoredIndex) -> TopicIndex:
    """The index built from `stored` (no statement: the driver-only report builds it from the
    kept index it read, `services.weakness_light`)."""
    paths = stored.paths
    aliases: dict[str, int] = {}
    # Every path's key, only to find the aliases' topics (most profiles have none: ~1,300
    # paths normalized for nothing was a tenth of a small collection's report).
    keys_by_path = {topic_keys.path_key(p): t for t, p in paths.items()} if stored.aliases else {}
    for alias_key, topic_path in stored.aliases:
        target = keys_by_path.get(topic_keys.path_key(topic_path))
        if target is not None:
            aliases[alias_key] = target
    return TopicIndex(
        paths, stored.parent, None, aliases, stored.qid_notes, stored.note_topics, stored.linked_sets,
        stored,
    )  # fmt: skip


def match_keys(paths: dict[int, str], parent: dict[int, int | None]) -> dict[str, int]:
    """Each topic's match keys (`core.topics.match_keys`), subjects left out: a whole subject
    ("Immunology") is too broad to take a question's weight. Leaves win over inner nodes when
    two paths share a key."""
    by_key: dict[str, int] = {}
    has_child = {p for p in parent.values() if p is not None}
    for topic_id in sorted(paths, key=lambda t: (t not in has_child, t)):
        if parent[topic_id] is None:
            continue
        for key in topic_keys.match_keys(paths[topic_id]):
            by_key[key] = topic_id
    return by_key
