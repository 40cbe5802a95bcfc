"""The review session's use cases: today's queue, showing a card with its four outcomes,
answering (one transaction with its review-log row), undo, bury/suspend/flag."""

from __future__ import annotations

import gc
import time
from bisect import bisect_right, insort
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta
from typing import TYPE_CHECKING, Any

from sqlalchemy import and_, func, literal_column, or_, select

from flashcore.core import cloze, fsrs_adapter, queue, studyday
from flashcore.core import topics as topic_keys
from flashcore.core.errors import (
    EarlierDayUndoError,
    FlashcoreError,
    NotFoundError,
    StaleCardError,
)
from flashcore.core.model import CardState, Rating, Schedule
from flashcore.core.weakness import MISSED_QUESTION
from flashcore.services import pullforward
from flashcore.services.decks import card_scope
from flashcore.services.exam import card_retention
from flashcore.services.weakness import card_reasons, ensure_fresh, question_reasons
from flashcore.storage import anki_sync, repos
from flashcore.storage import today as today_repo
from flashcore.storage.db import sqlite_data_version
from flashcore.storage.tables import cards, notes
from flashcore.storage.uow import run_write, run_write_on, transaction

if TYPE_CHECKING:
    from sqlalchemy import Connection

    from flashcore.services.collection import Flashcore

NEW_FETCH_FACTOR = 4
MAX_EXTRA_NEW = 9999
STUDIED = [
    int(CardState.LEARNING),
    int(CardState.REVIEW),
    int(CardState.RELEARNING),
]  # fetch extra new cards so sibling burying can skip some


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
    reason: str
    kind: str
    weak_topic: str | None = None  # the weak topic that weights this card, if any

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
    # Learning cards due later this study day, beyond the learn-ahead window (not counted in
    # `learning` until they come near).
    learning_later: int = 0

    @property
    def total(self) -> int:
        return self.new + self.learning + self.review


@contextmanager
def _collector_paused() -> Iterator[None]:
    """Ranking allocates a few thousand small objects, none of them cyclic garbage; in a fresh
    process that is enough to start the collector's first full pass over every imported
    module's objects (~25 ms, a third of a cold queue build). Pause it, restore it after."""
    was_on = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_on:
            gc.enable()


def build_queue(
    fc: Flashcore,
    *,
    deck: str | None = None,
    topic: str | None = None,
    limit: int | None = None,
    details: bool = True,
    weights_fresh: bool = False,
) -> TodayQueue:
    """Today's queue in order, each card with a reason. Ranks compact columns, not ORM objects.
    `weights_fresh`: the caller has just run `ensure_fresh` (a review session does, before it
    notes the database's version)."""
    with _collector_paused():
        if not weights_fresh:
            ensure_fresh(fc)
        return _build_queue(fc, deck=deck, topic=topic, limit=limit, details=details)


def tomorrow(fc: Flashcore, *, deck: str | None = None, topic: str | None = None) -> TodayQueue:
    """What the first queue of the next study day will hold, as things stand: its limits
    (nothing answered yet, today's raises gone), today's buried cards back, its pull-forwards
    (computed as that queue will compute them), and every learning card due before that day
    ends (not only those due in its first minutes). Only counts: `items` is empty. This is
    "Due tomorrow" on the session end, in `stats` and in the reviewer."""
    with _collector_paused():
        return _build_queue(fc, deck=deck, topic=topic, limit=0, details=False, ahead_day=True)


