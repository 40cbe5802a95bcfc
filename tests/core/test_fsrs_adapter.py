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


# ---------------------------------------------------------------- study-day rules (issue 14)


def graduated(card_id: int, at: datetime) -> Schedule:
    """New -> Good -> Good ten minutes later: a review card last answered at `at` + 10 min."""
    s = fa.answer(
        card_id, Schedule(CardState.NEW, at), Rating.GOOD, at, 0.9, POLICY, elapsed_days=0
    )
    return fa.answer(
        card_id, s, Rating.GOOD, at + timedelta(minutes=10), 0.9, POLICY, elapsed_days=0
    )


def test_a_review_on_the_next_study_day_is_never_a_same_day_review():
    # Graduated at 10:41; the next study day at 09:00 is only 23 hours later. fsrs alone counts
    # 0 days and keeps stability (2.31); counted in study days it grows as at 11:00 (7.32).
    card = graduated(21, datetime(2026, 1, 1, 10, 31, tzinfo=UTC))
    assert card.last_review == datetime(2026, 1, 1, 10, 41, tzinfo=UTC)
    early = datetime(2026, 1, 2, 9, 0, tzinfo=UTC)
    late = datetime(2026, 1, 2, 11, 0, tzinfo=UTC)
    legacy = fa.answer(21, card, Rating.GOOD, early, 0.9, POLICY)
    by_day = fa.answer(21, card, Rating.GOOD, early, 0.9, POLICY, elapsed_days=1)
    at_eleven = fa.answer(21, card, Rating.GOOD, late, 0.9, POLICY, elapsed_days=1)
    assert card.memory is not None and legacy.memory is not None
    assert legacy.memory.stability == card.memory.stability  # fsrs's same-day update
    assert by_day.memory == at_eleven.memory
    assert by_day.memory is not None and by_day.memory.stability > 2 * card.memory.stability


def test_answers_within_one_study_day_keep_the_same_day_update():
    card = graduated(22, T0)
    later = T0 + timedelta(hours=5)
    same_day = fa.answer(22, card, Rating.GOOD, later, 0.9, POLICY, elapsed_days=0)
    legacy = fa.answer(22, card, Rating.GOOD, later, 0.9, POLICY)
    assert same_day.memory == legacy.memory


def test_elapsed_study_days_are_what_fsrs_computes_retrievability_from():
    card = graduated(23, T0)
    # 30 hours later but one study day: fsrs is given exactly one day, not 1.25.
    now = T0 + timedelta(hours=30)
    one = fa.answer(23, card, Rating.GOOD, now, 0.9, POLICY, elapsed_days=1)
    exact = fa.answer(23, card, Rating.GOOD, T0 + timedelta(days=1, minutes=10), 0.9, POLICY)
    assert one.memory == exact.memory


def review_schedules() -> st.SearchStrategy[tuple[int, Schedule, datetime]]:
    """A review card after any history, and a moment at or after its last answer."""

    @st.composite
    def build(draw: st.DrawFn) -> tuple[int, Schedule, datetime]:
        card_id = draw(st.integers(1, 10**6))
        schedule = Schedule(CardState.NEW, T0)
        when = T0
        for rating, gap in draw(st.lists(st.tuples(ratings, gaps), min_size=2, max_size=12)):
            when += timedelta(minutes=gap)
            schedule = fa.answer(
                card_id, schedule, rating, when, 0.9, POLICY, elapsed_days=gap // 1440
            )
        if schedule.state is not CardState.REVIEW:
            schedule = fa.answer(card_id, schedule, Rating.EASY, when, 0.9, POLICY, elapsed_days=0)
        later = when + timedelta(minutes=draw(gaps))
        return card_id, schedule, later

    return build()


@settings(max_examples=200, deadline=None)
@given(review_schedules(), st.sampled_from([0.8, 0.9, 0.95, 0.97]))
def test_review_previews_are_strictly_ordered_and_equal_what_answering_writes(drawn, retention):
    card_id, schedule, now = drawn
    assert schedule.state is CardState.REVIEW and schedule.last_review is not None
    elapsed = (now - schedule.last_review).days
    outcomes = fa.preview(card_id, schedule, now, retention, POLICY, elapsed_days=elapsed)
    hard, good, easy = (outcomes[r].due - now for r in (Rating.HARD, Rating.GOOD, Rating.EASY))
    assert timedelta(days=1) <= hard < good < easy
    for rating, outcome in outcomes.items():
        written = fa.answer(card_id, schedule, rating, now, retention, POLICY, elapsed_days=elapsed)
        assert written == outcome


