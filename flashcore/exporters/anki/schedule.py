"""Scheduling as Anki stores it: due days counted from the collection's creation, card type and
queue, FSRS memory in a card's data, and the review log with unique revlog ids."""

from __future__ import annotations

import bisect
import sqlite3
from collections.abc import Sequence
from datetime import UTC, date, datetime, timedelta
from typing import Any

import genanki

from flashcore.core.fsrs_adapter import DEFAULT_FSRS_PARAMETERS
from flashcore.core.model import CardState, ExportCard, ReviewRow, review_row
from flashcore.core.settings import Settings

COLLECTION_CRT = 1_577_851_200  # 2020-01-01 04:00 UTC


ROLLOVER_HOUR = 4


FSRS_DECAY = DEFAULT_FSRS_PARAMETERS[20]  # 0.1542, FSRS-6's default decay


MAX_ANSWER_MS = 60_000  # Anki's default "maximum answer seconds"


_CRT_DAY = (COLLECTION_CRT - ROLLOVER_HOUR * 3600) // 86_400  # 2020-01-01 as a study day


_ID_FILTER_LOG2 = 26  # 2**26 bits: see `_RevlogIds`


_ID_FILTER_BITS = 1 << _ID_FILTER_LOG2


_GOLDEN = 0x9E3779B97F4A7C15


_U64 = (1 << 64) - 1


_ROLLOVER_S = ROLLOVER_HOUR * 3600


_LEARN_STEPS = len(Settings().learning_steps)


_RELEARN_STEPS = len(Settings().relearning_steps)


_TYPE_QUEUE = {
    CardState.NEW: (0, 0),
    CardState.LEARNING: (1, 1),
    CardState.REVIEW: (2, 2),
    CardState.RELEARNING: (3, 1),
}


_REVLOG_TYPE = {
    CardState.NEW: 0,
    CardState.LEARNING: 0,
    CardState.REVIEW: 1,
    CardState.RELEARNING: 2,
}


_REVLOG_TYPE_OF = tuple(_REVLOG_TYPE[state] for state in CardState)  # by stored value


_REVIEW = int(CardState.REVIEW)


def study_date(instant: datetime) -> date:
    """The study day (UTC, rollover at 04:00) containing `instant`."""
    return (instant.astimezone(UTC) - timedelta(hours=ROLLOVER_HOUR)).date()


def review_day(instant: datetime) -> int:
    """A review card's `due`: days from the package collection's creation day."""
    return _day_number(instant) - _CRT_DAY


def fsrs_interval(stability: float, retention: float) -> int:
    """Whole days until retrievability falls to `retention` (FSRS-6 curve, default decay)."""
    factor: float = 0.9 ** (-1 / FSRS_DECAY) - 1
    days: float = stability / factor * (retention ** (-1 / FSRS_DECAY) - 1)
    return max(1, round(days))


class _Card(genanki.Card):  # type: ignore[misc]
    """A genanki card that remembers the row id it was written with."""

    def __init__(self, anki_ord: int, source: ExportCard) -> None:
        super().__init__(anki_ord)
        self.source = source
        self.row_id = 0

    def write_to_db(self, cursor: sqlite3.Cursor, *args: Any) -> None:
        super().write_to_db(cursor, *args)
        self.row_id = int(cursor.lastrowid or 0)