def deck_counts(fc: Flashcore, paths: Iterable[str]) -> dict[str, TodayQueue]:
    """Today's queue counts of each deck scope, as `due --deck PATH` counts them (the deck
    named by key or name, or every deck under a name prefix, sub-decks included), for Home's
    deck tree and `decks list`: the collection's cards are read once and each scope ranked in
    memory. `items` are empty."""
    wanted = list(dict.fromkeys(paths))
    if not wanted:
        return {}
    s = fc.settings
    with _collector_paused():
        ensure_fresh(fc)
        d = _day_of(fc, ahead_day=False)
        with fc.engine.connect() as conn, transaction(conn, write=False):
            rows = repos.deck_rows(conn, fc.profile_id)  # type: ignore[arg-type]
            scoped = {
                path: {
                    deck_id
                    for deck_id, key, name, _desc in rows
                    if path in (key, name) or name.startswith(path + "::")
                }
                for path in wanted
            }
            unknown = [path for path, ids in scoped.items() if not ids]
            if unknown:
                raise FlashcoreError(f"no deck named {unknown[0]!r} (see `flashcore decks list`)")
            names = {key: name for _id, key, name, _desc in rows}
            c, n = cards.c, notes.c
            active = and_(
                c.profile_id == fc.profile_id,
                c.suspended.is_(False),
                or_(c.buried_until.is_(None), c.buried_until <= d.now),
            )
            cols = (*_CARD_COLUMNS, n.deck_id)
            pulled = repos.pulled_forward(conn, fc.profile_id, d.day)
            due_rows = [
                tuple(r)
                for r in conn.execute(
                    select(*cols)
                    .join(notes, n.id == c.note_id)
                    .where(active, c.state.in_(STUDIED), c.due < d.horizon)
                ).all()
            ]
            have = {r[0] for r in due_rows}
            extra = [cid for cid in pulled if cid not in have]
            if extra:
                due_rows += [
                    tuple(r)
                    for r in conn.execute(
                        select(*cols)
                        .join(notes, n.id == c.note_id)
                        .where(active, c.id.in_(extra), _not_answered_since(d.day_start))
                    ).all()
                ]
            done = repos.review_counts_since(conn, fc.profile_id, d.day_start)
            raises = today_repo.new_limit_raises_of(conn, fc.profile_id, d.day)
            limits = {
                path: s.new_per_day + raises.get("", 0)
                + raises.get(scope_key(names.get(path, path), None), 0)
                for path in wanted
            }  # fmt: skip
            new_done = done.get(int(CardState.NEW), 0)
            most = max(max(0, limit - new_done) for limit in limits.values())
            fetch = most * NEW_FETCH_FACTOR + 50
            new_by_deck: dict[int, list[tuple[Any, ...]]] = defaultdict(list)
            waiting_by_deck: dict[int, int] = {}
            if most:
                # Each deck's first `fetch` new cards in introduction order: a scope's first
                # `fetch` are among its decks' (a window function, one pass over new cards).
                order = (c.weight.desc(), c.note_id, c.ord)
                place = func.row_number().over(partition_by=n.deck_id, order_by=order)
                ranked = (
                    select(*cols, c.ord, place.label("place"))
                    .join(notes, n.id == c.note_id)
                    .where(active, c.state == literal_column("0"))
                    .subquery()
                )
                for r in conn.execute(select(ranked).where(ranked.c.place <= fetch)).all():
                    new_by_deck[r[7]].append(tuple(r))
            counted = func.count(func.distinct(c.note_id)) if s.bury_siblings else func.count()
            for deck_id, count in conn.execute(
                select(n.deck_id, counted)
                .join(notes, n.id == c.note_id)
                .where(active, c.state == literal_column("0"))
                .group_by(n.deck_id)
            ).all():
                waiting_by_deck[deck_id] = int(count)
        reviews_left = max(0, s.reviews_per_day - done.get(int(CardState.REVIEW), 0))
        out: dict[str, TodayQueue] = {}
        for path in wanted:
            ids = scoped[path]
            new_left = max(0, limits[path] - new_done)
            news = sorted(
                (r for deck_id in ids for r in new_by_deck.get(deck_id, ())),
                key=lambda r: (-r[6], r[1], r[8]),
            )[: new_left * NEW_FETCH_FACTOR + 50]
            inputs = _Inputs(
                due_rows=[r[:7] for r in due_rows if r[7] in ids],
                new_rows=[r[:7] for r in news] if new_left else [],
                pulled=pulled,
                new_limit=limits[path],
                new_left=new_left,
                reviews_left=reviews_left,
                fetch=new_left * NEW_FETCH_FACTOR + 50,
                waiting=lambda ids=ids: sum(waiting_by_deck.get(i, 0) for i in ids),  # type: ignore[misc]
            )
            out[path] = _rank(fc, d, inputs, limit=0, details=False, conn=None)
    return out


def due_by_topic(fc: Flashcore, paths: Iterable[str]) -> dict[str, int]:
    """Learning and review cards of each topic's queue (its sub-topics included), as `due
    --topic T` counts them: one read of today's candidates, ranked per topic in memory."""
    wanted = list(dict.fromkeys(paths))
    if not wanted:
        return {}
    with _collector_paused():
        ensure_fresh(fc)
        s = fc.settings
        zone, hour = s.zone, s.day_start_hour
        now = fc.now()
        day = studyday.study_date(now, zone, hour)
        day_start = studyday.day_start_of(day, zone, hour)
        rollover = studyday.day_start_of(day + timedelta(days=1), zone, hour)
        ahead = timedelta(minutes=s.learn_ahead_minutes)
        with fc.engine.connect() as conn, transaction(conn, write=False):
            c = cards.c
            active = and_(
                c.profile_id == fc.profile_id,
                c.suspended.is_(False),
                or_(c.buried_until.is_(None), c.buried_until <= now),
            )
            cols = (c.id, c.note_id, c.state, c.due, c.stability, c.last_review, c.weight)
            pulled = repos.pulled_forward(conn, fc.profile_id, day)
            rows = list(
                conn.execute(
                    select(*cols).where(
                        active, c.state.in_(STUDIED), c.due < max(rollover, now + ahead)
                    )
                ).all()
            )
            have = {r[0] for r in rows}
            extra = [cid for cid in pulled if cid not in have]
            if extra:
                rows += conn.execute(
                    select(*cols).where(
                        active,
                        c.id.in_(extra),
                        or_(c.last_review.is_(None), c.last_review < day_start),
                    )
                ).all()
            done = repos.review_counts_since(conn, fc.profile_id, day_start)
            topics_of_note = repos.topic_keys_of_notes(conn, sorted({r[1] for r in rows}))
        reviews_left = max(0, s.reviews_per_day - done.get(int(CardState.REVIEW), 0))
        limits = queue.Limits(
            new_left=0,
            reviews_left=reviews_left,
            new_ignores_review_limit=s.new_ignores_review_limit,
            bury_siblings=s.bury_siblings,
            learn_ahead=ahead,
        )
        candidates = [queue.Candidate(*r, pulled.get(r[0])) for r in rows]
        out: dict[str, int] = {}
        for path in wanted:
            key = topic_keys.path_key(path)
            prefix = key + "::"
            mine = [
                cand
                for cand in candidates
                if any(
                    k == key or k.startswith(prefix) for k in topics_of_note.get(cand.note_id, ())
                )
            ]
            built = queue.build(
                mine, [], now=now, day_start=day_start, rollover=rollover, limits=limits,
                retrievability=lambda _s, _l: 0.0, limit=0,
            )  # fmt: skip
            out[path] = built.counts.learning + built.counts.review
    return out


