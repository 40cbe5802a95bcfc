"""The only module that touches `fsrs`. It turns our Schedule values into fsrs Cards and back.

fsrs draws interval fuzz from the global `random()`. We run it with fuzzing off and apply the
same fuzz ranges (fsrs's own FUZZ_RANGES table) from an RNG seeded by the card's identity and
review count, so the same history always gives the same due date.

Two rules of Anki's are applied around fsrs (the "study-day rules"; `elapsed_days` given):
- Elapsed time is counted in study days, as Anki counts it. fsrs counts whole 24-hour days since
  the last review, so a card graduated at 10:41 and answered at 09:00 the next study day would
  get fsrs's same-day update. We hand fsrs a last review exactly `elapsed_days` days before the
  answer: a review on a later study day is never a same-day review, and answers within one
  study day (elapsed 0) keep fsrs's same-day handling.
- Passing intervals of a review are strictly ordered, Hard < Good < Easy: where fsrs gives equal
  days (or fuzz makes them equal), the higher grade gets a day more than the lower one (within
  the maximum interval). A learning card that graduates on both Good and Easy gets the same.
Review logs written before these rules (`elapsed_days` None) replay as they were written:
fsrs's 24-hour days, no ordering.

With an exam (`Policy.exam`), a review interval that would land after the exam day is brought
into the last stretch before it (core.exam.stretch_due); the policy is recorded with each
answer, so `check` replays it.
"""

from __future__ import annotations

import hashlib
import json
import random
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import lru_cache
from typing import Any, Protocol

from fsrs import Card as FsrsCard
from fsrs import Rating as FsrsRating
from fsrs import Scheduler
from fsrs import State as FsrsState
from fsrs.scheduler import DEFAULT_PARAMETERS, FUZZ_RANGES

from flashcore.core.errors import ClockError, ConfigError
from flashcore.core.exam import ExamWindow, stretch_interval
from flashcore.core.model import CardState, Memory, Rating, Schedule

DEFAULT_FSRS_PARAMETERS: tuple[float, ...] = tuple(DEFAULT_PARAMETERS)


class SchedulingSettings(Protocol):
    """What a policy reads of a profile's settings (`core.settings.Settings` is one); a protocol,
    so that settings, which checks fsrs parameters here, and this module do not import each
    other."""

    @property
    def fsrs_parameters(self) -> tuple[float, ...]: ...

    @property
    def maximum_interval(self) -> int: ...

    def learning_deltas(self) -> tuple[timedelta, ...]: ...

    def relearning_deltas(self) -> tuple[timedelta, ...]: ...


_TO_FSRS_STATE = {
    CardState.NEW: FsrsState.Learning,
    CardState.LEARNING: FsrsState.Learning,
    CardState.REVIEW: FsrsState.Review,
    CardState.RELEARNING: FsrsState.Relearning,
}
_FROM_FSRS_STATE = {
    FsrsState.Learning: CardState.LEARNING,
    FsrsState.Review: CardState.REVIEW,
    FsrsState.Relearning: CardState.RELEARNING,
}


def check_parameters(values: Sequence[float]) -> None:
    """Raise ConfigError when fsrs would refuse these parameters."""
    try:
        Scheduler(parameters=tuple(values), enable_fuzzing=False)
    except ValueError as exc:
        raise ConfigError(f"fsrs_parameters rejected: {exc}".replace("\n", "; ")) from None


@dataclass(frozen=True, slots=True)
class Policy:
    """What the scheduler needs of a profile, hashable so schedulers can be cached."""

    parameters: tuple[float, ...]
    learning_steps: tuple[timedelta, ...]
    relearning_steps: tuple[timedelta, ...]
    maximum_interval: int
    # The exam, when one is set: no review interval lands after it without a review in the
    # last stretch (core.exam.stretch_due). Recorded with each answer, so `check` replays it.
    exam: ExamWindow | None = None

    def to_config(self) -> dict[str, Any]:
        """A JSON-able description; equal policies give equal configs."""
        config: dict[str, Any] = {
            "parameters": list(self.parameters),
            "learning_steps": [d.total_seconds() for d in self.learning_steps],
            "relearning_steps": [d.total_seconds() for d in self.relearning_steps],
            "maximum_interval": self.maximum_interval,
        }
        if self.exam is not None:  # absent otherwise: configs from before exams keep digests
            config["exam_start"] = self.exam.exam_start.isoformat()
            config["stretch_start"] = self.exam.stretch_start.isoformat()
            config["stretch_days"] = self.exam.stretch_days
        return config

    def digest(self) -> str:
        text = json.dumps(self.to_config(), sort_keys=True)
        return hashlib.sha256(text.encode()).hexdigest()

    @classmethod
    def from_config(cls, config: dict[str, Any]) -> Policy:
        window = None
        if config.get("exam_start"):
            window = ExamWindow(
                exam_start=datetime.fromisoformat(config["exam_start"]),
                stretch_start=datetime.fromisoformat(config["stretch_start"]),
                stretch_days=int(config["stretch_days"]),
            )
        return cls(
            parameters=tuple(float(p) for p in config["parameters"]),
            learning_steps=tuple(timedelta(seconds=s) for s in config["learning_steps"]),
            relearning_steps=tuple(timedelta(seconds=s) for s in config["relearning_steps"]),
            maximum_interval=int(config["maximum_interval"]),
            exam=window,
        )

    @classmethod
    def from_settings(cls, settings: SchedulingSettings, exam: ExamWindow | None = None) -> Policy:
        return cls(
            parameters=settings.fsrs_parameters or DEFAULT_FSRS_PARAMETERS,
            learning_steps=settings.learning_deltas(),
            relearning_steps=settings.relearning_deltas(),
            maximum_interval=settings.maximum_interval,
            exam=exam,
        )


