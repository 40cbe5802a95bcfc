"""Today's queue: which cards, in what order, and why each (limits, siblings, pull-forwards,
weak topics, missed questions), for the collection, a deck or a topic."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from functools import partial
from operator import itemgetter
from typing import TYPE_CHECKING, Any

from flashcore.core import exam as exam_rules
from flashcore.core import first_answers, fsrs_adapter, introduction, queue, studyday
from flashcore.core import topics as topic_keys
from flashcore.core.errors import FlashcoreError
from flashcore.core.model import CardState
from flashcore.core.queue import EntryKind
from flashcore.core.reasons import PulledForward, Reason
from flashcore.core.weakness import MISSED_QUESTION
from flashcore.services import first_share, pullforward
from flashcore.services.memory import no_cycle_collection
from flashcore.services.weights import ensure_fresh, explained_only, name_missed_questions
from flashcore.storage import planning, repos
from flashcore.storage import today as today_repo
from flashcore.storage.repos import queue as queue_repo
from flashcore.storage.uow import run_write_on, transaction

if TYPE_CHECKING:
    from sqlalchemy import Connection

    from flashcore.services.context import Collection


NEW_FETCH_FACTOR = 4  # fetch extra new cards so sibling burying can skip some
MAX_EXTRA_NEW = 9999


@dataclass(frozen=True, slots=True)
class QueueItem:
    card_id: int
    note_key: str
    deck: str
    topics: tuple[str, ...]
    state: CardState
    due: datetime
    reps: int
    retrievability: float | None
    priority: float
    why: Reason
    kind: EntryKind
    weak_topic: str | None = None  # the weak topic that weights this card, if any

    @property
    def reason(self) -> str:
        """Why the card is here, as the student reads it (for the CLI, TUI and JSON)."""
        return self.why.text()

    def to_json(self) -> dict[str, Any]:
        return {
            "card_id": self.card_id,
            "note_key": self.note_key,
            "deck": self.deck,
            "topics": list(self.topics),
            "state": self.state.label,
            "due": self.due.isoformat(),
            "reps": self.reps,
            "retrievability": None
            if self.retrievability is None
            else round(self.retrievability, 4),
            "priority": round(self.priority, 6),
            "reason": self.reason,
        }


@dataclass(frozen=True, slots=True)
class TodayQueue:
    items: tuple[QueueItem, ...]
    new: int
    learning: int
    review: int
    next_learning_due: datetime | None
    later_learning: tuple[tuple[int, datetime, int], ...] = ()  # (card, due, state) later today
    # What today's limits keep out of this queue, and the new-card limit in force for its scope
    # (new_per_day plus today's raises): the reviewer and `due` say so, and how to see them.
    new_held: int = 0
    review_held: int = 0
    new_limit: int = 0
    # New cards within the new-card limit that the review limit leaves out (new cards count
    # against reviews_per_day unless new_ignores_review_limit): raising the new-card limit
    # does not bring them.
    new_squeezed: int = 0
    # Learning cards due later this study day, beyond the learn-ahead window (not counted in
    # `learning` until they come near).
    learning_later: int = 0
    # Today's raise of this scope's own new-card limit (what `--extra-new N` sets, not adds).
    new_raised: int = 0

    @property
    def extra_new_for_all(self) -> int:
        """The `--extra-new` that brings every held new card: the raise in force plus them."""
        return self.new_raised + self.new_held

    @property
    def total(self) -> int:
        return self.new + self.learning + self.review


@contextmanager
def collector_paused() -> Iterator[None]:
    """Ranking allocates a few thousand small objects, none of them cyclic garbage; in a fresh
    process that is enough to start the collector's first full pass over every imported
    module's objects (~25 ms, a third of a cold queue build). Pause it, restore it after."""
    with no_cycle_collection():
        yield


