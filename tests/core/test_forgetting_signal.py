"""The second signal (issue 21): a topic's flashcards forgotten more often than FSRS predicts,
against the student's own average, raise its retention even where the qbank says little (few
questions asked on it, or misses that measure the questions rather than the memory)."""

from __future__ import annotations

from datetime import date

from hypothesis import given
from hypothesis import strategies as st

from flashcore.core.reasons import TopicEvidence
from flashcore.core.settings import Settings
from flashcore.core.weakness import (
    MISSED_QUESTION,
    Attempt,
    Lapses,
    TopicScore,
    divisor,
    forgetting_ratios,
    relative_scores,
    retention_for,
    score_topic,
)


def reason_text(topic: str, s: TopicScore, half_life: float, today: date) -> str:
    return TopicEvidence.of(s, half_life, today).text(topic)


TODAY = date(2026, 11, 25)
S = Settings()
CARDS = {1: 25, 2: 25, 3: 25, 4: 25}


def test_a_student_who_forgets_every_topic_alike_has_no_forgetful_topic():
    ratios = forgetting_ratios({t: Lapses(12.0, 8.0) for t in CARDS})
    assert ratios == {1: 1.0, 2: 1.0, 3: 1.0, 4: 1.0}  # FSRS's own miscalibration is shared


def test_a_topic_forgotten_twice_as_often_as_the_average_is_above_one_and_few_reviews_say_less():
    lots = forgetting_ratios({1: Lapses(40.0, 20.0), 2: Lapses(20.0, 20.0), 3: Lapses(20.0, 20.0)})
    few = forgetting_ratios({1: Lapses(4.0, 2.0), 2: Lapses(20.0, 20.0), 3: Lapses(20.0, 20.0)})
    assert lots[1] > few[1] > 1.0
    assert lots[2] < 1.0  # the average moved up: the others now forget less than it


def test_no_lapses_at_all_compares_nothing():
    assert forgetting_ratios({1: Lapses(0.0, 3.0), 2: Lapses(0.0, 0.0)}) == {1: 1.0, 2: 1.0}


def test_a_topic_never_missed_in_the_qbank_but_forgotten_on_its_cards_is_raised():
    lapses = {1: Lapses(30.0, 10.0), 2: Lapses(10.0, 10.0), 3: Lapses(10.0, 10.0)}
    out = relative_scores({}, CARDS, 100, S, lapses)
    assert set(out) == {1}  # the others forget as the average does or less: plain FSRS
    assert S.desired_retention < retention_for(S, out[1].score) <= S.weakness_max_retention
    assert out[1].forgetting is not None and out[1].forgetting > 1.0
    assert out[1].ratio is None
    text = reason_text("Cardio::HF", out[1], 14.0, TODAY)
    assert (
        text
        == f"weak topic: Cardio::HF — cards forgotten {out[1].forgetting:.1f}× as often as predicted"
    )


def test_misses_and_forgetting_add_up_and_forgetting_less_takes_nothing_away():
    scores = {t: score_topic([Attempt(TODAY, True, count=n)], TODAY, 14.0)
              for t, n in {1: 12, 2: 12, 3: 2, 4: 2}.items()}  # fmt: skip
    lapses = {
        1: Lapses(30.0, 10.0),
        2: Lapses(5.0, 10.0),
        3: Lapses(10.0, 10.0),
        4: Lapses(10.0, 10.0),
    }
    out = relative_scores(scores, CARDS, 100, S, lapses)
    alone = relative_scores(scores, CARDS, 100, S)
    assert out[1].score > alone[1].score > 0.0
    assert out[2].score == alone[2].score > 0.0  # remembered better than average: misses decide
    assert "misses in 14 days" in reason_text("A", out[1], 14.0, TODAY)
    assert "cards forgotten" in reason_text("A", out[1], 14.0, TODAY)
    assert "cards forgotten" not in reason_text("A", out[2], 14.0, TODAY)


def test_forgetting_as_often_as_predicted_brings_the_true_forgetting_back_to_the_base():
    # cards forgotten twice as often as FSRS predicts (relative): half the forgetting
    assert divisor(None, 2.0) == 2.0
    assert divisor(4.0, None) == 2.0  # four times the misses per card: √4
    assert divisor(4.0, 2.0) == 4.0
    assert divisor(0.5, 0.5) == 1.0  # below the average on both: plain FSRS


@given(st.floats(0.0, 1e4), st.floats(0.01, 1e4), st.floats(0.0, 1e3))
def test_a_topic_weight_from_forgetting_stays_below_a_missed_question(seen, predicted, misses):
    lapses = {1: Lapses(seen, predicted), 2: Lapses(10.0, 10.0)}
    scores = {1: score_topic([Attempt(TODAY, True, count=int(misses))], TODAY, 14.0)}
    out = relative_scores(scores, {1: 10, 2: 90}, 100, S, lapses)
    assert all(0.0 <= s.score < MISSED_QUESTION for s in out.values())


def test_protect_lets_a_memory_better_than_average_take_back_what_the_misses_give(monkeypatch):
    from flashcore.core import weakness

    monkeypatch.setattr(weakness, "COMBINE", "protect")  # an ablation (tools.simulate)
    assert divisor(4.0, 0.5) == 1.0  # twice the average misses, half the forgetting: plain
    assert divisor(4.0, None) == 2.0  # no reviews yet: the misses are all there is
    assert divisor(4.0, 1.5) == 3.0
    assert divisor(4.0, 0.8) < divisor(4.0, 1.0)