def raise_new_limit(
    fc: Flashcore, *, deck: str | None = None, topic: str | None = None, extra: int
) -> int:
    """Raise today's new-card limit of this scope (the collection when neither is given) by
    `extra` cards: set, not added (0 takes the raise away). Kept for the study day, so every
    later command and session of the day on that scope sees it. Returns the limit in force."""
    if not 0 <= extra <= MAX_EXTRA_NEW:
        raise FlashcoreError(f"--extra-new must be 0 to {MAX_EXTRA_NEW}")
    s = fc.settings
    day = studyday.study_date(fc.now(), s.zone, s.day_start_hour)

    def work(conn: Connection) -> None:
        card_scope(fc, conn, deck, topic)  # an unknown deck or topic is an error naming it
        key = scope_key(_deck_name(conn, fc, deck), topic)
        today_repo.set_new_limit_raise(conn, fc.profile_id, day, key, extra)

    with fc.engine.connect() as conn:
        run_write_on(conn, work)
    return _build_queue(fc, deck=deck, topic=topic, limit=0, details=False).new_limit


def new_limit_raised(fc: Flashcore, *, deck: str | None = None, topic: str | None = None) -> int:
    """Today's raise of this scope's own new-card limit (0 when none)."""
    s = fc.settings
    day = studyday.study_date(fc.now(), s.zone, s.day_start_hour)
    with fc.engine.connect() as conn, transaction(conn, write=False):
        key = scope_key(_deck_name(conn, fc, deck), topic)
        return today_repo.new_limit_raise(conn, fc.profile_id, day, [key])


def study_topic_now(fc: Flashcore, topic: str, suggested_minutes: int) -> TodayQueue:
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


def _day_of(fc: Flashcore, *, ahead_day: bool) -> _Day:
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
class _Inputs:
    """What ranking one scope's queue reads: rows in queue.Candidate's field order."""

    due_rows: list[tuple[Any, ...]]
    new_rows: list[tuple[Any, ...]]
    pulled: dict[int, str]
    new_limit: int
    new_left: int
    reviews_left: int
    fetch: int  # new rows read at most (more may exist when this many were read)
    waiting: Callable[[], int]  # the scope's new cards (notes, with bury_siblings), counted


_CARD_COLUMNS = (
    cards.c.id, cards.c.note_id, cards.c.state, cards.c.due, cards.c.stability,
    cards.c.last_review, cards.c.weight,
)  # fmt: skip


def _load(
    conn: Connection, fc: Flashcore, d: _Day, deck: str | None, topic: str | None, ahead_day: bool
) -> _Inputs:
    s = fc.settings
    scope = card_scope(fc, conn, deck, topic)
    c = cards.c  # Core columns: the queue's statements compile in a fraction of the time
    active = and_(
        scope,
        c.suspended.is_(False),
        or_(c.buried_until.is_(None), c.buried_until <= d.now),
    )
    cols = _CARD_COLUMNS
    if ahead_day:
        pulled = pullforward.choose(conn, fc, d.day)
    else:
        pulled = repos.pulled_forward(conn, fc.profile_id, d.day)
    due_rows: list[tuple[Any, ...]] = [
        tuple(r)
        for r in conn.execute(
            select(*cols).where(active, c.state.in_(STUDIED), c.due < d.horizon)
        ).all()
    ]
    if pulled:
        have = {r[0] for r in due_rows}
        extra = [cid for cid in pulled if cid not in have]
        if extra:
            # A pulled card answered today is done for the day, whatever its answer.
            due_rows += [
                tuple(r)
                for r in conn.execute(
                    select(*cols).where(active, c.id.in_(extra), _not_answered_since(d.day_start))
                ).all()
            ]
    done = repos.review_counts_since(conn, fc.profile_id, d.day_start)
    scopes = {"", scope_key(_deck_name(conn, fc, deck), topic)}
    new_limit = s.new_per_day + today_repo.new_limit_raise(conn, fc.profile_id, d.day, scopes)
    new_left = max(0, new_limit - done.get(int(CardState.NEW), 0))
    reviews_left = max(0, s.reviews_per_day - done.get(int(CardState.REVIEW), 0))
    new_rows: list[tuple[Any, ...]] = []
    fetch = new_left * NEW_FETCH_FACTOR + 50
    if new_left:
        new_rows = [
            tuple(r)
            for r in conn.execute(
                select(*cols)
                .where(active, c.state == literal_column("0"))  # the partial index's own term
                .order_by(c.weight.desc(), c.note_id, c.ord)
                .limit(fetch)
            ).all()
        ]

    def waiting() -> int:
        counted = func.count(func.distinct(c.note_id)) if s.bury_siblings else func.count()
        return int(
            conn.execute(select(counted).where(active, c.state == literal_column("0"))).scalar_one()
        )

    return _Inputs(due_rows, new_rows, pulled, new_limit, new_left, reviews_left, fetch, waiting)


