"""The order new cards are introduced in (core.introduction): interleaved across decks and
topic areas in proportion to their sizes, or deck by deck as added."""

from __future__ import annotations

import random
from collections import Counter

from hypothesis import given
from hypothesis import strategies as st

from flashcore.core.introduction import (
    NewCardPlace,
    NewOrder,
    introduction_order,
    positions,
    spread,
    topic_group,
)


def deck_of(
    deck: str, count: int, start: int, groups: tuple[str, ...] = ("",)
) -> list[NewCardPlace]:
    """`count` one-card notes of a deck, added from note id `start`, their groups taking turns
    in the file."""
    return [
        NewCardPlace(start + i, deck, groups[i % len(groups)], start + i, 0) for i in range(count)
    ]


def test_twenty_biostatistics_cards_no_longer_come_first():
    biostat = deck_of("biostat", 20, 1)
    cardio = deck_of("cardio", 20, 101)
    order = introduction_order([*biostat, *cardio], NewOrder.INTERLEAVED)
    decks = ["biostat" if card_id < 100 else "cardio" for card_id in order]
    assert decks == ["biostat", "cardio"] * 20


def test_deck_order_is_the_order_cards_were_added():
    cards = [*deck_of("cardio", 3, 10), *deck_of("biostat", 3, 1)]
    cloze = [NewCardPlace(50, "renal", "", 7, 2), NewCardPlace(51, "renal", "", 7, 1)]
    assert introduction_order([*cards, *cloze], NewOrder.DECK) == [1, 2, 3, 51, 50, 10, 11, 12]


def test_a_deck_twice_the_size_gets_two_cards_for_every_one_of_the_other():
    big = deck_of("big", 40, 1)
    small = deck_of("small", 20, 101)
    order = introduction_order([*small, *big], NewOrder.INTERLEAVED)
    for end in range(3, 61, 3):
        firsts = Counter("big" if card_id < 100 else "small" for card_id in order[:end])
        assert firsts["big"] == 2 * end // 3, end


def test_within_a_deck_topic_areas_take_turns_and_each_keeps_the_files_order():
    cards = [
        *(NewCardPlace(i, "biostat", "Biostatistics::Diagnostic tests", i, 0) for i in range(1, 5)),
        *(NewCardPlace(i, "biostat", "Biostatistics::Bias", i, 0) for i in range(5, 9)),
    ]
    assert introduction_order(cards, NewOrder.INTERLEAVED) == [1, 5, 2, 6, 3, 7, 4, 8]


def test_the_same_cards_give_the_same_positions_whatever_order_they_come_in():
    cards = [
        *deck_of("a", 37, 1, ("A::x", "A::y", "A::z")),
        *deck_of("b", 11, 100, ("B::x",)),
        *deck_of("c", 5, 200, ("C::x", "C::y")),
    ]
    first = positions(cards, NewOrder.INTERLEAVED)
    shuffled = cards[:]
    random.Random(7).shuffle(shuffled)
    assert positions(shuffled, NewOrder.INTERLEAVED) == first
    assert sorted(first.values()) == list(range(len(cards)))


def test_a_group_is_the_first_topic_in_path_order_cut_to_its_area():
    paths = ["Pharmacology::Autonomic::Beta blockers", "Cardiology::Heart failure::Drugs"]
    assert topic_group(paths) == "Cardiology::Heart failure"
    assert topic_group(["biostatistics :: Bias"]) == "biostatistics::Bias"
    assert topic_group([]) == "" and topic_group(["  "]) == ""
    # Normalized keys decide which is first, not case
    assert topic_group(["b::x::1", "A::y::2"]) == "A::y"


def test_spread_gives_equal_places_to_the_group_listed_first():
    assert spread({"later": [1, 2], "earlier": [3, 4]}) == [1, 3, 2, 4]
    assert spread({"one": ["x"], "three": ["a", "b", "c"]}) == ["a", "x", "b", "c"]


@given(st.lists(st.integers(min_value=1, max_value=30), min_size=1, max_size=8))
def test_every_prefix_holds_each_decks_share_within_webster_bound(sizes):
    """After any t cards a deck of n among N cards in G decks has had t·n/N of them, give or
    take 1/2 + G·n/(2N) (each deck is within 1/2 of its share at every threshold)."""
    cards: list[NewCardPlace] = []
    for d, size in enumerate(sizes):
        cards.extend(deck_of(f"deck{d}", size, 1000 * d + 1))
    order = introduction_order(cards, NewOrder.INTERLEAVED)
    assert sorted(order) == sorted(c.card_id for c in cards)
    total = len(order)
    seen: Counter[int] = Counter()
    for end, card_id in enumerate(order, start=1):
        seen[card_id // 1000] += 1
        for d, size in enumerate(sizes):
            bound = 0.5 + len(sizes) * size / (2 * total)
            assert abs(seen[d] - end * size / total) <= bound + 1e-9, (sizes, end, d)
