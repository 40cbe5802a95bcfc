"""Why a card is in today's queue, as values: what brought it (a learning step, a due review,
a pull-forward, a new card) and what ranks or keeps it (a weak topic, a missed question, the
exam's last stretch, a time budget). Text is made only where it is shown: `Reason.text()` is
called by the edges (CLI, TUI, JSON output, the review log), never tested by the layers below.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date
from enum import StrEnum
from typing import TYPE_CHECKING

from flashcore.core import first_answers, weakness
from flashcore.core.text import REASON_CHARS, clip
from flashcore.core.weakness import MissedQuestion, TopicScore

if TYPE_CHECKING:  # named by AssessmentArea's fields only (made where assessments are read)
    from flashcore.core.assessment import AreaKind, Band


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
class TopicEvidence:
    """What made a topic weak at its last weight refresh, from its own answers: its misses (in
    all, and `recent_misses` within `half_life_days`), how many days before the refresh the last
    one was (`last_miss_days`, once they have aged), its misses per card against the student's
    average (`ratio`, when scheduling compared it), how much more often than FSRS predicted
    its cards were forgotten, relative to the student's average (`forgetting`), and, for a
    topic with new cards left, its cards' failed first answers (`first`: failed, answered,
    against your average: core.first_answers) when they weighed it."""

    misses: int
    recent_misses: int
    half_life_days: float
    last_miss_days: int | None = None
    ratio: float | None = None
    forgetting: float | None = None
    first: tuple[int, int, float] | None = None
    # the others' share of right answers on its misses that gave one (core.difficulty: the
    # misses were weighed by it); None: none did
    others: float | None = None

    @classmethod
    def of(cls, score: TopicScore, half_life_days: float, today: date) -> TopicEvidence:
        """The evidence behind a topic's score on the refresh of `today`."""
        last = (today - score.last_miss).days if score.last_miss is not None else None
        return cls(
            score.misses, score.recent_misses, half_life_days, last, score.ratio, score.forgetting,
            score.first, score.others,
        )  # fmt: skip

    def text(self, topic: str) -> str:
        """`weak topic: X — 6 misses in 14 days`, or, once they have aged, when the last one was;
        with `(2.4× your average per card)` and `cards forgotten 1.6× as often as predicted`, or
        `first answers failed 2 of 3, 1.7× your average: its new cards come early`; misses
        weighed by the others' share of right answers say it (`, on questions 81% of others
        get right`)."""
        forgets = ""
        if self.forgetting is not None and self.forgetting > 1.0:
            forgets = f"cards forgotten {self.forgetting:.1f}× as often as predicted"
        if self.first is not None:
            failed, answered, times = self.first
            first = f"first answers failed {failed} of {answered}, {times:.1f}× your average: " + (
                "a share of each day's new cards goes to it"
                if first_answers.MODE == "share"
                else "its new cards come early"
            )
            forgets = f"{forgets}; {first}" if forgets else first
        if not self.misses:
            return f"weak topic: {topic} — {forgets or 'no misses'}"
        extra = f"; {forgets}" if forgets else ""
        relative = f" ({self.ratio:.1f}× your average per card)" if self.ratio is not None else ""
        if self.others is not None:
            relative = f", on questions {round(100 * self.others)}% of others get right{relative}"
        if self.recent_misses:
            days = round(self.half_life_days)
            return f"weak topic: {topic} — {_misses(self.recent_misses)} in {days} days" + (
                relative + extra
            )
        last = self.last_miss_days
        ago = f", the last {last} days ago" if last is not None else ""
        plural = "miss" if self.misses == 1 else "misses"
        return f"weak topic: {topic} — {self.misses} older {plural}{ago}{relative}{extra}"


def _misses(n: int) -> str:
    return f"{n} miss" if n == 1 else f"{n} misses"


@dataclass(frozen=True, slots=True)
class AssessedArea:
    """A self-assessment's weak system or discipline that weights every topic in it: the area,
    the band its score report gave it, and the assessment's name and day."""

    kind: AreaKind
    area: str
    band: Band
    assessment: str
    taken_on: date

    def text(self) -> str:
        """`weak system: Cardiovascular System — lower on NBME 31 (2026-12-20)`."""
        on = f"{self.assessment} ({self.taken_on.isoformat()})"
        return f"weak {self.kind.value}: {self.area} — {self.band.value} on {on}"


# Why a topic is weak: its own answers, a self-assessment's area, or the text an older version
# recorded that schema 0014 could not read back as data (shown as it was until the next weight
# refresh replaces it).
Explanation = TopicEvidence | AssessedArea | str


@dataclass(frozen=True, slots=True)
class WeakTopic:
    """The weak topic (or self-assessed system or discipline) that weights a card: its path and
    why its weight refresh found it weak (None: its weight is 0)."""

    topic: str
    why: Explanation | None = None

    @property
    def explanation(self) -> str:
        """The explanation as the student reads it (`weak topic: … — 6 misses in 14 days`); ""
        when there is none. At most REASON_CHARS characters, as it has always been shown."""
        if self.why is None or isinstance(self.why, str):
            return self.why or ""
        text = self.why.text(self.topic) if isinstance(self.why, TopicEvidence) else self.why.text()
        return clip(text, REASON_CHARS)


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
    probe: bool = False  # NEW: one of its topic's first cards, given a share of the new cards
    # NEW: in introduction order although its topic is weak: every new card fits before the exam
    in_order: bool = False

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
            if self.basis is Basis.NEW and self.in_order:
                text = f"{IN_ORDER_TEXT}; {weak}"
            else:
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
            return PROBE_TEXT if self.probe else "new"
        if self.pulled is not None:
            return self.pulled.text()
        if self.overdue_days <= 0:
            return "due today"
        return "due yesterday" if self.overdue_days == 1 else f"due {self.overdue_days} days ago"


LEARNING_STEP = Reason(Basis.LEARNING)
RELEARNING_STEP = Reason(Basis.RELEARNING)
NEW_CARD = Reason(Basis.NEW)


# A probe card (core.introduction): one of its topic's first cards, which take every
# PROBE_SLOT-th new card of the day among weak topics' new cards so that every topic is seen early.
PROBE_TEXT = (
    "new; one of its topic's first cards (a share of each day's new cards goes to topics' first "
    "cards, so every topic is seen early)"
)
NEW_PROBE = Reason(Basis.NEW, probe=True)
# A weak topic's new card while every new card fits before the exam (services.queue.weak_first):
# it keeps its place in the introduction order; its reviews still follow the topic's weight.
IN_ORDER_TEXT = "new, in deck order (every new card fits before the exam)"


def learning(relearning: bool) -> Reason:
    return RELEARNING_STEP if relearning else LEARNING_STEP
