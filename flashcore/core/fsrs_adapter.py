"""The only module that touches `fsrs`. It turns our Schedule values into fsrs Cards and back.

fsrs draws interval fuzz from the global `random()`. We run it with fuzzing off and apply the
same fuzz ranges (fsrs's own FUZZ_RANGES table) from an RNG seeded by the card's identity and
review count, so the same history always gives the same due date.
"""

from __future__ import annotations

import hashlib
import json
import random
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import lru_cache
from typing import Any

from fsrs import Card as FsrsCard
from fsrs import Rating as FsrsRating
from fsrs import Scheduler
from fsrs import State as FsrsState
from fsrs.scheduler import DEFAULT_PARAMETERS, FUZZ_RANGES

from flashcore.core.errors import ClockError, ConfigError
from flashcore.core.exam import ExamWindow
from flashcore.core.model import CardState, Memory, Rating, Schedule
from flashcore.core.settings import Settings

DEFAULT_FSRS_PARAMETERS: tuple[float, ...] = tuple(DEFAULT_PARAMETERS)

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
    def from_settings(cls, settings: Settings, exam: ExamWindow | None = None) -> Policy:
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


def fuzzed_days(interval_days: int, card_id: int, reps: int, maximum_interval: int) -> int:
    """The interval after fuzz, drawn from an RNG seeded by card id and review count."""
    if interval_days < 2.5:
        return interval_days
    lo, hi = fuzz_range(interval_days, maximum_interval)
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
) -> Schedule:
    """The card's schedule after `rating` at `now`, scheduled for `retention`. Pure."""
    now = now.astimezone(UTC)
    if schedule.last_review is not None and now < schedule.last_review:
        raise ClockError(
            f"the clock ({now.isoformat()}) is before this card's last review "
            f"({schedule.last_review.isoformat()}); refusing to record"
        )
    scheduler = _scheduler(policy, round(retention, 4))
    card, _ = scheduler.review_card(_to_fsrs(card_id, schedule), FsrsRating(int(rating)), now)
    state = _FROM_FSRS_STATE[card.state]
    due = card.due
    if state is CardState.REVIEW:
        days = (card.due - now).days
        due = now + timedelta(
            days=fuzzed_days(days, card_id, schedule.reps, policy.maximum_interval)
        )
    assert card.stability is not None and card.difficulty is not None
    lapsed = schedule.state is CardState.REVIEW and rating is Rating.AGAIN
    return Schedule(
        state=state,
        due=due,
        step=card.step,
        memory=Memory(stability=card.stability, difficulty=card.difficulty),
        last_review=now,
        reps=schedule.reps + 1,
        lapses=schedule.lapses + (1 if lapsed else 0),
    )


def preview(
    card_id: int, schedule: Schedule, now: datetime, retention: float, policy: Policy
) -> dict[Rating, Schedule]:
    """All four outcomes at once; nothing is written."""
    return {r: answer(card_id, schedule, r, now, retention, policy) for r in Rating}


@dataclass(frozen=True, slots=True)
class PastAnswer:
    rating: Rating
    reviewed_at: datetime
    retention: float
    policy: Policy | None = None  # the scheduler this answer used; None: the replay's default


def replay(
    card_id: int, created_due: datetime, history: Iterable[PastAnswer], policy: Policy
) -> Schedule:
    """The schedule a card must have after exactly this history (used by `check`)."""
    schedule = Schedule(state=CardState.NEW, due=created_due)
    for past in history:
        used = past.policy or policy
        schedule = answer(card_id, schedule, past.rating, past.reviewed_at, past.retention, used)
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
