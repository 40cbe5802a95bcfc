"""The record of a scoped change: its card ids as runs, and a damaged record read as none."""

from __future__ import annotations

from datetime import UTC, datetime

from hypothesis import given
from hypothesis import strategies as st

from flashcore.core.scoped_changes import CardSet, Journal, ScopedChange, pack_ids, unpack_ids

AT = datetime(2026, 12, 1, 9, tzinfo=UTC)


@given(st.sets(st.integers(1, 5000), max_size=300))
def test_card_ids_packed_as_runs_read_back_the_same(ids):
    assert unpack_ids(pack_ids(ids)) == sorted(ids)


def test_a_deck_of_consecutive_cards_packs_to_a_few_characters():
    assert pack_ids([*range(1000, 36001), 40000]) == "1000-36000,40000"


def test_a_journal_read_back_is_the_same_and_a_damaged_one_is_empty():
    change = ScopedChange(3, "bury", "AnKing", None, False, AT, CardSet.of((1, 2, 5)),
                          CardSet.of({2}), {"buried_until": {AT: (5,)}}, AT)  # fmt: skip
    journal = Journal().add(change)
    assert Journal.from_json(journal.to_json()) == Journal((change,), 4)
    for damaged in (None, [], {"next": 2}, {"next": 1, "changes": [{"action": "melt"}]}):
        assert Journal.from_json(damaged) == Journal()


def test_the_journal_keeps_the_newest_ten():
    journal = Journal()
    for n in range(1, 13):
        journal = journal.add(ScopedChange(n, "flag", "D", None, False, AT, CardSet.of((n,))))
    assert [c.change_id for c in journal.changes] == list(range(3, 13))
    assert journal.next_id == 13


def test_the_journal_drops_the_oldest_past_its_budget_but_keeps_the_newest():
    scattered = CardSet.of(range(1, 40_000, 2))  # 20,000 cards, none next to another (~108 KB)
    journal = Journal()
    for n in range(1, 4):
        journal = journal.add(ScopedChange(n, "suspend", "D", None, False, AT, scattered))
    assert [c.change_id for c in journal.changes] == [3]
    small = journal.add(ScopedChange(4, "flag", "D", None, False, AT, CardSet.of(range(1, 900))))
    assert [c.change_id for c in small.changes] == [3, 4]


@given(st.sets(st.integers(1, 300), max_size=80), st.integers(0, 301))
def test_a_card_set_holds_exactly_its_ids(ids, card):
    cards = CardSet.of(ids)
    assert (card in cards) == (card in ids) and len(cards) == len(ids)
    assert CardSet.parse(cards.text()) == cards


def test_a_record_with_runs_out_of_order_is_no_record():
    data = (
        Journal().add(ScopedChange(1, "flag", "D", None, False, AT, CardSet.of((1, 2)))).to_json()
    )
    data["changes"][0]["cards"] = "5-3"
    assert Journal.from_json(data) == Journal()


def test_cards_deleted_since_are_kept_apart_read_back_and_missing_from_an_older_record():
    change = ScopedChange(1, "unsuspend", "X", None, False, AT, CardSet.of((1, 2, 3)),
                          before={"suspended": {False: (3,)}})  # fmt: skip
    journal = Journal().add(change).forget([2, 3, 99])
    (kept,) = journal.changes
    assert kept.deleted == CardSet.of((2, 3)) and kept.cards == change.cards
    assert Journal.from_json(journal.to_json()) == journal
    assert journal.forget([2]) == journal  # nothing new: the same journal
    older = journal.to_json()
    del older["changes"][0]["deleted"]  # a record written before the key existed
    assert Journal.from_json(older).changes[0].deleted == CardSet()
