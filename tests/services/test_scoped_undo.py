"""A scoped change (`cards suspend --deck D`) undone exactly (`cards unsuspend --last`): the
cards it changed come back, not the cards of the scope that were so before (AnKing's cards
waiting for a missed question), and a card changed since by hand, by a missed question or by a
later scoped change is left as it is, said why. On SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import timedelta

import pytest

from flashcore.core.errors import FlashcoreError
from flashcore.core.model import Rating
from flashcore.core.scoped_changes import Left
from flashcore.services.card_changes import undo_scoped
from flashcore.services.qbank import import_log
from flashcore.services.study import (
    answer,
    change_cards_in_scope,
    set_cards,
    set_cards_in_scope,
)
from tests.conftest import write_deck

DECK = "".join(
    f'\n[[cards]]\nid = "c{n}"\nfront = "Question {n}?"\nback = "Answer {n}"\n'
    f'topics = ["{"Cardio" if n < 4 else "Renal"}"]\n'
    + (f'qids = ["uworld:{5000 + n}"]\n' if n in (2, 5) else "")
    for n in range(8)
)
OTHER = '\n[[cards]]\nid = "o1"\nfront = "Elsewhere?"\nback = "Yes"\n'


def _load(fc, tmp_path) -> dict[str, int]:
    for path, body, name, key in (
        (tmp_path / "deck.toml", DECK, "Step 1::Cardio", "cardio"),
        (tmp_path / "other.toml", OTHER, "Step 1::Other", "other"),
    ):
        (report,) = fc.add_decks([write_deck(path, body, name=name, key=key)])
        assert report.ok, report.problems
    return {c["note_key"].rpartition(":")[2]: c["card_id"] for c in fc.cards()}


def _where(fc, column: str) -> set[int]:
    return {c["card_id"] for c in fc.cards() if c[column]}


def test_undoing_a_deck_suspend_brings_back_exactly_its_cards_and_leaves_the_changed(fc, tmp_path):
    ids = _load(fc, tmp_path)
    set_cards(fc, "suspend", [ids["c0"], ids["c5"]])  # suspended before (AnKing's waiting)
    change = change_cards_in_scope(fc, "suspend", deck="Step 1::Cardio")
    suspended = sorted(ids[f"c{n}"] for n in (1, 2, 3, 4, 6, 7))
    assert change.cards == suspended and change.change_id == 1
    fc.clock.advance(timedelta(days=1))
    set_cards(fc, "unsuspend", [ids["c1"]])  # by hand
    set_cards(fc, "suspend", [ids["c1"]])  # and back: the student's, not the change's
    batch = import_log(fc, b"5002\n5005\n", origin="block.txt", fmt="qids")
    assert batch.unsuspended == 2  # c2 (suspended by the change) and c5 (before it)
    fc.clock.advance(timedelta(days=1))

    report = undo_scoped(fc, "unsuspend")

    assert report.cards == sorted(ids[f"c{n}"] for n in (3, 4, 6, 7))
    assert report.left == {Left.BY_HAND: [ids["c1"]], Left.MISSED_QUESTION: [ids["c2"]]}
    assert _where(fc, "suspended") == {ids["c0"], ids["c1"]}
    with pytest.raises(FlashcoreError, match="no `cards suspend --deck/--topic` remembered"):
        undo_scoped(fc, "unsuspend")  # done once: forgotten


def test_a_batch_removed_after_its_miss_leaves_the_card_as_the_change_did(fc, tmp_path):
    """`qbank remove` suspends again what its miss unsuspended: the card is back as the
    change left it, and the undo brings it back with the rest."""
    from flashcore.services.qbank import remove_qbank_batch

    ids = _load(fc, tmp_path)
    set_cards_in_scope(fc, "suspend", topic="Cardio")
    batch = import_log(fc, b"5002\n", origin="block.txt", fmt="qids")
    assert remove_qbank_batch(fc, batch.batch_id).resuspended == 1
    report = undo_scoped(fc, "unsuspend")
    assert report.cards == sorted(ids[f"c{n}"] for n in range(4)) and report.left == {}
    assert _where(fc, "suspended") == set()


def test_a_suspend_restores_the_mark_of_a_miss_it_overwrote(fc, tmp_path):
    """A card a miss unsuspended is suspended by the deck, then the deck brought back: the
    card is again the miss's (its batch's removal suspends it again)."""
    from flashcore.services.qbank import remove_qbank_batch

    ids = _load(fc, tmp_path)
    set_cards(fc, "suspend", [ids["c2"]])
    batch = import_log(fc, b"5002\n", origin="block.txt", fmt="qids")
    set_cards_in_scope(fc, "suspend", deck="Step 1::Cardio")
    undo_scoped(fc, "unsuspend")
    assert _where(fc, "suspended") == set()
    assert remove_qbank_batch(fc, batch.batch_id).resuspended == 1
    assert _where(fc, "suspended") == {ids["c2"]}


def test_a_later_opposite_change_takes_its_cards_until_it_is_undone(fc, tmp_path):
    ids = _load(fc, tmp_path)
    set_cards(fc, "suspend", [ids["c7"]])  # before everything
    first = change_cards_in_scope(fc, "suspend", topic="Cardio")
    second = change_cards_in_scope(fc, "unsuspend", deck="Step 1::Cardio")
    assert set(second.cards) == {ids["c0"], ids["c1"], ids["c2"], ids["c3"], ids["c7"]}

    report = undo_scoped(fc, "unsuspend")  # the suspend: its cards are the later change's
    assert report.cards == [] and set(report.left) == {Left.LATER_CHANGE}
    assert _where(fc, "suspended") == set()

    assert undo_scoped(fc, "suspend", second.change_id).cards == sorted(second.cards)
    assert _where(fc, "suspended") == set(second.cards)
    again = undo_scoped(fc, "unsuspend", first.change_id)  # free again
    assert again.cards == sorted(first.cards)
    assert _where(fc, "suspended") == {ids["c7"]}


def test_undoing_a_flag_keeps_the_flags_of_cards_flagged_before_and_after(fc, tmp_path):
    ids = _load(fc, tmp_path)
    set_cards(fc, "flag", [ids["c0"]])
    change_cards_in_scope(fc, "flag", deck="Step 1::Cardio")
    studied = ids["c1"]
    answer(fc, studied, Rating.GOOD)  # answered since: its flag is still the change's
    set_cards(fc, "unflag", [ids["c3"]])
    set_cards(fc, "flag", [ids["c3"]])
    report = undo_scoped(fc, "unflag")
    assert studied in report.cards
    assert report.left == {Left.BY_HAND: [ids["c3"]]}
    assert _where(fc, "flagged") == {ids["c0"], ids["c3"]}


def test_undoing_an_unbury_buries_again_until_the_same_end_while_it_is_ahead(fc, tmp_path):
    ids = _load(fc, tmp_path)
    set_cards(fc, "bury", [ids["c1"], ids["c2"]])
    until = {c["card_id"]: c["buried"] for c in fc.cards()}
    change_cards_in_scope(fc, "unbury", deck="Step 1::Cardio")
    assert _where(fc, "buried") == set()
    assert undo_scoped(fc, "bury").cards == [ids["c1"], ids["c2"]]
    assert {c["card_id"]: c["buried"] for c in fc.cards()} == until
    change_cards_in_scope(fc, "unbury", deck="Step 1::Cardio")
    fc.clock.advance(timedelta(days=1))  # their burial would be over now
    report = undo_scoped(fc, "bury")
    assert report.cards == [] and report.left == {Left.ENDED: [ids["c1"], ids["c2"]]}


def test_undoing_a_bury_the_same_day_unburies_and_the_next_day_has_nothing_to_do(fc, tmp_path):
    ids = _load(fc, tmp_path)
    change_cards_in_scope(fc, "bury", topic="Renal")
    renal = {ids[f"c{n}"] for n in range(4, 8)}
    assert _where(fc, "buried") == renal
    assert set(undo_scoped(fc, "unbury").cards) == renal and _where(fc, "buried") == set()
    change_cards_in_scope(fc, "bury", topic="Renal")
    fc.clock.advance(timedelta(days=1))
    assert set(undo_scoped(fc, "unbury").left[Left.ENDED]) == renal


def test_a_settings_change_keeps_the_remembered_changes(fc, tmp_path):
    ids = _load(fc, tmp_path)
    change_cards_in_scope(fc, "suspend", deck="Step 1::Cardio")
    fc.config_set("new_per_day", "30")
    assert len(undo_scoped(fc, "unsuspend").cards) == 8
    assert ids and _where(fc, "suspended") == set()


def test_an_undo_names_a_change_of_another_kind_and_the_command_that_undoes_it(fc, tmp_path):
    _load(fc, tmp_path)
    change = change_cards_in_scope(fc, "flag", deck="Step 1::Cardio")
    with pytest.raises(FlashcoreError, match=r"was a flag: undo it with `flashcore cards unflag"):
        undo_scoped(fc, "unsuspend", change.change_id)
    with pytest.raises(FlashcoreError, match="no scoped change 9 remembered"):
        undo_scoped(fc, "unflag", 9)
    assert _where(fc, "flagged")  # nothing changed


def test_a_hand_change_that_fails_marks_nothing(fc, tmp_path):
    ids = _load(fc, tmp_path)
    change_cards_in_scope(fc, "suspend", deck="Step 1::Cardio")
    with pytest.raises(FlashcoreError, match="no card 999999"):
        set_cards(fc, "unsuspend", [ids["c1"], 999999])
    assert len(undo_scoped(fc, "unsuspend").cards) == 8
