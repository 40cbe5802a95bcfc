"""Which of the student's topics a question bank's text names. Pure: topic paths in, topic ids out.

An attempt carries up to three texts, most specific first: topic, category, system. Only the
most specific one it has decides (`own`), so the same question lands on the same topic whatever
columns its file had:

1. `own` names a topic: the student's alias for it, else a topic's key (leaf, or leaf + parent:
   "Type I hypersensitivity" -> `Hypersensitivity::Type I`).
2. `own` names a species of a topic (`Neisseria gonorrhoeae` -> `…::Neisseria`): every word of
   a leaf topic's name is in `own` (the leaf + parent words, or the leaf's alone when they are
   distinctive: no numbers, no one- or two-letter words, so "Type I error" never becomes
   `Hypersensitivity::Type I`). The leaf with the most such words wins.
3. `own` was learned from fuller rows: where an attempt's `own` names nothing but its category
   (or system) names a leaf topic ("Metabolic acidosis" under "Acid-base disorders"), that leaf
   is taken for every attempt with that `own` text, pasted or from a CSV without categories.
   The leaf named by the most attempts wins.

Otherwise the attempt is a gap: `closest` suggests a topic for `topics alias`.
"""

from __future__ import annotations

import math
from collections import Counter, defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field

from flashcore.core import topics as topic_keys

Texts = tuple[str, str, str]  # (topic, category, system) as the attempt has them


def own_text(texts: Iterable[str]) -> str:
    """The most specific text an attempt has (its first with any words), stripped; or ""."""
    return _own(tuple(texts))[1]


def _own(texts: tuple[str, ...]) -> tuple[int, str]:
    for i, text in enumerate(texts):
        if text and topic_keys.text_key(text):
            return i, text.strip()
    return len(texts), ""


def _distinctive(key: str) -> bool:
    """A leaf name that can stand for its topic inside longer text: no number, no short word."""
    return bool(key) and all(len(w) >= 3 and not w.isdigit() for w in key.split())