def _not_answered_since(start: datetime) -> Any:
    c = cards.c
    return or_(c.last_review.is_(None), c.last_review < start)


def _build_queue(
    fc: Flashcore,
    *,
    deck: str | None,
    topic: str | None,
    limit: int | None,
    details: bool,
    ahead_day: bool = False,
) -> TodayQueue:
    d = _day_of(fc, ahead_day=ahead_day)
    # Core statements on one connection, rows kept as tuples: this ranks ~2,500 cards.
    with fc.engine.connect() as conn, transaction(conn, write=False):
        inputs = _load(conn, fc, d, deck, topic, ahead_day)
        return _rank(fc, d, inputs, limit=limit, details=details, conn=conn)


def _rank(
    fc: Flashcore,
    d: _Day,
    inputs: _Inputs,
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
    if not inputs.new_left or len(new_rows) >= inputs.fetch:
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
            reasons = card_reasons(fc, conn, weighted)
            entries = [
                queue.with_weak_reason(e, reasons[e.card_id]) if e.card_id in reasons else e
                for e in _name_missed_questions(fc, conn, entries, weight_of, reasons)
            ]
            weak_topics = repos.weak_topic_paths(conn, weighted)
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
                reason=e.reason,
                kind=e.kind,
                weak_topic=weak_topics.get(e.card_id),
            )
            for e in entries
        )
    else:
        items = tuple(
            QueueItem(e.card_id, "", "", (), states[e.state], e.due, 0, e.retrievability,
                      e.priority, e.reason, e.kind, weak_topics.get(e.card_id))
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
        learning_later=learning_later,
    )


def _deck_name(conn: Connection, fc: Flashcore, deck: str | None) -> str | None:
    """A deck named by its key is the same scope as the deck named by its name."""
    if deck is None:
        return None
    return repos.deck_name_of_key(conn, fc.profile_id, deck) or deck


def _name_missed_questions(
    fc: Flashcore,
    conn: Connection,
    entries: list[queue.Entry],
    weight_of: dict[int, float],
    reasons: dict[int, str],
) -> list[queue.Entry]:
    """A card whose own question was missed names it (`missed uworld:118154 on …`), in place
    of its topic's reason (taken out of `reasons`)."""
    ids = [e.card_id for e in entries if weight_of.get(e.card_id, 0.0) >= MISSED_QUESTION]
    if not ids:
        return entries
    missed = question_reasons(fc, conn, ids)
    for card_id in missed:
        reasons.pop(card_id, None)
    return [
        queue.with_missed_question(e, missed[e.card_id]) if e.card_id in missed else e
        for e in entries
    ]


# ---------------------------------------------------------------- one card


@dataclass(frozen=True, slots=True)
class Outcome:
    rating: Rating
    state: CardState
    due: datetime
    interval: timedelta
    label: str  # "10m", "4d", "3.2mo"


@dataclass(frozen=True, slots=True)
class CardView:
    """Everything the reviewer shows for one card; `version` guards the answer."""

    card_id: int
    note_key: str
    deck: str
    kind: str
    ord: int
    topics: tuple[str, ...]
    tags: tuple[str, ...]
    html: bool
    front: list[cloze.Segment]
    back: list[cloze.Segment]
    extra: str
    state: CardState
    reps: int
    lapses: int
    version: int
    retention: float
    outcomes: dict[Rating, Outcome]
    flagged: bool


def format_interval(delta: timedelta) -> str:
    seconds = delta.total_seconds()
    if seconds < 60:
        return f"{max(1, round(seconds))}s"
    if seconds < 3600:
        return f"{round(seconds / 60)}m"
    if seconds < 86400:
        return f"{seconds / 3600:.1f}h".replace(".0h", "h")
    days = seconds / 86400
    if days < 30:
        return f"{round(days)}d"
    if days < 365:
        return f"{days / 30.4:.1f}mo".replace(".0mo", "mo")
    return f"{days / 365.25:.1f}y".replace(".0y", "y")


def show(fc: Flashcore, card_id: int) -> CardView:
    """The card with its four outcomes (nothing is written)."""
    with fc.engine.connect() as conn, transaction(conn, write=False):
        return _show_on(conn, fc, card_id)[0]


def _show_on(conn: Connection, fc: Flashcore, card_id: int) -> tuple[CardView, repos.CardRow]:
    now = fc.now()
    row = repos.card_view(conn, fc.profile_id, card_id)
    if row is None:
        raise NotFoundError(f"no card {card_id} in this profile")
    schedule = repos.schedule_from(_Obj(row))
    retention = card_retention(fc, row["weight"], now)
    outcomes = {
        rating: Outcome(rating, result.state, result.due, result.due - now,
                        format_interval(result.due - now))
        for rating, result in fsrs_adapter.preview(
            card_id, schedule, now, retention, fc.policy,
            elapsed_days=elapsed_days(fc, schedule, now),
        ).items()
    }  # fmt: skip
    fields = row["fields"]
    if row["kind"] == "cloze":
        front = cloze.render(fields["text"], row["ord"], reveal=False)
        back = cloze.render(fields["text"], row["ord"], reveal=True)
    else:
        front = [cloze.Segment(fields.get("front", ""))]
        back = [cloze.Segment(fields.get("back", ""), "answer")]
    view = CardView(
        card_id=card_id,
        note_key=row["note_key"],
        deck=row["deck"],
        kind=row["kind"],
        ord=row["ord"],
        topics=tuple(row["topics"]),
        tags=tuple(row["tags"] or ()),
        html=row["html"],
        front=front,
        back=back,
        extra=fields.get("extra", ""),
        state=CardState(row["state"]),
        reps=row["reps"],
        lapses=row["lapses"],
        version=row["version"],
        retention=retention,
        outcomes=outcomes,
        flagged=row["flagged"],
    )
    known = repos.CardRow(
        card_id=card_id,
        note_id=row["note_id"],
        schedule=schedule,
        version=row["version"],
        suspended=row["suspended"],
        weight=row["weight"],
        desired_retention=row["desired_retention"],
        leech=row["leech"],
        buried_until=row["buried_until"],
        siblings=row["siblings"],
    )
    return view, known


