"""The review session (`StudySession`: today's ranking held in memory, answers on one held
connection). The queue (`queue`, `counts`) and one card's use cases (`answering`) are
re-exported here: `study.build_queue`, `study.answer`, ... are the Python API."""

from __future__ import annotations

import threading
import time
from bisect import bisect_right, insort
from dataclasses import replace
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from sqlalchemy.exc import SQLAlchemyError

from flashcore.core import reasons
from flashcore.core.model import CardState, Rating
from flashcore.core.queue import EntryKind
from flashcore.services.study_ahead import Ahead, ShownAhead
from flashcore.services.study_news import ChangesElsewhere
from flashcore.services.weights import ensure_fresh
from flashcore.storage import repos
from flashcore.storage.db import sqlite_data_version
from flashcore.storage.uow import rolled_back, run_write_on, transaction

if TYPE_CHECKING:
    from sqlalchemy import Connection

    from flashcore.services.context import Collection


from flashcore.services.answering import (
    CARD_ACTIONS,
    AnswerResult,
    CardView,
    Outcome,
    Undone,
    answer,
    answer_in,
    change_cards_in_scope,
    elapsed_days,
    format_interval,
    rehearse_answer,
    set_cards,
    set_cards_in_scope,
    show,
    show_on,
    undo,
    undo_answer,
)
from flashcore.services.counts import deck_counts, due_by_topic
from flashcore.services.queue import (
    MAX_EXTRA_NEW,
    QueueItem,
    TodayQueue,
    build_queue,
    new_limit_raised,
    raise_new_limit,
    scope_key,
    study_topic_now,
    tomorrow,
)

__all__ = [
    "CARD_ACTIONS",
    "MAX_EXTRA_NEW",
    "Ahead",
    "AnswerResult",
    "CardView",
    "Outcome",
    "QueueItem",
    "StudySession",
    "TodayQueue",
    "Undone",
    "answer",
    "build_queue",
    "change_cards_in_scope",
    "deck_counts",
    "due_by_topic",
    "elapsed_days",
    "format_interval",
    "new_limit_raised",
    "raise_new_limit",
    "scope_key",
    "set_cards",
    "set_cards_in_scope",
    "show",
    "study_topic_now",
    "tomorrow",
    "undo",
    "undo_answer",
]