@lru_cache(maxsize=256)
def _scheduler(policy: Policy, retention: float) -> Scheduler:
    return Scheduler(
        parameters=policy.parameters,
        desired_retention=retention,
        learning_steps=policy.learning_steps,
        relearning_steps=policy.relearning_steps,
        maximum_interval=policy.maximum_interval,
        enable_fuzzing=False,
    )


def _to_fsrs(card_id: int, schedule: Schedule) -> FsrsCard:
    memory = schedule.memory
    step = schedule.step
    if schedule.state in (CardState.NEW, CardState.LEARNING, CardState.RELEARNING) and step is None:
        step = 0
    return FsrsCard(
        card_id=card_id,
        state=_TO_FSRS_STATE[schedule.state],
        step=None if schedule.state is CardState.REVIEW else step,
        stability=memory.stability if memory else None,
        difficulty=memory.difficulty if memory else None,
        due=schedule.due,
        last_review=schedule.last_review,
    )


def fuzz_range(interval_days: int, maximum_interval: int) -> tuple[int, int]:
    """Bounds of the fuzzed interval, from fsrs's FUZZ_RANGES (same rule as fsrs and Anki)."""
    delta = 1.0
    for band in FUZZ_RANGES:
        delta += band["factor"] * max(min(float(interval_days), band["end"]) - band["start"], 0.0)
    lo = max(2, round(interval_days - delta))
    hi = min(round(interval_days + delta), maximum_interval)
    return min(lo, hi), hi


def fuzzed_days(
    interval_days: int, card_id: int, reps: int, maximum_interval: int, minimum: int = 1
) -> int:
    """The interval after fuzz, drawn from an RNG seeded by card id and review count, and never
    below `minimum` (as Anki constrains it: the fuzz range is clamped to [minimum, maximum])."""
    minimum = min(minimum, maximum_interval)
    interval_days = max(minimum, min(interval_days, maximum_interval))
    if interval_days < 2.5:
        return interval_days
    lo, hi = fuzz_range(interval_days, maximum_interval)
    lo = max(minimum, min(lo, maximum_interval))
    hi = max(minimum, min(hi, maximum_interval))
    if lo == hi and 2 < hi < maximum_interval:
        hi = lo + 1  # a range clamped to one day by the minimum keeps some fuzz (Anki's rule)
    draw = random.Random(f"flashcore-fuzz:{card_id}:{reps}").random()
    # Uniform over the whole days lo..hi inclusive (as Anki draws it; fsrs's own rounding can
    # overshoot hi by one).
    return min(lo + int(draw * (hi - lo + 1)), hi, maximum_interval)


def answer(
    card_id: int,
    schedule: Schedule,
    rating: Rating,
    now: datetime,
    retention: float,
    policy: Policy,
    *,
    elapsed_days: int | None = None,
) -> Schedule:
    """The card's schedule after `rating` at `now`, scheduled for `retention`. Pure.

    `elapsed_days`: study days since the card's last review (0 for a new card); with it the
    study-day rules apply (see the module's docstring). None: fsrs's 24-hour days, as review
    logs written before those rules replay."""
    wanted = (rating,) if elapsed_days is None or rating is Rating.AGAIN else _PASSING[: rating - 1]
    return _outcomes(card_id, schedule, wanted, now, retention, policy, elapsed_days)[rating]


def preview(
    card_id: int,
    schedule: Schedule,
    now: datetime,
    retention: float,
    policy: Policy,
    *,
    elapsed_days: int | None = None,
) -> dict[Rating, Schedule]:
    """All four outcomes at once; nothing is written. Each equals what `answer` gives."""
    return _outcomes(card_id, schedule, tuple(Rating), now, retention, policy, elapsed_days)