class _Obj:
    """Attribute access over a dict (so repos.schedule_from reads both rows and dicts)."""

    def __init__(self, data: dict[str, Any]) -> None:
        self.__dict__.update(data)


@dataclass(frozen=True, slots=True)
class AnswerResult:
    card_id: int
    rating: Rating
    review_id: int
    schedule: Schedule
    retention: float
    leech: bool
    buried_siblings: tuple[int, ...]

    def to_json(self) -> dict[str, Any]:
        memory = self.schedule.memory
        return {
            "card_id": self.card_id,
            "rating": self.rating.name.lower(),
            "review_id": self.review_id,
            "state": self.schedule.state.label,
            "due": self.schedule.due.isoformat(),
            "stability": memory.stability if memory else None,
            "difficulty": memory.difficulty if memory else None,
            "reps": self.schedule.reps,
            "lapses": self.schedule.lapses,
            "desired_retention": self.retention,
            "leech": self.leech,
            "buried_siblings": list(self.buried_siblings),
        }


def answer(
    fc: Flashcore,
    card_id: int,
    rating: Rating,
    *,
    duration_ms: int | None = None,
    expect_reps: int | None = None,
    expect_version: int | None = None,
    reason: str = "",
) -> AnswerResult:
    """Grade a card: new state and review-log row in one transaction. Refuses (StaleCardError)
    when the card changed since it was shown. The time of the answer is read inside the
    transaction, once the card is locked: two answers to one card at once are recorded one
    after the other, never refused for a clock that seems to run backwards."""
    with fc.engine.connect() as conn:  # Core on a plain connection: no ORM on this path
        return run_write_on(
            conn,
            lambda c: _answer_in(
                c, fc, card_id, rating, None, None,
                duration_ms=duration_ms, expect_reps=expect_reps, expect_version=expect_version,
                reason=reason,
            ),
        )  # fmt: skip


def _answer_in(
    session: repos.Executor,
    fc: Flashcore,
    card_id: int,
    rating: Rating,
    now: datetime | None,
    known: repos.CardRow | None,
    *,
    duration_ms: int | None,
    expect_reps: int | None,
    expect_version: int | None,
    reason: str,
) -> AnswerResult:
    """The answer's transaction. `known` is the card as it was shown, at `expect_version`: the
    version-guarded UPDATE then proves it unchanged, so it need not be read again. `now` None:
    read the clock here, under the write lock and after the card's row lock."""
    s = fc.settings
    card = known or repos.load_card(session, fc.profile_id, card_id, lock=True)
    if now is None:
        now = fc.now()
    scheduler_id = fc.scheduler_id(session)
    if expect_version is not None and card.version != expect_version:
        raise StaleCardError(f"card {card_id} changed since it was shown; not answered twice")
    if expect_reps is not None and card.schedule.reps != expect_reps:
        raise StaleCardError(
            f"card {card_id} has {card.schedule.reps} reviews, expected {expect_reps}: "
            "it was answered meanwhile; not answered twice"
        )
    if card.suspended:
        raise FlashcoreError(f"card {card_id} is suspended; unsuspend it first")
    retention = card_retention(fc, card.weight, now)
    elapsed = elapsed_days(fc, card.schedule, now)
    new = fsrs_adapter.answer(
        card_id, card.schedule, rating, now, retention, fc.policy, elapsed_days=elapsed
    )
    leech = _is_leech(card.schedule.lapses, new.lapses, s.leech_threshold)
    extra: dict[str, Any] = {"buried_until": None}
    if leech:
        extra.update(leech=True, suspended=True)
    if not repos.save_schedule(
        session, card_id, card.version, new, now, retention=retention, extra=extra
    ):
        raise StaleCardError(f"card {card_id} was answered or changed elsewhere meanwhile")
    buried: list[int] = []
    if s.bury_siblings and card.siblings != 0:
        buried = repos.bury_siblings(
            session,
            card.note_id,
            card_id,
            studyday.next_rollover(now, s.zone, s.day_start_hour),
            now,
        )
    memory = card.schedule.memory
    review_id = repos.insert_review(
        session,
        {
            "profile_id": fc.profile_id,
            "card_id": card_id,
            "reviewed_at": now,
            "rating": int(rating),
            "scheduler_id": scheduler_id,
            "duration_ms": duration_ms,
            "desired_retention": retention,
            "reason": reason[:300],
            "state_before": int(card.schedule.state),
            "step_before": card.schedule.step,
            "stability_before": memory.stability if memory else None,
            "difficulty_before": memory.difficulty if memory else None,
            "due_before": card.schedule.due,
            "last_review_before": card.schedule.last_review,
            "lapses_before": card.schedule.lapses,
            "retention_before": card.desired_retention,
            "buried_until_before": card.buried_until,
            "state_after": int(new.state),
            "step_after": new.step,
            "stability_after": new.memory.stability if new.memory else 0.0,
            "difficulty_after": new.memory.difficulty if new.memory else 0.0,
            "due_after": new.due,
            "leeched": leech,
            "buried_siblings": buried,
            "elapsed_days": elapsed,
        },
    )
    return AnswerResult(card_id, rating, review_id, new, retention, leech, tuple(buried))


