"""Exam-aware scheduling through the answer path, on SQLite and PostgreSQL: no interval lands
after the exam without a review in the last stretch (and `check` replays it), retention rises
to the solver's step, reviews in the stretch say why, and a review session keeps to its time
budget."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

import pytest

from flashcore.core.model import CardState, Rating
from flashcore.services import exam, study
from flashcore.services.check import check
from flashcore.storage import planning
from flashcore.storage.uow import run_write
from tests.conftest import NOW, SMALL_DECK, write_deck

TODAY = NOW.date()


@pytest.fixture
def small(fc, tmp_path):
    (report,) = fc.add_decks([write_deck(tmp_path / "d.toml", SMALL_DECK)])
    assert report.ok
    return fc


def graduate(fc, card_id: int) -> None:
    """Answer a new card Easy: it goes straight to review."""
    study.answer(fc, card_id, Rating.EASY, duration_ms=5000)


def test_a_long_interval_comes_back_into_the_last_stretch_and_check_replays_it(small):
    fc = small
    exam_day = TODAY + timedelta(days=40)
    exam.set_exam(fc, exam_day, minutes_per_day=60, buffer_days=7)
    card = fc.cards()[0]["card_id"]
    graduate(fc, card)
    stretch = exam_day - timedelta(days=7)
    result = None
    for _ in range(10):  # Good on each due day until an interval reaches the stretch
        row = next(c for c in fc.cards() if c["card_id"] == card)
        fc.clock.set(max(fc.now(), _as_dt(row["due"])))
        assert fc.now().date() < stretch
        result = study.answer(fc, card, Rating.GOOD, duration_ms=5000)
        if result.schedule.due.date() >= stretch:
            break
    assert result is not None
    assert stretch <= result.schedule.due.date() < exam_day
    assert check(fc).problems == []


def test_hard_good_easy_stay_in_order_inside_the_stretch(small):
    fc = small
    exam.set_exam(fc, TODAY + timedelta(days=12), minutes_per_day=60, buffer_days=7)
    card = fc.cards()[0]["card_id"]
    graduate(fc, card)
    fc.clock.advance(timedelta(days=3))
    view = study.show(fc, card)
    dues = [view.outcomes[r].due for r in (Rating.HARD, Rating.GOOD, Rating.EASY)]
    assert dues == sorted(dues) and len({d.date() for d in dues}) == 3
    assert all(d.date() < TODAY + timedelta(days=12) for d in dues)


def test_retention_rises_to_the_solvers_step_and_is_logged(small):
    fc = small
    exam.set_exam(fc, TODAY + timedelta(days=20), minutes_per_day=60)
    solved = replace(fc.exam, retention_plan=((30, 0.95),), solved_on=TODAY)
    run_write(fc.engine, lambda s: planning.save_exam(s, fc.profile_id, solved, fc.now()))
    fc.forget_exam()
    card = fc.cards()[0]["card_id"]
    assert study.show(fc, card).retention == 0.95
    result = study.answer(fc, card, Rating.GOOD, duration_ms=4000)
    assert result.retention == 0.95
    assert check(fc).problems == []


def test_reviews_in_the_last_stretch_say_they_are_due_before_the_exam(small):
    fc = small
    exam.set_exam(fc, TODAY + timedelta(days=30), minutes_per_day=60, buffer_days=7)
    for c in fc.cards():
        graduate(fc, c["card_id"])
    fc.clock.advance(timedelta(days=26))  # inside the stretch, everything due
    items = [i for i in study.build_queue(fc).items if i.kind == "review"]
    assert items
    exam_day = (TODAY + timedelta(days=30)).isoformat()
    assert all(i.reason.startswith(f"due before the exam on {exam_day}; ") for i in items)


def test_a_session_keeps_to_its_minutes_and_postpones_the_rest(small):
    fc = small
    session = study.StudySession(fc, minutes=1)
    answered = []
    for _ in range(20):
        q = session.queue(details=False)
        if not q.items:
            break
        item = q.items[0]
        if item.due > fc.now():
            fc.clock.set(item.due)
        session.answer(item.card_id, Rating.GOOD, duration_ms=30_000)
        answered.append(item.card_id)
    session.close()
    assert len(set(answered)) < len(fc.cards())  # the budget stopped it
    assert session.postponed > 0
    assert session.spent_seconds >= 60 - 30


def test_a_session_on_the_exam_budget_counts_todays_answers(small):
    fc = small
    exam.set_exam(fc, TODAY + timedelta(days=30), minutes_per_day=1)
    first = fc.cards()[0]["card_id"]
    study.answer(fc, first, Rating.EASY, duration_ms=60_000)  # the whole minute, elsewhere
    session = study.StudySession(fc, exam_budget=True)
    q = session.queue(details=False)
    session.close()
    assert all(i.kind == "learning" for i in q.items)  # only steps already begun remain
    assert session.postponed > 0


def _as_dt(text):
    from datetime import datetime

    return datetime.fromisoformat(text)


def test_new_cards_are_still_new_state():  # the card states used above
    assert CardState.NEW.label == "new"
