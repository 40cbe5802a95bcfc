"""A topic's first answers (issue 21, ninth round): while a topic has new cards left, its cards'
failed first answers against the student's own average weigh it like flashcard forgetting, so
its new cards come earlier."""

from __future__ import annotations

from dataclasses import replace

from hypothesis import given
from hypothesis import strategies as st

from flashcore.core import first_answers as fa
from flashcore.core.introduction import with_probes
from flashcore.core.reasons import TopicEvidence
from flashcore.core.settings import Settings
from flashcore.core.weakness import NEUTRAL, divisor, score_for_divisor

S = Settings()  # base 0.90, cap 0.97
# the student fails a quarter of first answers; topic 1 failed 2 of its 3 probes
FIRST = {1: fa.FirstAnswers(3, 2), 2: fa.FirstAnswers(25, 5), 3: fa.FirstAnswers(12, 3)}


def test_the_ratio_is_against_the_students_own_average_shrunk_toward_one():
    assert fa.average(FIRST) == 10 / 40
    found = fa.ratios(FIRST)
    assert abs(found[1] - (2 + 1) / (3 * 0.25 + 1)) < 1e-12  # 1.71
    assert found[2] < 1.0  # 5 of 25 is below the average
    assert abs(found[3] - 1.0) < 1e-12  # 3 of 12 is the average


def test_nothing_to_compare_gives_every_topic_the_average():
    assert fa.ratios({1: fa.FirstAnswers(3, 0), 2: fa.FirstAnswers(0, 0)}) == {1: 1.0, 2: 1.0}
    assert fa.average({}) is None


def test_a_topic_with_new_cards_left_and_failing_first_answers_is_weighted():
    out = fa.weighed({}, FIRST, {1, 2, 3}, S)
    g = (2 + 1) / (3 * 0.25 + 1)
    assert out[1].score == score_for_divisor(g, 0.90, 0.97) > 0.0
    assert out[1].first == (2, 3, round(g, 4))
    assert 2 not in out and 3 not in out  # at or below the average: not weak


def test_a_topic_whose_every_card_is_introduced_is_left_to_its_lapses():
    assert fa.weighed({}, FIRST, {2, 3}, S) == {}


def test_the_larger_flashcard_evidence_counts_with_the_misses_not_both():
    g = (2 + 1) / (3 * 0.25 + 1)
    # misses 2x the average per card, lapses 1.2x: the first answers (1.7x) replace the lapses
    own = replace(NEUTRAL, score=score_for_divisor(divisor(2.0, 1.2), 0.9, 0.97), ratio=2.0,
                  forgetting=1.2)  # fmt: skip
    out = fa.weighed({1: own}, FIRST, {1}, S)
    assert out[1].score == score_for_divisor(divisor(2.0, g), 0.9, 0.97)
    assert out[1].ratio == 2.0 and out[1].forgetting == 1.2
    # lapses 2.5x already say more than the first answers: the score is kept as it was
    strong = replace(own, score=score_for_divisor(divisor(2.0, 2.5), 0.9, 0.97), forgetting=2.5)
    assert fa.weighed({1: strong}, FIRST, {1}, S)[1] is strong


def test_the_reason_says_the_first_answers_bring_its_new_cards_early():
    s = fa.weighed({}, FIRST, {1}, S)[1]
    from datetime import date

    text = TopicEvidence.of(s, 14.0, date(2027, 1, 5)).text("Sim::Renal")
    assert text == (
        "weak topic: Sim::Renal — first answers failed 2 of 3, 1.7× your average: "
        "its new cards come early"
    )


@given(
    st.dictionaries(
        st.integers(1, 6),
        st.tuples(st.integers(0, 30), st.integers(0, 30)).map(
            lambda t: fa.FirstAnswers(max(t), min(t))
        ),
        max_size=6,
    ),
    st.sets(st.integers(1, 6)),
)
def test_first_answers_never_lower_a_weight_nor_touch_finished_topics(first, unfinished):
    scores = {t: replace(NEUTRAL, score=0.3) for t in (1, 2, 3)}
    out = fa.weighed(scores, first, unfinished, S)
    for t, s in out.items():
        assert s.score >= scores.get(t, NEUTRAL).score
        assert s.score < 1.0
        if t not in unfinished:
            assert s == scores[t]


# ------------------------------------------------- MODE "after" and "share" (ablations)


def test_after_weights_sit_below_every_topic_the_misses_weight_the_most_failed_first(
    monkeypatch,
):
    monkeypatch.setattr(fa, "MODE", "after")
    first = {**FIRST, 4: fa.FirstAnswers(3, 3)}
    missed = replace(NEUTRAL, score=0.02)  # the lightest topic the misses weight
    out = fa.weighed({5: missed}, first, {1, 4, 5}, S)
    assert 0.0 < out[1].score < out[4].score < missed.score  # 3 of 3 failed before 2 of 3
    assert out[5] is missed  # a weighted topic keeps its weight
    assert fa.after(2.0, 0.04) == 0.02 and fa.after(1.0 + 1e-9, 0.04) == 1e-6
    # nothing else weighted: under TOPIC_TIER, a retention a few thousandths above the base
    assert fa.weighed({}, first, {4}, S)[4].score < fa.TOPIC_TIER


def test_the_share_takes_every_fourth_place_half_way_between_the_probes():
    ranked = [(1, 0.6), (2, 0.6), (3, 0.5), (4, 0.5), (5, 0.4), (6, 1e-4), (7, 0.0)]
    probes = [(20, 0.0), (21, 0.0)]
    shared = [(6, 1e-4), (30, 1e-4)]  # 30 was beyond the rows read

    def order(introduced: int) -> list[int]:
        rows = with_probes(
            ranked, probes, weight=lambda r: r[1], key=lambda r: r[0], first_above=1.0,
            slot=4, introduced=introduced, shared=shared, share_slot=4,
        )  # fmt: skip
        return [r[0] for r in rows]

    # places 2 and 6 the share's, 4 and 8 the probes', the rest weight first
    assert order(0) == [1, 6, 2, 20, 3, 30, 4, 21, 5, 7]
    assert order(1) == [6, 1, 20, 2, 30, 3, 21, 4, 5, 7]  # the day's second place first
    # without a share the order is the probes' alone, as before
    alone = with_probes(ranked, probes, weight=lambda r: r[1], key=lambda r: r[0],
                        first_above=1.0, slot=4)  # fmt: skip
    assert [r[0] for r in alone] == [1, 2, 3, 20, 4, 5, 6, 21, 7]
