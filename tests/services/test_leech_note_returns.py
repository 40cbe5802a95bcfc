"""A leech whose note leaves its deck file and comes back (`leech_action`, issue 21d, beside
schema 0030's `cards.suspended_gone`): a tagged leech was in the queue when its note left, so
it comes back to the queue, still marked; a card a missed question brought back while its note
was gone and that became a suspended leech since stays suspended."""

from __future__ import annotations

from datetime import timedelta

from flashcore.core.model import CardState, Rating
from flashcore.services import qbank, study
from tests.conftest import SMALL_DECK, write_deck

WITHOUT_IGE = "[[cards]]".join(
    part for part in SMALL_DECK.split("[[cards]]") if 'id = "t1-ige"' not in part
)


def ige(fc) -> dict:
    (card,) = [c for c in fc.cards() if c["note_key"] == "imm:t1-ige"]
    return card


def lapse_once(fc, card_id: int) -> study.AnswerResult:
    """Learn the card, let it come due, forget it."""
    study.answer(fc, card_id, Rating.EASY)
    fc.clock.advance(timedelta(days=60))
    assert ige(fc)["state"] == CardState.REVIEW.label
    return study.answer(fc, card_id, Rating.AGAIN)


def test_a_tagged_leech_comes_back_to_the_queue_with_its_note(fc, tmp_path):
    fc.config_set("leech_threshold", "1")
    fc.config_set("leech_action", "tag")
    deck = write_deck(tmp_path / "d.toml", SMALL_DECK, key="imm")
    fc.add_decks([deck])
    card_id = ige(fc)["card_id"]
    assert lapse_once(fc, card_id).leech
    assert (ige(fc)["leech"], ige(fc)["suspended"]) == (True, False)
    write_deck(deck, WITHOUT_IGE, key="imm")
    assert fc.add_decks([deck])[0].removed_keys == ["imm:t1-ige"]
    assert ige(fc)["suspended"]
    write_deck(deck, SMALL_DECK, key="imm")
    fc.add_decks([deck])
    assert (ige(fc)["leech"], ige(fc)["suspended"]) == (True, False)  # as it left


def test_a_card_a_miss_brought_back_while_its_note_was_gone_stays_a_suspended_leech(fc, tmp_path):
    fc.config_set("leech_threshold", "1")
    fc.config_set("leech_action", "suspend")  # the default is tag (issue 21d)
    deck = write_deck(tmp_path / "d.toml", SMALL_DECK, key="imm")
    fc.add_decks([deck])
    card_id = ige(fc)["card_id"]
    study.answer(fc, card_id, Rating.EASY)
    write_deck(deck, WITHOUT_IGE, key="imm")
    fc.add_decks([deck])
    assert ige(fc)["suspended"]
    fc.clock.advance(timedelta(days=60))
    qbank.import_log(fc, b"1 - 1001\tImmunology\tAllergy\tHypersensitivity\tType I\t50%\t60 sec\n",
                     origin="miss.tsv")  # fmt: skip
    assert not ige(fc)["suspended"]  # the miss brought it back (unsuspend_on_miss)
    assert study.answer(fc, card_id, Rating.AGAIN).suspended  # a leech: suspended as one
    write_deck(deck, SMALL_DECK, key="imm")
    fc.add_decks([deck])
    assert (ige(fc)["leech"], ige(fc)["suspended"]) == (True, True)
