"""Anki's Forget / Reset on a card imported with its history (found in review: a re-import
dropped it, the card stayed a review card here and was counted "still new")."""

from __future__ import annotations

from datetime import timedelta

from flashcore.services.check import check
from tests import anki_history as ah
from tests.services import test_anki_scheduling as scheduling
from tests.services.test_anki_scheduling import flashcore_cards, import_package, review_rows

student = scheduling.student  # fixtures: sixteen notes studied in Anki, a collection at its time
fc_now = scheduling.fc_now


def test_a_card_anki_made_new_again_is_new_here_with_its_answers_kept(student, fc_now, tmp_path):
    fc = fc_now
    _, card_ids = import_package(fc, ah.export(student, tmp_path / "a.colpkg"), tmp_path / "w")
    col = student.col
    (target, *_) = [cid for cid in col.find_cards("is:review") if col.get_card(cid).type == 2]
    col.sched.schedule_cards_as_new([target], restore_position=True, reset_counts=False)
    answers = sum(map(len, review_rows(fc).values()))
    fc.clock.advance(timedelta(hours=1))
    again, _ = import_package(fc, ah.export(student, tmp_path / "b.colpkg"), tmp_path / "w2")
    assert (again.cards_updated, again.reviews_added) == (1, 0)
    card = flashcore_cards(fc)[card_ids[target]]
    assert (card.state, card.stability, card.reps) == (0, None, 0)
    assert sum(map(len, review_rows(fc).values())) == answers
    assert check(fc).problems == []