class _ScheduleWriter:
    """Turns genanki's new cards into flashcore's states and adds their history, in batches."""

    def __init__(self, cursor: sqlite3.Cursor, reserved: Sequence[int]) -> None:
        self.cursor = cursor
        self.card_rows: list[tuple[int | str, ...]] = []
        self.revlog_rows: list[tuple[int, ...]] = []
        self.revlog_ids = _RevlogIds(cursor, reserved)

    def add(self, card: _Card, position: int) -> None:
        src = card.source
        ctype, queue = _TYPE_QUEUE[src.state]
        if src.suspended:
            queue = -1
        due, ivl, factor, left = position, 0, 0, 0
        if src.state is CardState.REVIEW:
            due, ivl, factor = review_day(src.due), _review_interval(src), 2500
        elif src.state is CardState.LEARNING:
            due, left = int(src.due.timestamp()), max(1, _LEARN_STEPS - (src.step or 0))
        elif src.state is CardState.RELEARNING:
            due, factor = int(src.due.timestamp()), 2500
            left = max(1, _RELEARN_STEPS - (src.step or 0))
            if src.stability is not None:
                ivl = fsrs_interval(src.stability, src.desired_retention or 0.9)
        flags = 1 if src.flagged else 0
        data = _card_data(src, position)
        row = (ctype, queue, due, ivl, factor, src.reps, src.lapses, left, flags, data)
        self.card_rows.append((*row, card.row_id))
        rows = src.review_rows or tuple(review_row(r) for r in src.reviews)
        _add_revlog_rows(self.revlog_rows, rows, card.row_id, self.revlog_ids)

    def flush(self) -> None:
        self.cursor.executemany(
            "UPDATE cards SET type = ?, queue = ?, due = ?, ivl = ?, factor = ?, reps = ?,"
            " lapses = ?, left = ?, flags = ?, data = ? WHERE id = ?",
            self.card_rows,
        )
        self.cursor.executemany(
            "INSERT INTO revlog VALUES (?, ?, -1, ?, ?, ?, ?, ?, ?)", self.revlog_rows
        )
        self.card_rows.clear()
        self.revlog_rows.clear()
        self.revlog_ids.flushed()


def _day_number(instant: datetime) -> int:
    """Study days (UTC, rollover at 04:00) since 1970-01-01; fast `study_date`."""
    return (int(instant.timestamp()) - ROLLOVER_HOUR * 3600) // 86_400


def _review_interval(card: ExportCard) -> int:
    if card.last_review is not None:
        return max(1, _day_number(card.due) - _day_number(card.last_review))
    if card.stability is not None:
        return fsrs_interval(card.stability, card.desired_retention or 0.9)
    return 1


def _card_data(card: ExportCard, position: int) -> str:
    """Anki's card `data` JSON (compact, as Anki writes it)."""
    if card.state is CardState.NEW:
        return ""
    parts = [f'"pos":{position}']
    s, d, dr = card.stability, card.difficulty, card.desired_retention
    if s is not None and d is not None:
        parts.append(f'"s":{round(s, 4)!r},"d":{round(d, 4)!r}')
    if dr is not None:
        parts.append(f'"dr":{round(dr, 4)!r}')
    if s is not None and d is not None:
        parts.append(f'"decay":{FSRS_DECAY!r}')
    if card.last_review is not None:
        parts.append(f'"lrt":{int(card.last_review.timestamp())}')
    return "{" + ",".join(parts) + "}"


