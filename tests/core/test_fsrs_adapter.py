"""The FSRS adapter against `fsrs` called directly: same memory states, deterministic fuzz."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import fsrs
from hypothesis import given, settings
from hypothesis import strategies as st

from flashcore.core import fsrs_adapter as fa
from flashcore.core.errors import ClockError
from flashcore.core.model import CardState, Rating, Schedule
from flashcore.core.settings import Settings

T0 = datetime(2026, 1, 1, 9, tzinfo=UTC)
POLICY = fa.Policy.from_settings(Settings())
ratings = st.sampled_from(list(Rating))
gaps = st.integers(min_value=0, max_value=60 * 24 * 120)  # minutes between answers


def replay_with_fsrs(history: list[tuple[Rating, datetime]]) -> fsrs.Card:
    scheduler = fsrs.Scheduler(enable_fuzzing=False)
    card = fsrs.Card(card_id=7, due=T0)
    for rating, when in history:
        card, _ = scheduler.review_card(card, fsrs.Rating(int(rating)), when)
    return card


def test_golden_sequence_matches_fsrs_memory_states_exactly():
    history = [
        (Rating.GOOD, T0),
        (Rating.GOOD, T0 + timedelta(minutes=10)),
        (Rating.AGAIN, T0 + timedelta(days=3)),
        (Rating.GOOD, T0 + timedelta(days=3, minutes=10)),
        (Rating.EASY, T0 + timedelta(days=9)),
    ]
    ours = fa.replay(7, T0, [fa.PastAnswer(r, t, 0.9) for r, t in history], POLICY)
    theirs = replay_with_fsrs(history)
    assert ours.memory is not None
    assert ours.memory.stability == theirs.stability
    assert ours.memory.difficulty == theirs.difficulty
    assert ours.state is CardState.REVIEW
    assert ours.reps == 5
    assert ours.lapses == 1


def test_new_card_learning_steps_are_one_and_ten_minutes():
    new = Schedule(CardState.NEW, T0)
    outcomes = fa.preview(1, new, T0, 0.9, POLICY)
    assert outcomes[Rating.AGAIN].due - T0 == timedelta(minutes=1)
    assert outcomes[Rating.GOOD].due - T0 == timedelta(minutes=10)
    assert outcomes[Rating.EASY].state is CardState.REVIEW


def test_again_on_review_card_enters_relearning_for_ten_minutes():
    s = fa.replay(3, T0, [fa.PastAnswer(Rating.EASY, T0, 0.9)], POLICY)  # straight to review
    lapsed = fa.answer(3, s, Rating.AGAIN, T0 + timedelta(days=10), 0.9, POLICY)
    assert lapsed.state is CardState.RELEARNING
    assert lapsed.due - (T0 + timedelta(days=10)) == timedelta(minutes=10)
    assert lapsed.lapses == 1


def test_higher_retention_gives_shorter_intervals():
    s = fa.replay(3, T0, [fa.PastAnswer(Rating.EASY, T0, 0.9)], POLICY)
    when = T0 + timedelta(days=8)
    base = fa.answer(3, s, Rating.GOOD, when, 0.90, POLICY)
    weak = fa.answer(3, s, Rating.GOOD, when, 0.97, POLICY)
    assert weak.due < base.due
    assert weak.memory == base.memory  # retention changes intervals, never memory


def test_fuzz_is_seeded_by_card_and_reps_not_global_random():
    import random

    s = fa.replay(11, T0, [fa.PastAnswer(Rating.EASY, T0, 0.9)], POLICY)
    when = T0 + timedelta(days=20)
    random.seed(1)
    first = fa.answer(11, s, Rating.GOOD, when, 0.9, POLICY)
    random.seed(2)
    second = fa.answer(11, s, Rating.GOOD, when, 0.9, POLICY)
    assert first == second
    lo, hi = fa.fuzz_range(30, 36500)
    assert lo < 30 < hi
    days = {fa.fuzzed_days(30, card_id, 4, 36500) for card_id in range(200)}
    assert len(days) > 3 and min(days) >= lo and max(days) <= hi


def test_clock_before_last_review_is_refused():
    s = fa.replay(5, T0, [fa.PastAnswer(Rating.GOOD, T0 + timedelta(days=1), 0.9)], POLICY)
    try:
        fa.answer(5, s, Rating.GOOD, T0, 0.9, POLICY)
    except ClockError as exc:
        assert "before this card's last review" in str(exc)
    else:
        raise AssertionError("a clock that moved backwards must be refused")


def test_curve_retrievability_equals_fsrs_computation():
    s = fa.replay(5, T0, [fa.PastAnswer(Rating.GOOD, T0, 0.9)], POLICY)
    s = fa.answer(5, s, Rating.GOOD, T0 + timedelta(minutes=10), 0.9, POLICY)
    curve = fa.curve(POLICY)
    for days in (0, 1, 5, 40):
        now = T0 + timedelta(days=days, hours=3)
        assert s.memory is not None and s.last_review is not None
        ours = curve.retrievability(s.memory.stability, s.last_review, now)
        assert abs(ours - fa.retrievability_by_fsrs(POLICY, s, now)) < 1e-12


@settings(max_examples=150, deadline=None)
@given(st.lists(st.tuples(ratings, gaps), min_size=1, max_size=25), st.integers(1, 10**9))
def test_invariants_hold_for_any_history(history, card_id):
    schedule = Schedule(CardState.NEW, T0)
    when = T0
    for rating, gap in history:
        when = when + timedelta(minutes=gap)
        schedule = fa.answer(card_id, schedule, rating, when, 0.9, POLICY)
        assert schedule.due > when
        assert schedule.memory is not None
        assert 1.0 <= schedule.memory.difficulty <= 10.0
        assert schedule.due - when <= timedelta(days=36500)
    past = []
    when = T0
    for rating, gap in history:
        when = when + timedelta(minutes=gap)
        past.append(fa.PastAnswer(rating, when, 0.9))
    assert fa.replay(card_id, T0, past, POLICY) == schedule  # same history, same schedule


def test_bad_parameters_are_a_config_error():
    from flashcore.core.errors import ConfigError

    try:
        fa.check_parameters([1.0, 2.0])
    except ConfigError:
        pass
    else:
        raise AssertionError("fsrs rejects 2 parameters")
