"""Today's queue: what to study now, in what order, and why. Pure: rows in, ordered entries out.

Order: learning cards that are due; then reviews by priority; then new cards; and, when nothing
else is left, learning cards due within the learn-ahead window (Anki's rule).
Default review priority is the lowest retrievability first; the weakness model multiplies it.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta

from flashcore.core.model import CardState
from flashcore.core.weakness import MISSED_QUESTION

NEW, LEARNING, REVIEW, RELEARNING = (int(s) for s in CardState)
# Studying a weak topic now: its suggested minutes bring in one new card per this many minutes
# (a new card's learning steps on its first day, with the reviews around them).
MINUTES_PER_NEW_CARD = 2


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
    # Cards a daily limit keeps out of today's queue (siblings that would be buried anyway are
    # not counted): new cards beyond the new-card limit, due reviews beyond the review limit.
    held_new: int = 0
    held_review: int = 0


Retrievability = Callable[[float, datetime], float]


def describe_due(due: datetime, now: datetime, day_start: datetime) -> str:
    if due >= day_start:
        return "due today"
    days = max(1, (day_start - due).days + (1 if (day_start - due) % timedelta(days=1) else 0))
    return "due yesterday" if days == 1 else f"due {days} days ago"


def review_priority(retrievability: float, weight: float) -> float:
    """Forgetting × weakness: a weak topic's cards rank ahead, so a limit cuts them last. A
    card whose own question was missed (weight >= MISSED_QUESTION) ranks above every other
    review: its priority starts at 2, beyond any topic's (1 - r)·(1 + w) < 2."""
    forgetting = 1.0 - retrievability
    if weight >= MISSED_QUESTION:
        return 2.0 + forgetting * weight
    return forgetting * (1.0 + weight)


def with_weak_reason(entry: Entry, weak: str) -> Entry:
    """The entry's reason with the weak topic's reason added (`weak topic: … — 6 misses …`)."""
    if entry.kind == "new":
        reason = f"new; {weak}"
    elif entry.reason.startswith("pulled forward"):
        reason = entry.reason
    else:
        reason = f"{weak}; {entry.reason}"
    return replace(entry, reason=reason)


def with_missed_question(entry: Entry, missed: str) -> Entry:
    """The entry's reason naming the missed question first (`missed uworld:118154 on …`); a
    card the miss pulled forward says so already (`pulled forward after missing …`)."""
    if entry.reason.startswith("pulled forward after missing"):
        return entry
    reason = f"new; {missed}" if entry.kind == "new" else f"{missed}; {entry.reason}"
    return replace(entry, reason=reason)


def build(
    candidates: Iterable[Candidate],
    new_cards: Iterable[Candidate],
    *,
    now: datetime,
    day_start: datetime,
    rollover: datetime,
    limits: Limits,
    retrievability: Retrievability,
    limit: int | None = None,
) -> Queue:
    """Order today's cards. `candidates` are non-new cards due before the rollover (or within
    the learn-ahead window, or pulled forward); `new_cards` are new cards in introduction order.
    Ranking works on plain numbers; Entry objects and reason texts are made only for the cards
    returned (`limit`), so asking for the next card stays cheap."""
    learning: list[Candidate] = []
    ahead: list[Candidate] = []
    ranked: list[tuple[float, datetime, int, Candidate, float]] = []
    ahead_until = now + limits.learn_ahead
    for c in candidates:
        if c.state == LEARNING or c.state == RELEARNING:
            if c.due <= now:
                learning.append(c)
            elif c.due <= ahead_until:
                ahead.append(c)
            continue
        if c.due >= rollover and c.pulled is None:
            continue
        r = retrievability(c.stability or 1.0, c.last_review) if c.last_review else 0.0
        ranked.append((-review_priority(r, c.weight), c.due, c.card_id, c, r))
    learning.sort(key=lambda c: (c.due, c.card_id))
    ahead.sort(key=lambda c: (c.due, c.card_id))
    ranked.sort(key=lambda t: (t[0], t[1], t[2]))

    seen_notes: set[int] = set()
    if limits.bury_siblings:
        seen_notes.update(c.note_id for c in learning)
        seen_notes.update(c.note_id for c in ahead)
    chosen_reviews: list[tuple[float, datetime, int, Candidate, float]] = []
    held: set[int] = set()  # notes of the cards a limit holds back
    for item in ranked:
        note_id = item[3].note_id
        if limits.bury_siblings and note_id in seen_notes:
            continue
        if len(chosen_reviews) >= limits.reviews_left:
            held.add(note_id if limits.bury_siblings else item[3].card_id)
            continue
        seen_notes.add(note_id)
        chosen_reviews.append(item)
    held_review = len(held)

    new_left = limits.new_left
    if not limits.new_ignores_review_limit:
        new_left = min(new_left, max(0, limits.reviews_left - len(chosen_reviews)))
    chosen_new: list[Candidate] = []
    held = set()
    for c in new_cards:
        if limits.bury_siblings and c.note_id in seen_notes:
            continue
        if len(chosen_new) >= new_left:
            held.add(c.note_id if limits.bury_siblings else c.card_id)
            continue
        seen_notes.add(c.note_id)
        chosen_new.append(c)

    use_ahead = not (learning or chosen_reviews or chosen_new)
    counts = Counts(
        new=len(chosen_new),
        # As Anki counts: learning cards due now and those due within the learn-ahead window
        # (press Again and the learning count goes up at once).
        learning=len(learning) + len(ahead),
        review=len(chosen_reviews),
    )
    total = counts.total
    wanted = total if limit is None else min(limit, total)
    entries: list[Entry] = []
    for c in ahead if use_ahead else learning:
        if len(entries) >= wanted:
            break
        reason = "relearning after a lapse" if c.state == RELEARNING else "learning step"
        kind = "ahead" if use_ahead else "learning"
        entries.append(Entry(c.card_id, c.note_id, c.state, c.due, None, 0.0, reason, kind))
    for neg_priority, due, _cid, c, r in chosen_reviews:
        if len(entries) >= wanted:
            break
        if c.pulled is not None and due >= rollover:
            reason = c.pulled
        else:
            reason = describe_due(due, now, day_start)
        entries.append(
            Entry(c.card_id, c.note_id, c.state, due, r, -neg_priority, reason, "review")
        )
    for c in chosen_new:
        if len(entries) >= wanted:
            break
        entries.append(Entry(c.card_id, c.note_id, NEW, c.due, None, c.weight, "new", "new"))
    return Queue(tuple(entries), counts, held_new=len(held), held_review=held_review)