def build_queue(
    fc: Collection,
    *,
    deck: str | None = None,
    topic: str | None = None,
    limit: int | None = None,
    details: bool = True,
    weights_fresh: bool = False,
    on_screen: int | None = None,
) -> TodayQueue:
    """Today's queue in order, each card with a reason. Ranks compact columns, not ORM objects.
    `weights_fresh`: the caller has just run `ensure_fresh` (a review session does, before it
    notes the database's version). `on_screen`: a card shown and about to be answered (a
    session's queue built again while the student reads it; core.introduction.with_probes)."""
    with collector_paused():
        if not weights_fresh:
            ensure_fresh(fc)
        return _build_queue(
            fc, deck=deck, topic=topic, limit=limit, details=details, on_screen=on_screen
        )


def tomorrow(fc: Collection, *, deck: str | None = None, topic: str | None = None) -> TodayQueue:
    """What the first queue of the next study day will hold, as things stand: its limits
    (nothing answered yet, today's raises gone), today's buried cards back, its pull-forwards
    (computed as that queue will compute them), and every learning card due before that day
    ends (not only those due in its first minutes). Only counts: `items` is empty. This is
    "Due tomorrow" on the session end, in `stats` and in the reviewer."""
    with collector_paused():
        return _build_queue(fc, deck=deck, topic=topic, limit=0, details=False, ahead_day=True)


def raise_new_limit(
    fc: Collection, *, deck: str | None = None, topic: str | None = None, extra: int
) -> int:
    """Raise today's new-card limit of this scope (the collection when neither is given) by
    `extra` cards: set, not added (0 takes the raise away). Kept for the study day, so every
    later command and session of the day on that scope sees it. Returns the limit in force."""
    if not 0 <= extra <= MAX_EXTRA_NEW:
        raise FlashcoreError(f"--extra-new must be 0 to {MAX_EXTRA_NEW}")
    s = fc.settings
    day = studyday.study_date(fc.now(), s.zone, s.day_start_hour)

    def work(conn: Connection) -> None:
        repos.card_scope(
            conn, fc.profile_id, deck, topic
        )  # an unknown deck or topic is an error naming it
        key = scope_key(_deck_name(conn, fc, deck), topic)
        today_repo.set_new_limit_raise(conn, fc.profile_id, day, key, extra)

    with fc.engine.connect() as conn:
        run_write_on(conn, work)
    return _build_queue(fc, deck=deck, topic=topic, limit=0, details=False).new_limit


def new_limit_raised(fc: Collection, *, deck: str | None = None, topic: str | None = None) -> int:
    """Today's raise of this scope's own new-card limit (0 when none)."""
    s = fc.settings
    day = studyday.study_date(fc.now(), s.zone, s.day_start_hour)
    with fc.engine.connect() as conn, transaction(conn, write=False):
        key = scope_key(_deck_name(conn, fc, deck), topic)
        return today_repo.new_limit_raise(conn, fc.profile_id, day, [key])


