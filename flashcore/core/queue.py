"""Today's queue: what to study now, in what order, and why. Pure: rows in, ordered entries out.

Order: learning cards that are due; then reviews by priority; then new cards; and, when nothing
else is left, learning cards due within the learn-ahead window (Anki's rule).
Default review priority is the lowest retrievability first; the weakness model multiplies it.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field, replace
from datetime import date, datetime, timedelta
from enum import StrEnum

from flashcore.core import reasons
from flashcore.core.model import CardState
from flashcore.core.reasons import Basis, PulledForward, Reason
from flashcore.core.weakness import MISSED_QUESTION, MissedQuestion

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
    pulled: PulledForward | None = None  # when fresh misses pulled this card forward today


class EntryKind(StrEnum):
    """Which of today's counts a queue entry belongs to ("ahead": a learning card due within
    the learn-ahead window, shown when nothing else is left)."""

    LEARNING = "learning"
    REVIEW = "review"
    NEW = "new"
    AHEAD = "ahead"


@dataclass(frozen=True, slots=True)
class Entry:
    card_id: int
    note_id: int
    state: int
    due: datetime
    retrievability: float | None
    priority: float
    why: Reason
    kind: EntryKind

    @property
    def reason(self) -> str:
        """Why the entry is here, as the student reads it (for the edges)."""
        return self.why.text()


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


def overdue_days(due: datetime, day_start: datetime) -> int:
    """Whole days a review is past due at the study day's start, rounded up (0: due today)."""
    if due >= day_start:
        return 0
    return max(1, (day_start - due).days + (1 if (day_start - due) % timedelta(days=1) else 0))


def review_priority(retrievability: float, weight: float) -> float:
    """Forgetting × weakness: a weak topic's cards rank ahead, so a limit cuts them last. A
    card whose own question was missed (weight >= MISSED_QUESTION) ranks above every other
    review: its priority starts at 2, beyond any topic's (1 - r)·(1 + w) < 2."""
    forgetting = 1.0 - retrievability
    if weight >= MISSED_QUESTION:
        return 2.0 + forgetting * weight
    return forgetting * (1.0 + weight)


def with_weak_topic(entry: Entry, weak: reasons.WeakTopic) -> Entry:
    """The entry with the weak topic that weights it (`weak topic: … — 6 misses …`)."""
    return replace(entry, why=entry.why.with_weak(weak))


def with_exam_reason(entry: Entry, exam_day: date) -> Entry:
    """A review in the last stretch before the exam says why it is there (no interval lands
    after the exam without a review in that stretch, see core.exam)."""
    if entry.kind != EntryKind.REVIEW:
        return entry
    return replace(entry, why=replace(entry.why, exam_day=exam_day))


def with_missed_question(entry: Entry, missed: MissedQuestion) -> Entry:
    """The entry naming the missed question first (`missed uworld:118154 on …`); a card the
    miss pulled forward says so already (`pulled forward after missing …`)."""
    return replace(entry, why=entry.why.with_missed(missed))


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
    Ranking works on plain numbers; Entry objects and their reasons are made only for the cards
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
        why = reasons.learning(c.state == RELEARNING)
        kind = EntryKind.AHEAD if use_ahead else EntryKind.LEARNING
        entries.append(Entry(c.card_id, c.note_id, c.state, c.due, None, 0.0, why, kind))
    for neg_priority, due, _cid, c, r in chosen_reviews:
        if len(entries) >= wanted:
            break
        if c.pulled is not None and due >= rollover:
            why = Reason(Basis.PULLED_FORWARD, pulled=c.pulled)
        else:
            why = Reason(Basis.DUE, overdue_days=overdue_days(due, day_start))
        entries.append(
            Entry(c.card_id, c.note_id, c.state, due, r, -neg_priority, why, EntryKind.REVIEW)
        )
    for c in chosen_new:
        if len(entries) >= wanted:
            break
        entries.append(
            Entry(c.card_id, c.note_id, NEW, c.due, None, c.weight, reasons.NEW_CARD, EntryKind.NEW)
        )
    return Queue(tuple(entries), counts, held_new=len(held), held_review=held_review)
