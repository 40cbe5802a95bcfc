"""The memory floor (issue 21, seventh round): topics whose flashcards are forgotten more often
than the student's average keep at least what plain FSRS would give them at the workload the
weighting spends (its uniform equivalent), their forgetting brought back to that."""

from __future__ import annotations

from dataclasses import replace

from hypothesis import given
from hypothesis import strategies as st

from flashcore.core import memory_floor
from flashcore.core.settings import Settings
from flashcore.core.weakness import NEUTRAL, TopicScore, retention_for

S = Settings()  # base 0.90, cap 0.97
CARDS = {1: 25, 2: 25, 3: 25, 4: 25}


def weighted(score: float, forgetting: float | None = None) -> TopicScore:
    return replace(NEUTRAL, score=score, forgetting=forgetting)


def test_the_uniform_equivalent_costs_what_the_targets_cost():
    # reviews ~ 1 / (1 - r): 10 and 20 per card average to 15, a uniform 1 - 1/15
    r = memory_floor.equivalent({1: 0.90, 2: 0.95}, {1: 10, 2: 10}, 0.90)
    assert abs(r - (1 - 1 / 15)) < 1e-9
    assert memory_floor.equivalent({}, {}, 0.9) == 0.9
    assert memory_floor.equivalent({1: 0.95}, {}, 0.9) == 0.9  # no cards: nothing to cost


def test_no_misses_and_no_forgetful_topic_change_nothing():
    scores = {1: weighted(0.0, 1.0), 2: weighted(0.0, 0.9)}
    out, r_eq = memory_floor.floored(scores, {1: 1.0, 2: 0.9, 3: 0.95}, CARDS, S)
    assert out == scores
    assert r_eq == S.desired_retention


def test_a_forgetful_topic_shares_the_extra_reviews_the_missed_topic_costs():
    # topic 1 missed (retention 0.95), topic 2 forgotten 1.2x as often as the average at base
    own = retention_for(S, 0.0) + 0.0
    scores = {1: weighted(0.5 / 0.7, 1.0), 2: weighted(0.01, 1.2)}
    out, r_eq = memory_floor.floored(scores, {1: 1.0, 2: 1.2, 3: 0.9, 4: 0.9}, CARDS, S)
    assert r_eq > own
    floor = 1 - (1 - r_eq) / 1.2
    assert retention_for(S, out[2].score) >= round(floor, 4) - 1e-4
    assert out[1] == scores[1]  # the missed topic's own target is above its floor
    assert 3 not in out and 4 not in out  # remembered better than average: no floor
    # the fixed point: the targets' uniform equivalent is the r_eq the floors used
    targets = {t: retention_for(S, out[t].score) if t in out else 0.9 for t in CARDS}
    assert abs(memory_floor.equivalent(targets, CARDS, 0.9) - r_eq) < 1e-3


def test_a_forgetful_topic_without_misses_gets_a_weight_and_keeps_its_evidence():
    scores = {1: weighted(0.6, 1.0)}
    out, _ = memory_floor.floored(scores, {1: 1.0, 2: 1.5}, CARDS, S)
    assert out[2].score > 0.0
    assert out[2].forgetting == 1.5 and out[2].misses == 0


def test_one_step_counts_only_the_weights_own_cost(monkeypatch):
    scores = {1: weighted(0.6, 1.0)}
    forgetting = {1: 1.0, 2: 1.5, 3: 1.5}
    full, r_full = memory_floor.floored(scores, forgetting, CARDS, S)
    monkeypatch.setattr(memory_floor, "ITERATIONS", 1)
    one, r_one = memory_floor.floored(scores, forgetting, CARDS, S)
    assert r_one < r_full
    assert one[2].score < full[2].score


def test_without_room_above_the_base_there_is_no_floor():
    plain = Settings(weakness_max_retention=0.70)  # the simulator's plain FSRS
    scores = {1: weighted(0.0, 2.0)}
    out, r_eq = memory_floor.floored(scores, {1: 2.0}, CARDS, plain)
    assert out == scores and r_eq == plain.desired_retention


@given(
    st.dictionaries(
        st.integers(1, 6),
        st.tuples(st.floats(0.0, 0.999), st.floats(0.3, 4.0), st.integers(1, 60)),
        min_size=1,
    )
)
def test_weights_never_fall_and_stay_below_a_missed_question(topics):
    scores = {t: weighted(w, f) for t, (w, f, _) in topics.items()}
    forgetting = {t: f for t, (_, f, _) in topics.items()}
    cards = {t: n for t, (_, _, n) in topics.items()}
    out, r_eq = memory_floor.floored(scores, forgetting, cards, S)
    assert S.desired_retention - 1e-9 <= r_eq <= S.weakness_max_retention + 1e-9
    for t, s in out.items():
        assert s.score >= scores.get(t, NEUTRAL).score
        assert s.score < 1.0
        if forgetting[t] <= 1.0:
            assert s == scores[t]


def test_only_introduced_topics_take_a_floor_when_the_ablation_asks(monkeypatch):
    scores = {1: weighted(0.6, 1.0)}
    forgetting = {1: 1.0, 2: 1.5, 3: 1.5}
    out, _ = memory_floor.floored(scores, forgetting, CARDS, S, unfinished={3})
    assert out[2].score > 0 and out[3].score > 0  # off: `unfinished` changes nothing
    monkeypatch.setattr(memory_floor, "ONLY_INTRODUCED", True)
    only, _ = memory_floor.floored(scores, forgetting, CARDS, S, unfinished={3})
    assert only[2].score > 0 and 3 not in only  # topic 3 has new cards left: no floor


def test_floor_all_gives_every_topic_with_flashcard_evidence_the_uniform_equivalent(monkeypatch):
    assert memory_floor.floor_for(0.8, 0.92) is None  # as shipped: only forgotten above average
    monkeypatch.setattr(memory_floor, "FLOOR_ALL", True)
    assert memory_floor.floor_for(0.8, 0.92) == 0.92
    assert memory_floor.floor_for(None, 0.92) is None  # no reviews: no evidence, no floor
    assert memory_floor.floor_for(2.0, 0.92) == 1.0 - 0.08 / 2.0