def study_topic_now(fc: Collection, topic: str, suggested_minutes: int) -> TodayQueue:
    """Enter on a weak topic: today's queue of the topic takes its unseen cards, up to the
    suggested amount of study (a new card for every MINUTES_PER_NEW_CARD suggested minutes),
    raising the topic's new-card limit for today when the daily limit would keep them out.
    Returns the topic's queue (counts only)."""
    wanted = max(1, -(-suggested_minutes // queue.MINUTES_PER_NEW_CARD))
    q = build_queue(fc, topic=topic, limit=0, details=False)
    short = min(q.new_held, wanted - q.new)
    if short > 0:
        raise_new_limit(fc, topic=topic, extra=new_limit_raised(fc, topic=topic) + short)
        q = build_queue(fc, topic=topic, limit=0, details=False)
    return q


def scope_key(deck: str | None, topic: str | None) -> str:
    """How a study scope is named for today's raised new-card limits ("" is the collection)."""
    parts = []
    if deck is not None:
        parts.append("deck:" + deck.strip())
    if topic is not None:
        parts.append("topic:" + topic_keys.path_key(topic))
    return "|".join(parts)


@dataclass(frozen=True, slots=True)
class _Day:
    """The instant a queue is built for, and its study day."""

    now: datetime
    day: date
    day_start: datetime
    rollover: datetime
    ahead: timedelta  # learning cards due this soon count (the next day's: all of that day)

    @property
    def horizon(self) -> datetime:
        return max(self.rollover, self.now + self.ahead)


def day_of(fc: Collection, *, ahead_day: bool) -> _Day:
    s = fc.settings
    zone, hour = s.zone, s.day_start_hour
    now = fc.now()
    if ahead_day:  # the first instant of the next study day
        now = studyday.next_rollover(now, zone, hour)
    day = studyday.study_date(now, zone, hour)
    day_start = studyday.day_start_of(day, zone, hour)
    rollover = studyday.day_start_of(day + timedelta(days=1), zone, hour)
    # The next day's count takes every learning card due before it ends.
    ahead = rollover - now if ahead_day else timedelta(minutes=s.learn_ahead_minutes)
    return _Day(now, day, day_start, rollover, ahead)


@dataclass(slots=True)
class Inputs:
    """What ranking one scope's queue reads: rows in queue.Candidate's field order."""

    due_rows: list[tuple[Any, ...]]
    new_rows: list[tuple[Any, ...]]
    pulled: dict[int, PulledForward]
    new_limit: int
    new_left: int
    reviews_left: int
    fetch: int  # new rows read at most (more may exist when this many were read)
    waiting: Callable[[], int]  # the scope's new cards (notes, with bury_siblings), counted
    # Each topic's first cards still new (core.introduction's probes), read only while weak
    # topics reorder the new cards (otherwise `new_rows` are in introduction order already).
    probe_rows: list[tuple[Any, ...]] = field(default_factory=list)
    new_done: int = 0  # new cards studied today (the day's places of core.introduction's probes)
    by_weight: bool = True  # new cards weak topics first (else introduction order: weak_first)
    on_screen: int | None = None  # a new card shown, about to be answered (with_probes)
    shared_rows: list[tuple[Any, ...]] = field(default_factory=list)  # first_share's
    own_raise: int = 0  # today's raise of this scope's own new-card limit


# When weak topics' new cards come first (tools.simulate's ablations; README, "The weakness
# model"): "always" (as shipped); "exam", only while the deck may be unfinished on exam day
# (with an exam date set and every new card introduced before it at new_per_day, introduction
# order: core.exam.deck_done_by; measured in issue 21's sixth round and not kept: with the
# exam's last stretch it cost the overall gap); "never" (introduction order, missed questions'
# cards first).
WEAK_FIRST = "always"


def weak_first(conn: Connection, fc: Collection, day: date) -> bool:
    """Whether today's new cards come weak topics first (else in introduction order, missed
    questions' cards first; see WEAK_FIRST). With "exam": without an exam date, or when the new
    cards left will not all be introduced before it at `new_per_day` (the order then decides
    which topics are studied)."""
    if WEAK_FIRST != "exam":
        return WEAK_FIRST == "always"
    exam = fc.exam
    if exam is None:
        return True
    left = planning.new_cards_left(conn, fc.profile_id)
    return not exam_rules.deck_done_by(exam, left, fc.settings.new_per_day, day)


def _load(
    conn: Connection, fc: Collection, d: _Day, deck: str | None, topic: str | None, ahead_day: bool
) -> Inputs:
    s = fc.settings
    scope = repos.card_scope(conn, fc.profile_id, deck, topic)
    if ahead_day:
        pulled = pullforward.choose(conn, fc, d.day)
    else:
        pulled = today_repo.pulled_forward(conn, fc.profile_id, d.day)
    due_rows: list[tuple[Any, ...]] = list(queue_repo.due_rows(conn, scope, d.now, d.horizon))
    if pulled:
        have = {r[0] for r in due_rows}
        extra = [cid for cid in pulled if cid not in have]
        if extra:
            due_rows += queue_repo.pulled_rows(conn, scope, d.now, extra, d.day_start)
    done = repos.review_counts_since(conn, fc.profile_id, d.day_start)
    own = scope_key(_deck_name(conn, fc, deck), topic)
    raises = today_repo.new_limit_raises_of(conn, fc.profile_id, d.day)
    new_limit = s.new_per_day + sum(raises.get(key, 0) for key in {"", own})
    new_left = max(0, new_limit - done.get(int(CardState.NEW), 0))
    reviews_left = max(0, s.reviews_per_day - done.get(int(CardState.REVIEW), 0))
    new_rows: list[tuple[Any, ...]] = []
    fetch = new_left * NEW_FETCH_FACTOR + 50
    probe_rows: list[tuple[Any, ...]] = []
    shared: list[tuple[Any, ...]] = []
    by_weight = True
    if new_left:
        by_weight = weak_first(conn, fc, d.day)
        new_rows = list(
            queue_repo.new_rows(conn, fc.profile_id, scope, d.now, fetch, by_weight=by_weight)
        )
        if by_weight and introduction.PROBE_CARDS > 0 and new_rows and new_rows[0][6] > 0:
            quota = introduction.probe_quota
            if introduction.COVERAGE > 0.0:
                studied = queue_repo.studied_share(conn, fc.profile_id)
                quota = partial(introduction.probe_quota, studied_share=studied)
            probe_rows = queue_repo.first_of_topics(
                conn, fc.profile_id, scope, d.now, quota,
                introduction.probe_count_needed(), fetch, introduction.COVERAGE > 0.0,
            )  # fmt: skip
        if by_weight and new_rows and new_rows[0][6] > 0:  # core.first_answers' share
            shared = first_share.shared_rows(conn, fc.profile_id, scope, d.now, fetch)

    def waiting() -> int:
        return queue_repo.new_waiting(conn, scope, d.now, by_note=s.bury_siblings)

    return Inputs(
        due_rows, new_rows, pulled, new_limit, new_left, reviews_left, fetch, waiting, probe_rows,
        done.get(int(CardState.NEW), 0), by_weight, None, shared, raises.get(own, 0),
    )  # fmt: skip


_weight, _card_id = itemgetter(6), itemgetter(0)  # a queue row's weight and card id


def _build_queue(
    fc: Collection,
    *,
    deck: str | None,
    topic: str | None,
    limit: int | None,
    details: bool,
    ahead_day: bool = False,
    on_screen: int | None = None,
) -> TodayQueue:
    d = day_of(fc, ahead_day=ahead_day)
    # Core statements on one connection, rows kept as tuples: this ranks ~2,500 cards.
    with fc.engine.connect() as conn, transaction(conn, write=False):
        inputs = _load(conn, fc, d, deck, topic, ahead_day)
        inputs.on_screen = on_screen
        return rank(fc, d, inputs, limit=limit, details=details, conn=conn)


def rank(
    fc: Collection,
    d: _Day,
    inputs: Inputs,
    *,
    limit: int | None,
    details: bool,
    conn: Connection | None,
) -> TodayQueue:
    """Order one scope's queue from its inputs; reasons and details are read (on `conn`) for
    the entries returned only: counting (`limit=0`) reads nothing."""
    s = fc.settings
    now, day_start, rollover, ahead = d.now, d.day_start, d.rollover, d.ahead
    curve = fsrs_adapter.curve(fc.policy)
    one_day = timedelta(days=1)
    due_rows, new_rows, pulled = inputs.due_rows, inputs.new_rows, inputs.pulled
    Candidate = queue.Candidate
    if pulled:
        candidates = [
            Candidate(r[0], r[1], r[2], r[3], r[4], r[5], r[6], pulled.get(r[0])) for r in due_rows
        ]
    else:
        candidates = [Candidate(*r) for r in due_rows]
    weight_of = {r[0]: r[6] for r in due_rows if r[6] > 0}
    weight_of.update({r[0]: r[6] for r in new_rows if r[6] > 0})
    if inputs.probe_rows or inputs.shared_rows:
        probes = {r[0] for r in inputs.probe_rows}
        new_rows = introduction.with_probes(
            new_rows, inputs.probe_rows, weight=_weight, key=_card_id,
            first_above=MISSED_QUESTION, introduced=inputs.new_done, on_screen=inputs.on_screen,
            shared=inputs.shared_rows, share_slot=first_answers.SHARE_SLOT,
        )  # fmt: skip
        news = [
            Candidate(r[0], r[1], r[2], r[3], None, None, r[6], None,
                      r[0] in probes and r[6] < MISSED_QUESTION)
            for r in new_rows
        ]  # fmt: skip
    else:
        news = [Candidate(r[0], r[1], r[2], r[3], None, None, r[6]) for r in new_rows]
    built = queue.build(
        candidates,
        news,
        now=now,
        day_start=day_start,
        rollover=rollover,
        limits=queue.Limits(
            new_left=inputs.new_left,
            reviews_left=inputs.reviews_left,
            new_ignores_review_limit=s.new_ignores_review_limit,
            bury_siblings=s.bury_siblings,
            learn_ahead=ahead,
        ),
        # Retrievability in whole study days, as the scheduler counts them.
        retrievability=lambda stability, last: curve.retrievability_days(
            stability, -((last - day_start) // one_day) if last < day_start else 0
        ),
        limit=limit,
    )
    new_held = built.held_new
    if not inputs.new_left or len(inputs.new_rows) >= inputs.fetch:
        # More new cards than were read: count them all (a note's siblings once, as the
        # queue takes one card of a note a day).
        new_held = max(new_held, inputs.waiting() - built.counts.new)
    shown = {e.card_id for e in built.entries}
    learning_states = (int(CardState.LEARNING), int(CardState.RELEARNING))
    later_rows = [
        (r[0], r[3], r[2])
        for r in due_rows
        if r[2] in learning_states and r[3] > now and r[0] not in shown
    ]
    later = [due for _cid, due, _state in later_rows]
    soon = now + ahead
    learning_later = sum(1 for r in due_rows if r[2] in learning_states and soon < r[3] < rollover)
    entries = list(built.entries)
    weighted = [e.card_id for e in entries if weight_of.get(e.card_id, 0.0) > 0]
    weak_topics: dict[int, str] = {}
    info: dict[int, dict[str, Any]] = {}
    if conn is not None:
        if weighted:
            weak = repos.weak_topics(conn, weighted)
            explained = explained_only(weak)
            entries = queue.with_weak_topics(
                name_missed_questions(fc, conn, entries, weight_of, explained), explained
            )
            if not inputs.by_weight and WEAK_FIRST == "exam":
                entries = [queue.in_introduction_order(e) for e in entries]
            weak_topics = {card_id: w.topic for card_id, w in weak.items()}
        exam = fc.exam
        if exam is not None and exam.stretch_start <= d.day < exam.exam_date:
            entries = [queue.with_exam_reason(e, exam.exam_date) for e in entries]
        if details and entries:
            info = repos.queue_details(conn, [e.card_id for e in entries])
    states = tuple(CardState)
    if info:
        none: dict[str, Any] = {}
        items = tuple(
            QueueItem(
                card_id=e.card_id,
                note_key=(i := info.get(e.card_id, none)).get("note_key", ""),
                deck=i.get("deck", ""),
                topics=tuple(i.get("topics", ())),
                state=states[e.state],
                due=e.due,
                reps=i.get("reps", 0),
                retrievability=e.retrievability,
                priority=e.priority,
                why=e.why,
                kind=e.kind,
                weak_topic=weak_topics.get(e.card_id),
            )
            for e in entries
        )
    else:
        items = tuple(
            QueueItem(e.card_id, "", "", (), states[e.state], e.due, 0, e.retrievability,
                      e.priority, e.why, e.kind, weak_topics.get(e.card_id))
            for e in entries
        )  # fmt: skip
    return TodayQueue(
        items=items,
        new=built.counts.new,
        learning=built.counts.learning,
        review=built.counts.review,
        next_learning_due=min(later) if later else None,
        later_learning=tuple(later_rows),
        new_held=new_held,
        review_held=built.held_review,
        new_limit=inputs.new_limit,
        new_raised=inputs.own_raise,
        new_squeezed=queue.squeezed_new(
            inputs.new_left,
            inputs.reviews_left,
            built.counts,
            new_held,
            ignores=s.new_ignores_review_limit,
        ),
        learning_later=learning_later,
    )


def _deck_name(conn: Connection, fc: Collection, deck: str | None) -> str | None:
    """A deck named by its key is the same scope as the deck named by its name."""
    if deck is None:
        return None
    return repos.deck_name_of_key(conn, fc.profile_id, deck) or deck