class _RevlogIds:
    """Unique revlog ids: the wanted id, or the smallest free one after it.

    The ids taken are the answers' own revlog ids (`reserved`, ascending), those already in
    the package's revlog and those waiting for the next flush. One bit per hash bucket
    (`_ID_FILTER_BITS`, 8 MB, where a dict of every id took ~100 MB at 1,000,000 reviews)
    says "free" for almost every id; only an id whose bit is set is looked up (the waiting
    set, the reserved ids, then the revlog's primary key). Ids found taken point past the
    run of taken ids they met (path compression), so thousands of reviews in one
    millisecond stay cheap."""

    def __init__(self, cursor: sqlite3.Cursor, reserved: Sequence[int] = ()) -> None:
        self.cursor = cursor
        self.bits = bytearray(_ID_FILTER_BITS // 8)
        self.waiting: set[int] = set()  # taken since the last flush
        self.next_after: dict[int, int] = {}  # for ids found taken: the first id worth trying
        self.reserved = reserved
        for taken in reserved:
            self._mark(taken)

    def take(self, wanted: int) -> int:
        bucket = _bucket(wanted)
        bit = 1 << (bucket & 7)
        if not self.bits[bucket >> 3] & bit:  # free: the common case, in line
            self.bits[bucket >> 3] |= bit
            self.waiting.add(wanted)
            return wanted
        candidate = wanted
        visited = []
        while self._taken(candidate):
            visited.append(candidate)
            candidate = self.next_after.get(candidate, candidate + 1)
        for taken in visited:
            self.next_after[taken] = candidate + 1
        self._mark(candidate)
        self.waiting.add(candidate)
        return candidate

    def flushed(self) -> None:
        """The waiting ids are now in the revlog."""
        self.waiting.clear()

    def _mark(self, taken: int) -> None:
        bucket = _bucket(taken)
        self.bits[bucket >> 3] |= 1 << (bucket & 7)

    def _taken(self, candidate: int) -> bool:
        bucket = _bucket(candidate)
        if not self.bits[bucket >> 3] & (1 << (bucket & 7)):
            return False
        if candidate in self.waiting or candidate in self.next_after:
            return True
        at = bisect.bisect_left(self.reserved, candidate)
        if at < len(self.reserved) and self.reserved[at] == candidate:
            return True
        found = self.cursor.execute("SELECT 1 FROM revlog WHERE id = ?", (candidate,))
        return found.fetchone() is not None


def _bucket(revlog_id: int) -> int:
    """A revlog id's bit in `_RevlogIds.bits`: its low bits mixed (Fibonacci hashing), so ids
    a whole number of days apart (histories that repeat a time of day) spread out."""
    return ((revlog_id * _GOLDEN) & _U64) >> (64 - _ID_FILTER_LOG2)


def _add_revlog_rows(
    out: list[tuple[int, ...]],
    reviews: Sequence[ReviewRow],
    card_id: int,
    revlog_ids: _RevlogIds,
) -> None:
    """Append a card's revlog rows to `out` (1,000,000 reviews pass here: kept in line, on
    plain numbers). The arithmetic is that of the answers' datetimes: `at / 10**6` is exactly
    `reviewed_at.timestamp()`."""
    last_ivl = 0
    review_state = _REVIEW
    revlog_type = _REVLOG_TYPE_OF
    take, bits, waiting = revlog_ids.take, revlog_ids.bits, revlog_ids.waiting
    shift = 64 - _ID_FILTER_LOG2
    for at, rating, duration, state_before, state_after, due_at, _s, difficulty, _r, rid in reviews:
        if not 1 <= rating <= 4:
            raise ValueError(f"review rating {rating} out of range 1-4")
        reviewed = at / 1_000_000
        if not rid:
            rid = int(reviewed * 1000)
            bucket = ((rid * _GOLDEN) & _U64) >> shift  # _RevlogIds.take's free case, in line
            bit = 1 << (bucket & 7)
            if bits[bucket >> 3] & bit:
                rid = take(rid)
            else:
                bits[bucket >> 3] |= bit
                waiting.add(rid)
        due = due_at / 1_000_000
        if state_after == review_state:
            # whole study days (UTC, rollover at 04:00) from the review to its due, at least 1
            ivl = (int(due) - _ROLLOVER_S) // 86_400 - (int(reviewed) - _ROLLOVER_S) // 86_400
            if ivl < 1:
                ivl = 1
        else:
            ivl = int(due - reviewed)  # seconds, negative
            ivl = -ivl if ivl >= 1 else -1
        # Anki's FSRS form of difficulty; 0 where the difficulty is unknown (an answer imported
        # from an SM-2 revlog).
        factor = round(((difficulty - 1) / 9 + 0.1) * 1000) if difficulty >= 1 else 0
        taken = duration or 0
        if taken < 0:
            taken = 0
        elif taken > MAX_ANSWER_MS:
            taken = MAX_ANSWER_MS
        out.append((rid, card_id, rating, ivl, last_ivl, factor, taken, revlog_type[state_before]))
        last_ivl = ivl
