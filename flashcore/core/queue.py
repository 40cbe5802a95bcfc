"""Today's queue: what to study now, in what order, and why. Pure: rows in, ordered entries out.

Order: learning cards that are due; then reviews by priority; then new cards; and, when nothing
else is left, learning cards due within the learn-ahead window (Anki's rule).
Default review priority is the lowest retrievability first; the weakness model multiplies it.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from flashcore.core.model import CardState

NEW, LEARNING, REVIEW, RELEARNING = (int(s) for s in CardState)


@dataclass(frozen=True, slots=True)
class Candidate:
    """The compact scheduling columns of one card, as the queue needs them."""

    card_id: int
    note_id: int
    state: int
    due: datetime
    stability: float | None
    last_review: datetime | None
    weight: float = 0.0
    pulled: str | None = None  # reason, when a weak topic pulled this card forward today


@dataclass(frozen=True, slots=True)
class Entry:
    card_id: int
    note_id: int
    state: int
    due: datetime
    retrievability: float | None
    priority: float
    reason: str
    kind: str  # "learning", "review", "new", "ahead"


@dataclass(frozen=True, slots=True)
class Limits:
    new_left: int
    reviews_left: int
    new_ignores_review_limit: bool = False
    bury_siblings: bool = True
    learn_ahead: timedelta = timedelta(minutes=20)


@dataclass(slots=True)
class Counts:
    new: int = 0
    learning: int = 0
    review: int = 0

    @property
    def total(self) -> int:
        return self.new + self.learning + self.review


@dataclass(frozen=True, slots=True)
class Queue:
    entries: tuple[Entry, ...]
    counts: Counts = field(default_factory=Counts)


Retrievability = Callable[[float, datetime], float]
WeakReason = Callable[[int], str | None]


def describe_due(due: datetime, now: datetime, day_start: datetime) -> str:
    if due >= day_start:
        return "due today"
    days = max(1, (day_start - due).days + (1 if (day_start - due) % timedelta(days=1) else 0))
    return "due yesterday" if days == 1 else f"due {days} days ago"


def review_priority(retrievability: float, weight: float) -> float:
    """Forgetting × weakness: a weak topic's cards rank ahead, so a limit cuts them last."""
    return (1.0 - retrievability) * (1.0 + weight)


def build(
    candidates: Iterable[Candidate],
    new_cards: Iterable[Candidate],
    *,
    now: datetime,
    day_start: datetime,
    rollover: datetime,
    limits: Limits,
    retrievability: Retrievability,
    weak_reason: WeakReason = lambda card_id: None,
    limit: int | None = None,
) -> Queue:
    """Order today's cards. `candidates` are non-new cards due before the rollover (or within
    the learn-ahead window); `new_cards` are new cards, already in introduction order."""
    learning: list[Entry] = []
    ahead: list[Entry] = []
    reviews: list[Entry] = []
    ahead_until = now + limits.learn_ahead
    for c in candidates:
        if c.state in (LEARNING, RELEARNING):
            reason = "relearning after a lapse" if c.state == RELEARNING else "learning step"
            if c.due <= now:
                learning.append(
                    Entry(c.card_id, c.note_id, c.state, c.due, None, 0.0, reason, "learning")
                )
            elif c.due <= ahead_until:
                ahead.append(
                    Entry(c.card_id, c.note_id, c.state, c.due, None, 0.0, reason, "ahead")
                )
            continue
        if c.due >= rollover and c.pulled is None:
            continue
        r = retrievability(c.stability or 1.0, c.last_review or c.due) if c.last_review else 0.0
        priority = review_priority(r, c.weight)
        weak = weak_reason(c.card_id) if c.weight > 0 else None
        if c.pulled is not None and c.due >= rollover:
            reason = c.pulled
        else:
            reason = describe_due(c.due, now, day_start)
            if weak:
                reason = f"{weak}; {reason}"
        reviews.append(Entry(c.card_id, c.note_id, c.state, c.due, r, priority, reason, "review"))

    learning.sort(key=lambda e: (e.due, e.card_id))
    ahead.sort(key=lambda e: (e.due, e.card_id))
    reviews.sort(key=lambda e: (-e.priority, e.due, e.card_id))

    seen_notes: set[int] = set()
    if limits.bury_siblings:
        seen_notes.update(e.note_id for e in learning)
        seen_notes.update(e.note_id for e in ahead)
    chosen_reviews: list[Entry] = []
    for entry in reviews:
        if len(chosen_reviews) >= limits.reviews_left:
            break
        if limits.bury_siblings and entry.note_id in seen_notes:
            continue
        seen_notes.add(entry.note_id)
        chosen_reviews.append(entry)

    new_left = limits.new_left
    if not limits.new_ignores_review_limit:
        new_left = min(new_left, max(0, limits.reviews_left - len(chosen_reviews)))
    chosen_new: list[Entry] = []
    for c in new_cards:
        if len(chosen_new) >= new_left:
            break
        if limits.bury_siblings and c.note_id in seen_notes:
            continue
        seen_notes.add(c.note_id)
        weak = weak_reason(c.card_id) if c.weight > 0 else None
        reason = f"new; {weak}" if weak else "new"
        chosen_new.append(Entry(c.card_id, c.note_id, NEW, c.due, None, c.weight, reason, "new"))

    entries = learning + chosen_reviews + chosen_new
    if not entries:
        entries = ahead
    counts = Counts(
        new=len(chosen_new),
        learning=len(learning) + (len(ahead) if entries is ahead else 0),
        review=len(chosen_reviews),
    )
    if limit is not None:
        entries = entries[:limit]
    return Queue(tuple(entries), counts)
