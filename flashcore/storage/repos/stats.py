"""The counts behind `flashcore stats`: answers today and over the last 30 days (true
retention), cards by state, and the cards falling due on each of the next 30 days. Each is
counted by the database, per study day through a CASE over the days' start instants."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import and_, case, func, literal, or_, select

from flashcore.core.model import CardState
from flashcore.storage.answer_rows import answer_rows
from flashcore.storage.tables import cards
from flashcore.storage.types import UTCMicros

if TYPE_CHECKING:
    from sqlalchemy import ColumnElement

    from flashcore.storage.repos.common import Executor

NEW, REVIEW = int(CardState.NEW), int(CardState.REVIEW)


@dataclass(frozen=True, slots=True)
class StatsCounts:
    today: tuple[int, int, int, int]  # answers, of them Again, of them new cards; milliseconds
    month: tuple[int, int, int]  # answers; reviews on a later day passed, failed
    per_day: dict[int, int]  # day index among the 30 past days -> answers
    by_state: dict[int, int]  # card state -> cards
    suspended: int
    forecast: dict[int, int]  # day index among the next 30 days -> cards falling due


def _count_if(condition: ColumnElement[bool]) -> Any:
    return func.coalesce(func.sum(case((condition, 1), else_=0)), 0)


def _day_index(column: Any, starts: list[datetime]) -> Any:
    """Which of the days beginning at `starts` (the last one is the end) holds `column`; a
    value before the first day counts for it."""
    return case(*[(column < starts[i + 1], i) for i in range(len(starts) - 1)], else_=None)


def count(
    conn: Executor, profile_id: int, past_starts: list[datetime], next_starts: list[datetime]
) -> StatsCounts:
    """`past_starts`: the starts of the last 30 study days and of tomorrow; `next_starts`: the
    starts of the next 30 study days and of the day after them."""
    c = cards.c
    by_state: dict[int, int] = dict(
        conn.execute(
            select(c.state, func.count()).where(c.profile_id == profile_id).group_by(c.state)
        ).all()
    )
    suspended = conn.execute(
        select(func.count()).where(c.profile_id == profile_id, c.suspended.is_(True))
    ).scalar_one()
    return StatsCounts(
        _today(conn, profile_id, past_starts[-2]),
        _month(conn, profile_id, past_starts),
        _answers_per_day(conn, profile_id, past_starts),
        by_state,
        int(suspended),
        _falling_due(conn, profile_id, next_starts),
    )


def _today(conn: Executor, profile_id: int, start: datetime) -> tuple[int, int, int, int]:
    """Today's answers, of them Again, of them new cards; and their milliseconds."""
    r = answer_rows(
        "profile_id", "reviewed_at", "rating", "state_before", "duration_ms", since=start
    ).c
    reviews, again, new, ms = conn.execute(
        select(
            func.count(),
            _count_if(r.rating == 1),
            _count_if(r.state_before == NEW),
            func.coalesce(func.sum(r.duration_ms), 0),
        ).where(r.profile_id == profile_id, r.reviewed_at >= start)
    ).one()
    return int(reviews), int(again), int(new), int(ms)


def _month(conn: Executor, profile_id: int, past_starts: list[datetime]) -> tuple[int, int, int]:
    """The answers of the last 30 study days, and the reviews among them on a later study day
    than the card's last answer, passed and failed (true retention: a repeat within one study
    day, after a relearning step say, tests nothing)."""
    r = answer_rows("profile_id", "reviewed_at", "rating", "state_before", "elapsed_days",
                    "last_review_before", since=past_starts[0]).c  # fmt: skip
    day_began = case(
        *[
            (r.reviewed_at < past_starts[i + 1], literal(past_starts[i], UTCMicros()))
            for i in range(len(past_starts) - 1)
        ],
        else_=literal(past_starts[-1], UTCMicros()),
    )
    later_day = or_(
        r.elapsed_days > 0,
        and_(
            r.elapsed_days.is_(None),
            or_(r.last_review_before.is_(None), r.last_review_before < day_began),
        ),
    )
    month, passed, failed = conn.execute(
        select(
            func.count(),
            _count_if(and_(r.state_before == REVIEW, later_day, r.rating != 1)),
            _count_if(and_(r.state_before == REVIEW, later_day, r.rating == 1)),
        ).where(r.profile_id == profile_id, r.reviewed_at >= past_starts[0])
    ).one()
    return int(month), int(passed), int(failed)


def _answers_per_day(
    conn: Executor, profile_id: int, past_starts: list[datetime]
) -> dict[int, int]:
    r = answer_rows("profile_id", "reviewed_at", since=past_starts[0]).c
    logged = (
        select(_day_index(r.reviewed_at, past_starts).label("day"))
        .where(
            r.profile_id == profile_id,
            r.reviewed_at >= past_starts[0],
            r.reviewed_at < past_starts[-1],
        )
        .subquery()
    )
    return dict(conn.execute(select(logged.c.day, func.count()).group_by(logged.c.day)).all())


def _falling_due(conn: Executor, profile_id: int, next_starts: list[datetime]) -> dict[int, int]:
    """Cards falling due on each of the next days; overdue cards count for today (day 0), as
    they are due now."""
    c = cards.c
    upcoming = (
        select(_day_index(c.due, next_starts).label("day"))
        .where(
            c.profile_id == profile_id,
            c.suspended.is_(False),
            c.state != NEW,
            c.due < next_starts[-1],
        )
        .subquery()
    )
    return dict(conn.execute(select(upcoming.c.day, func.count()).group_by(upcoming.c.day)).all())
