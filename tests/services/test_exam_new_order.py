"""services.queue.WEAK_FIRST "exam" (measured in issue 21's sixth round, not shipped): with an
exam date, weak topics' new cards come first only while the deck may be unfinished on exam day
(core.exam.deck_done_by); once every new card fits before the exam at new_per_day, they keep
the introduction order (and say so), their reviews still weighted; without an exam date, or
when the deck does not fit, weak topics first. As shipped ("always"), weak topics first."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from sqlalchemy import select

from flashcore.core import exam as exam_rules
from flashcore.core import reasons
from flashcore.core.exam import Exam
from flashcore.core.model import CardState, Rating
from flashcore.services import exam, qbank, study
from flashcore.services import queue as queue_service
from flashcore.storage.tables import cards
from tests.conftest import write_deck
from tests.services.test_probe_cards import (
    CARDS_PER_TOPIC,
    MISSED,
    NEW_PER_DAY,
    TOPICS,
    deck_text,
    evening_paste,
)


def test_a_deck_is_done_by_the_exam_when_its_new_cards_fit_in_the_days_left():
    e = Exam(date(2027, 3, 1))
    today = date(2027, 2, 19)  # 10 days left
    assert exam_rules.deck_done_by(e, 100, 10, today)
    assert not exam_rules.deck_done_by(e, 101, 10, today)
    assert exam_rules.deck_done_by(e, 0, 0, today)
    assert not exam_rules.deck_done_by(e, 1, 10, date(2027, 3, 1))  # exam day: no day left


def _first_day_then_misses(fc, clock, tmp_path) -> None:
    fc.config_set("new_per_day", str(NEW_PER_DAY))
    fc.config_set("pull_forward_per_topic", "0")
    (report,) = fc.add_decks([write_deck(tmp_path / "deck.toml", deck_text(TOPICS), key="deck")])
    assert report.ok, report.problems
    for _ in range(200):
        q = study.build_queue(fc, limit=1)
        if not q.items:
            break
        study.answer(fc, q.items[0].card_id, Rating.GOOD)
    clock.advance(timedelta(hours=12))
    qbank.import_log(fc, evening_paste(0), origin="day0.tsv", again=True)
    clock.advance(timedelta(hours=12))


def _new_items(fc) -> list:
    return [i for i in study.build_queue(fc).items if i.state is CardState.NEW]


def _positions(fc, card_ids: list[int]) -> list[int]:
    with fc.engine.connect() as conn:
        found = dict(conn.execute(select(cards.c.id, cards.c.new_position)).all())
    return [found[c] for c in card_ids]


def _topic(item) -> str:
    return item.topics[0].split("::")[-1].removesuffix(" disease")


@pytest.fixture
def by_exam(monkeypatch):
    monkeypatch.setattr(queue_service, "WEAK_FIRST", "exam")


def test_as_shipped_weak_topics_come_first_even_when_the_deck_fits(fc, clock, tmp_path):
    _first_day_then_misses(fc, clock, tmp_path)
    exam.set_exam(fc, clock.now().date() + timedelta(days=20))
    items = _new_items(fc)
    assert _topic(items[0]) in MISSED and items[0].reason.startswith("new; weak topic: ")


def test_a_deck_that_fits_before_the_exam_keeps_its_order_and_says_why(
    fc, clock, tmp_path, by_exam
):
    _first_day_then_misses(fc, clock, tmp_path)
    # 52 new cards left at 8 a day: 7 days; the exam in 20 days.
    exam.set_exam(fc, clock.now().date() + timedelta(days=20))
    items = _new_items(fc)
    assert len(items) == NEW_PER_DAY
    positions = _positions(fc, [i.card_id for i in items])
    assert positions == sorted(positions)
    weak = [i for i in items if _topic(i) in MISSED]
    assert weak and len(weak) < NEW_PER_DAY  # weak topics' cards among others, not first
    for item in weak:
        assert item.reason.startswith(reasons.IN_ORDER_TEXT + "; weak topic: "), item.reason
    assert all(i.reason == "new" for i in items if _topic(i) not in MISSED)


def test_weak_topics_first_without_an_exam_or_when_the_deck_does_not_fit(
    fc, clock, tmp_path, by_exam
):
    _first_day_then_misses(fc, clock, tmp_path)
    items = _new_items(fc)
    assert _topic(items[0]) in MISSED and items[0].reason.startswith("new; weak topic: ")
    # 52 new cards left at 8 a day do not fit in 5 days: weak topics still first.
    exam.set_exam(fc, clock.now().date() + timedelta(days=5))
    again = _new_items(fc)
    assert [i.card_id for i in again] == [i.card_id for i in items]
    assert len(TOPICS) * CARDS_PER_TOPIC - NEW_PER_DAY > 5 * NEW_PER_DAY
