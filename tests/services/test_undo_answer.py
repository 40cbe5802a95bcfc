"""`undo_answer`: one answer taken back by its review-log row (the reviewer's `u`, with another
reviewer open on the same collection), on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import timedelta

import pytest

from flashcore.core.errors import FlashcoreError
from flashcore.core.model import Rating
from flashcore.services import study
from tests.weak_week import load_deck


def test_undo_answer_takes_back_that_answer_and_leaves_a_later_one_of_another_card(fc, tmp_path):
    load_deck(fc, tmp_path)
    first, second = (i.card_id for i in study.build_queue(fc).items[:2])
    mine = study.answer(fc, first, Rating.GOOD)
    study.answer(fc, second, Rating.EASY)  # another reviewer, after it
    undone = study.undo_answer(fc, mine.review_id, first)
    assert (undone.card_id, undone.rating) == (first, Rating.GOOD)
    cards = {c["card_id"]: c for c in fc.cards()}
    assert cards[first]["reps"] == 0 and cards[first]["state"] == "new"
    assert cards[second]["reps"] == 1 and cards[second]["state"] == "review"


def test_undo_answer_refuses_an_answer_whose_card_was_answered_since_or_that_is_gone(fc, tmp_path):
    load_deck(fc, tmp_path)
    card = study.build_queue(fc).items[0].card_id
    mine = study.answer(fc, card, Rating.AGAIN)
    study.answer(fc, card, Rating.GOOD)  # the other reviewer, the same card
    with pytest.raises(FlashcoreError, match=f"card {card} was answered again since"):
        study.undo_answer(fc, mine.review_id, card)
    assert next(c for c in fc.cards() if c["card_id"] == card)["reps"] == 2
    study.undo(fc, 2)
    with pytest.raises(FlashcoreError, match="that answer is gone"):
        study.undo_answer(fc, mine.review_id, card)


def test_undo_answer_of_an_answer_undone_elsewhere_leaves_the_answer_that_took_its_row_id(
    fc, tmp_path
):
    """SQLite gives a deleted last row's id to the next row: the reviewer's answer undone in
    another terminal (`flashcore undo`), the next answer there (another card) takes its id, and
    the reviewer's `u` must not take that one back."""
    load_deck(fc, tmp_path)
    first, second = (i.card_id for i in study.build_queue(fc).items[:2])
    mine = study.answer(fc, first, Rating.GOOD)
    study.undo(fc)  # another terminal
    theirs = study.answer(fc, second, Rating.EASY)
    with pytest.raises(FlashcoreError, match="that answer is gone"):
        study.undo_answer(fc, mine.review_id, first)
    cards = {c["card_id"]: c for c in fc.cards()}
    assert cards[second]["reps"] == 1 and cards[second]["state"] == "review", theirs


def test_undo_answer_after_the_same_card_was_undone_and_answered_again_elsewhere(
    fc, tmp_path, clock
):
    """The reviewer's answer undone in another terminal, which then answers the same card
    again: on SQLite that answer takes the undone row's id, to the same card. The reviewer's
    `u` names its answer by row, card and time, and must leave the other terminal's answer."""
    load_deck(fc, tmp_path)
    card = study.build_queue(fc).items[0].card_id
    mine = study.answer(fc, card, Rating.GOOD)
    clock.advance(timedelta(minutes=3))
    study.undo(fc)  # another terminal
    theirs = study.answer(fc, card, Rating.AGAIN)
    with pytest.raises(FlashcoreError, match="that answer is gone"):
        study.undo_answer(fc, mine.review_id, card, mine.reviewed_at)
    row = next(c for c in fc.cards() if c["card_id"] == card)
    assert (row["reps"], row["state"]) == (1, "learning"), theirs
    # the other terminal's own answer is still its to take back
    undone = study.undo_answer(fc, theirs.review_id, card, theirs.reviewed_at)
    assert undone.rating is Rating.AGAIN
