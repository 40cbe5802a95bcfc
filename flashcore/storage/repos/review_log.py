"""The review log read back: answers since an instant by the state they were given in (today's
counts), every answer in order (`check` replays them) beside every card's stored schedule, and
the answers to cards in review with the stability they were scheduled with (the forgetting
signal). Writing an answer, and undoing one, is `answering`'s."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING

from sqlalchemy import case, func, select

from flashcore.core.errors import NotFoundError
from flashcore.core.model import CardState, Schedule
from flashcore.storage.answer_rows import answer_rows
from flashcore.storage.light_rules import MissingAnswer, outcomes_of
from flashcore.storage.light_rules import ReviewOutcome as ReviewOutcome
from flashcore.storage.repos.answering import schedule_from
from flashcore.storage.tables import cards, review_logs

if TYPE_CHECKING:
    from flashcore.storage.repos.common import Executor


def review_counts_since(session: Executor, profile_id: int, since: datetime) -> dict[int, int]:
    """Answers since `since` grouped by the state the card was in (NEW counts introductions)."""
    r = answer_rows("profile_id", "reviewed_at", "state_before", since=since).c
    rows = session.execute(
        select(r.state_before, func.count())
        .where(r.profile_id == profile_id)
        .group_by(r.state_before)
    )
    return {int(s): int(n) for s, n in rows}


def existing_reviews(
    session: Executor, profile_id: int, answers: set[tuple[int, int]]
) -> set[tuple[int, int]]:
    """Those of `answers` ((review-log row, card) pairs) still in the review log: a row id
    taken again by a later answer to another card does not count."""
    r = review_logs.c
    found: set[tuple[int, int]] = set()
    chosen = sorted(answers)
    for start in range(0, len(chosen), 500):  # SQLite's bound parameters, in chunks
        part = chosen[start : start + 500]
        rows = session.execute(
            select(r.id, r.card_id).where(
                r.profile_id == profile_id, r.id.in_([i for i, _ in part])
            )
        )
        found.update((int(i), int(c)) for i, c in rows)
    return found & answers


@dataclass(frozen=True, slots=True)
class LoggedAnswer:
    """One answer of the review log, as a replay needs it."""

    card_id: int
    rating: int
    reviewed_at: datetime
    desired_retention: float
    scheduler_id: int | None
    elapsed_days: int | None


def answer_log(session: Executor, profile_id: int) -> list[LoggedAnswer]:
    """The profile's whole review log, card by card, each card's answers in order."""
    r = answer_rows("id", "card_id", "rating", "reviewed_at", "desired_retention",
                    "scheduler_id", "elapsed_days", "profile_id").c  # fmt: skip
    rows = session.execute(
        select(r.card_id, r.rating, r.reviewed_at, r.desired_retention, r.scheduler_id,
               r.elapsed_days)
        .where(r.profile_id == profile_id)
        .order_by(r.card_id, r.reviewed_at, r.id)
    )  # fmt: skip
    return [LoggedAnswer(*row) for row in rows]


@dataclass(frozen=True, slots=True)
class StoredSchedule:
    card_id: int
    version: int
    schedule: Schedule


def stored_schedules(session: Executor, profile_id: int) -> list[StoredSchedule]:
    """Every card's stored scheduling state, with the version an update must match."""
    c = cards.c
    rows = session.execute(
        select(c.id, c.state, c.step, c.due, c.stability, c.difficulty, c.last_review, c.reps,
               c.lapses, c.version)
        .where(c.profile_id == profile_id)
    )  # fmt: skip
    return [StoredSchedule(row.id, row.version, schedule_from(row)) for row in rows]


def review_outcomes(session: Executor, profile_id: int, since: datetime) -> list[ReviewOutcome]:
    """The profile's answers to cards in review (not learning, not new) since `since`. A
    chained row (schema 0017) takes its stability and last review from the card's previous row:
    the one before it in this read, or, for a card's first answer here, the row before it (all
    such rows read in one statement: `_rows_before`)."""
    r = answer_rows("id", "card_id", "reviewed_at", "state_before", "packed_before",
                    "last_review_before", "stability_after", "elapsed_days", "rating",
                    "due_before", "profile_id", since=since).c  # fmt: skip
    c = cards.c
    rows = session.execute(
        select(r.id, r.card_id, c.note_id, r.reviewed_at, r.state_before, r.packed_before,
               r.last_review_before, r.stability_after, r.elapsed_days, r.rating, r.due_before)
        .join(cards, cards.c.id == r.card_id)
        .where(r.profile_id == profile_id, r.reviewed_at >= since)
        .order_by(r.card_id, r.id, r.reviewed_at)
    ).all()  # fmt: skip
    read = [(w.id, w.card_id, w.note_id, w.reviewed_at, w.state_before, w.packed_before[1],
             w.last_review_before, w.stability_after, w.elapsed_days, w.rating, w.due_before)
            for w in rows]  # fmt: skip
    try:
        return outcomes_of(read, lambda: _rows_before(session, profile_id, since))
    except MissingAnswer as exc:
        raise NotFoundError(str(exc)) from None


def _rows_before(
    session: Executor, profile_id: int, since: datetime
) -> dict[int, tuple[float | None, datetime]]:
    """For each card answered since `since`: the row before its first answer since then (its
    stability after and when), as `log_rows.before_state` finds a chained row's previous row
    (the card's row of the next lower id), for every such card in one statement."""
    r = review_logs.c
    first = (
        select(r.card_id, func.min(r.id).label("first_id"))
        .where(r.profile_id == profile_id, r.reviewed_at >= since)
        .group_by(r.card_id)
        .subquery()
    )
    earlier = review_logs.alias("earlier")
    prev_id = (
        select(func.max(earlier.c.id))
        .where(earlier.c.card_id == first.c.card_id, earlier.c.id < first.c.first_id)
        .scalar_subquery()
    )
    pairs = select(first.c.card_id, prev_id.label("prev_id")).subquery()
    prev = review_logs.alias("prev")
    rows = session.execute(
        select(pairs.c.card_id, prev.c.stability_after, prev.c.reviewed_at).join(
            prev, prev.c.id == pairs.c.prev_id
        )
    )
    return {int(card): (stability, when) for card, stability, when in rows}


def first_answers_by_note(
    session: Executor, profile_id: int, since: datetime
) -> dict[int, tuple[int, int]]:
    """Each note's cards' first answers (given to a new card) since `since`: note id ->
    (answered, failed: rated Again). core.first_answers' evidence."""
    r = answer_rows("card_id", "rating", "profile_id", "reviewed_at", "state_before", since=since).c
    c = cards.c
    failed = func.sum(case((r.rating == 1, 1), else_=0))
    rows = session.execute(
        select(c.note_id, func.count(), failed)
        .join(cards, c.id == r.card_id)
        .where(
            r.profile_id == profile_id,
            r.reviewed_at >= since,
            r.state_before == int(CardState.NEW),
        )
        .group_by(c.note_id)
    )
    return {int(note): (int(n), int(bad or 0)) for note, n, bad in rows}
