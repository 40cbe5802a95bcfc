"""The exam: its date, the daily time budget, the buffer before it, and the rules that follow
from them. Pure: today and instants are arguments.

- New cards: every card in scope is seen by the buffer (default 7 days before the exam): the
  plan needs `ceil(new cards left / days until the buffer)` new cards a day.
- The last stretch (the buffer, at least one day): no review interval lands after the exam
  without a review inside it. An answer before the stretch whose next review would fall after
  the exam is due on a day of the stretch instead (the day drawn from the card's id and review
  count, so the stretch's load is spread and the same history gives the same day).
- Retention toward the exam: `retention_plan` lists (days left, retention) steps chosen by the
  solver (`flashcore plan --solve`, fsrs-rs's optimal retention with exam-day recall per minute
  as its target); with that many days left or fewer, cards are scheduled at least at that
  retention.
"""

from __future__ import annotations

import math
import random
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from flashcore.core import studyday
from flashcore.core.errors import UsageError

MINUTES_RANGE = (1, 1440)
BUFFER_RANGE = (0, 60)
DEFAULT_MINUTES = 120
DEFAULT_BUFFER = 7
LATEST_EXAM = date(2099, 12, 31)


@dataclass(frozen=True, slots=True)
class Exam:
    """A profile's exam and its daily budget."""

    exam_date: date
    minutes_per_day: int = DEFAULT_MINUTES
    buffer_days: int = DEFAULT_BUFFER
    # (days left, retention) steps from the solver, fewest days first; empty: not solved yet.
    retention_plan: tuple[tuple[int, float], ...] = ()
    solved_on: date | None = None

    def days_left(self, today: date) -> int:
        """Study days from today to the exam day (0 on the exam day)."""
        return (self.exam_date - today).days

    def passed(self, today: date) -> bool:
        """Whether the exam day is behind: from the next study day on the exam changes
        nothing (no retention raised, no new cards planned, no daily budget) until the
        student sets the next one or clears it."""
        return today > self.exam_date

    @property
    def buffer_start(self) -> date:
        """The first day of the buffer: no new cards from this day on."""
        return self.exam_date - timedelta(days=self.buffer_days)

    @property
    def stretch_days(self) -> int:
        """The last stretch before the exam: the buffer, at least one day."""
        return max(1, self.buffer_days)

    @property
    def stretch_start(self) -> date:
        return self.exam_date - timedelta(days=self.stretch_days)

    def new_days_left(self, today: date) -> int:
        """Days, today included, on which new cards can still be introduced."""
        return max(0, (self.buffer_start - today).days)

    def to_json(self) -> dict[str, object]:
        return {
            "exam_date": self.exam_date.isoformat(),
            "minutes_per_day": self.minutes_per_day,
            "buffer_days": self.buffer_days,
            "retention_plan": [[d, r] for d, r in self.retention_plan],
            "solved_on": self.solved_on.isoformat() if self.solved_on else None,
        }


def check_exam(exam_date: date, minutes: int, buffer_days: int, today: date) -> None:
    """UsageError (one line) when the exam cannot be planned for."""
    if exam_date <= today:
        when = "today" if exam_date == today else "in the past"
        raise UsageError(
            f"exam date {exam_date.isoformat()} is {when} (today is {today.isoformat()}); "
            "give a later date; nothing was changed"
        )
    if exam_date > LATEST_EXAM:
        raise UsageError(f"exam date {exam_date.isoformat()} is after 2099; nothing was changed")
    lo, hi = MINUTES_RANGE
    if not lo <= minutes <= hi:
        raise UsageError(
            f"--minutes-per-day {minutes} is out of range (use {lo} to {hi}); nothing was changed"
        )
    lo, hi = BUFFER_RANGE
    if not lo <= buffer_days <= hi:
        raise UsageError(
            f"--buffer-days {buffer_days} is out of range (use {lo} to {hi}); nothing was changed"
        )


def new_per_day_needed(new_left: int, today: date, exam: Exam) -> int:
    """New cards a day that introduce every card left before the buffer (all of them today
    when the buffer has begun; none once the exam day is behind)."""
    if new_left <= 0 or exam.passed(today):
        return 0
    days = exam.new_days_left(today)
    return new_left if days <= 0 else math.ceil(new_left / days)


def deck_done_by(exam: Exam, new_left: int, new_per_day: int, today: date) -> bool:
    """Whether the `new_left` new cards are all introduced before the exam day at
    `new_per_day` a day (today included). Then the order they come in decides no topic's
    coverage, only how long before the exam each is learned: weak topics first would learn
    them earliest, so they spend the most reviews and reach the exam the furthest from their
    last one (the simulated students' weakest quarter of topics lost to plain FSRS by it;
    README, "The weakness model")."""
    return new_left <= max(0, new_per_day) * max(0, exam.days_left(today))


@dataclass(frozen=True, slots=True)
class ExamWindow:
    """The exam as the scheduler sees it: instants, in UTC."""

    exam_start: datetime  # the exam day's study day begins
    stretch_start: datetime  # the last stretch's first study day begins
    stretch_days: int


def window(exam: Exam, zone: ZoneInfo, start_hour: int) -> ExamWindow:
    return ExamWindow(
        exam_start=studyday.day_start_of(exam.exam_date, zone, start_hour),
        stretch_start=studyday.day_start_of(exam.stretch_start, zone, start_hour),
        stretch_days=exam.stretch_days,
    )


def stretch_due(
    card_id: int, reps: int, due: datetime, now: datetime, w: ExamWindow, room: int = 0
) -> datetime | None:
    """Where an answer's next review goes when it would land after the exam: a day of the last
    stretch (None: leave `due` as it is). Only for an answer given before the stretch; the day
    is at least one day after `now`, drawn from the card's id and review count, and leaves
    `room` later days of the stretch when it can (for higher grades, which come later)."""
    if due < w.exam_start or now >= w.stretch_start:
        return None
    first = 0
    while first < w.stretch_days and w.stretch_start + timedelta(days=first) < now + timedelta(
        days=1
    ):
        first += 1
    if first >= w.stretch_days:
        return None
    draw = random.Random(f"flashcore-exam:{card_id}:{reps}").random()
    span = max(1, w.stretch_days - first - room)
    day = first + int(draw * span)
    return w.stretch_start + timedelta(days=min(day, w.stretch_days - 1))


def stretch_interval(
    card_id: int, reps: int, now: datetime, days: int, w: ExamWindow, room: int = 0
) -> int | None:
    """`stretch_due` in whole days from `now`: the fewest days that reach the chosen stretch
    day (its study day starts at most a day before the due, so the due falls inside it), or
    None when the interval is left as it is."""
    moved = stretch_due(card_id, reps, now + timedelta(days=days), now, w, room)
    if moved is None:
        return None
    return max(1, math.ceil((moved - now) / timedelta(days=1)))


def exam_retention(days_left: int, plan: Sequence[tuple[int, float]]) -> float | None:
    """The retention the solver chose for this many days left, or None (no step applies;
    after the exam day none does)."""
    if days_left < 0:
        return None
    for horizon, retention in plan:
        if days_left <= horizon:
            return retention
    return None


def retention_toward(retention: float, days_left: int, plan: Sequence[tuple[int, float]]) -> float:
    """A card's retention with the exam's steps: raised to the step for this many days left,
    never lowered."""
    step = exam_retention(days_left, plan)
    return retention if step is None else max(retention, step)
