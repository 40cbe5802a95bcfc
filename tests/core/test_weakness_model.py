"""The six required properties of the weakness model, plus the retention mapping."""

from __future__ import annotations

from datetime import date, timedelta

from hypothesis import given
from hypothesis import strategies as st

from flashcore.core.settings import Settings
from flashcore.core.weakness import (
    NEUTRAL,
    Attempt,
    retention_for,
    score_topic,
    suggested_minutes,
)

TODAY = date(2026, 11, 25)
HL = 14.0


def misses(n: int, age: int = 0) -> list[Attempt]:
    return [Attempt(TODAY - timedelta(days=age), True) for _ in range(n)]


def corrects(n: int, age: int = 0) -> list[Attempt]:
    return [Attempt(TODAY - timedelta(days=age), False) for _ in range(n)]


def test_no_attempts_is_neutral_and_keeps_the_plain_schedule():
    assert score_topic([], TODAY, HL) == NEUTRAL
    assert retention_for(Settings(), 0.0) == Settings().desired_retention


def test_more_recent_misses_score_higher():
    assert score_topic(misses(3), TODAY, HL).score > score_topic(misses(2), TODAY, HL).score


def test_correct_answers_pull_a_topic_back():
    weak = score_topic(misses(4), TODAY, HL).score
    recovering = score_topic(misses(4) + corrects(6), TODAY, HL).score
    assert recovering < weak


def test_a_miss_fades_with_the_half_life():
    fresh = score_topic(misses(4, age=0), TODAY, HL)
    old = score_topic(misses(4, age=14), TODAY, HL)
    older = score_topic(misses(4, age=42), TODAY, HL)
    assert fresh.score > old.score > older.score
    assert abs(old.decayed_misses - fresh.decayed_misses / 2) < 1e-9


def test_six_misses_in_eight_outrank_one_miss_in_one():
    six_of_eight = score_topic(misses(6) + corrects(2), TODAY, HL)
    one_of_one = score_topic(misses(1), TODAY, HL)
    assert six_of_eight.score > one_of_one.score
    assert one_of_one.score < 0.25  # a single miss is weak evidence


def test_parent_counts_children_at_lower_weight():
    own = score_topic(misses(3), TODAY, HL)
    via_child = score_topic([Attempt(a.on_date, a.missed, 0.5) for a in misses(3)], TODAY, HL)
    assert 0 < via_child.score < own.score
    assert via_child.misses == 3


@given(st.lists(st.tuples(st.integers(0, 120), st.booleans()), max_size=40))
def test_score_is_deterministic_and_bounded(pairs):
    attempts = [Attempt(TODAY - timedelta(days=age), missed) for age, missed in pairs]
    first = score_topic(attempts, TODAY, HL)
    assert first == score_topic(list(attempts), TODAY, HL)
    assert 0.0 <= first.score < 1.0
    assert Settings().desired_retention <= retention_for(Settings(), first.score) <= 0.97


def test_retention_rises_with_weakness_up_to_the_cap():
    s = Settings()
    assert retention_for(s, 0.5) == round(0.90 + 0.07 * 0.5, 4)
    assert retention_for(s, 0.999) == round(0.90 + 0.07 * 0.999, 4) <= s.weakness_max_retention


def test_six_recent_misses_suggest_about_an_hour():
    assert suggested_minutes(6) == 60
    assert suggested_minutes(0) == 0
