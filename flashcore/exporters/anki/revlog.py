"""The package's review log: every answer of the exported cards, written after the cards in one
pass in time order, which is (nearly) the order of the revlog ids, so the table is appended to
and its two indexes are built once at the end.

The answers come either with their cards (`ExportCard.reviews` / `review_rows`: `write_apkg`'s
notes held in memory) or, for an export of a long history, as a stream read after the cards
are written (`AnswerRow` batches, by time then log id). Both are written in one order: by
time, then the card's position in the package, then the card's own order. The same answers
therefore give the same ids and the same bytes either way."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable, Iterator, Mapping, Sequence
from itertools import compress, islice
from operator import eq, itemgetter

from flashcore.core.model import AnswerRow, CardState, ExportCard, answer_row, review_row
from flashcore.exporters.anki.schedule import StudyDays

MAX_ANSWER_MS = 60_000  # Anki's default "maximum answer seconds"


_REVLOG_TYPE = {
    CardState.NEW: 0,
    CardState.LEARNING: 0,
    CardState.REVIEW: 1,
    CardState.RELEARNING: 2,
}


_REVLOG_TYPE_OF = tuple(_REVLOG_TYPE[state] for state in CardState)  # by stored value


_REVIEW = int(CardState.REVIEW)


_NO_MORE = 1 << 63  # past every revlog id (a signed 64-bit integer)


_AT = itemgetter(1)


# genanki's schema creates these with the table; they are built here after the rows.
_INDEXES = ("ix_revlog_usn", "ix_revlog_cid")
_CREATE_INDEXES = (
    "CREATE INDEX ix_revlog_usn on revlog (usn)",
    "CREATE INDEX ix_revlog_cid on revlog (cid)",
)


class _RevlogIds:
    """Unique revlog ids for the answers in time order: the wanted id (the answer's
    millisecond), or the smallest free one after it.

    Taken are the answers' own revlog ids (`reserved`, ascending) and the ids given before.
    The wanted ids come in non-decreasing order, so the ids given are increasing: the last one
    and a pointer into `reserved` are all it takes to know which ids are taken (a millisecond
    that ten thousand answers share costs ten thousand steps, not fifty million). Given ids
    out of order, the ids stay unique (no longer the smallest free)."""

    def __init__(self, reserved: Sequence[int] = ()) -> None:
        self.reserved = reserved
        self.last = -_NO_MORE  # the last id given
        self.at = 0  # reserved[:at] are below every id still to give
        self.next_reserved = reserved[0] if reserved else _NO_MORE

    def take(self, wanted: int) -> int:
        rid = wanted if wanted > self.last else self.last + 1
        if rid >= self.next_reserved:
            rid = self.past_reserved(rid)
        self.last = rid
        return rid

    def past_reserved(self, rid: int) -> int:
        """The smallest id at or after `rid` that is not reserved (`rid` above the last id
        given)."""
        reserved, at, count = self.reserved, self.at, len(self.reserved)
        while at < count and reserved[at] <= rid:
            if reserved[at] == rid:
                rid += 1
            at += 1
        self.at = at
        self.next_reserved = reserved[at] if at < count else _NO_MORE
        return rid


class RevlogWriter:
    """Writes the review log of a package whose cards are being written: `begin` before the
    first card, `add_card` for each card written, `finish` after the last."""

    def __init__(
        self, cursor: sqlite3.Cursor, reserved: Sequence[int] = (), days: StudyDays | None = None
    ) -> None:
        self.cursor = cursor
        self.ids = _RevlogIds(reserved)
        self.days = days or StudyDays()
        # per flashcore card id: [the package's card id, the interval of its latest answer]
        self.cards: dict[int, list[int]] = {}
        self.held: list[AnswerRow] = []  # answers that came with their cards

    def begin(self) -> None:
        """The revlog's indexes go until its rows are in (built once: written row by row
        they cost more, and they come out packed)."""
        for name in _INDEXES:
            self.cursor.execute(f"DROP INDEX {name}")

    def add_card(self, source: ExportCard, row_id: int) -> None:
        """A card written as `row_id`: its answers are those it carries, or those of the stream
        that name its `card_id`."""
        if source.card_id is not None:
            self.cards[source.card_id] = [row_id, 0]
        rows = source.review_rows or tuple(review_row(r) for r in source.reviews)
        self.held.extend(answer_row(row_id, row) for row in rows)

    def finish(self, stream: Iterable[Sequence[AnswerRow]] | None) -> int:
        """Write the answers (those held, or else the `stream`'s, which must be in time
        order, then log id) and build the indexes; the number of answers written."""
        written = 0
        if self.held:
            if stream is not None:
                raise ValueError("answers come with their cards or as a stream, not both")
            self.held.sort(key=_AT)  # stable: by time, then card position, then card order
            own = {row[0]: [row[0], 0] for row in self.held}
            written += self._write([self.held], own)
        elif stream is not None:
            written += self._write(_in_package_order(stream, self.cards), self.cards)
        for statement in _CREATE_INDEXES:
            self.cursor.execute(statement)
        return written

    def _write(self, batches: Iterable[Sequence[AnswerRow]], cards: dict[int, list[int]]) -> int:
        written = 0
        for batch in batches:
            rows = _revlog_rows(batch, cards, self.ids, self.days)
            self.cursor.executemany("INSERT INTO revlog VALUES (?, ?, -1, ?, ?, ?, ?, ?, ?)", rows)
            written += len(rows)
        return written


def _in_package_order(
    batches: Iterable[Sequence[AnswerRow]], cards: Mapping[int, list[int]]
) -> Iterator[list[AnswerRow]]:
    """The answers by time then log id (as the database gives them), in the package's order:
    the answers of one instant by their cards' position. A batch's last instant waits for the
    next batch."""
    held: list[AnswerRow] = []
    for batch in batches:
        rows = held + list(batch)
        if not rows:
            continue
        last = rows[-1][1]
        cut = len(rows) - 1
        while cut > 0 and rows[cut - 1][1] == last:
            cut -= 1
        held = rows[cut:]
        del rows[cut:]
        if rows:
            yield _ties_by_position(rows, cards)
    if held:
        yield _ties_by_position(held, cards)


def _ties_by_position(rows: list[AnswerRow], cards: Mapping[int, list[int]]) -> list[AnswerRow]:
    """`rows` (by time) with each run of one instant sorted by card position (stable)."""
    times = list(map(_AT, rows))
    if len(set(times)) == len(times):
        return rows
    start = end = -1
    for i in compress(range(1, len(times)), map(eq, islice(times, 1, None), times)):
        if i != end + 1:  # a new run starts at i - 1
            _sort_run(rows, start, end + 1, cards)
            start = i - 1
        end = i
    _sort_run(rows, start, end + 1, cards)
    return rows


def _sort_run(rows: list[AnswerRow], start: int, stop: int, cards: Mapping[int, list[int]]) -> None:
    if start >= 0:
        rows[start:stop] = sorted(rows[start:stop], key=lambda row: _position(cards, row[0]))


def _position(cards: Mapping[int, list[int]], card: int) -> int:
    found = cards.get(card)
    return -1 if found is None else found[0]


def _revlog_rows(
    batch: Sequence[AnswerRow], cards: dict[int, list[int]], ids: _RevlogIds, days: StudyDays
) -> list[tuple[int, ...]]:
    """The revlog rows of a batch of answers (1,000,000 answers pass here: kept in line, on
    plain numbers). The arithmetic is that of the answers' datetimes: `at / 10**6` is exactly
    `reviewed_at.timestamp()`."""
    out: list[tuple[int, ...]] = []
    append = out.append
    review_state = _REVIEW
    revlog_type = _REVLOG_TYPE_OF
    card_of = cards.get
    last_id, next_reserved = ids.last, ids.next_reserved
    base, shift = days.base, days.shift
    offset_at, known = days.offset_at, days.daily.get
    for key, at, rating, duration, state_before, state_after, due_at, d, rid in batch:
        card = card_of(key)
        if card is None:
            raise ValueError(f"an answer of card {key}, which is not in the package")
        if not 1 <= rating <= 4:
            raise ValueError(f"review rating {rating} out of range 1-4")
        reviewed = at / 1_000_000
        if not rid:  # _RevlogIds.take, in line
            rid = int(reviewed * 1000)
            if rid <= last_id:
                rid = last_id + 1
            if rid >= next_reserved:
                rid = ids.past_reserved(rid)
                next_reserved = ids.next_reserved
            last_id = rid
        due = due_at / 1_000_000
        if state_after == review_state:
            # whole study days (the profile's) from the review to its due, at least 1
            if base is not None:
                ivl = (int(due) + base) // 86_400 - (int(reviewed) + base) // 86_400
            else:  # `StudyDays.of`, in line
                due_s, at_s = int(due), int(reviewed)
                due_off = known(due_s // 86_400)
                if due_off is None:
                    due_off = offset_at(due_s)
                at_off = known(at_s // 86_400)
                if at_off is None:
                    at_off = offset_at(at_s)
                ivl = (due_s + due_off - shift) // 86_400 - (at_s + at_off - shift) // 86_400
            if ivl < 1:
                ivl = 1
        else:
            ivl = int(due - reviewed)  # seconds, negative
            ivl = -ivl if ivl >= 1 else -1
        # Anki's FSRS form of difficulty; 0 where the difficulty is unknown (an answer imported
        # from an SM-2 revlog).
        factor = round(((d - 1) / 9 + 0.1) * 1000) if d >= 1 else 0
        taken = duration or 0
        if taken < 0:
            taken = 0
        elif taken > MAX_ANSWER_MS:
            taken = MAX_ANSWER_MS
        append((rid, card[0], rating, ivl, card[1], factor, taken, revlog_type[state_before]))
        card[1] = ivl
    ids.last = last_id
    return out
