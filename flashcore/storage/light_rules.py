"""What the repositories and the driver-only reader (`storage.light_read`) both work out from
the rows they read, without SQLAlchemy: the qbank attempts' stamp as text (what the kept topic
scores are checked against), whether the kept sums want a sync, and the answers to cards in
review with the stability they were scheduled with. One definition each, so that both readers
agree by construction; only their statements differ."""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from flashcore.core.model import CardState

# Settle again once the settling day lags the latest one allowed by this many days (fewer
# per-day rows to read, one rewrite of the sums a week).
SETTLE_AFTER_DAYS = 7
# A report brings the sums up to date once this many attempts were added since (below it, it
# reads them beside the sums: one grouped pass over the new rows only).
SYNC_FROM = 200_000


def latest_settling_day(today: date, half_life: float) -> date:
    """The latest S for which every attempt dated before S is old on `today`: counted and not
    recent (`today - day > half_life` for day = S - 1)."""
    return today - timedelta(days=math.floor(half_life))


def sums_usable(
    stored_half_life: float, settled_before: date, today: date, half_life: float
) -> bool:
    """Whether sums kept with `stored_half_life`, settled before `settled_before`, serve a
    reader on `today` with `half_life`."""
    return stored_half_life == half_life and settled_before <= latest_settling_day(today, half_life)


def sums_lag(
    stored_half_life: float,
    settled_before: date,
    stored_attempts: int,
    tallied: int,
    today: date,
    half_life: float,
) -> bool:
    """Whether kept sums (their half-life, settling day and attempts) want a sync on `today`
    (`repos.sums_need_sync` once the state is read): other settings, a settling day to move,
    or at least SYNC_FROM attempts added since (`tallied`: the tallies' attempts)."""
    if not sums_usable(stored_half_life, settled_before, today, half_life):
        return True
    lag = (latest_settling_day(today, half_life) - settled_before).days
    if lag >= SETTLE_AFTER_DAYS:
        return True
    return tallied - stored_attempts >= SYNC_FROM


def qbank_text(
    read: tuple[Any, ...] | None,
    batches: Sequence[tuple[int, str, int, int | None]],
    tallies: tuple[int, int, int],
) -> str:
    """`repos.qbank_stamp` as text: the kept sums' state as readers read it (None: none), every
    batch's (id, content hash, attempts added, first unpublished id) in id order, and the
    tallies' (rows, attempts, misses)."""
    return repr((read, list(batches), tallies))


@dataclass(frozen=True, slots=True)
class ReviewOutcome:
    """One answer to a card in review, as the forgetting signal needs it (see
    core.weakness.Lapses): its note, when, the stability and elapsed days it was scheduled
    with, and whether it lapsed."""

    note_id: int
    reviewed_at: datetime
    stability: float
    last_review: datetime | None
    elapsed_days: int | None
    lapsed: bool


class MissingAnswer(LookupError):
    """A chained answer whose previous one is not in the review log."""


# (id, card_id, note_id, reviewed_at, state_before, stability before, last_review_before,
# stability_after, elapsed_days, rating, due_before): a review-log row as `outcomes_of` reads it.
OutcomeRow = tuple[
    int, int, int, datetime, int, float | None, datetime | None, float, int | None, int,
    datetime | None,
]  # fmt: skip


def outcomes_of(
    rows: Sequence[OutcomeRow], before: Callable[[], dict[int, tuple[float | None, datetime]]]
) -> list[ReviewOutcome]:
    """The answers to cards in review among `rows` (in card, id order). A chained row (schema
    0017: no due before stored) takes its stability and last review from the card's previous
    row: the one before it here, or, for a card's first answer here, the row before it
    (`before()`, asked once: each such card's previous row's stability after and time)."""
    review = int(CardState.REVIEW)
    out = []
    earlier: dict[int, tuple[float | None, datetime]] | None = None
    previous: tuple[int, float | None, datetime] | None = None  # card, stability after, when
    for row_id, card_id, note_id, reviewed_at, state_before, stability, last, after, elapsed, \
            rating, due_before in rows:  # fmt: skip
        if due_before is None:  # chained (schema 0017: no due before stored)
            if previous is not None and previous[0] == card_id:
                stability, last = previous[1], previous[2]
            elif state_before == review:
                if earlier is None:
                    earlier = before()
                found = earlier.get(card_id)
                if found is None:  # cannot happen while unchain_successor guards deletes
                    raise MissingAnswer(f"review {row_id}: the answer it follows is missing")
                stability, last = found
        previous = (card_id, after, reviewed_at)
        # A stability of 0.0 is none known: an answer imported from Anki chained to the one
        # before it (whose stability after is 0.0) was not scheduled with one flashcore knows.
        if state_before == review and stability:
            out.append(ReviewOutcome(note_id, reviewed_at, stability, last, elapsed, rating == 1))
    return out
