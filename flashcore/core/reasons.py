"""Why a card is in today's queue, as values: what brought it (a learning step, a due review,
a pull-forward, a new card) and what ranks or keeps it (a weak topic, a missed question, the
exam's last stretch, a time budget). Text is made only where it is shown: `Reason.text()` is
called by the edges (CLI, TUI, JSON output, the review log), never tested by the layers below.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date
from enum import StrEnum

from flashcore.core import weakness
from flashcore.core.weakness import MissedQuestion


class Basis(StrEnum):
    """What brought the card into today's queue."""

    LEARNING = "learning"  # a learning step (due, or within the learn-ahead window)
    RELEARNING = "relearning"  # a relearning step after a lapse
    DUE = "due"  # a review due today or overdue
    PULLED_FORWARD = "pulled forward"  # a review not yet due that fresh misses brought in
    NEW = "new"


class PullKind(StrEnum):
    """Why fresh misses pulled a review forward (stored with the pull-forward)."""

    QUESTION = "question"  # its note lists a missed question
    TOPIC = "topic"  # among the least-remembered reviews of a topic with fresh misses


@dataclass(frozen=True, slots=True)
class PulledForward:
    """A pull-forward: a missed question (`subject` its `source:qid`, `on` the miss's day) or a
    topic's fresh misses (`subject` the topic's path, `misses` how many)."""

    kind: PullKind
    subject: str
    on: date | None = None
    misses: int = 0

    def text(self) -> str:
        if self.kind is PullKind.QUESTION:
            on = self.on.isoformat() if self.on is not None else "?"
            return f"pulled forward after missing {self.subject} on {on}"
        plural = "miss" if self.misses == 1 else "misses"
        text = f"pulled forward after {self.misses} {plural} on {self.subject}"
        if weakness.PULL_FORWARD_WHERE == "forgetting":  # what lets a topic's misses pull
            text += ", whose cards you forget more than predicted"
        return text


@dataclass(frozen=True, slots=True)
class WeakTopic:
    """The weak topic (or self-assessed system or discipline) that weights a card: its path
    and the explanation its weight refresh recorded (`weak topic: … — 6 misses in 14 days`)."""

    topic: str
    explanation: str


class Postponement(StrEnum):
    """Why a time budget left a card for later (see core.budget.cut)."""

    NEW_FIRST = "new"  # a new card: new cards go first
    AT_RISK = "review"  # least exam points at risk
    WEAK_LAST = "weak"  # every card outside weak topics went first


@dataclass(frozen=True, slots=True)
class Postponed:
    """A card over today's budget of `minutes`; `retrievability` of a review ranked by risk."""

    why: Postponement
    minutes: float
    retrievability: float | None = None

    def text(self) -> str:
        over = f"postponed: over today's {self.minutes:g}-minute budget"
        if self.why is Postponement.NEW_FIRST:
            return f"{over} (new cards go first)"
        if self.why is Postponement.AT_RISK:
            if self.retrievability is None:  # a new card ranked with the reviews (the buffer)
                return f"{over} (least exam points at risk)"
            return f"{over} (least exam points at risk: recall {self.retrievability:.2f})"
        return f"{over} (every card outside weak topics went first)"


@dataclass(frozen=True, slots=True)
class Reason:
    """Why one card is where it is in today's queue."""

    basis: Basis
    overdue_days: int = 0  # DUE: whole days past due at the study day's start (0: due today)
    pulled: PulledForward | None = None  # PULLED_FORWARD: which misses pulled it
    missed: MissedQuestion | None = None  # a missed question its note lists (ranks it first)
    weak: WeakTopic | None = None  # the weak topic that weights it (without a missed question)
    exam_day: date | None = None  # a review in the exam's last stretch
    postponed: Postponed | None = None  # a time budget leaves it for later

    @property
    def pulled_by_question(self) -> bool:
        return self.pulled is not None and self.pulled.kind is PullKind.QUESTION

    def with_missed(self, missed: MissedQuestion) -> Reason:
        return replace(self, missed=missed)

    def with_weak(self, weak: WeakTopic) -> Reason:
        return replace(self, weak=weak)

    def text(self) -> str:
        """The reason as the student reads it (`due` and the reviewer)."""
        text = self._basis_text()
        if self.missed is not None:
            if not self.pulled_by_question:  # the pull-forward names the question already
                missed = self.missed.text()
                text = f"new; {missed}" if self.basis is Basis.NEW else f"{missed}; {text}"
        elif self.weak is not None and self.pulled is None:
            weak = self.weak.explanation
            text = f"new; {weak}" if self.basis is Basis.NEW else f"{weak}; {text}"
        if self.exam_day is not None:
            text = f"due before the exam on {self.exam_day.isoformat()}; {text}"
        if self.postponed is not None:
            text = f"{self.postponed.text()}; {text}"
        return text

    def _basis_text(self) -> str:
        if self.basis is Basis.LEARNING:
            return "learning step"
        if self.basis is Basis.RELEARNING:
            return "relearning after a lapse"
        if self.basis is Basis.NEW:
            return "new"
        if self.pulled is not None:
            return self.pulled.text()
        if self.overdue_days <= 0:
            return "due today"
        return "due yesterday" if self.overdue_days == 1 else f"due {self.overdue_days} days ago"


LEARNING_STEP = Reason(Basis.LEARNING)
RELEARNING_STEP = Reason(Basis.RELEARNING)
NEW_CARD = Reason(Basis.NEW)


def learning(relearning: bool) -> Reason:
    return RELEARNING_STEP if relearning else LEARNING_STEP
