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
from typing import TypeVar

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
    probe: bool = False  # a new card moved ahead as one of its topic's first (introduction)


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


def with_weak_topics(entries: list[Entry], weak: dict[int, reasons.WeakTopic]) -> list[Entry]:
    """The entries, those of `weak`'s cards with their weak topic (`with_weak_topic`). A queue
    weights ~1,400 cards of a few hundred topics: entries with equal reasons and the same
    topic share one new reason, made once."""
    made: dict[tuple[reasons.Reason, int], reasons.Reason] = {}
    out: list[Entry] = []
    for e in entries:
        topic = weak.get(e.card_id)
        if topic is None:
            out.append(e)
            continue
        key = (e.why, id(topic))  # (`topic` stays alive in `weak` meanwhile)
        why = made.get(key)
        if why is None:
            why = made[key] = e.why.with_weak(topic)
        weighted = Entry(
            card_id=e.card_id, note_id=e.note_id, state=e.state, due=e.due,
            retrievability=e.retrievability, priority=e.priority, why=why, kind=e.kind,
        )  # fmt: skip
        out.append(weighted)
    return out


def in_introduction_order(entry: Entry) -> Entry:
    """A new card offered in introduction order although weighted (every new card fits before
    the exam: weak topics do not come first)."""
    if entry.kind != EntryKind.NEW:
        return entry
    return replace(entry, why=replace(entry.why, in_order=True))


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
    learning, ahead, ranked = _sort(candidates, now, rollover, limits, retrievability)
    bury = limits.bury_siblings
    seen_notes: set[int] = set()
    if bury:
        seen_notes.update(c.note_id for c in learning)
        seen_notes.update(c.note_id for c in ahead)
    reviews, held_review = _within_limit(
        ranked, _ranked_card, limits.reviews_left, seen_notes, bury
    )
    new_left = limits.new_left
    if not limits.new_ignores_review_limit:
        new_left = min(new_left, max(0, limits.reviews_left - len(reviews)))
    new, held_new = _within_limit(list(new_cards), _itself, new_left, seen_notes, bury)

    use_ahead = not (learning or reviews or new)
    counts = Counts(
        new=len(new),
        # As Anki counts: learning cards due now and those due within the learn-ahead window
        # (press Again and the learning count goes up at once).
        learning=len(learning) + len(ahead),
        review=len(reviews),
    )
    wanted = counts.total if limit is None else min(limit, counts.total)
    entries = _learning_entries(ahead if use_ahead else learning, use_ahead, wanted)
    for neg_priority, due, _cid, c, r in reviews[: max(0, wanted - len(entries))]:
        if c.pulled is not None and due >= rollover:
            why = Reason(Basis.PULLED_FORWARD, pulled=c.pulled)
        else:
            why = Reason(Basis.DUE, overdue_days=overdue_days(due, day_start))
        entries.append(
            Entry(c.card_id, c.note_id, c.state, due, r, -neg_priority, why, EntryKind.REVIEW)
        )
    for c in new[: max(0, wanted - len(entries))]:
        why = reasons.NEW_PROBE if c.probe else reasons.NEW_CARD
        entries.append(Entry(c.card_id, c.note_id, NEW, c.due, None, c.weight, why, EntryKind.NEW))
    return Queue(tuple(entries), counts, held_new=held_new, held_review=held_review)


# A review ranked: (-priority, due, card id) to sort on, the card and its retrievability.
_Ranked = tuple[float, datetime, int, Candidate, float]
_T = TypeVar("_T")


def _sort(
    candidates: Iterable[Candidate],
    now: datetime,
    rollover: datetime,
    limits: Limits,
    retrievability: Retrievability,
) -> tuple[list[Candidate], list[Candidate], list[_Ranked]]:
    """The learning cards due now and those due within the learn-ahead window, by due time;
    and the reviews (due before the rollover, or pulled forward) by priority."""
    learning: list[Candidate] = []
    ahead: list[Candidate] = []
    ranked: list[_Ranked] = []
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
    return learning, ahead, ranked


def _ranked_card(item: _Ranked) -> Candidate:
    return item[3]


def _itself(c: Candidate) -> Candidate:
    return c


def _within_limit(
    items: list[_T],
    card_of: Callable[[_T], Candidate],
    room: int,
    seen_notes: set[int],
    bury: bool,
) -> tuple[list[_T], int]:
    """The first `room` items, in order, whose note has no card chosen yet (when siblings are
    buried; `seen_notes` gains theirs); and how many cards the limit holds back (counted by
    note when siblings are buried: a held sibling would be buried anyway)."""
    chosen: list[_T] = []
    held: set[int] = set()
    for item in items:
        c = card_of(item)
        if bury and c.note_id in seen_notes:
            continue
        if len(chosen) >= room:
            held.add(c.note_id if bury else c.card_id)
            continue
        seen_notes.add(c.note_id)
        chosen.append(item)
    return chosen, len(held)


def _learning_entries(cards: list[Candidate], ahead: bool, wanted: int) -> list[Entry]:
    kind = EntryKind.AHEAD if ahead else EntryKind.LEARNING
    return [
        Entry(c.card_id, c.note_id, c.state, c.due, None, 0.0,
              reasons.learning(c.state == RELEARNING), kind)
        for c in cards[:wanted]
    ]  # fmt: skip


def squeezed_new(
    new_left: int, reviews_left: int, counts: Counts, new_held: int, *, ignores: bool
) -> int:
    """The new cards the day's new-card limit has room for but the review limit leaves out
    (new cards count against it unless `ignores`): raising the new-card limit brings none."""
    if ignores:
        return 0
    wanted = min(new_left, counts.new + new_held)
    room = max(0, reviews_left - counts.review)
    return max(0, wanted - max(room, counts.new))
