"""The order new cards are introduced in: interleaved across decks and topics, or deck by deck.
Pure: the profile's new cards in, each card's position out.

`interleaved` (the default) spreads every deck over the whole sequence in proportion to its
size, and within a deck spreads its topic groups the same way, so a student with the twenty-one
starter decks meets twenty-one decks in the first twenty-one new cards rather than twenty
biostatistics cards first. A topic group is the first two levels of the note's first topic in
path order (`Biostatistics::Diagnostic tests`): a deck's areas alternate, while the cards of one
area keep the author's order (the definition before its uses). `deck` is the order cards were
added in (note, then cloze number), as before the setting existed.

Deterministic: the same cards give the same positions, whatever order they are given in (ties
go to the deck, or the group, whose first card was added first). Weakness still comes first: the queue
orders new cards by weight, then by position.

Probe cards (issue 21): while the weighting reorders new cards, each topic's first few cards
(`probe_quota`) take every PROBE_SLOT-th place among the weak topics' other new cards
(`with_probes`; missed questions' cards and the first places stay the weakest topics'), so
every topic is seen early. A topic nothing has been asked about yet carries no weight, and
weak-first alone left such topics unseen to the end when the deck was not finished: the
simulated students' weakest topics among them, whose flashcards would have shown them weak
(they lapse more than FSRS predicts) had a few been studied.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Hashable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import TypeVar

from flashcore.core import topics as topic_keys

GROUP_DEPTH = 2  # topic levels that make a group: `Discipline::Area`
# A topic's first cards (studied ones count) are probes: given every PROBE_SLOT-th new card of
# the day among weak topics' new cards (see `with_probes`): one for every PROBE_EVERY cards of the
# topic, at most PROBE_CARDS (`probe_quota`). A topic of fewer than PROBE_EVERY cards has none:
# probes sample a topic, and with many small topics (a deck tagged to the leaf) probing each
# would undo the weak-first order altogether. PROBE_CARDS 0: no probes.
PROBE_CARDS = 3
PROBE_EVERY = 8
# Where probes go among the weighted new cards: every PROBE_SLOT-th new card after the missed
# questions' is a probe while probes are left, so the weakest topics' cards still come first
# (a student who has just logged misses sees those topics at once) and a day's new cards keep
# a share for probes. 1: every probe before any weighted card.
PROBE_SLOT = 4
# Coverage (issue 21e, an ablation: 0 off): a topic's probes also reach COVERAGE × the share of
# the collection's cards studied so far × its cards, so that no topic falls behind that
# fraction of the average while the weak-first order spends the new cards elsewhere (the
# first card of an unseen topic covers exam points the thirtieth of a popular one does not).
COVERAGE = 0.0
COVERAGE_COUNT_UP_TO = 400  # a topic's cards counted up to this many for its coverage quota

T = TypeVar("T")
K = TypeVar("K", bound=Hashable)


class NewOrder(StrEnum):
    """The setting `new_order`."""

    INTERLEAVED = "interleaved"
    DECK = "deck"


@dataclass(frozen=True, slots=True)
class NewCardPlace:
    """What the order needs to know of one new card."""

    card_id: int
    deck: str  # the deck's key (stable across databases, unlike its id)
    group: str  # topic_group() of the note's topics; "" for a note without topics
    note_id: int
    ord: int


def topic_group(paths: Iterable[str], depth: int = GROUP_DEPTH) -> str:
    """The group of a note with these topic paths: the first path in path order (compared by
    normalized key, so case and spelling variants agree), cut to `depth` levels."""
    cleaned = [topic_keys.clean_path(p) for p in paths]
    cleaned = [p for p in cleaned if p]
    if not cleaned:
        return ""
    first = min(cleaned, key=lambda p: (topic_keys.path_key(p), p))
    return topic_keys.SEPARATOR.join(topic_keys.split_path(first)[:depth])


def spread(groups: Mapping[K, Sequence[T]]) -> list[T]:
    """The items of every group in one sequence, each group spread over it in proportion to
    its size, each group's items kept in their order. Item i of a group of n sits at
    (i + 1/2) / n of the way through (Webster's rounding: at every point of the sequence each
    group has had its share, give or take one); equal places go in the mapping's order. Exact:
    (2i + 1) / (2n) is a correctly rounded division, so equal fractions give equal floats and
    unequal ones (n below 2**20) never meet."""
    placed: list[tuple[float, int, int, T]] = []
    for rank, items in enumerate(groups.values()):
        n = len(items)
        placed.extend(((2 * i + 1) / (2 * n), rank, i, item) for i, item in enumerate(items))
    placed.sort(key=lambda t: (t[0], t[1], t[2]))
    return [t[3] for t in placed]


def introduction_order(cards: Iterable[NewCardPlace], order: NewOrder) -> list[int]:
    """The card ids in the order they are introduced (before weakness reorders them)."""
    ordered = sorted(cards, key=lambda c: (c.note_id, c.ord, c.card_id))
    if order is NewOrder.DECK:
        return [c.card_id for c in ordered]
    # Decks, and a deck's groups, in the order their first card was added: ties go that way.
    by_deck: dict[str, dict[str, list[NewCardPlace]]] = defaultdict(lambda: defaultdict(list))
    for c in ordered:
        by_deck[c.deck][c.group].append(c)
    decks = {deck: spread(groups) for deck, groups in by_deck.items()}
    return [c.card_id for c in spread(decks)]


def positions(cards: Iterable[NewCardPlace], order: NewOrder) -> dict[int, int]:
    """Card id -> its place (0, 1, 2, ...) in `introduction_order`."""
    return {card_id: place for place, card_id in enumerate(introduction_order(cards, order))}


def probe_quota(cards: int, studied_share: float = 0.0) -> int:
    """How many probes a topic of `cards` cards (not suspended, studied or new) has: one per
    PROBE_EVERY, at most PROBE_CARDS (25 cards: 3; 7 cards: none); with COVERAGE, at least
    COVERAGE × `studied_share` (the collection's cards studied, 0-1) of its cards."""
    base = min(PROBE_CARDS, cards // PROBE_EVERY) if PROBE_EVERY > 0 else 0
    if COVERAGE <= 0.0:
        return base
    return max(base, int(COVERAGE * studied_share * cards))


def probe_count_needed() -> int:
    """A topic's cards counted up to this many tell its `probe_quota`."""
    if COVERAGE > 0.0:
        return max(PROBE_CARDS * PROBE_EVERY, COVERAGE_COUNT_UP_TO)
    return PROBE_CARDS * PROBE_EVERY


def round_robin(
    new: Mapping[int, Sequence[tuple[int, int, int, int]]],
    lacking: Mapping[int, int],
    studied: Mapping[int, int],
) -> list[int]:
    """COVERAGE's probes in the order they are offered: each topic's first `lacking` new cards
    (`new`: topic -> (position, note id, ord, card id) of its new cards), the topic's k-th card
    (its `studied` ones counted) before any topic's (k+1)-th, then by introduction position:
    the topics furthest behind catch up first, each in its own order. A card of two topics
    comes at its earlier place, once."""
    place: dict[int, tuple[int, int, int, int]] = {}
    for topic_id, cards in new.items():
        for j, (position, note_id, ord_, card_id) in enumerate(sorted(cards)[: lacking[topic_id]]):
            key = (studied.get(topic_id, 0) + j, position, note_id, ord_)
            place[card_id] = min(key, place.get(card_id, key))
    return sorted(place, key=lambda card_id: (place[card_id], card_id))


def with_probes(
    ranked: Sequence[T],
    probes: Sequence[T],
    *,
    weight: Callable[[T], float],
    key: Callable[[T], Hashable],
    first_above: float,
    introduced: int = 0,
    slot: int | None = None,
    on_screen: Hashable | None = None,
    shared: Sequence[T] = (),
    share_slot: int = 0,
) -> list[T]:
    """Today's new cards in the order they are offered: the cards of `ranked` (weight first,
    then position) weighing `first_above` or more (a missed question's) first, then the rest
    of `ranked` with `probes` (by position) in every `slot`-th place of the day (PROBE_SLOT by
    default; 1: every probe first) while probes are left. The day's places count from the
    `introduced` new cards already studied today, so a queue built again after each answer
    offers the same sequence as one kept for the whole day. `on_screen`: the key of a new card
    shown and about to be answered (a queue built again while the student reads it): it comes
    first and its place of the day is taken, so that once it is answered the order is the one
    a queue built after the answer offers. `shared` (core.first_answers' share: topics whose
    first answers fail) take every `share_slot`-th place half-way between the probes' (0:
    none). Each card once; a stream that is spent gives its places to the others."""
    every = max(1, PROBE_SLOT if slot is None else slot)
    shown = [r for r in ranked if key(r) == on_screen] if on_screen is not None else []
    top = [r for r in ranked if weight(r) >= first_above and key(r) != on_screen]
    seen = {key(r) for r in (*shown, *top)}
    out = [*shown, *top]
    introduced += len(shown)
    rest = iter(ranked)
    waiting = iter(probes)

    def take(items: Iterator[T]) -> T | None:
        for item in items:
            if key(item) not in seen:
                seen.add(key(item))
                return item
        return None

    sharing = iter(shared)
    place = introduced + len(top)
    while True:
        place += 1
        if place % every == 0:
            order = (waiting, sharing, rest)
        elif share_slot and place % share_slot == share_slot // 2:
            order = (sharing, rest, waiting)
        else:
            order = (rest, sharing, waiting)
        pick = next((p for p in map(take, order) if p is not None), None)
        if pick is None:  # every stream is spent
            return out
        out.append(pick)
