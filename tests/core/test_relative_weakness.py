"""Scheduling weighs a topic's misses against the student's own average (issue 21): the
simulated students showed that weighting every missed topic (they all collect misses) behaves
like a higher uniform retention with extra work."""

from __future__ import annotations

import dataclasses
from datetime import date

from hypothesis import given
from hypothesis import strategies as st

from flashcore.core.settings import Settings
from flashcore.core.weakness import (
    MISSED_QUESTION,
    Attempt,
    TopicScore,
    relative_scores,
    retention_for,
    score_for_ratio,
    score_topic,
    standings,
)

TODAY = date(2026, 11, 25)
S = Settings()


def scored(miss_counts: dict[int, int]):
    return {
        t: score_topic([Attempt(TODAY, True, count=n)], TODAY, 14.0) for t, n in miss_counts.items()
    }


def test_a_student_who_misses_every_topic_alike_has_no_weak_topic():
    scores = scored({1: 6, 2: 6, 3: 6, 4: 6})
    out = relative_scores(scores, {1: 25, 2: 25, 3: 25, 4: 25}, 100, S)
    assert all(s.score == 0.0 for s in out.values())
    assert all(retention_for(S, s.score) == S.desired_retention for s in out.values())
    assert all(scores[t].score > 0.3 for t in scores)  # the report still ranks them


def test_a_topic_missed_above_the_average_per_card_is_reviewed_above_base_and_below_the_cap():
    scores = scored({1: 12, 2: 3, 3: 3, 4: 2})
    out = relative_scores(scores, {1: 25, 2: 25, 3: 25, 4: 25}, 100, S)
    assert out[1].score > 0
    assert S.desired_retention < retention_for(S, out[1].score) < S.weakness_max_retention
    assert out[2].score == out[3].score == out[4].score == 0.0
    assert out[1].misses == 12  # the counts the reasons show are kept


def test_a_small_topic_with_as_many_misses_as_a_big_one_is_weaker():
    scores = scored({1: 6, 2: 6})
    out = relative_scores(scores, {1: 10, 2: 90}, 100, S)
    assert out[1].score > 0 and out[2].score == 0.0


def test_four_times_the_average_halves_the_forgetting():
    assert retention_for(S, score_for_ratio(4.0, 0.90, 0.97)) == 0.95
    assert score_for_ratio(1.0, 0.90, 0.97) == 0.0
    assert score_for_ratio(0.5, 0.90, 0.97) == 0.0
    assert score_for_ratio(4.0, 0.90, 0.90) == 0.0  # no cap above base: nothing to raise


@given(st.floats(0.0, 1e6), st.floats(0.0, 1e6))
def test_a_topic_weight_stays_below_a_missed_question_and_grows_with_misses(m, extra):
    total = 100
    low = standings({1: m, 2: 50.0}, {1: 10, 2: 90}, total)[1].ratio
    high = standings({1: m + extra, 2: 50.0}, {1: 10, 2: 90}, total)[1].ratio
    a, b = score_for_ratio(low, 0.9, 0.97), score_for_ratio(high, 0.9, 0.97)
    assert 0.0 <= a < MISSED_QUESTION and 0.0 <= b < MISSED_QUESTION
    assert b >= a - 1e-9


def test_every_field_relative_scores_does_not_compute_is_carried_over():
    """relative_scores builds TopicScore by position (dataclasses.replace costs ~4 us a topic):
    a field added to TopicScore later must be passed on there too, not reset to its default."""
    computed = {"score", "ratio", "forgetting", "others"}
    values = {
        "decayed_misses": 5.0, "decayed_attempts": 9.0, "misses": 5, "attempts": 9,
        "recent_misses": 4, "recent_attempts": 7, "raw": 0.7,
    }  # fmt: skip
    passed = {
        f.name: values.get(f.name, object())
        for f in dataclasses.fields(TopicScore)
        if f.name not in computed
    }
    scores = {1: TopicScore(score=0.9, **passed), 2: scored({2: 1})[2]}
    out = relative_scores(scores, {1: 10, 2: 10}, 20, S)
    for name, value in passed.items():
        assert getattr(out[1], name) is value, name
