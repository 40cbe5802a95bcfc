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

import copy
import math
from collections import Counter, defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field

from flashcore.core import topics as topic_keys

Texts = tuple[str, str, str]  # (topic, category, system) as the attempt has them
COMMON = 3  # a word in this many topic names says little about which one is meant
# Words that name a kind of topic, not which one: never enough for a suggestion on their own,
# however few topic names of a small collection share them ("Wilson disease" is not
# "Chronic granulomatous disease"). Normalized forms (singular).
GENERIC = frozenset(
    [
        "disease",
        "disorder",
        "syndrome",
        "deficiency",
        "infection",
        "reaction",
        "cell",
        "type",
        "drug",
        "agent",
        "factor",
        "test",
        "sign",
        "symptom",
        "acute",
        "chronic",
        "primary",
        "secondary",
        "congenital",
        "acquired",
    ]
)


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
    # Each word -> the places in `_genus` of the entries that need it (an entry can only match
    # a text holding its words, so only those are looked at; the first place still wins).
    _genus_by_word: dict[str, list[int]] = field(default_factory=dict)
    _cache: dict[Texts, int | None] = field(default_factory=dict)
    _suggest: _SuggestionWords | None = None

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
                both = topic_keys.pair_key(parts[-2], parts[-1])
                if both:
                    genus.append((frozenset(both.split()), topic_id))
        # Most words first: the closest genus is tried before a broader one.
        genus.sort(key=lambda item: (-len(item[0]), item[1]))
        self._genus = genus
        by_word: dict[str, list[int]] = defaultdict(list)
        for place, (needed, _topic_id) in enumerate(genus):
            for word in needed:
                by_word[word].append(place)
        self._genus_by_word = dict(by_word)

    def fresh(self) -> TopicMatcher:
        """A matcher over the same topics that has learned nothing, sharing this one's words
        of the topics (never changed once worked out) instead of working them out again."""
        twin = copy.copy(self)
        twin.learned, twin._cache = {}, {}
        return twin

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
        places = sorted({p for w in have for p in self._genus_by_word.get(w, ())})
        for place in places:
            needed, topic_id = self._genus[place]
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
        """The topic to suggest for a gap. The topic whose name shares the most of `own`'s
        uncommon words (loosely: "acidosis" meets "acid"; rarer words count more; words in
        COMMON or more topic names, and GENERIC ones like "disease", do not count), helped by
        the gap's broader texts meeting its path. Sharing none, the system its broader texts
        name best. None when nothing meets."""
        words = self._suggest or self._suggestion_words()
        own_words = set(topic_keys.text_key(own).split())
        context_words = {w for text in context for w in topic_keys.text_key(text).split()}
        frequency, total = words.frequency, len(words.names) + 1
        rarities = words.rarities

        def rarity(word: str) -> float:
            found = rarities.get(word)
            if found is None:
                found = rarities[word] = math.log(1 + total / (1 + frequency.get(word, 0)))
            return found

        mine = {w for w in own_words if frequency.get(w, 0) < COMMON and w not in GENERIC}
        # Only a topic with a word alike one of these can score: the topics each word meets
        # (in their name, or anywhere in their path) are worked out once per word.
        name_hits = {w: words.meeting(w, in_path=False) for w in mine}
        path_hits = {w: words.meeting(w, in_path=True) for w in context_words}
        candidates: set[int] = set()
        for hit in (*name_hits.values(), *path_hits.values()):
            candidates |= hit
        context_rarity = sum(map(rarity, context_words))
        best: tuple[float, float, int, int] | None = None
        for topic_id in candidates:
            if self.parent.get(topic_id) is None:
                continue  # a whole subject is too broad to take a question's weight
            shared = [w for w in mine if topic_id in name_hits[w]]
            score = 0.0
            if shared:
                whole = sum(map(rarity, own_words | words.names[topic_id]))
                score = sum(map(rarity, shared)) / whole if whole else 0.0
            hits = [w for w in context_words if topic_id in path_hits[w]]
            near = sum(map(rarity, hits)) / context_rarity if hits else 0.0
            if score <= 0 and (near <= 0 or topic_id in self._leaves):
                continue  # no word of its own in common: only an area (system) is suggested
            path_words = words.path_words[topic_id]
            candidate = (score + 0.5 * near, near, -len(path_words), -topic_id)
            if score > 0:
                candidate = (candidate[0] + 10.0, *candidate[1:])  # a shared word wins
            if best is None or candidate > best:
                best = candidate
        return None if best is None else -best[3]

    def _suggestion_words(self) -> _SuggestionWords:
        of_part: dict[str, frozenset[str]] = {}  # the paths' parts repeat: each worked out once

        def part_words(part: str) -> frozenset[str]:
            found = of_part.get(part)
            if found is None:
                found = of_part[part] = frozenset(topic_keys.text_key(part).split())
            return found

        names: dict[int, frozenset[str]] = {}
        path_words: dict[int, frozenset[str]] = {}
        for t, p in self.paths.items():
            parts = topic_keys.split_path(p)
            names[t] = part_words(parts[-1])
            path_words[t] = frozenset().union(*map(part_words, parts))
        by_name: dict[str, set[int]] = defaultdict(set)
        by_path: dict[str, set[int]] = defaultdict(set)
        for t, ws in names.items():
            for w in ws:
                by_name[w[:4]].add(t)
        for t, ws in path_words.items():
            for w in ws:
                by_path[w[:4]].add(t)
        frequency: Counter[str] = Counter(w for ws in names.values() for w in ws)
        self._suggest = _SuggestionWords(names, path_words, frequency, by_name, by_path)
        return self._suggest


@dataclass(frozen=True, slots=True)
class _SuggestionWords:
    """The topics' words as `closest` weighs them, worked out once per matcher."""

    names: dict[int, frozenset[str]]  # the leaf part's words
    path_words: dict[int, frozenset[str]]  # every part's words
    frequency: Counter[str]  # in how many names each word is
    by_name_prefix: dict[str, set[int]]  # a word's first four letters -> topics whose name has it
    by_path_prefix: dict[str, set[int]]  # the same for the whole path
    rarities: dict[str, float] = field(default_factory=dict)  # `closest`'s, remembered
    _meets: dict[tuple[str, bool], frozenset[int]] = field(default_factory=dict)

    def meeting(self, word: str, *, in_path: bool) -> frozenset[int]:
        """The topics with a word alike `word` in their name (or anywhere in their path).
        Alike words share their first four letters (or are equal), so only the topics of that
        prefix are looked at; remembered per word."""
        found = self._meets.get((word, in_path))
        if found is None:
            bucket = (self.by_path_prefix if in_path else self.by_name_prefix).get(word[:4], ())
            words = self.path_words if in_path else self.names
            found = frozenset(t for t in bucket if any(_alike(word, o) for o in words[t]))
            self._meets[(word, in_path)] = found
        return found


def _alike(a: str, b: str) -> bool:
    """Loosely the same word: equal, or one begins the other and has 4+ letters
    ("acid"/"acidosis"), or they share their first 6 letters ("metabolic"/"metabolism")."""
    if a == b:
        return True
    short, long_ = (a, b) if len(a) <= len(b) else (b, a)
    if len(short) >= 4 and long_.startswith(short):
        return True
    return len(short) >= 6 and short[:6] == long_[:6]
