"""A topic's misses weighed by how many other students answer the questions right
(core.difficulty): a miss on a question most of them get right counts more than one on a
question most of them miss; the total is kept; a log without the share, or with the same share
everywhere, schedules exactly as before."""

from __future__ import annotations

import math
from datetime import date

import pytest
from hypothesis import given
from hypothesis import strategies as st

from flashcore.core import difficulty
from flashcore.core.difficulty import Known, surprise, weighed_misses
from flashcore.core.reasons import TopicEvidence
from flashcore.core.settings import Settings
from flashcore.core.weakness import TopicScore, relative_scores

TODAY = date(2027, 2, 1)


def known(*shares: float, weight: float = 1.0) -> Known:
    k = Known()
    for share in shares:
        k = k.add(weight, share)
    return k


def test_a_miss_on_a_question_most_others_get_right_weighs_more_than_one_most_miss():
    misses = {1: 2.0, 2: 2.0}
    out = weighed_misses(misses, {1: known(0.8, 0.8), 2: known(0.3, 0.3)})
    assert out[1] > 2.0 > out[2]
    # each miss stands for the 1 / (1 - share) questions an average student answers per miss
    assert out[1] / out[2] == pytest.approx((1 / 0.2) / (1 / 0.7))
    assert sum(out.values()) == pytest.approx(4.0)  # the student's misses in all are kept


def test_without_any_share_the_misses_are_returned_as_they_are():
    misses = {1: 3.5, 2: 0.25}
    assert weighed_misses(misses, {}) == misses


def test_the_same_share_everywhere_changes_nothing_exactly():
    misses = {1: 3.0, 2: 1.7, 3: 0.4}
    same = {1: known(0.55, 0.55, 0.55), 2: known(0.55, weight=0.7), 3: known(0.55, weight=0.4)}
    assert weighed_misses(misses, same) == misses


def test_misses_without_a_share_keep_their_weight_of_one():
    # topic 1: one miss with a share (80 %) and one without (an AMBOSS paste the same week)
    misses = {1: 2.0, 2: 1.0}
    out = weighed_misses(misses, {1: known(0.8), 2: known(0.4)})
    average = (5.0 + 1 / 0.6) / 2
    assert out[1] == pytest.approx(1.0 + 5.0 / average)
    assert out[2] == pytest.approx((1 / 0.6) / average)


def test_a_miss_counts_by_the_attempts_it_stands_for():
    assert difficulty.MODE == "inverse"
    assert surprise(0.8) == pytest.approx(5.0)
    assert surprise(0.3) == pytest.approx(1 / 0.7)
    assert surprise(1.0) == pytest.approx(1 / (1 - difficulty.SHARE_MAX))  # 100 %: bounded


def test_linear_mode_counts_a_miss_by_the_share_itself(monkeypatch):
    monkeypatch.setattr(difficulty, "MODE", "linear")
    assert (surprise(0.8), surprise(0.3)) == (0.8, 0.3)


def test_off_mode_weighs_every_miss_alike(monkeypatch):
    monkeypatch.setattr(difficulty, "MODE", "off")
    misses = {1: 2.0, 2: 2.0}
    assert weighed_misses(misses, {1: known(0.9), 2: known(0.1)}) == misses


@given(
    st.lists(
        st.tuples(st.floats(0.01, 5.0), st.lists(st.floats(0.0, 1.0), min_size=1, max_size=4)),
        min_size=1,
        max_size=6,
    )
)
def test_the_total_is_kept_and_no_topic_goes_below_zero(topics):
    misses = {t: m + len(shares) for t, (m, shares) in enumerate(topics)}
    shares = {t: known(*s) for t, (_m, s) in enumerate(topics)}
    out = weighed_misses(misses, shares)
    assert all(v >= 0.0 for v in out.values())
    if any(k.surprise > 0 for k in shares.values()):
        assert math.isclose(sum(out.values()), sum(misses.values()), rel_tol=1e-9)


def _score(misses: float) -> TopicScore:
    return TopicScore(0.5, 1.0, round(misses), round(misses), round(misses), round(misses),
                      misses, misses)  # fmt: skip


def test_the_standing_follows_the_weighed_misses_and_the_reason_says_the_share():
    settings = Settings()
    scores = {1: _score(6.0), 2: _score(6.0), 3: _score(6.0)}
    cards = {1: 10, 2: 10, 3: 10}
    plain = relative_scores(scores, cards, 30, settings)
    assert plain[1].score == plain[2].score == plain[3].score  # missed alike: none stands out
    shares = {1: known(*[0.85] * 6), 2: known(*[0.35] * 6), 3: known(*[0.35] * 6)}
    weighed = relative_scores(scores, cards, 30, settings, known=shares)
    assert weighed[1].score > 0.0 == weighed[2].score == weighed[3].score
    assert weighed[1].others == pytest.approx(0.85)
    text = TopicEvidence.of(weighed[1], 14.0, TODAY).text("Cardio::HF")
    assert text.startswith("weak topic: Cardio::HF — 6 misses in 14 days, on questions 85% of")
    assert "others get right (" in text
    assert plain[1].others is None
    assert "others" not in TopicEvidence.of(plain[1], 14.0, TODAY).text("Cardio::HF")


def test_a_topic_s_misses_are_compared_with_the_student_s_average_miss_with_a_share():
    # topic 1 missed on questions 80% of others get right, topic 2 on 30% ones, alike in number
    relative = difficulty.relative_surprise({1: known(0.8, 0.8), 2: known(0.3, 0.3)})
    average = (5.0 + 1 / 0.7) / 2
    assert relative[1] == pytest.approx(5.0 / average) and relative[1] > 1.0
    assert relative[2] == pytest.approx((1 / 0.7) / average) and relative[2] < 1.0


def test_one_share_everywhere_or_none_tells_no_topic_apart():
    assert difficulty.relative_surprise({}) == {}
    assert difficulty.relative_surprise({1: known(0.92, 0.92), 2: known(0.92, weight=0.3)}) == {}


@pytest.mark.parametrize(
    ("mode", "harder", "easier"), [("off", 1.0, 1.0), ("gate", 0.0, 1.0), ("scale", 0.4, 1.0)]
)
def test_pull_forwards_follow_the_share_as_the_mode_says(monkeypatch, mode, harder, easier):
    monkeypatch.setattr(difficulty, "PULL", mode)
    assert difficulty.pulled_share(0.4) == harder  # missed on questions others miss more
    assert difficulty.pulled_share(1.7) == easier
    assert difficulty.pulled_share(None) == 1.0  # no miss with a share: as before
