"""The time budget's cut and the forecast engine, on plain values: tiers of what goes first,
the forecast running the real queue and scheduler forward, the last stretch, sampling."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from flashcore.core import budget, forecast
from flashcore.core.exam import Exam, window
from flashcore.core.fsrs_adapter import Policy
from flashcore.core.model import CardState, Memory, Schedule
from flashcore.core.queue import Entry
from flashcore.core.settings import Settings

NOW = datetime(2026, 11, 25, 9, tzinfo=UTC)


def entry(card_id: int, kind: str, priority: float = 0.5, r: float | None = 0.8) -> Entry:
    state = {"new": 0, "learning": 1, "review": 2}[kind]
    return Entry(card_id, card_id, state, NOW, None if kind == "new" else r, priority, "", kind)


def test_within_the_budget_nothing_is_postponed():
    entries = [entry(1, "review"), entry(2, "new")]
    cut = budget.cut(entries, lambda e: 10.0, lambda e: 0.0, 60.0)
    assert cut.kept == tuple(entries) and cut.postponed == ()


def test_new_cards_go_first_then_the_least_forgotten_reviews():
    entries = [
        entry(1, "learning"),
        entry(2, "review", priority=0.30),
        entry(3, "review", priority=0.05),
        entry(4, "review", priority=0.10),
        entry(5, "new"),
        entry(6, "new"),
    ]
    cut = budget.cut(entries, lambda e: 10.0, lambda e: 0.0, 30.0)
    assert [p.card_id for p in cut.postponed] == [6, 5, 3]  # last new first, then lowest R risk
    assert [e.card_id for e in cut.kept] == [1, 2, 4]  # in queue order
    assert cut.postponed[0].tier is budget.Tier.NEW
    assert "least exam points at risk" in cut.postponed[2].reason(30)


def test_weak_topics_and_missed_questions_are_never_the_first_to_go():
    weights = {1: 1.5, 2: 0.6, 3: 0.0, 4: 0.0}
    entries = [
        entry(1, "review", priority=0.01),  # a missed question, barely forgotten
        entry(2, "review", priority=0.02),  # a weak topic
        entry(3, "review", priority=0.90),
        entry(4, "new"),
    ]
    cut = budget.cut(entries, lambda e: 10.0, lambda e: weights[e.card_id], 10.0)
    assert [p.card_id for p in cut.postponed] == [4, 3, 2]
    assert [e.card_id for e in cut.kept] == [1]


def test_learning_steps_stay_even_over_the_budget():
    entries = [entry(1, "learning"), entry(2, "learning")]
    cut = budget.cut(entries, lambda e: 60.0, lambda e: 0.0, 10.0)
    assert len(cut.kept) == 2 and cut.postponed == ()


def test_a_card_costs_its_answers_with_its_chance_of_a_lapse():
    times = budget.AnswerSeconds(new=20, learning=10, review=8, relearning=12)
    assert budget.card_seconds("new", None, times, 2, 1) == 30  # 1m 10m: one step after
    assert budget.card_seconds("review", 0.75, times, 2, 1) == pytest.approx(8 + 0.25 * 12)
    mine = budget.AnswerSeconds(new=20, learning=10, review=8, relearning=12,
                                steps_per_new=1.6, steps_per_lapse=2.0)  # fmt: skip
    assert budget.card_seconds("new", None, mine, 2, 1) == pytest.approx(36)
    assert budget.card_seconds("review", 0.75, mine, 2, 1) == pytest.approx(8 + 0.25 * 24)


# ---------------------------------------------------------------- the forecast


def new_cards(n: int, start: int = 1) -> list[forecast.SimCard]:
    return [
        forecast.SimCard(i, i, Schedule(CardState.NEW, NOW), system="Cardiovascular System")
        for i in range(start, start + n)
    ]


def review_card(card_id: int, due: datetime, stability: float = 5.0) -> forecast.SimCard:
    schedule = Schedule(CardState.REVIEW, due, None, Memory(stability, 5.0),
                        due - timedelta(days=round(stability)), 3, 0)  # fmt: skip
    return forecast.SimCard(card_id, card_id, schedule)


def setup(days: int, new_per_day: int, *, budget_minutes: float | None = None,
          exam: Exam | None = None) -> forecast.Setup:  # fmt: skip
    s = Settings(timezone="UTC")
    zone = ZoneInfo("UTC")
    w = window(exam, zone, 4) if exam else None
    return forecast.Setup(
        now=NOW, zone=zone, day_start_hour=4, days=days,
        policy=Policy.from_settings(s, w), retention=lambda weight, left: 0.9,
        new_per_day=new_per_day, reviews_per_day=9999,
        budget_seconds=None if budget_minutes is None else budget_minutes * 60,
        window=w, exam_date=exam.exam_date if exam else None,
    )  # fmt: skip


def test_new_cards_come_in_at_the_plans_rate_and_then_fall_due_as_reviews():
    result = forecast.run([], new_cards(30), setup(10, 5))
    assert [round(d.new) for d in result.days[:6]] == [5] * 6
    assert result.unseen == frozenset()  # 30 cards by day 6
    assert sum(d.reviews for d in result.days) > 0  # graduated cards come back
    assert result.fsrs_calls > 0  # fsrs itself scheduled them
    assert result.introduced == 30 and result.new_seconds > 0


def test_the_budget_postpones_the_overflow_to_the_next_day():
    due = [review_card(i, NOW - timedelta(hours=1)) for i in range(1, 41)]
    result = forecast.run(due, [], setup(3, 0, budget_minutes=2))
    first, second = result.days[:2]
    assert first.reviews == 40 and first.postponed > 0
    assert second.reviews >= first.postponed  # they come back the next day
    assert first.done_seconds <= 2 * 60 + 1e-6


def test_no_review_lands_after_the_exam_without_one_in_the_last_stretch():
    exam = Exam(date(2026, 12, 20), 120, 7)
    days = (exam.exam_date - date(2026, 11, 25)).days
    cards = [review_card(i, NOW + timedelta(days=i % 10), stability=60.0) for i in range(1, 50)]
    result = forecast.run(cards, [], setup(days, 0, exam=exam))
    stretch = [d for d in result.days if d.on >= exam.stretch_start]
    assert sum(d.reviews for d in stretch) >= 49  # every card comes back before the exam
    assert min(result.exam_recall.values()) > 0.9


def test_a_large_collection_is_sampled_evenly_and_scaled_back():
    cards = new_cards(10_000)
    studied, fresh, scale = forecast.sample([], cards, 1000)
    assert len(fresh) == 1000 and scale == pytest.approx(10.0)
    assert fresh[0].card_id == cards[5].card_id  # every 10th, from the middle of the first ten
    result = forecast.run(studied, fresh, setup(3, 50), scale)
    assert [round(d.new) for d in result.days] == [50, 50, 50]


def test_the_review_limit_leaves_a_backlog_and_no_room_for_new_cards():
    """Found living with it: an imported collection with ~550 reviews due a day and the
    default 200 a day showed a calm forecast while thousands of reviews piled up unseen."""
    due = [review_card(i, NOW - timedelta(hours=1)) for i in range(1, 61)]
    capped = replace(setup(3, 5), reviews_per_day=40)
    result = forecast.run(due, new_cards(10, start=100), capped)
    first = result.days[0]
    assert first.reviews == 40 and first.held_reviews == 20  # the rest wait
    assert first.new == 0 and first.held_new == 5  # the reviews fill the limit new cards use
    passing = forecast.run(
        due, new_cards(10, start=100), replace(capped, new_ignores_review_limit=True)
    )
    assert passing.days[0].new == 5 and passing.days[0].held_new == 0
    assert passing.days[0].held_reviews == 20
    roomy = forecast.run(due, new_cards(10, start=100), replace(capped, reviews_per_day=100))
    assert all(d.held_reviews == 0 and d.held_new == 0 for d in roomy.days)
