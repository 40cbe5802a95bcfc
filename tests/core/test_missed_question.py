"""A missed question id is the strongest signal: its card's weight, how long the miss stays
open, how the queue ranks it, what its reason says; and the report's wording and levels."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from hypothesis import given
from hypothesis import strategies as st

from flashcore.core import queue, reasons
from flashcore.core.settings import Settings
from flashcore.core.weakness import (
    MISSED_QUESTION,
    MissedQuestion,
    QuestionOutcomes,
    TopicScore,
    misses_text,
    open_miss,
    question_weight,
    report_reason,
    retention_for,
    strongest_miss,
    topic_level,
)

TODAY = date(2026, 12, 4)
HL = 14.0


def outcomes(*answers: tuple[int, bool]) -> QuestionOutcomes:
    """Answers as (days ago, missed)."""
    o = QuestionOutcomes()
    for ago, missed in answers:
        o = o.add(TODAY - timedelta(days=ago), missed, TODAY)
    return o


def test_the_reason_names_the_question_and_the_day_exactly():
    assert MissedQuestion("uworld", "118154", TODAY).text() == "missed uworld:118154 on 2026-12-04"


def test_a_miss_is_open_until_a_correct_answer_on_a_later_day():
    assert open_miss(outcomes((3, True)), TODAY, HL) == TODAY - timedelta(days=3)
    assert open_miss(outcomes((3, True), (1, False)), TODAY, HL) is None
    # The same day: the order is unknown, the miss stands.
    assert open_miss(outcomes((3, True), (3, False)), TODAY, HL) == TODAY - timedelta(days=3)
    # Missed again after the correct answer: open again, from the new miss.
    assert open_miss(outcomes((9, True), (5, False), (2, True)), TODAY, HL) == TODAY - timedelta(
        days=2
    )


def test_a_miss_lapses_after_four_half_lives_and_a_future_one_does_not_count_yet():
    assert open_miss(outcomes((56, True)), TODAY, HL) is not None
    assert open_miss(outcomes((57, True)), TODAY, HL) is None
    future = QuestionOutcomes().add(TODAY + timedelta(days=1), True, TODAY)
    assert open_miss(future, TODAY, HL) is None


@given(st.integers(min_value=0, max_value=56))
def test_a_missed_question_weighs_more_than_any_topic_and_fades_with_age(age):
    weight = question_weight(TODAY - timedelta(days=age), TODAY, HL)
    assert MISSED_QUESTION < weight <= 2.0
    assert weight >= question_weight(TODAY - timedelta(days=age + 1), TODAY, HL)
    # Reviewed at the base retention: pulled forward and first, its lapse informs FSRS (the
    # cap cost the simulated students more than it brought, issue 21).
    assert retention_for(Settings(), weight) == Settings().desired_retention


def test_the_strongest_miss_among_a_card_s_questions_is_the_most_recent_open_one():
    listed = [
        ("uworld", "2", outcomes((5, True))),
        ("uworld", "1", outcomes((2, True))),
        ("amboss", "x", outcomes((1, True), (0, False))),  # answered right since: closed
    ]
    assert strongest_miss(listed, TODAY, HL) == MissedQuestion(
        "uworld", "1", TODAY - timedelta(days=2)
    )
    assert strongest_miss([("uworld", "9", outcomes((3, False)))], TODAY, HL) is None


NOW = datetime(2026, 12, 4, 9, tzinfo=UTC)
DAY_START = datetime(2026, 12, 4, 4, tzinfo=UTC)
ROLLOVER = DAY_START + timedelta(days=1)


def review(card_id: int, days_overdue: int, stability: float, weight: float) -> queue.Candidate:
    last = NOW - timedelta(days=days_overdue + stability)
    return queue.Candidate(card_id, card_id, 2, NOW - timedelta(days=days_overdue), stability,
                           last, weight)  # fmt: skip


def retrievability(stability: float, last: datetime) -> float:
    return float(0.9 ** ((NOW - last).days / stability))


def build(candidates, news=()) -> queue.Queue:
    return queue.build(
        candidates, news, now=NOW, day_start=DAY_START, rollover=ROLLOVER,
        limits=queue.Limits(new_left=10, reviews_left=100), retrievability=retrievability,
    )  # fmt: skip


def test_a_missed_question_s_card_is_first_among_due_reviews_however_fresh():
    weak_topic_overdue = review(1, 30, 2.0, 0.99)  # nearly forgotten, weakest topic
    plain_overdue = review(2, 60, 1.0, 0.0)
    missed_fresh = review(3, 0, 50.0, 1.5)  # barely due, but its own question was missed
    order = [e.card_id for e in build([weak_topic_overdue, plain_overdue, missed_fresh]).entries]
    assert order[0] == 3
    assert queue.review_priority(0.99, 1.01) > queue.review_priority(0.0, 0.999)


def test_missed_question_reasons_lead_for_reviews_and_follow_new():
    entries = build([review(3, 0, 50.0, 1.5)]).entries
    missed = MissedQuestion("uworld", "1", date(2026, 12, 3))
    named = queue.with_missed_question(entries[0], missed)
    assert named.reason == "missed uworld:1 on 2026-12-03; due today"
    new = queue.Entry(4, 4, 0, NOW, None, 1.5, reasons.NEW_CARD, queue.EntryKind.NEW)
    assert queue.with_missed_question(new, missed).reason == ("new; missed uworld:1 on 2026-12-03")


def score(misses: int, attempts: int, recent_misses: int, recent_attempts: int) -> TopicScore:
    return TopicScore(0.5, 1.0, misses, attempts, recent_misses, recent_attempts, 1.0, 1.0)


def test_a_topic_with_no_correct_answers_reads_n_misses_not_n_of_n():
    assert report_reason(score(6, 6, 6, 6), HL, 60, "topic") == (
        "6 misses in the last 14 days; about 60 min of study suggested"
    )
    assert report_reason(score(1, 1, 1, 1), HL, 10, "topic").startswith("1 miss in the last")
    assert report_reason(score(2, 5, 2, 5), HL, 20, "topic").startswith(
        "2 of 5 recent questions missed (last 14 days)"
    )
    assert misses_text(6, 6) == "6" and misses_text(6, 8) == "6 of 8"


def test_a_topic_s_misses_say_how_many_others_get_their_questions_right():
    assert report_reason(score(6, 6, 6, 6), HL, 60, "topic", 0.644) == (
        "6 misses in the last 14 days, on questions 64% of others get right; about 60 min of "
        "study suggested"
    )
    assert report_reason(score(3, 3, 0, 0), HL, 0, "topic", 0.8) == (
        "none in the last 14 days; 3 older misses"  # the share is of recent misses
    )
    assert report_reason(score(6, 6, 6, 6), HL, 0, "system", 0.5) == (
        "6 misses in the last 14 days across its topics"
    )


def test_older_misses_say_so_and_rollups_point_at_their_topics():
    assert report_reason(score(3, 3, 0, 0), HL, 0, "topic") == (
        "none in the last 14 days; 3 older misses"
    )
    assert report_reason(score(3, 5, 0, 0), HL, 0, "topic") == (
        "none in the last 14 days; 3 of 5 older questions missed"
    )
    assert report_reason(score(6, 6, 6, 6), HL, 0, "system") == (
        "6 misses in the last 14 days across its topics"
    )


def test_levels_follow_the_tree():
    assert topic_level(1, True) == "subject"
    assert topic_level(2, True) == "system"
    assert topic_level(2, False) == "topic"
    assert topic_level(4, False) == "topic"
