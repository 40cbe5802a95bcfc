"""The daily time budget: when today's queue takes longer than the budget, the overflow is
postponed (it stays due, and comes first tomorrow by its own priority), lowest exam points at
risk first, SuperMemo-style. Pure: entries and their estimated seconds in, kept and postponed
out.

What goes first, in tiers (a tier is emptied before the next is touched):
1. new cards of no weak topic, the last in introduction order first (but in the exam's buffer,
   where a card never seen is all of its exam points at risk, they rank with the reviews as
   the most at risk);
2. reviews of no weak topic, the least forgotten first (lowest `review_priority`, i.e. the
   smallest chance that the card is forgotten today);
3. cards of weak topics (a qbank miss or a weak self-assessment system), lowest priority first;
4. cards whose own question id was missed, lowest priority first.
Learning and relearning steps are never postponed: they are in the middle of being learned.
So weak topics and missed questions are never the first to go.

A card's time is estimated from the student's own answer times (medians of the last 30 days by
the state the card was in): a new card costs its first answer and the learning answers a new
card takes this student (from the log; else one per step after the first), a review costs one
answer plus, with the chance it is forgotten (1 - R), the relearning answers a lapse takes.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from enum import IntEnum

from flashcore.core import reasons
from flashcore.core.queue import Entry
from flashcore.core.weakness import MISSED_QUESTION


@dataclass(frozen=True, slots=True)
class AnswerSeconds:
    """How long one answer takes this student, by the state the card is in."""

    new: float = 20.0
    learning: float = 15.0
    review: float = 10.0
    relearning: float = 15.0
    measured: bool = False  # from the student's own log (else the defaults above)
    # Learning answers per new card and relearning answers per lapse, as the log shows them
    # (None: one per step after the first answer; one per relearning step).
    steps_per_new: float | None = None
    steps_per_lapse: float | None = None

    def to_json(self) -> dict[str, object]:
        return {
            "new": round(self.new, 1),
            "learning": round(self.learning, 1),
            "review": round(self.review, 1),
            "relearning": round(self.relearning, 1),
            "steps_per_new": None if self.steps_per_new is None else round(self.steps_per_new, 2),
            "steps_per_lapse": None
            if self.steps_per_lapse is None
            else round(self.steps_per_lapse, 2),
            "measured": self.measured,
        }


def card_seconds(
    kind: str,
    retrievability: float | None,
    times: AnswerSeconds,
    learning_steps: int,
    relearning_steps: int,
) -> float:
    """Expected seconds a queued card takes today, its (re)learning steps included: a new card
    its first answer and its learning answers (as many as the log shows a new card takes, else
    one per step after the first), a review one answer and, with chance 1 - R, its relearning
    answers."""
    if kind == "new":
        steps = times.steps_per_new
        if steps is None:
            steps = max(0, learning_steps - 1)
        return times.new + steps * times.learning
    if kind in ("learning", "ahead"):
        return times.learning
    forgotten = 1.0 - (retrievability if retrievability is not None else 0.0)
    lapse = times.steps_per_lapse if times.steps_per_lapse is not None else relearning_steps
    return times.review + forgotten * lapse * times.relearning


class Tier(IntEnum):
    """Postponed in this order (lowest first); learning steps are never postponed."""

    NEW = 0
    REVIEW = 1
    WEAK = 2
    MISSED = 3
    LEARNING = 9


def tier_of(entry: Entry, weight: float) -> Tier:
    if entry.kind in ("learning", "ahead"):
        return Tier.LEARNING
    if weight >= MISSED_QUESTION:
        return Tier.MISSED
    if weight > 0:
        return Tier.WEAK
    return Tier.NEW if entry.kind == "new" else Tier.REVIEW


@dataclass(frozen=True, slots=True)
class Postponed:
    """A card today's budget leaves for later, and why."""

    card_id: int
    tier: Tier
    retrievability: float | None
    seconds: float

    def why(self, budget_minutes: float) -> reasons.Postponed:
        if self.tier is Tier.NEW:
            return reasons.Postponed(reasons.Postponement.NEW_FIRST, budget_minutes)
        if self.tier is Tier.REVIEW:
            return reasons.Postponed(
                reasons.Postponement.AT_RISK, budget_minutes, self.retrievability
            )
        return reasons.Postponed(reasons.Postponement.WEAK_LAST, budget_minutes)

    def reason(self, budget_minutes: float) -> str:
        return self.why(budget_minutes).text()


@dataclass(frozen=True, slots=True)
class Cut:
    kept: tuple[Entry, ...]
    postponed: tuple[Postponed, ...]
    kept_seconds: float
    postponed_seconds: float


def cut(
    entries: Sequence[Entry],
    seconds: Callable[[Entry], float],
    weight: Callable[[Entry], float],
    budget_seconds: float,
    value: Callable[[Entry], float] | None = None,
    new_value: float | None = None,
) -> Cut:
    """Keep today's entries (in their order) within `budget_seconds`; postpone the overflow in
    tier order. `value` (default: the entry's queue priority) ranks a tier's reviews: the lowest
    goes first. `new_value`: new cards rank among the reviews with this value instead of going
    first (in the exam's buffer a card never seen is all of its exam points at risk, a review
    only its chance of being forgotten). Learning steps stay even when they alone exceed the
    budget."""
    costs = [seconds(e) for e in entries]
    total = sum(costs)
    if total <= budget_seconds:
        return Cut(tuple(entries), (), total, 0.0)
    rank = value or (lambda e: e.priority)
    order: list[tuple[int, float, int]] = []
    for i, e in enumerate(entries):
        tier = tier_of(e, weight(e))
        if tier is Tier.LEARNING:
            continue
        # new cards: the last introduced goes first; reviews: the lowest value first
        within = -i if e.kind == "new" else rank(e)
        if tier is Tier.NEW and new_value is not None:
            tier, within = Tier.REVIEW, new_value - i * 1e-9
        order.append((int(tier), within, i))
    order.sort()
    dropped: set[int] = set()
    postponed: list[Postponed] = []
    for tier_number, _within, i in order:
        if total <= budget_seconds:
            break
        e = entries[i]
        dropped.add(i)
        total -= costs[i]
        postponed.append(Postponed(e.card_id, Tier(tier_number), e.retrievability, costs[i]))
    kept = tuple(e for i, e in enumerate(entries) if i not in dropped)
    return Cut(kept, tuple(postponed), total, sum(p.seconds for p in postponed))