class StudySession(ChangesElsewhere, ShownAhead):
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
    between calls. `queue`, `show` and `answer` may come from different threads (they take
    turns); `prepare` does a rebuild while the student reads, beside them. `close()` it when
    done.
    """

    # Answers between the WAL checkpoints `idle()` runs. Often, so the log is short (~1.7 ms a
    # checkpoint, in a worker) and, once checkpointed, written over from its start rather than
    # grown: an fsync that grows the file costs more (here 0.21 against 0.14 ms), and the
    # first answers of a session would otherwise all grow it (every 100: answer p50 ~30 us
    # slower; a checkpoint took ~7 ms).
    CHECKPOINT_EVERY = 10

    def __init__(
        self,
        fc: Collection,
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
        self._warm: Connection | None = None  # the connection `_warm_up` last warmed
        self._since_checkpoint = 0
        self._checked = False  # the last answer found no commit by another connection
        self._held = (0, 0, 0, 0, 0)  # the last build's held counts (see `_rebuild`)
        self._lock = threading.RLock()  # queue, show, answer and prepare take turns
        self._epoch = 0  # invalidations so far (a rebuild that overlapped one is dropped)
        self._import_seen_at: float | None = None  # when an import was last seen running
        self._stamp: tuple[object, ...] | None = None  # PostgreSQL: the profile's at the build
        self._stamp_looked = 0.0

    # ------------------------------------------------------------ connection

    def _connection(self) -> Connection:
        if self._conn is None or self._conn.closed or self._conn.invalidated:
            # data_version counts other connections' commits per connection: a new one's
            # counter says nothing about the old one's, so the ranking is rebuilt after a
            # lost connection. The first one, opened after a build that took no count
            # (PostgreSQL: the build reads on the pool), leaves it: rebuilding there put a
            # whole rebuild between every session's first answer and its next card.
            if self._conn is not None or self._version is not None:
                self._pending = None
            self._conn = self.fc.engine.connect()
            self._checked = False
        return self._conn

    def close(self) -> None:
        conn, self._conn = self._conn, None
        if conn is None:
            return
        try:
            conn.close()
        except SQLAlchemyError:
            # Closed while a worker's answer still waits on it (the reviewer quit with a second
            # Ctrl+C while an answer waited for the write lock): its rollback can race the
            # worker's own. Drop the connection instead; what was not committed is not written.
            # (SQLAlchemy marks a connection closed even when its close fails, having left the
            # driver's connection to the pool, which discards one it cannot reset.)
            if not conn.closed:
                conn.invalidate()

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

    def prepare(self) -> bool:
        """Work for a quiet moment (the student is reading a card; call it from a worker):
        the first time on a connection, warm it up for the answer to the card on screen
        (`_warm_up`); when another connection changed the collection (an import that is done,
        another window) or the study day rolled over, rebuild the ranked queue now, so that
        the next answer finds it built instead of rebuilding between the key and the next
        card. Never waits: while an answer is being written it does nothing (the next quiet
        moment will). True when it rebuilt."""
        if not self._lock.acquire(blocking=False):
            return False
        try:
            self._warm_up()
            if self._pending is None or self._conn is None:
                return False  # not built yet, or invalidated
            # An answer's look (`_checked`: it saw no other commit) spares the next `queue()`
            # a look of its own; a quiet moment comes later and looks again (with the card
            # read ahead no `queue()` follows an answer: trusting it missed every import).
            self._checked = False
            now = self.fc.now()
            epoch = self._epoch
            rolled = self._rollover is not None and now >= self._rollover
            # it asks whether an import still runs every time (it is off the key's path), so
            # the rebuild after an import lands here rather than on the next key
            if not (rolled or self._changed_elsewhere(ask=True)):
                return False
            self._rebuild(now)
            if self._epoch != epoch:  # invalidated meanwhile: the next queue() builds again
                self._pending = None
            return True
        finally:
            self._lock.release()

    def _warm_up(self) -> bool:
        """Once per connection, with a card on screen: make its first answer cost what a
        later one does. On a new connection the first answer would pay for looking the
        scheduler's id up (a statement more, in a transaction of its own), for compiling the
        answer's statements and for the database's first look at them (on PostgreSQL, loading
        what the server knows of every table and index they touch, and planning). Here, while
        the student reads, the scheduler's id is looked up (reads only) and the answer to the
        card on screen is rehearsed (`rehearse_answer`), in a transaction rolled back: on
        PostgreSQL the real statement matching no row; on SQLite the real answer under the
        write lock, taken only if it is free at once (an import writing: the next quiet moment
        tries again). True when it rehearsed."""
        conn, shown = self._conn, self._shown
        if conn is None or shown is None or conn is self._warm or conn.closed:
            return False
        guarded = conn.dialect.name != "sqlite"
        try:
            with rolled_back(conn):
                if not self.fc.learn_scheduler_id(conn):
                    self._warm = conn  # the first answer ever records the scheduler
                    return False
            with rolled_back(conn, write=not guarded):
                done = rehearse_answer(conn, self.fc, shown[1], guarded=guarded)
        except SQLAlchemyError:
            return False  # (a lock it did not wait for) rolled back: tried again next time
        self._warm = conn
        return done

    # ------------------------------------------------------------ the ranked queue

    def invalidate(self) -> None:
        self._epoch += 1
        self._pending = None

    def _rebuild(self, now: datetime) -> None:
        self._builds += 1  # a card read ahead of this build is not taken (study_ahead)
        self._take_news()
        ensure_fresh(self.fc)  # may write (once a day): do it before taking the version
        self._version = self._data_version()  # before building: a change meanwhile is seen next
        if self._version is None:
            self._stamp = self._profile_stamp()
            self._stamp_looked = time.monotonic()
        self._checked = False
        self._built_at = time.monotonic()
        # a card on screen (a rebuild while the student reads it) keeps its place of the day
        built = build_queue(
            self.fc, deck=self.deck, topic=self.topic, details=False, weights_fresh=True,
            on_screen=self._shown[0] if self._shown is not None else None,
        )  # fmt: skip
        b = built
        self._held = (b.new_held, b.review_held, b.new_limit, b.new_squeezed, b.new_raised)
        self._pending = self._within_budget([i for i in built.items if i.kind != "ahead"])
        self._head = 0
        self._kind_of = {i.card_id: i.kind for i in self._pending}
        self._counts = {"new": 0, "learning": 0, "review": 0}
        for item in self._pending:
            self._counts[item.kind] += 1
        waiting = [
            replace(i, kind=EntryKind.LEARNING) for i in built.items if i.kind == EntryKind.AHEAD
        ]
        for card_id, due, state in built.later_learning:
            why = reasons.learning(state == CardState.RELEARNING)
            waiting.append(
                QueueItem(card_id, "", "", (), CardState(state), due, 0, None, 0.0, why,
                          EntryKind.LEARNING)
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
        with self._lock:
            return self._queue(details)

    def _queue(self, details: bool) -> TodayQueue:
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
            first = replace(waiting[0], kind=EntryKind.AHEAD)
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
                    first.why, first.kind, first.weak_topic,
                )  # fmt: skip
            items = (first,)
        return self._held_queue(items, self._counts, waiting, now)

    # ------------------------------------------------------------ one card

    def show(self, card_id: int) -> CardView:
        """As `show`, on the session's connection; remembers the row for the answer."""
        with self._lock:
            conn = self._connection()
            with transaction(conn, write=False):
                view, row = show_on(conn, self.fc, card_id)
            self._shown = (card_id, row)
            return view

    def show_again(self, card_id: int) -> CardView | None:
        """`show` once more for the card on screen (its outcomes under settings changed
        elsewhere); None when `card_id` is no longer the card shown or an answer is being
        written (never waits)."""
        if not self._lock.acquire(blocking=False):
            return None
        try:
            if self._shown is None or self._shown[0] != card_id:
                return None
            return self.show(card_id)  # (the lock is reentrant)
        finally:
            self._lock.release()

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
        with self._lock:
            return self._answer(card_id, rating, duration_ms, expect_version, reason)

    def _answer(
        self,
        card_id: int,
        rating: Rating,
        duration_ms: int | None,
        expect_version: int | None,
        reason: str,
    ) -> AnswerResult:
        shown, self._shown = self._shown, None
        self._checked = False  # set again only by an answer that commits
        known = None
        if shown is not None and shown[0] == card_id and shown[1].version == expect_version:
            known = shown[1]
        seen: list[int] = []

        def work(conn: Connection) -> AnswerResult:
            done = answer_in(
                conn, self.fc, card_id, rating, None, known,
                duration_ms=duration_ms, expect_reps=None, expect_version=expect_version,
                reason=reason,
            )  # fmt: skip
            if self._version is not None:  # under the write lock: every other commit is in
                seen.append(sqlite_data_version(conn))
            return done

        # The card as shown and a known scheduler: nothing to read, one statement to write.
        one = known is not None and self.fc.knows_scheduler_id()
        result = run_write_on(self._connection(), work, one_statement=one)
        self._answered_ahead()
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
        held = result.card_id in self._kind_of
        for card_id in gone:
            kind = self._kind_of.pop(card_id, None)
            if kind is not None:
                self._counts[kind] -= 1
        if not held and result.schedule.reps == 1:
            self._spent_new_elsewhere()
        if any(i.card_id in gone for i in self._waiting):
            self._waiting = [i for i in self._waiting if i.card_id not in gone]
        schedule = result.schedule
        if (
            schedule.state in (CardState.LEARNING, CardState.RELEARNING)
            and self._rollover is not None
            and schedule.due < self._rollover
            and not result.suspended
        ):
            why = reasons.learning(schedule.state is CardState.RELEARNING)
            insort(
                self._waiting,
                QueueItem(result.card_id, "", "", (), schedule.state, schedule.due,
                          schedule.reps, None, 0.0, why, EntryKind.LEARNING),
                key=_waiting_key,
            )  # fmt: skip

    def _spent_new_elsewhere(self) -> None:
        # A new card answered that the ranking did not hold: it was shown from a ranking that a
        # rebuild (`prepare`, after an import reordered the new cards) has replaced since. It
        # still spends one of today's new cards, so the ranking's last new card goes, as a
        # rebuild after the answer would leave it (the counts stay those of a fresh queue).
        if self._pending is None:
            return
        for item in reversed(self._pending):
            if item.kind == EntryKind.NEW and item.card_id in self._kind_of:
                del self._kind_of[item.card_id]
                self._counts["new"] -= 1
                return


def _waiting_key(item: QueueItem) -> tuple[datetime, int]:
    return (item.due, item.card_id)