_PASSING = (Rating.HARD, Rating.GOOD, Rating.EASY)


def _outcomes(
    card_id: int,
    schedule: Schedule,
    ratings: Sequence[Rating],
    now: datetime,
    retention: float,
    policy: Policy,
    elapsed_days: int | None,
) -> dict[Rating, Schedule]:
    now = now.astimezone(UTC)
    if schedule.last_review is not None and now < schedule.last_review:
        raise ClockError(
            f"the clock ({now.isoformat()}) is before this card's last review "
            f"({schedule.last_review.isoformat()}); refusing to record"
        )
    scheduler = _scheduler(policy, round(retention, 4))
    before = _to_fsrs(card_id, schedule)
    if elapsed_days is not None and before.last_review is not None:
        before.last_review = now - timedelta(days=elapsed_days)
    lapsed = schedule.state is CardState.REVIEW
    out: dict[Rating, Schedule] = {}
    minimum = 1  # the next passing grade's fewest days (study-day rules)
    for rating in sorted(ratings):
        card, _ = scheduler.review_card(before, FsrsRating(int(rating)), now)
        state = _FROM_FSRS_STATE[card.state]
        due = card.due
        if state is CardState.REVIEW:
            days = (card.due - now).days
            ordered = elapsed_days is not None and rating is not Rating.AGAIN
            floor = minimum if ordered else 1
            if ordered:
                days = fuzzed_days(
                    days, card_id, schedule.reps, policy.maximum_interval, minimum=minimum
                )
            else:
                days = fuzzed_days(days, card_id, schedule.reps, policy.maximum_interval)
            if policy.exam is not None:  # no interval past the exam without the last stretch
                # Passing grades share the day drawn, each a day after the one below: room
                # for two more (Hard < Good < Easy still holds; in a stretch shorter than
                # three days the order wins over the stretch).
                room = 2 if ordered else 0
                moved = stretch_interval(card_id, schedule.reps, now, days, policy.exam, room)
                if moved is not None:
                    days = max(moved, floor)
            if ordered:
                minimum = days + 1
            due = now + timedelta(days=days)
        assert card.stability is not None and card.difficulty is not None
        out[rating] = Schedule(
            state=state,
            due=due,
            step=card.step,
            memory=Memory(stability=card.stability, difficulty=card.difficulty),
            last_review=now,
            reps=schedule.reps + 1,
            lapses=schedule.lapses + (1 if lapsed and rating is Rating.AGAIN else 0),
        )
    return out


@dataclass(frozen=True, slots=True)
class PastAnswer:
    rating: Rating
    reviewed_at: datetime
    retention: float
    policy: Policy | None = None  # the scheduler this answer used; None: the replay's default
    elapsed_days: int | None = None  # as the answer gave it (None: before the study-day rules)


def replay(
    card_id: int,
    created_due: datetime,
    history: Iterable[PastAnswer],
    policy: Policy,
    *,
    start: Schedule | None = None,
) -> Schedule:
    """The schedule a card must have after exactly this history (used by `check`), from new or
    from `start` (a card whose earlier history Anki scheduled: its imported anchor)."""
    schedule = start or Schedule(state=CardState.NEW, due=created_due)
    for past in history:
        used = past.policy or policy
        schedule = answer(
            card_id, schedule, past.rating, past.reviewed_at, past.retention, used,
            elapsed_days=past.elapsed_days,
        )  # fmt: skip
    return schedule


@dataclass(frozen=True, slots=True)
class Curve:
    """The forgetting curve's constants for a parameter set, read from fsrs's own scheduler."""

    factor: float
    decay: float

    def retrievability(self, stability: float, last_review: datetime, now: datetime) -> float:
        """Same result as `Scheduler.get_card_retrievability` (whole elapsed days)."""
        elapsed = max(0, (now - last_review).days)
        return float((1 + self.factor * elapsed / stability) ** self.decay)

    def retrievability_days(self, stability: float, elapsed_days: float) -> float:
        return float((1 + self.factor * max(0.0, elapsed_days) / stability) ** self.decay)


def curve(policy: Policy) -> Curve:
    scheduler = _scheduler(policy, 0.9)
    return Curve(factor=float(scheduler._FACTOR), decay=float(scheduler._DECAY))


def retrievability_by_fsrs(policy: Policy, schedule: Schedule, now: datetime) -> float:
    """fsrs's own computation, for tests and `check`."""
    return float(_scheduler(policy, 0.9).get_card_retrievability(_to_fsrs(0, schedule), now))
