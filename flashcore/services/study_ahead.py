"""The card after the one on screen, read while the student reads (issue 19): the reviewer
shows it the moment a card is answered, while the answer is written in the background, so a
key never waits for the database (another process's import holding the write lock, an fsync).

`StudySession.ahead(after)` tells, while card `after` is on screen, which card the session's
`queue()` will show first once `after` is answered, and reads it (its view and its row, as
`show` does). `take_ahead` hands it over at the answer's key, on the screen's thread without a
lock: only if no invalidation (undo, bury, suspend, a raised limit) and no rollover came since.
A rebuild meanwhile (another process's import picked up while the student reads) does not
stop it: the card is still due, and the key does not wait for the rebuild (the answer waits
for it, behind the card); the next card is then read ahead from the new ranking. The answer itself is the same transaction as ever, written once, and the card shown
ahead is answered from its row like any card shown. When the next card cannot be told before
the answer (no other card due now: the answered card may come back, or the session ends; the
next card a sibling the answer would bury), `ahead` says None and the answer goes the usual
way (written, then the next card read)."""

from __future__ import annotations

import threading
from bisect import bisect_right
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from flashcore.services.answering import CardView, show_on
from flashcore.services.queue import QueueItem, TodayQueue
from flashcore.storage import repos
from flashcore.storage.uow import transaction

if TYPE_CHECKING:
    from flashcore.services.context import Collection


@dataclass(frozen=True, slots=True)
class Ahead:
    """The card to show once card `after` is answered, with the queue as it will then be
    (its counts less `after`; the session's real queue after the answer may differ by a
    learning card that comes back)."""

    after: int
    item: QueueItem
    view: CardView
    queue: TodayQueue
    token: tuple[int, int]  # the session's (builds, invalidations) when it was read


class ShownAhead:
    """The part of `StudySession` that reads the next card ahead (its state is the session's)."""

    fc: Collection
    _lock: threading.RLock
    _pending: list[QueueItem] | None
    _head: int
    _kind_of: dict[int, str]
    _counts: dict[str, int]
    _waiting: list[QueueItem]
    _rollover: datetime | None
    _epoch: int
    _held: tuple[int, int, int, int, int]
    _shown: tuple[int, repos.CardRow] | None
    _builds: int = 0  # rebuilds of the ranking so far (`_rebuild` counts them)
    _ahead: tuple[Ahead, repos.CardRow] | None = None  # read by `ahead`, for `take_ahead`
    _taken: tuple[int, repos.CardRow] | None = None  # taken: shown once the answer is in

    def _connection(self) -> Any:  # the session's connection (StudySession's)
        raise NotImplementedError

    def ahead(self, after: int) -> Ahead | None:
        """While card `after` is on screen (call from a worker): the card to show once it is
        answered, read now; None when it cannot be told ahead, or while an answer or a
        rebuild runs (never waits: the next quiet moment asks again)."""
        if not self._lock.acquire(blocking=False):
            return None
        try:
            token = (self._builds, self._epoch)
            kept = self._ahead
            if kept is not None and kept[0].after == after and kept[0].token == token:
                return kept[0]
            # The card read before (an older ranking's) stays takeable until this read is
            # done: a key meanwhile shows it at once (`take_ahead` checks what must hold),
            # where it found nothing and waited for the queue (issue 19w: ~20 ms beside an
            # import, whose rebuild is followed by this read).
            read = self._read_ahead(after, token)
            self._ahead = read
            return None if read is None else read[0]
        finally:
            self._lock.release()

    def _read_ahead(self, after: int, token: tuple[int, int]) -> tuple[Ahead, repos.CardRow] | None:
        """`ahead`'s read, under the session's lock."""
        shown = self._shown
        if shown is None or shown[0] != after:
            return None  # `after` is not the card shown (an answer is being written)
        now = self.fc.now()
        if self._pending is None or self._rollover is None or now >= self._rollover:
            return None
        item = self._peek(after, now)
        if item is None:
            return None
        conn = self._connection()
        with transaction(conn, write=False):
            view, row = show_on(conn, self.fc, item.card_id)
        if self.fc.settings.bury_siblings and shown[1].note_id == row.note_id:
            return None  # a sibling: answering `after` buries it
        return Ahead(after, item, view, self._queue_after(after, item, now), token), row

    def take_ahead(self, ahead: Ahead) -> bool:
        """At the answer's key (on the screen's thread, no lock): whether `ahead` is still the
        card to show next; if so it is taken, and becomes the card shown once the answer to
        `ahead.after` is in (its answer needs no read of its row)."""
        kept = self._ahead
        if (
            kept is None
            or kept[0] is not ahead
            or ahead.token[1] != self._epoch
            or self._pending is None
            or self._rollover is None
            or self.fc.now() >= self._rollover
        ):
            return False
        self._ahead = None
        self._taken = (ahead.item.card_id, kept[1])
        return True

    def queue_held(self) -> TodayQueue | None:
        """The queue as the session holds it now (its counts, and its first card without
        details), never rebuilt here: whether another process changed the collection, and the
        rebuild that follows, are left to the next `queue()` or `prepare()`. (Read after an
        answer written behind the card on screen: the key after it does not wait for a
        rebuild.) None when there is no ranking to tell (invalidated, not built)."""
        with self._lock:
            if self._pending is None:
                return None
            now = self.fc.now()
            return self._queue_after(None, self._peek(None, now), now)

    def drop_ahead(self) -> None:
        """The answer to the card before the one taken was not written: forget it."""
        self._taken = None
        self._ahead = None

    def _answered_ahead(self) -> None:
        """An answer is in: the card taken ahead (if any) is now the card shown."""
        taken, self._taken = self._taken, None
        if taken is not None:
            self._shown = taken

    def _peek(self, after: int | None, now: datetime) -> QueueItem | None:
        """What `queue()` shows first once `after` has left (as `_queue` chooses, without the
        learn-ahead: a card due later is never shown ahead)."""
        waiting = self._waiting
        for item in waiting[: bisect_right(waiting, now, key=lambda i: i.due)]:
            if item.card_id != after:
                return item
        pending = self._pending or []
        for index in range(self._head, len(pending)):
            item = pending[index]
            if item.card_id in self._kind_of and item.card_id != after:
                return item
        return None

    def _queue_after(self, after: int | None, first: QueueItem | None, now: datetime) -> TodayQueue:
        counts = dict(self._counts)
        kind = None if after is None else self._kind_of.get(after)
        if kind is not None:
            counts[kind] -= 1
        waiting = [i for i in self._waiting if i.card_id != after]
        return self._held_queue(() if first is None else (first,), counts, waiting, now)

    def _held_queue(
        self,
        items: tuple[QueueItem, ...],
        counts: dict[str, int],
        waiting: list[QueueItem],
        now: datetime,
    ) -> TodayQueue:
        """The queue as held: `items`, the `counts` by kind, the learning cards `waiting` (by
        due: those within the learn-ahead count as learning now), the held limits."""
        ahead = now + timedelta(minutes=self.fc.settings.learn_ahead_minutes)
        due_now = bisect_right(waiting, now, key=lambda i: i.due)
        soon = bisect_right(waiting, ahead, key=lambda i: i.due)
        return TodayQueue(
            items=items,
            new=counts["new"],
            learning=counts["learning"] + soon,
            review=counts["review"],
            next_learning_due=waiting[due_now].due if due_now < len(waiting) else None,
            new_held=self._held[0],
            review_held=self._held[1],
            new_limit=self._held[2],
            new_squeezed=self._held[3],
            new_raised=self._held[4],
        )
