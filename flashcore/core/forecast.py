"""The forecast: flashcore's own scheduler and queue, run forward day by day on a copy of the
cards. Pure: cards, settings and the starting instant in; days and exam-day recall out.

Each simulated study day, at the time of day the forecast starts:
1. `queue.build` (the queue the reviewer and `flashcore due` use) picks the day's cards from
   those due, with the day's new-card and review limits, sibling burying and its priorities;
2. the time budget, if any, cuts that queue with `budget.cut` (as `due --minutes` does), and
   the postponed cards stay due for the next day;
3. every card kept is answered through `fsrs_adapter.answer` at the retention the profile and
   the exam give it, and its learning steps in the same session.

**The load model is expected-value per card, on the modal path.** A card follows the answer it
most likely gets (Good: no retrievability the scheduler aims for is below one half), and the
day is charged what the card costs on average: a review's answer plus, with chance 1 - R, its
relearning steps, at the student's own answer times. Sampling answers instead would need many
runs to give a steady daily curve; the modal path gives it in one, at the cost of leaving out
how a lapse shortens the lapsed card's next intervals (the load of later weeks is a little
low for a student who forgets much).

**It stays cheap at any size.** FSRS answers are memoized on the card's state (stability in 2 %
log bins, difficulty to a quarter, whole elapsed days, retention to 0.01), so cards in the
same state share one call of fsrs (the fuzz is drawn once per state, not per card); and a collection of more than `MAX_CARDS` cards is
simulated on an evenly spaced sample (every k-th card by id, every k-th new card in
introduction order), each simulated card standing for k cards: limits, budget and counts are
scaled by k, so the daily load, the new cards a day and the readiness by system keep their
size and shape.
"""

from __future__ import annotations

import math
import zlib
from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from datetime import date, datetime, timedelta
from typing import TypeVar
from zoneinfo import ZoneInfo

from flashcore.core import budget, exam, fsrs_adapter, queue, studyday
from flashcore.core.model import CardState, Memory, Rating, Schedule

MAX_CARDS = 3000  # simulated cards; larger collections are sampled evenly
MAX_STEPS = 12  # learning-step answers per card per session, a guard
NEVER = 10**6  # days left when there is no exam
T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class SimCard:
    """A card as the forecast needs it."""

    card_id: int
    note_id: int
    schedule: Schedule
    weight: float = 0.0
    system: str | None = None
    discipline: str | None = None


@dataclass(frozen=True, slots=True)
class Setup:
    now: datetime
    zone: ZoneInfo
    day_start_hour: int
    days: int
    policy: fsrs_adapter.Policy
    retention: Callable[[float, int], float]  # (card weight, days left) -> retention
    new_per_day: int
    reviews_per_day: int
    new_ignores_review_limit: bool = False
    bury_siblings: bool = True
    learn_ahead: timedelta = timedelta(minutes=20)
    budget_seconds: float | None = None
    times: budget.AnswerSeconds = field(default_factory=budget.AnswerSeconds)
    window: exam.ExamWindow | None = None
    exam_date: date | None = None
    buffer_start: date | None = None  # new cards rank with reviews from here (core.budget)
    new_done_today: int = 0
    reviews_done_today: int = 0
    seconds_done_today: float = 0.0


@dataclass(slots=True)
class Day:
    on: date
    reviews: float = 0.0  # reviews in the day's queue (after its limits)
    new: float = 0.0
    learning: float = 0.0
    seconds: float = 0.0  # the day's queue, in seconds (before the budget)
    done_seconds: float = 0.0  # what the budget keeps
    postponed: float = 0.0  # cards the budget leaves for the next day

    @property
    def minutes(self) -> float:
        return self.seconds / 60.0


@dataclass(frozen=True, slots=True)
class Forecast:
    days: tuple[Day, ...]
    exam_recall: dict[int, float]  # simulated card -> expected recall on the exam day
    unseen: frozenset[int]  # simulated cards still new at the end
    cards: tuple[SimCard, ...]  # the simulated cards
    scale: float  # cards of the collection each simulated card stands for
    fsrs_calls: int
    new_seconds: float = 0.0  # spent on the cards the forecast introduced (scaled)
    introduced: int = 0  # cards the forecast introduced (scaled)


def sample(
    studied: Sequence[T], fresh: Sequence[T], limit: int = MAX_CARDS
) -> tuple[list[T], list[T], float]:
    """Every k-th studied card (in the order given: by id) and every k-th new card in
    introduction order, so that at most `limit` cards are simulated; and k (1.0: all)."""
    total = len(studied) + len(fresh)
    if total <= limit:
        return list(studied), list(fresh), 1.0
    step = total / limit
    return (
        [studied[i] for i in _evenly(len(studied), step)],
        [fresh[i] for i in _evenly(len(fresh), step)],
        step,
    )


def _evenly(n: int, step: float) -> list[int]:
    out: list[int] = []
    x = step / 2
    while int(x) < n:
        out.append(int(x))
        x += step
    return out