def test_equal_fsrs_intervals_are_bumped_apart_by_a_day():
    # A card lapsed four times (stability ~0.1, difficulty ~10), overdue, at retention 0.97:
    # fsrs gives Hard, Good and Easy one day each ("Hard 1d · Good 1d · Easy 1d").
    s, t = graduated(31, T0), T0 + timedelta(minutes=10)
    for _ in range(4):
        t += timedelta(days=2)
        s = fa.answer(31, s, Rating.AGAIN, t, 0.97, POLICY)
        t += timedelta(minutes=10)
        s = fa.answer(31, s, Rating.GOOD, t, 0.97, POLICY)
    now = t + timedelta(days=4)
    raw = fa.preview(31, s, now, 0.97, POLICY)  # the rules of older logs: no ordering
    assert [(raw[r].due - now).days for r in (Rating.HARD, Rating.GOOD, Rating.EASY)] == [1, 1, 1]
    ordered = fa.preview(31, s, now, 0.97, POLICY, elapsed_days=4)
    days = [(ordered[r].due - now).days for r in (Rating.HARD, Rating.GOOD, Rating.EASY)]
    assert days == [1, 2, 3]
    assert ordered[Rating.GOOD].memory == raw[Rating.GOOD].memory  # order moves days only


def test_a_relearning_card_that_graduates_on_good_gets_a_day_more_on_easy():
    card = graduated(32, T0)
    lapsed = fa.answer(32, card, Rating.AGAIN, T0 + timedelta(days=3), 0.9, POLICY, elapsed_days=3)
    assert lapsed.state is CardState.RELEARNING
    now = T0 + timedelta(days=3, minutes=10)
    out = fa.preview(32, lapsed, now, 0.9, POLICY, elapsed_days=0)
    assert out[Rating.GOOD].state is out[Rating.EASY].state is CardState.REVIEW
    assert out[Rating.EASY].due - now >= out[Rating.GOOD].due - now + timedelta(days=1)


def test_the_maximum_interval_caps_the_order():
    tight = fa.Policy.from_settings(Settings(maximum_interval=3))
    card = fa.answer(33, Schedule(CardState.NEW, T0), Rating.EASY, T0, 0.9, tight, elapsed_days=0)
    now = T0 + timedelta(days=30)
    out = fa.preview(33, card, now, 0.9, tight, elapsed_days=30)
    assert all(out[r].due - now <= timedelta(days=3) for r in out)


def test_fuzz_never_goes_below_the_minimum():
    for card_id in range(300):
        assert fa.fuzzed_days(10, card_id, 3, 36500, minimum=14) >= 14
        assert fa.fuzzed_days(10, card_id, 3, 36500) == fa.fuzzed_days(10, card_id, 3, 36500, 1)
    # The fuzz range of 14 days (12..16) clamped to the minimum: 14..16, all drawn.
    assert {fa.fuzzed_days(10, c, 3, 36500, minimum=14) for c in range(300)} == {14, 15, 16}


def test_a_replay_follows_each_answer_s_own_rules():
    # An answer logged before the study-day rules (None) and one after (1) replay as written.
    card = graduated(34, datetime(2026, 1, 1, 10, 31, tzinfo=UTC))
    early = datetime(2026, 1, 2, 9, 0, tzinfo=UTC)
    start = datetime(2026, 1, 1, 10, 31, tzinfo=UTC)
    head = [
        fa.PastAnswer(Rating.GOOD, start, 0.9, elapsed_days=0),
        fa.PastAnswer(Rating.GOOD, start + timedelta(minutes=10), 0.9, elapsed_days=0),
    ]
    old = fa.replay(34, start, [*head, fa.PastAnswer(Rating.GOOD, early, 0.9)], POLICY)
    new = fa.replay(
        34, start, [*head, fa.PastAnswer(Rating.GOOD, early, 0.9, elapsed_days=1)], POLICY
    )
    assert old == fa.answer(34, card, Rating.GOOD, early, 0.9, POLICY)
    assert new == fa.answer(34, card, Rating.GOOD, early, 0.9, POLICY, elapsed_days=1)
    assert old != new