def elapsed_days(fc: Flashcore, schedule: Schedule, now: datetime) -> int:
    """Study days since the card's last answer (0 for a new card), as Anki counts them: what
    the scheduler is given, and what the review log records."""
    if schedule.last_review is None:
        return 0
    s = fc.settings
    return max(0, studyday.days_between(schedule.last_review, now, s.zone, s.day_start_hour))


def _is_leech(lapses_before: int, lapses_after: int, threshold: int) -> bool:
    """Anki's rule: a leech at the threshold, and again every half-threshold lapses after it."""
    if lapses_after <= lapses_before or lapses_after < threshold:
        return False
    step = max(1, threshold // 2)
    return (lapses_after - threshold) % step == 0


@dataclass(frozen=True, slots=True)
class Undone:
    card_id: int
    rating: Rating
    reviewed_at: datetime


def undo(fc: Flashcore, steps: int = 1, *, earlier_days: bool = False) -> list[Undone]:
    """Undo the last `steps` answers of this profile: card state restored exactly, rows removed.
    An answer given on an earlier study day is undone only with `earlier_days` (otherwise
    `EarlierDayUndoError`, nothing changed): the reviewer and `flashcore undo` alike."""
    if steps < 1:
        raise FlashcoreError("--steps must be at least 1")
    now = fc.now()
    today_start = fc.day_start(now)

    def work(session: Any) -> list[Undone]:
        logs = repos.last_reviews(session, fc.profile_id, steps)
        if not logs:
            raise FlashcoreError("nothing to undo: no answers recorded")
        earlier = [log for log in logs if log["reviewed_at"] < today_start]
        if earlier and not earlier_days:
            zone, hour = fc.settings.zone, fc.settings.day_start_hour
            first = min(studyday.study_date(log["reviewed_at"], zone, hour) for log in earlier)
            n = len(earlier)
            which = (
                "the last answer was" if len(logs) == 1 else f"{n} of the {len(logs)} answers were"
            )
            raise EarlierDayUndoError(
                f"not undone: {which} given on an earlier study day ({first.isoformat()}); "
                "today's answers only, unless you confirm",
                answers=n,
                first_day=first.isoformat(),
            )
        done = []
        for log in logs:
            anchored = anki_sync.anchor_time(session, log["card_id"])
            if anchored is not None and anchored >= log["reviewed_at"]:
                raise FlashcoreError(
                    f"card {log['card_id']}: its answer of {log['reviewed_at']:%Y-%m-%d %H:%M} "
                    "was followed by a newer state from Anki (an import); not undone"
                )
            repos.undo_review(session, log, now)
            done.append(Undone(log["card_id"], Rating(log["rating"]), log["reviewed_at"]))
        return done

    return run_write(fc.engine, work)


CARD_ACTIONS: dict[str, Any] = {
    "suspend": {"suspended": True},
    "unsuspend": {"suspended": False, "leech": False},
    "unbury": {"buried_until": None},
    "flag": {"flagged": True},
    "unflag": {"flagged": False},
}


def set_cards(fc: Flashcore, action: str, card_ids: list[int]) -> int:
    """suspend | unsuspend | unbury | flag | unflag | bury the listed cards."""
    now = fc.now()
    if action == "bury":
        values: dict[str, Any] = {"buried_until": fc.rollover(now)}
    elif action in CARD_ACTIONS:
        values = dict(CARD_ACTIONS[action])
    else:
        raise FlashcoreError(f"unknown card action {action!r}")
    values["modified_at"] = now

    def work(session: Any) -> None:
        missing = repos.set_card_flags(session, fc.profile_id, card_ids, values)
        if missing:
            raise NotFoundError(f"no card {missing[0]} in this profile; nothing was changed")

    run_write(fc.engine, work)
    return len(card_ids)


def monotonic_ms(start: float) -> int:
    """Answer durations use a real monotonic clock, even when scheduling time is frozen."""
    return int((time.monotonic() - start) * 1000)


class StudySession:
    """One review session, as the reviewer keeps it between answers (as Anki does).

    Today's ranking is built once and kept in memory: after an answer the card and its buried
    siblings leave it, and a card still in (re)learning waits for its step. It is rebuilt at
    the study-day rollover, after `invalidate` (undo, bury, suspend), when it runs out, and when
    another connection changed the collection (SQLite's `data_version`; on other databases at
    most every `REFRESH_SECONDS`), so a qbank import or another window is picked up without a
    rebuild after every answer.

    The session holds one connection for its reads and answers (no pool checkout or ORM
    session on the hot path) and answers from the row it showed: the answer's version-guarded
    UPDATE proves the card unchanged, so it is not read again. No transaction stays open
    between calls. Use one session from one thread at a time; `close()` it when done.
    """

    REFRESH_SECONDS = 60.0
    # Answers between the WAL checkpoints `idle()` runs. Often, so the log is short (~1.7 ms a
    # checkpoint, in a worker) and, once checkpointed, written over from its start rather than
    # grown: an fsync that grows the file costs more (here 0.21 against 0.14 ms), and the
    # first answers of a session would otherwise all grow it (every 100: answer p50 ~30 us
    # slower; a checkpoint took ~7 ms).
    CHECKPOINT_EVERY = 10

    def __init__(
        self,
        fc: Flashcore,
        *,
        deck: str | None = None,
        topic: str | None = None,
        minutes: float | None = None,
        exam_budget: bool = False,
    ) -> None:
        """`minutes`: the session's length; its queue is cut to fit (services.budget: the
        overflow is postponed, lowest exam points at risk first). `exam_budget`: without
        `minutes`, what is left of the exam's daily budget today (when an exam is set)."""
        self.fc = fc
        self.deck = deck
        self.topic = topic
        self.minutes = minutes
        self.exam_budget = exam_budget
        self.spent_seconds = 0.0  # answer time in this session (what the budget has used)
        self.postponed = 0  # cards the budget left for later, at the last rebuild
        self._conn: Connection | None = None
        self._pending: list[QueueItem] | None = None
        self._head = 0
        self._kind_of: dict[int, str] = {}  # pending cards not yet gone -> kind
        self._counts = {"new": 0, "learning": 0, "review": 0}
        self._waiting: list[QueueItem] = []  # sorted by (due, card_id)
        self._rollover: datetime | None = None
        self._version: int | None = None
        self._built_at = 0.0
        self._shown: tuple[int, repos.CardRow] | None = None
        self._since_checkpoint = 0
        self._checked = False  # the last answer found no commit by another connection
        self._held = (0, 0, 0)  # the last build's new_held, review_held, new_limit

    # ------------------------------------------------------------ connection

    def _connection(self) -> Connection:
        if self._conn is None or self._conn.closed or self._conn.invalidated:
            self._conn = self.fc.engine.connect()
            # data_version counts other connections' commits per connection: a new one's
            # counter says nothing about the old one's, so the ranking is rebuilt.
            self._pending = None
            self._checked = False
        return self._conn

    def close(self) -> None:
        if self._conn is not None:
            self._conn.close()
            self._conn = None

    def __enter__(self) -> StudySession:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def idle(self) -> bool:
        """Work for a quiet moment (the student is reading a card; call it from a worker):
        every `CHECKPOINT_EVERY` answers, copy SQLite's write-ahead log into the database
        (PASSIVE: it never blocks an answer), so that SQLite's automatic checkpoint never lands
        inside an answer. On its own pooled connection, so an answer may run meanwhile.
        True when it checkpointed."""
        if (
            self.fc.engine.dialect.name != "sqlite"
            or self._since_checkpoint < self.CHECKPOINT_EVERY
        ):
            return False
        self._since_checkpoint = 0
        with self.fc.engine.connect() as conn:
            conn.exec_driver_sql("PRAGMA wal_checkpoint(PASSIVE)")
            conn.commit()
        return True

    def _data_version(self) -> int | None:
        """SQLite's counter of commits by *other* connections (ours hold still)."""
        if self.fc.engine.dialect.name != "sqlite":
            return None
        return sqlite_data_version(self._connection())  # needs no transaction

    def _changed_elsewhere(self) -> bool:
        if self._checked:
            self._checked = False
            return False
        if self._version is None:
            return time.monotonic() - self._built_at > self.REFRESH_SECONDS
        return self._data_version() != self._version

    # ------------------------------------------------------------ the ranked queue

    def invalidate(self) -> None:
        self._pending = None

    def _rebuild(self, now: datetime) -> None:
        ensure_fresh(self.fc)  # may write (once a day): do it before taking the version
        self._version = self._data_version()  # before building: a change meanwhile is seen next
        self._checked = False
        self._built_at = time.monotonic()
        built = build_queue(
            self.fc, deck=self.deck, topic=self.topic, details=False, weights_fresh=True
        )
        self._held = (built.new_held, built.review_held, built.new_limit)
        self._pending = self._within_budget([i for i in built.items if i.kind != "ahead"])
        self._head = 0
        self._kind_of = {i.card_id: i.kind for i in self._pending}
        self._counts = {"new": 0, "learning": 0, "review": 0}
        for item in self._pending:
            self._counts[item.kind] += 1
        waiting = [replace(i, kind="learning") for i in built.items if i.kind == "ahead"]
        for card_id, due, state in built.later_learning:
            label = "relearning after a lapse" if state == CardState.RELEARNING else "learning step"
            waiting.append(
                QueueItem(card_id, "", "", (), CardState(state), due, 0, None, 0.0, label,
                          "learning")
            )  # fmt: skip
        self._waiting = sorted(waiting, key=_waiting_key)
        self._rollover = self.fc.rollover(now)

    def budget_seconds(self) -> float | None:
        """What is left of the session's budget (None: no budget)."""
        if self.minutes is not None:
            return self.minutes * 60.0 - self.spent_seconds
        if self.exam_budget:
            from flashcore.services.budget import exam_seconds_left

            return exam_seconds_left(self.fc)
        return None

    def _within_budget(self, pending: list[QueueItem]) -> list[QueueItem]:
        left = self.budget_seconds()
        if left is None or not pending:
            self.postponed = 0
            return pending
        from flashcore.services.budget import cut_items

        kept, postponed = cut_items(self.fc, pending, max(0.0, left))
        self.postponed = len(postponed)
        return kept

    def _next_pending(self) -> QueueItem | None:
        pending = self._pending or []
        while self._head < len(pending) and pending[self._head].card_id not in self._kind_of:
            self._head += 1
        return pending[self._head] if self._head < len(pending) else None

    def queue(self, *, details: bool = True) -> TodayQueue:
        """The queue with its next card first (only that one is listed, with its details unless
        `details=False`: the reviewer reads them with `show`)."""
        now = self.fc.now()
        if (
            self._pending is None
            or self._rollover is None
            or now >= self._rollover
            or (self._next_pending() is None and not self._waiting)
            or self._changed_elsewhere()
            or self._pending is None  # a new connection (after a lost one) was opened
        ):
            self._rebuild(now)
        head = self._next_pending()
        waiting = self._waiting
        due_now = bisect_right(waiting, now, key=lambda i: i.due)
        ahead = now + timedelta(minutes=self.fc.settings.learn_ahead_minutes)
        first: QueueItem | None = None
        if due_now:
            first = waiting[0]
        elif head is not None:
            first = head
        elif waiting and waiting[0].due <= ahead:
            first = replace(waiting[0], kind="ahead")
        items: tuple[QueueItem, ...] = ()
        if first is not None:
            if details:
                conn = self._connection()
                with transaction(conn, write=False):
                    info = repos.queue_details(conn, [first.card_id]).get(first.card_id, {})
                first = QueueItem(
                    first.card_id, info.get("note_key", ""), info.get("deck", ""),
                    tuple(info.get("topics", ())), first.state, first.due,
                    info.get("reps", first.reps), first.retrievability, first.priority,
                    first.reason, first.kind, first.weak_topic,
                )  # fmt: skip
            items = (first,)
        counts = self._counts
        soon = bisect_right(waiting, ahead, key=lambda i: i.due)  # due within learn-ahead
        return TodayQueue(
            items=items,
            new=counts["new"],
            learning=counts["learning"] + soon,
            review=counts["review"],
            next_learning_due=waiting[due_now].due if due_now < len(waiting) else None,
            new_held=self._held[0],
            review_held=self._held[1],
            new_limit=self._held[2],
        )

    # ------------------------------------------------------------ one card

    def show(self, card_id: int) -> CardView:
        """As `show`, on the session's connection; remembers the row for the answer."""
        conn = self._connection()
        with transaction(conn, write=False):
            view, row = _show_on(conn, self.fc, card_id)
        self._shown = (card_id, row)
        return view

    def answer(
        self,
        card_id: int,
        rating: Rating,
        *,
        duration_ms: int | None = None,
        expect_version: int | None = None,
        reason: str = "",
    ) -> AnswerResult:
        """As `answer`, on the session's connection, and the card leaves the queue. With
        `expect_version` of the card last shown, the card is not read again."""
        shown, self._shown = self._shown, None
        self._checked = False  # set again only by an answer that commits
        known = None
        if shown is not None and shown[0] == card_id and shown[1].version == expect_version:
            known = shown[1]
        seen: list[int] = []

        def work(conn: Connection) -> AnswerResult:
            done = _answer_in(
                conn, self.fc, card_id, rating, None, known,
                duration_ms=duration_ms, expect_reps=None, expect_version=expect_version,
                reason=reason,
            )  # fmt: skip
            if self._version is not None:  # under the write lock: every other commit is in
                seen.append(sqlite_data_version(conn))
            return done

        result = run_write_on(self._connection(), work)
        self.spent_seconds += (duration_ms or 0) / 1000.0
        self.answered(result)
        self._since_checkpoint += 1
        # The next `queue()` needs no check of its own: this answer's transaction saw whether
        # another connection had committed (one statement here instead of a transaction there).
        self._checked = bool(seen) and seen[-1] == self._version
        return result

    def answered(self, result: AnswerResult, reason: str = "") -> None:
        """Take an answered card (and its buried siblings) out; a card still in (re)learning
        today waits for its step."""
        gone = {result.card_id, *result.buried_siblings}
        for card_id in gone:
            kind = self._kind_of.pop(card_id, None)
            if kind is not None:
                self._counts[kind] -= 1
        if any(i.card_id in gone for i in self._waiting):
            self._waiting = [i for i in self._waiting if i.card_id not in gone]
        schedule = result.schedule
        if (
            schedule.state in (CardState.LEARNING, CardState.RELEARNING)
            and self._rollover is not None
            and schedule.due < self._rollover
            and not result.leech
        ):
            label = (
                "relearning after a lapse"
                if schedule.state is CardState.RELEARNING
                else "learning step"
            )
            insort(
                self._waiting,
                QueueItem(result.card_id, "", "", (), schedule.state, schedule.due,
                          schedule.reps, None, 0.0, label, "learning"),
                key=_waiting_key,
            )  # fmt: skip


def _waiting_key(item: QueueItem) -> tuple[datetime, int]:
    return (item.due, item.card_id)