@dataclass(slots=True)
class TopicMatcher:
    """Resolves attempt texts against one profile's topics. `learn` first (with every attempt's
    texts), then `resolve`; results are remembered per distinct texts."""

    paths: dict[int, str]
    parent: dict[int, int | None]
    by_key: dict[str, int]
    aliases: dict[str, int]
    learned: dict[str, int] = field(default_factory=dict)
    _leaves: set[int] = field(default_factory=set)
    _genus: list[tuple[frozenset[str], int]] = field(default_factory=list)
    _cache: dict[Texts, int | None] = field(default_factory=dict)

    def __post_init__(self) -> None:
        has_child = {p for p in self.parent.values() if p is not None}
        self._leaves = {t for t in self.paths if t not in has_child and self.parent.get(t)}
        genus: list[tuple[frozenset[str], int]] = []
        for topic_id in sorted(self._leaves):
            parts = topic_keys.split_path(self.paths[topic_id])
            leaf_key = topic_keys.text_key(parts[-1])
            if _distinctive(leaf_key):
                genus.append((frozenset(leaf_key.split()), topic_id))
            if len(parts) >= 2:
                both = topic_keys.text_key(parts[-2] + " " + parts[-1])
                if both:
                    genus.append((frozenset(both.split()), topic_id))
        # Most words first: the closest genus is tried before a broader one.
        genus.sort(key=lambda item: (-len(item[0]), item[1]))
        self._genus = genus

    def is_leaf(self, topic_id: int) -> bool:
        return topic_id in self._leaves

    def named(self, text: str) -> int | None:
        """The topic a text names outright: the student's alias, else a topic key."""
        key = topic_keys.text_key(text)
        if not key:
            return None
        found = self.aliases.get(key)
        return self.by_key.get(key) if found is None else found

    def genus(self, text: str) -> int | None:
        """The leaf whose name's words all appear in `text` (the most words wins)."""
        have = set(topic_keys.text_key(text).split())
        if not have:
            return None
        for needed, topic_id in self._genus:
            if needed <= have:
                return topic_id
        return None

    def _direct(self, own: str) -> int | None:
        found = self.named(own)
        return self.genus(own) if found is None else found

    def learn(self, rows: Iterable[tuple[Texts, int]]) -> None:
        """Learn, from attempts' texts (with how many attempts had them), the leaf each `own`
        text that names nothing stands for: the leaf its rows' broader texts name most often."""
        votes: dict[str, Counter[int]] = defaultdict(Counter)
        seen: dict[str, bool] = {}
        for texts, count in rows:
            at, own = _own(texts)
            if not own:
                continue
            key = topic_keys.text_key(own)
            direct = seen.get(key)
            if direct is None:
                direct = seen[key] = self._direct(own) is not None
            if direct:
                continue
            for text in texts[at + 1 :]:
                if not text:
                    continue
                topic_id = self.named(text)
                if topic_id is not None and topic_id in self._leaves:
                    votes[key][topic_id] += count
                    break
        self.learned = {key: min(c, key=lambda t: (-c[t], t)) for key, c in votes.items() if c}
        self._cache.clear()

    def resolve(self, texts: Texts) -> int | None:
        """The topic an attempt with these texts counts for, or None (a gap)."""
        if texts in self._cache:
            return self._cache[texts]
        own = own_text(texts)
        found = None
        if own:
            found = self._direct(own)
            if found is None:
                found = self.learned.get(topic_keys.text_key(own))
        if len(self._cache) > 100_000:
            self._cache.clear()
        self._cache[texts] = found
        return found

    def closest(self, own: str, context: Iterable[str] = ()) -> int | None:
        """The topic to suggest for a gap: the most words in common with `own` (rare words
        count more, loosely matched: "acidosis" meets "acid"), helped by the broader texts of
        its rows meeting the topic's path. None when nothing shares a word."""
        own_words = set(topic_keys.text_key(own).split())
        context_words = {w for text in context for w in topic_keys.text_key(text).split()}
        context_words -= own_words
        if not own_words:
            return None
        names = {t: set(topic_keys.text_key(topic_keys.split_path(p)[-1]).split())
                 for t, p in self.paths.items() if self.parent.get(t) is not None}  # fmt: skip
        frequency: Counter[str] = Counter(w for ws in names.values() for w in ws)
        total = len(names) + 1

        def rarity(word: str) -> float:
            return math.log(1 + total / (1 + frequency.get(word, 0)))

        best: tuple[float, int, int] | None = None
        for topic_id, name in names.items():
            shared = [w for w in own_words if any(_alike(w, n) for n in name)]
            unshared = [n for n in name if not any(_alike(w, n) for w in own_words)]
            whole = sum(map(rarity, own_words)) + sum(map(rarity, unshared))
            score = sum(map(rarity, shared)) / whole if whole else 0.0
            if context_words:
                path_words = set(topic_keys.text_key(
                    " ".join(topic_keys.split_path(self.paths[topic_id])[:-1])).split())  # fmt: skip
                hits = [w for w in context_words if any(_alike(w, p) for p in path_words)]
                score += 0.5 * sum(map(rarity, hits)) / sum(map(rarity, context_words))
            if score <= 0:
                continue
            candidate = (score, 1 if topic_id in self._leaves else 0, -topic_id)
            if best is None or candidate > best:
                best = candidate
        return None if best is None else -best[2]


def _alike(a: str, b: str) -> bool:
    """Loosely the same word: equal, or one begins the other and has 4+ letters
    ("acid"/"acidosis"), or they share their first 6 letters ("metabolic"/"metabolism")."""
    if a == b:
        return True
    short, long_ = (a, b) if len(a) <= len(b) else (b, a)
    if len(short) >= 4 and long_.startswith(short):
        return True
    return len(short) >= 6 and short[:6] == long_[:6]
