"""The simulated student's own memory (tools.simulate.memory): pure, kept apart from FSRS."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from tools.simulate import memory
from tools.simulate.memory import AGAIN, EASY, GOOD, HARD, Trace
from tools.simulate.models import SETTINGS, draws_name, frontier_name, make_world
from tools.simulate.student import Arm, Student

T0 = datetime(2027, 1, 4, 8, 0, tzinfo=UTC)


def days(n: float) -> datetime:
    return T0 + timedelta(days=n)


def test_recall_is_ninety_percent_after_one_stability_and_zero_for_a_card_never_studied():
    trace = Trace(stability=4.0, difficulty=5.0, last=T0)
    assert memory.recall(trace, days(4)) == pytest.approx(0.9)
    assert memory.recall(trace, T0) == pytest.approx(1.0)
    assert memory.recall(trace, days(2)) > memory.recall(trace, days(8))
    assert memory.recall(None, days(1)) == 0.0


def test_a_first_answer_leaves_fsrs_six_initial_stability_scaled_by_ability():
    assert memory.learn(GOOD, 1.0, T0).stability == pytest.approx(memory.W[2])
    assert memory.learn(GOOD, 0.5, T0).stability == pytest.approx(memory.W[2] / 2)
    assert memory.learn(AGAIN, 1.0, T0).stability == pytest.approx(memory.W[0])
    assert memory.learn(EASY, 1.0, T0).difficulty < memory.learn(AGAIN, 1.0, T0).difficulty


def test_a_success_grows_the_memory_more_when_recall_had_fallen_further():
    trace = memory.learn(GOOD, 1.0, T0)
    early = memory.review(trace, GOOD, 1.0, days(1))
    late = memory.review(trace, GOOD, 1.0, days(10))
    assert trace.stability < early.stability < late.stability
    assert late.last == days(10)


def test_ability_is_the_learning_rate_of_a_success():
    trace = memory.learn(GOOD, 1.0, T0)
    strong = memory.review(trace, GOOD, 1.0, days(3))
    weak = memory.review(trace, GOOD, 0.1, days(3))
    growth_strong = strong.stability / trace.stability - 1
    growth_weak = weak.stability / trace.stability - 1
    assert growth_weak == pytest.approx(0.1 * growth_strong)


def test_hard_grows_less_and_easy_more_than_good():
    trace = memory.learn(GOOD, 1.0, T0)
    hard, good, easy = (memory.review(trace, g, 1.0, days(3)) for g in (HARD, GOOD, EASY))
    assert trace.stability < hard.stability < good.stability < easy.stability


def test_a_same_day_success_adds_little_and_never_takes_away():
    trace = memory.learn(AGAIN, 1.0, T0)
    step = memory.review(trace, GOOD, 1.0, T0 + timedelta(minutes=10))
    assert trace.stability <= step.stability < 1.5 * trace.stability
    hard_step = memory.review(trace, HARD, 1.0, T0 + timedelta(minutes=10))
    assert hard_step.stability == pytest.approx(trace.stability)


def test_a_lapse_restudies_the_card_keeping_its_memory_and_restarting_its_clock():
    trace = Trace(stability=20.0, difficulty=5.0, last=T0)
    after = memory.review(trace, AGAIN, 0.3, days(200))
    assert after.stability == trace.stability
    assert after.last == days(200)
    assert memory.recall(after, days(200)) == pytest.approx(1.0)
    assert after.difficulty > trace.difficulty  # Again makes the card harder for the student


def test_a_lapse_lifts_a_vanishing_memory_to_a_first_failed_answers():
    tiny = Trace(stability=0.001, difficulty=9.0, last=T0)
    after = memory.review(tiny, AGAIN, 0.5, days(3))
    assert after.stability == pytest.approx(memory.W[0] * 0.5)


def test_the_relapse_reading_cuts_a_memory_never_above_it_and_never_below_the_floor():
    trace = Trace(stability=20.0, difficulty=5.0, last=T0)
    after = memory.review(trace, AGAIN, 0.3, days(10), lapse="relapse")
    assert memory.W[0] * 0.3 <= after.stability < trace.stability
    tiny = Trace(stability=0.01, difficulty=5.0, last=T0)
    assert memory.review(tiny, AGAIN, 1.0, days(1), lapse="relapse").stability == 0.01


def test_an_unknown_lapse_rule_is_refused_by_name():
    with pytest.raises(ValueError, match="unknown lapse rule 'erase'"):
        memory.review(memory.learn(GOOD, 1.0, T0), AGAIN, 1.0, days(1), lapse="erase")


def test_the_law_is_deterministic_and_leaves_its_input_unchanged():
    trace = memory.learn(GOOD, 0.7, T0)
    copy = replace(trace)
    grades = [GOOD, AGAIN, GOOD, HARD, EASY, GOOD]
    runs = []
    for _ in range(2):
        t = trace
        for n, g in enumerate(grades, start=1):
            t = memory.review(t, g, 0.7, days(3 * n))
        runs.append(t)
    assert runs[0] == runs[1]
    assert trace == copy


def test_an_own_memory_twin_shares_its_models_world_and_question_blocks_not_its_frontier():
    twin = SETTINGS["skewed-own"]
    assert twin.memory == "own"
    assert make_world(twin, 6).ability == make_world(SETTINGS["skewed"], 6).ability
    assert make_world(twin, 6).exam_weight == make_world(SETTINGS["skewed"], 6).exam_weight
    assert draws_name(twin) == "skewed"
    assert frontier_name(twin) == "skewed-own"
    # mixed questions shares hard questions' plain runs within the same memory only
    assert frontier_name(SETTINGS["mixed-questions"]) == "hard-questions"
    assert frontier_name(SETTINGS["mixed-questions-own"]) == "hard-questions-own"
    assert frontier_name(SETTINGS["skewed-own-relapse"]) == "skewed-own-relapse"
    assert frontier_name(SETTINGS["mixed-questions-own-relapse"]) == "hard-questions-own-relapse"
    assert draws_name(SETTINGS["mixed-questions-own-relapse"]) == "mixed-questions"


def tiny(name: str):
    return replace(SETTINGS[name].scaled(0.1), topics=12, days=8)


def test_an_own_memory_student_recalls_from_its_traces_not_from_the_schedulers_stability():
    world = make_world(tiny("base-own"), seed=3)
    student = Student(world, Arm("plain-0.90", 0.90, qbank=False))
    result = student.run()
    assert student.traces and set(student.traces) == set(student.memory)
    at = days(9)
    for card, trace in student.traces.items():
        assert student.recall(card, at) == memory.recall(trace, at)
    # FSRS's belief and the truth part: the scheduler's stability × ability is not the trace
    differs = [
        c
        for c, (s, _) in student.memory.items()
        if abs(s * world.ability[world.deck_order[c]] - student.traces[c].stability) > 1e-6
    ]
    assert differs
    again = Student(world, Arm("plain-0.90", 0.90, qbank=False)).run()
    assert (again.answers, again.score, again.weak_score) == (
        result.answers,
        result.score,
        result.weak_score,
    )


@pytest.mark.parametrize(
    ("name", "plan"),
    [
        ("morning-all", {"imports": "morning", "log": "all"}),
        ("light-qbank", {"qbank_per_day": 8}),
        ("qids", {"qid_share": 0.5}),
    ],
)
def test_the_logging_qbank_and_question_id_models_have_own_memory_twins_with_their_plan(name, plan):
    twin = SETTINGS[f"{name}-own"]
    assert twin.memory == "own"
    for field, value in plan.items():
        assert getattr(twin, field) == value == getattr(SETTINGS[name], field)
    assert make_world(twin, 4).ability == make_world(SETTINGS[name], 4).ability
    assert make_world(twin, 4).exam_weight == make_world(SETTINGS[name], 4).exam_weight
    assert draws_name(twin) == name
    assert frontier_name(twin) == f"{name}-own"