class _Memo:
    """`fsrs_adapter.answer` memoized on the card's state (see the module's doc)."""

    def __init__(self, policy: fsrs_adapter.Policy) -> None:
        self.policy = policy
        self.cache: dict[
            tuple[object, ...], tuple[CardState, int | None, float, float, timedelta]
        ] = {}
        self.calls = 0

    def answer(
        self, schedule: Schedule, rating: Rating, now: datetime, retention: float
    ) -> Schedule:
        retention = round(retention, 2)
        memory = schedule.memory
        if memory is None or schedule.last_review is None:
            key: tuple[object, ...] = ("new", int(rating), retention)
            rep = Schedule(CardState.NEW, now)
        else:
            elapsed = max(0, (now - schedule.last_review).days)
            stability = round(
                math.exp(round(math.log(max(memory.stability, 0.01)) / 0.02) * 0.02), 4
            )
            difficulty = round(memory.difficulty * 4) / 4
            key = (int(schedule.state), schedule.step, stability, difficulty, elapsed,
                   int(rating), retention)  # fmt: skip
            rep = Schedule(
                schedule.state,
                now,
                schedule.step,
                Memory(stability, difficulty),
                now - timedelta(days=elapsed),
                schedule.reps,
                schedule.lapses,
            )
        found = self.cache.get(key)
        if found is None:
            self.calls += 1
            # a fuzz draw per state, not one for every card; crc32, not hash(): str hashes
            # change from one process to the next, and the forecast must not
            seed = zlib.crc32(repr(key).encode())
            out = fsrs_adapter.answer(seed, rep, rating, now, retention, self.policy)
            assert out.memory is not None
            found = (out.state, out.step, out.memory.stability, out.memory.difficulty,
                     out.due - now)  # fmt: skip
            self.cache[key] = found
        state, step, stability, difficulty, delta = found
        lapsed = schedule.state is CardState.REVIEW and rating is Rating.AGAIN
        return Schedule(
            state, now + delta, step, Memory(stability, difficulty), now,
            schedule.reps + 1, schedule.lapses + (1 if lapsed else 0),
        )  # fmt: skip


