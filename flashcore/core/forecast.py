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
    held_reviews: float = 0.0  # due reviews the review limit leaves waiting (the backlog)
    held_new: float = 0.0  # new cards the review limit leaves no room for (they count on it)

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
    sim = _Run(studied, fresh, setup, scale)
    days = tuple(sim.day(d) for d in range(setup.days))
    return Forecast(
        days=days,
        exam_recall=sim.exam_recall(),
        unseen=frozenset(c.card_id for c in sim.new_queue),
        cards=tuple(sim.by_id.values()),
        scale=scale,
        fsrs_calls=sim.memo.calls,
        new_seconds=sim.new_seconds,
        introduced=round(len(sim.introduced) * scale),
    )


class _Run:
    """One forecast's state as its days go by: each card's schedule, the cards waiting due,
    those falling due on later days, the new cards not yet introduced, and the limits' credit
    (a sampled card stands for `scale` cards, so a day's limit accrues in fractions)."""

    def __init__(
        self, studied: Sequence[SimCard], fresh: Sequence[SimCard], setup: Setup, scale: float
    ) -> None:
        self.setup, self.scale = setup, scale
        self.by_id = {c.card_id: c for c in (*studied, *fresh)}
        self.schedules = {c.card_id: c.schedule for c in studied}
        policy = setup.policy
        policy = replace(policy, exam=None) if policy.exam is not None else policy
        self.memo = _Memo(policy)
        self.curve = fsrs_adapter.curve(policy)
        self.today = studyday.study_date(setup.now, setup.zone, setup.day_start_hour)
        self.offset = setup.now - self._day_start(self.today)
        self.steps = (len(policy.learning_steps), len(policy.relearning_steps))
        # Cards by the day (from today) they fall due; those of today and before wait in `due`.
        self.buckets: dict[int, list[int]] = defaultdict(list)
        self.due: set[int] = set()
        for cid, sched in self.schedules.items():
            d = self._day_of(sched.due)
            (self.due.add(cid) if d <= 0 else self.buckets[d].append(cid))
        self.made: dict[int, queue.Candidate] = {}  # queue candidates of unchanged schedules
        self.introduced: set[int] = set()  # cards introduced here: their cost is the plan's
        self.new_queue = list(fresh)
        self.new_seconds = 0.0
        self.new_credit = self.review_credit = 0.0
        self.limits = (0, 0)  # the day's new-card and review limits, as credited
        # at most this many of a day's cards can fit the budget (the rest are postponed anyway)
        times = setup.times
        self.fastest = max(1.0, min(times.review, times.learning, times.new))

    def _day_start(self, on: date) -> datetime:
        return studyday.day_start_of(on, self.setup.zone, self.setup.day_start_hour)

    def _day_of(self, instant: datetime) -> int:
        setup = self.setup
        return (studyday.study_date(instant, setup.zone, setup.day_start_hour) - self.today).days

    def cost(self, e: queue.Entry) -> float:
        times, (learning, relearning) = self.setup.times, self.steps
        return budget.card_seconds(e.kind, e.retrievability, times, learning, relearning)

    def weight(self, e: queue.Entry) -> float:
        return self.by_id[e.card_id].weight

    def day(self, d: int) -> Day:
        """Study day `d` (0: today): its queue, its load, the cards the budget keeps answered."""
        setup, scale = self.setup, self.scale
        on = self.today + timedelta(days=d)
        day_start, rollover = self._day_start(on), self._day_start(on + timedelta(days=1))
        t = setup.now if d == 0 else min(day_start + self.offset, rollover - timedelta(minutes=1))
        self.due.update(self.buckets.pop(d, ()))
        first = d == 0
        budget_left = None
        if setup.budget_seconds is not None:
            spent = setup.seconds_done_today if first else 0.0
            budget_left = max(0.0, setup.budget_seconds - spent) / scale
        built = self._queue(t, day_start, rollover, first, budget_left)
        entries = [e for e in built.entries if e.kind != "ahead"]
        day = self._load(on, entries, built.counts, first)
        day.held_reviews = built.held_review * scale
        new_left, review_left = self.limits
        day.held_new = scale * queue.squeezed_new(
            new_left, review_left, built.counts, built.held_new,
            ignores=setup.new_ignores_review_limit,
        )  # fmt: skip
        kept = entries
        if budget_left is not None:
            urgent = (
                setup.exam_date is not None
                and setup.buffer_start is not None
                and (on >= setup.buffer_start)
            )
            result = budget.cut(entries, self.cost, self.weight, budget_left,
                                new_value=1.0 if urgent else None)  # fmt: skip
            kept = list(result.kept)
            day.postponed = (built.counts.total - len(kept)) * scale
        day.done_seconds = sum(self.cost(e) for e in kept) * scale
        days_left = (setup.exam_date - on).days if setup.exam_date else NEVER
        self._study(kept, d, t, rollover, days_left)
        self.new_credit = min(self.new_credit, 1.0)  # unused limits do not pile up
        self.review_credit = min(self.review_credit, 1.0)
        return day

    def _queue(
        self, t: datetime, day_start: datetime, rollover: datetime, first: bool,
        budget_left: float | None,
    ) -> queue.Queue:  # fmt: skip
        """The day's queue as `queue.build` makes it, within the day's limits (credited)."""
        setup, scale = self.setup, self.scale
        new_limit = setup.new_per_day - (setup.new_done_today if first else 0)
        review_limit = setup.reviews_per_day - (setup.reviews_done_today if first else 0)
        self.new_credit += max(0, new_limit) / scale
        self.review_credit += max(0, review_limit) / scale
        new_left, review_left = int(self.new_credit), int(self.review_credit)
        self.limits = (new_left, review_left)
        candidates = []
        for cid in self.due:
            candidate = self.made.get(cid)
            if candidate is None:  # made once per schedule: a postponed card keeps its own
                sched, card = self.schedules[cid], self.by_id[cid]
                candidate = self.made[cid] = queue.Candidate(
                    cid, card.note_id, int(sched.state), sched.due,
                    sched.memory.stability if sched.memory else None, sched.last_review,
                    card.weight,
                )  # fmt: skip
            candidates.append(candidate)
        news = [
            queue.Candidate(c.card_id, c.note_id, int(CardState.NEW), c.schedule.due, None, None,
                            c.weight)
            for c in self.new_queue[: new_left * 4 + 10]
        ]  # fmt: skip
        wanted = None if budget_left is None else int(3 * budget_left / self.fastest) + 20
        return queue.build(
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
            retrievability=_at(self.curve, t),
            limit=wanted,
        )

    def _load(self, on: date, entries: list[queue.Entry], counts: queue.Counts, first: bool) -> Day:
        """The day's queue as counts and seconds, before the budget (scaled)."""
        times, scale = self.setup.times, self.scale
        listed = {"review": 0, "new": 0, "learning": 0}
        seconds = 0.0
        for e in entries:
            listed[e.kind] += 1
            seconds += self.cost(e)
        # cards of the day's queue beyond `wanted`: counted, at a review's mean cost
        unlisted = max(0, counts.review - listed["review"]) * times.review + max(
            0, counts.new - listed["new"]
        ) * card_seconds_new(times, self.steps[0])
        day = Day(on)
        day.reviews = counts.review * scale
        day.new = counts.new * scale
        day.learning = counts.learning * scale
        done_today = self.setup.seconds_done_today if first else 0.0
        day.seconds = (seconds + unlisted) * scale + done_today
        return day

    def _study(
        self, kept: list[queue.Entry], d: int, t: datetime, rollover: datetime, days_left: int
    ) -> None:
        """Answer the kept cards Good, each through its learning steps within the day, and file
        each under the day it falls due next."""
        taken: set[int] = set()
        for e in kept:
            cid = e.card_id
            if e.kind == "review":
                self.review_credit -= 1
            elif e.kind == "new":
                self.new_credit -= 1
                taken.add(cid)
                self.introduced.add(cid)
            if cid in self.introduced:
                self.new_seconds += self.cost(e) * self.scale
            card = self.by_id[cid]
            sched = self.schedules.get(cid) or card.schedule
            sched = self._answer(
                cid, sched, t, rollover, self.setup.retention(card.weight, days_left)
            )
            self.schedules[cid] = sched
            self.made.pop(cid, None)
            self.due.discard(cid)
            self.buckets[max(d + 1, self._day_of(sched.due))].append(cid)
        if taken:
            self.new_queue = [c for c in self.new_queue if c.card_id not in taken]

    def _answer(
        self, cid: int, sched: Schedule, t: datetime, rollover: datetime, retention: float
    ) -> Schedule:
        """One card answered Good at `t`, then at each learning step due before the rollover."""
        memo = self.memo
        sched = memo.answer(sched, Rating.GOOD, t, retention)
        at = t
        for _ in range(MAX_STEPS):
            if sched.state is CardState.REVIEW or sched.due >= rollover:
                break
            at = max(at, sched.due)
            sched = memo.answer(sched, Rating.GOOD, at, retention)
        window = self.setup.window
        if sched.state is CardState.REVIEW and window is not None:
            # as the adapter moves a Good answer: the day drawn for the passing grades
            # (room for two), a day after Hard's
            moved = exam.stretch_due(cid, sched.reps - 1, sched.due, at, window, 2)
            if moved is not None:
                sched = replace(sched, due=moved + timedelta(days=1))
        return sched

    def exam_recall(self) -> dict[int, float]:
        """Each simulated card's expected recall at the exam (0 for a card still new)."""
        recall: dict[int, float] = {}
        window = self.setup.window
        if window is not None:
            at_exam = window.exam_start + self.offset
            for cid, sched in self.schedules.items():
                if sched.memory is not None and sched.last_review is not None:
                    elapsed = (at_exam - sched.last_review).total_seconds() / 86400.0
                    recall[cid] = self.curve.retrievability_days(sched.memory.stability, elapsed)
        for c in self.new_queue:
            recall[c.card_id] = 0.0
        return recall


def _at(curve: fsrs_adapter.Curve, t: datetime) -> queue.Retrievability:
    """The curve's retrievability at `t` (bound now: the day loop moves `t`)."""
    return lambda stability, last: curve.retrievability(stability, last, t)


def card_seconds_new(times: budget.AnswerSeconds, learning_steps: int) -> float:
    return budget.card_seconds("new", None, times, learning_steps, 0)


def minutes(values: Sequence[float]) -> list[int]:
    return [math.ceil(v / 60.0) for v in values]
