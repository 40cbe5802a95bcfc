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
    probe_count_needed,
    probe_quota,
    spread,
    topic_group,
    with_probes,
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


# ---------------------------------------------------------------- probe cards (issue 21)


# (card id, weight): rows as the queue reads them, weight first then position.
def _row_weight(row: tuple[int, float]) -> float:
    return row[1]


def _row_key(row: tuple[int, float]) -> int:
    return row[0]


def test_with_slot_one_probes_come_after_missed_questions_and_before_weak_topics_cards():
    ranked = [(1, 1.8), (2, 0.6), (3, 0.6), (4, 0.2), (10, 0.0), (11, 0.0)]
    probes = [(11, 0.0), (3, 0.6), (12, 0.0)]  # by position; 12 was beyond the rows read
    order = with_probes(ranked, probes, weight=_row_weight, key=_row_key, first_above=1.0, slot=1)
    assert [r[0] for r in order] == [1, 11, 3, 12, 2, 4, 10]


def test_probes_take_every_slot_th_place_of_the_day_after_missed_questions():
    ranked = [(1, 1.8), (2, 0.6), (3, 0.6), (4, 0.2), (5, 0.2), (10, 0.0)]
    probes = [(11, 0.0), (3, 0.6), (12, 0.0)]

    def order(introduced: int) -> list[int]:
        rows = with_probes(
            ranked, probes, weight=_row_weight, key=_row_key, first_above=1.0, slot=3,
            introduced=introduced,
        )  # fmt: skip
        return [r[0] for r in rows]

    # Places 1 (the missed question's card), 2, 4, 5 weighted; 3 and 6 probes (3 came already,
    # so 12); once the weighted cards are spent the rest follow in their order.
    assert order(0) == [1, 2, 11, 3, 4, 12, 5, 10]
    # Two new cards studied today: the missed question's card is the day's third, so the probes
    # take the day's 6th and 9th places, as a queue kept since the morning would offer them.
    assert order(2) == [1, 2, 3, 11, 4, 5, 12, 10]


def test_the_shipped_slot_keeps_the_weakest_topics_cards_first():
    ranked = [(1, 0.9), (2, 0.8), (3, 0.7), (4, 0.0)]
    order = with_probes(ranked, [(4, 0.0)], weight=_row_weight, key=_row_key, first_above=1.0)
    assert [r[0] for r in order][:3] == [1, 2, 3]


def test_without_probes_the_weighted_order_stands():
    ranked = [(1, 0.9), (2, 0.0)]
    assert with_probes(ranked, [], weight=_row_weight, key=_row_key, first_above=1.0) == ranked


@given(
    st.lists(st.tuples(st.integers(0, 30), st.floats(0, 2)), unique_by=lambda r: r[0]),
    st.lists(st.integers(0, 40), unique=True),
    st.integers(1, 5),
    st.integers(0, 12),
)
def test_probes_reorder_without_losing_or_repeating_a_card(ranked, probe_ids, slot, introduced):
    ranked = sorted(ranked, key=lambda r: -r[1])
    weights = dict(ranked)
    probes = [(i, weights.get(i, 0.0)) for i in probe_ids]
    order = with_probes(
        ranked, probes, weight=_row_weight, key=_row_key, first_above=1.0, slot=slot,
        introduced=introduced,
    )  # fmt: skip
    ids = [r[0] for r in order]
    assert len(ids) == len(set(ids)) == len({r[0] for r in ranked} | set(probe_ids))
    # Missed questions' cards first; then the probes keep their order, and so does the rest.
    top = [r[0] for r in ranked if r[1] >= 1.0]
    assert ids[: len(top)] == top
    rest_probes = [i for i in probe_ids if i not in top]
    placed = [i for i in ids[len(top) :] if i in set(rest_probes)]
    others = [i for i in ids[len(top) :] if i not in set(rest_probes)]
    assert others == [r[0] for r in ranked if r[0] not in set(top) | set(rest_probes)]
    if slot == 1:  # every probe before the weighted cards
        assert ids[len(top) : len(top) + len(rest_probes)] == rest_probes
    else:
        assert len(placed) <= len(rest_probes)


def test_a_topic_has_one_probe_per_eight_cards_up_to_three_and_a_small_one_none():
    assert [probe_quota(n) for n in (0, 7, 8, 16, 24, 25, 400)] == [0, 0, 1, 2, 3, 3, 3]
    assert probe_count_needed() == 24  # counting a topic's cards further changes nothing


@given(
    st.lists(st.tuples(st.integers(0, 30), st.floats(0, 2)), min_size=1, unique_by=lambda r: r[0]),
    st.lists(st.integers(0, 40), unique=True),
    st.integers(1, 5),
    st.integers(0, 12),
    st.data(),
)
def test_a_card_on_screen_comes_first_and_once_answered_leaves_the_days_order(
    ranked, probe_ids, slot, introduced, data
):
    # A queue built again while a new card is on screen (an import landed while the student
    # reads it) must, once that card is answered, offer what a queue built after the answer
    # offers: the card takes its place of the day.
    ranked = sorted(ranked, key=lambda r: -r[1])
    weights = dict(ranked)
    probes = [(i, weights.get(i, 0.0)) for i in probe_ids]
    shown = data.draw(st.sampled_from([r[0] for r in ranked]))
    kw = {"weight": _row_weight, "key": _row_key, "first_above": 1.0, "slot": slot}
    while_read = with_probes(ranked, probes, introduced=introduced, on_screen=shown, **kw)
    after = with_probes(
        [r for r in ranked if r[0] != shown], [p for p in probes if p[0] != shown],
        introduced=introduced + 1, **kw,
    )  # fmt: skip
    assert while_read[0][0] == shown
    assert [r[0] for r in while_read[1:]] == [r[0] for r in after]