def run(
    studied: Sequence[SimCard], fresh: Sequence[SimCard], setup: Setup, scale: float = 1.0
) -> Forecast:
    """Simulate `setup.days` study days from `setup.now` (see the module's doc). `studied` are
    the cards answered before, `fresh` the new ones in introduction order; each stands for
    `scale` cards of the collection (see `sample`)."""
    by_id = {c.card_id: c for c in (*studied, *fresh)}
    schedules = {c.card_id: c.schedule for c in studied}
    policy = replace(setup.policy, exam=None) if setup.policy.exam is not None else setup.policy
    memo = _Memo(policy)
    curve = fsrs_adapter.curve(policy)
    zone, hour = setup.zone, setup.day_start_hour
    today = studyday.study_date(setup.now, zone, hour)
    offset = setup.now - studyday.day_start_of(today, zone, hour)
    n_learning = len(policy.learning_steps)
    n_relearning = len(policy.relearning_steps)
    times = setup.times

    def day_of(instant: datetime) -> int:
        return (studyday.study_date(instant, zone, hour) - today).days

    # Cards by the day (from today) they fall due; those of today and before wait in `due`.
    buckets: dict[int, list[int]] = defaultdict(list)
    due: set[int] = set()
    for cid, sched in schedules.items():
        d = day_of(sched.due)
        (due.add(cid) if d <= 0 else buckets[d].append(cid))
    made: dict[int, queue.Candidate] = {}  # queue candidates of unchanged schedules
    introduced_here: set[int] = set()  # cards this forecast introduced: their cost is the plan's
    new_queue = list(fresh)
    days: list[Day] = []
    new_seconds = 0.0
    new_credit = review_credit = 0.0
    # at most this many of a day's cards can fit the budget (the rest are postponed anyway)
    fastest = max(1.0, min(times.review, times.learning, times.new))
    for d in range(setup.days):
        on = today + timedelta(days=d)
        day_start = studyday.day_start_of(on, zone, hour)
        rollover = studyday.day_start_of(on + timedelta(days=1), zone, hour)
        t = setup.now if d == 0 else min(day_start + offset, rollover - timedelta(minutes=1))
        days_left = (setup.exam_date - on).days if setup.exam_date else NEVER
        due.update(buckets.pop(d, ()))
        first = d == 0
        new_limit = setup.new_per_day - (setup.new_done_today if first else 0)
        review_limit = setup.reviews_per_day - (setup.reviews_done_today if first else 0)
        new_credit += max(0, new_limit) / scale
        review_credit += max(0, review_limit) / scale
        new_left, review_left = int(new_credit), int(review_credit)
        budget_left = None
        if setup.budget_seconds is not None:
            spent = setup.seconds_done_today if first else 0.0
            budget_left = max(0.0, setup.budget_seconds - spent) / scale
        candidates = []
        for cid in due:
            candidate = made.get(cid)
            if candidate is None:  # made once per schedule: a postponed card keeps its own
                sched = schedules[cid]
                candidate = made[cid] = queue.Candidate(
                    cid, by_id[cid].note_id, int(sched.state), sched.due,
                    sched.memory.stability if sched.memory else None, sched.last_review,
                    by_id[cid].weight,
                )  # fmt: skip
            candidates.append(candidate)
        news = [
            queue.Candidate(c.card_id, c.note_id, int(CardState.NEW), c.schedule.due, None, None,
                            c.weight)
            for c in new_queue[: new_left * 4 + 10]
        ]  # fmt: skip
        wanted = None if budget_left is None else int(3 * budget_left / fastest) + 20
        built = queue.build(
            candidates,
            news,
            now=t,
            day_start=day_start,
            rollover=rollover,
            limits=queue.Limits(
                new_left=new_left,
                reviews_left=review_left,
                new_ignores_review_limit=setup.new_ignores_review_limit,
                bury_siblings=setup.bury_siblings,
                learn_ahead=setup.learn_ahead,
            ),
            retrievability=_at(curve, t),
            limit=wanted,
        )
        entries = [e for e in built.entries if e.kind != "ahead"]

        def cost(e: queue.Entry) -> float:
            return budget.card_seconds(e.kind, e.retrievability, times, n_learning, n_relearning)

        def weight(e: queue.Entry) -> float:
            return by_id[e.card_id].weight

        listed = {"review": 0, "new": 0, "learning": 0}
        seconds = 0.0
        for e in entries:
            listed[e.kind] += 1
            seconds += cost(e)
        counts = built.counts
        # cards of the day's queue beyond `wanted`: counted, at a review's mean cost
        unlisted = max(0, counts.review - listed["review"]) * times.review + max(
            0, counts.new - listed["new"]
        ) * card_seconds_new(times, n_learning)
        day = Day(on)
        day.reviews = counts.review * scale
        day.new = counts.new * scale
        day.learning = counts.learning * scale
        day.seconds = (seconds + unlisted) * scale + (setup.seconds_done_today if first else 0.0)
        kept = entries
        if budget_left is not None:
            urgent = (
                setup.exam_date is not None
                and setup.buffer_start is not None
                and (on >= setup.buffer_start)
            )
            result = budget.cut(entries, cost, weight, budget_left,
                                new_value=1.0 if urgent else None)  # fmt: skip
            kept = list(result.kept)
            day.postponed = (counts.total - len(kept)) * scale
        day.done_seconds = sum(cost(e) for e in kept) * scale
        taken: set[int] = set()
        for e in kept:
            cid = e.card_id
            if e.kind == "review":
                review_credit -= 1
            elif e.kind == "new":
                new_credit -= 1
                taken.add(cid)
                introduced_here.add(cid)
            if cid in introduced_here:
                new_seconds += cost(e) * scale
            card = by_id[cid]
            sched = schedules.get(cid) or card.schedule
            retention = setup.retention(card.weight, days_left)
            sched = memo.answer(sched, Rating.GOOD, t, retention)
            at = t
            for _ in range(MAX_STEPS):
                if sched.state is CardState.REVIEW or sched.due >= rollover:
                    break
                at = max(at, sched.due)
                sched = memo.answer(sched, Rating.GOOD, at, retention)
            if sched.state is CardState.REVIEW and setup.window is not None:
                # as the adapter moves a Good answer: the day drawn for the passing grades
                # (room for two), a day after Hard's
                moved = exam.stretch_due(cid, sched.reps - 1, sched.due, at, setup.window, 2)
                if moved is not None:
                    sched = replace(sched, due=moved + timedelta(days=1))
            schedules[cid] = sched
            made.pop(cid, None)
            due.discard(cid)
            buckets[max(d + 1, day_of(sched.due))].append(cid)
        if taken:
            new_queue = [c for c in new_queue if c.card_id not in taken]
        new_credit = min(new_credit, 1.0)  # unused limits do not pile up
        review_credit = min(review_credit, 1.0)
        days.append(day)
    recall: dict[int, float] = {}
    if setup.window is not None:
        at_exam = setup.window.exam_start + offset
        for cid, sched in schedules.items():
            if sched.memory is not None and sched.last_review is not None:
                elapsed = (at_exam - sched.last_review).total_seconds() / 86400.0
                recall[cid] = curve.retrievability_days(sched.memory.stability, elapsed)
    for c in new_queue:
        recall[c.card_id] = 0.0
    return Forecast(
        days=tuple(days),
        exam_recall=recall,
        unseen=frozenset(c.card_id for c in new_queue),
        cards=tuple(by_id.values()),
        scale=scale,
        fsrs_calls=memo.calls,
        new_seconds=new_seconds,
        introduced=round(len(introduced_here) * scale),
    )


def _at(curve: fsrs_adapter.Curve, t: datetime) -> queue.Retrievability:
    """The curve's retrievability at `t` (bound now: the day loop moves `t`)."""
    return lambda stability, last: curve.retrievability(stability, last, t)


def card_seconds_new(times: budget.AnswerSeconds, learning_steps: int) -> float:
    return budget.card_seconds("new", None, times, learning_steps, 0)


def minutes(values: Sequence[float]) -> list[int]:
    return [math.ceil(v / 60.0) for v in values]
