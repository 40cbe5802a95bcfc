"""Repositories for what a study day's queue reads besides the cards themselves: the misses
that pull cards forward, the pull-forwards chosen for a day, and raised new-card limits.
Functions take a Session or a Connection and never commit."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import and_, delete, func, insert, select

from flashcore.core.model import CardState
from flashcore.core.reasons import PulledForward, PullKind
from flashcore.storage.repos.qbank import MISSED
from flashcore.storage.tables import (
    cards,
    new_limit_raises,
    note_topics,
    pull_forwards,
    qbank_attempts,
    qbank_batches,
)

if TYPE_CHECKING:
    from flashcore.storage.repos import Executor


@dataclass(frozen=True, slots=True)
class FreshMiss:
    """Misses dated within a window, grouped: of one question id (`source`, `qid`: a question
    some card lists) or of one set of texts (`source` and `qid` empty), with when the last of
    them was logged (imported) and the latest date they were answered on."""

    source: str
    qid: str
    topic: str
    category: str
    system: str
    count: int
    logged: datetime
    last_date: date


def any_batch_since(conn: Executor, profile_id: int, logged_after: datetime) -> bool:
    b = qbank_batches.c
    found = conn.execute(
        select(b.id)
        .where(b.profile_id == profile_id, b.imported_at >= logged_after, b.pending_from.is_(None))
        .limit(1)
    ).first()
    return found is not None


# Up to this many question ids listed by cards, misses are split by an IN list (the others
# grouped by their texts alone); beyond it, grouped by question id as well.
LISTED_MAX = 2000


@dataclass(frozen=True, slots=True)
class HeldBatch:
    """A batch just published whose attempts its import holds in memory: (source, qid,
    outcome, ISO day, topic, category, system), texts cut as stored; its ids from `first_id`."""

    batch_id: int
    first_id: int
    rows: Sequence[tuple[str, str, str, str, str, str, str]]


def fresh_misses(
    conn: Executor,
    profile_id: int,
    since: date,
    until: date,
    logged_after: datetime,
    listed: Sequence[str],
    held: HeldBatch | None = None,
) -> list[FreshMiss]:
    """Misses dated `since`..`until`, of the batches imported after `logged_after`: an attempt
    is imported once it happened, so older batches hold no fresh miss. Attempts are read from
    the first of those batches on (their ids grow with the batches), not the whole history;
    those of a `held` batch are counted from memory instead. Misses at a question id in
    `listed` (ids some card lists) are grouped by id; the others by their texts."""
    b = qbank_batches.c
    batches: dict[int, datetime] = {}
    for batch_id, imported_at, latest_on in conn.execute(
        select(b.id, b.imported_at, b.latest_on).where(
            b.profile_id == profile_id,
            b.imported_at >= logged_after,
            b.pending_from.is_(None),  # not one still being written
        )
    ).all():
        # A batch whose attempts all came before `since` holds no fresh miss (a year of
        # history imported today: 1,000,000 attempts not read).
        if latest_on is None or _as_day(latest_on) >= since:
            batches[int(batch_id)] = imported_at
    if not batches:
        return []
    by_id = len(listed) > LISTED_MAX
    if held is not None and held.batch_id not in batches:
        held = None
    read = [batch_id for batch_id in batches if held is None or batch_id != held.batch_id]
    groups = _read_fresh(conn, profile_id, since, until, listed, read, held) if read else []
    if held is not None:
        groups += _held_fresh(held, since, until, None if by_id else set(listed))
    out: dict[tuple[str, str, str, str, str], FreshMiss] = {}
    for source, qid, topic, category, system, batch_id, count, last in groups:
        logged = batches.get(batch_id)
        if logged is None:  # an older batch's attempt dated later than it was logged
            continue
        key = (source, qid, topic, category, system)
        seen = out.get(key)
        if seen is not None:
            count += seen.count
            logged, last = max(logged, seen.logged), max(last, seen.last_date)
        out[key] = FreshMiss(source, qid, topic, category, system, int(count), logged, last)
    return [out[k] for k in sorted(out)]


def _read_fresh(
    conn: Executor, profile_id: int, since: date, until: date, listed: Sequence[str],
    read: list[int], held: HeldBatch | None,
) -> list[Any]:  # fmt: skip
    """`fresh_misses`' groups read from the attempts of the batches from `min(read)` on (none
    of the `held` batch's)."""
    a = qbank_attempts.c
    # The last attempt of an older batch (read backwards: it stops at the recent batches' end).
    boundary = conn.execute(
        select(a.id).where(a.batch_id < min(read)).order_by(a.id.desc()).limit(1)
    ).scalar()
    where = [
        a.profile_id == profile_id,
        a.outcome.in_(MISSED),
        a.on_date >= since,
        a.on_date <= until,
    ]
    if boundary is not None:
        where.append(a.id > boundary)
    if held is not None:
        where.append(a.batch_id != held.batch_id)
        if max(read) < held.batch_id:  # every other batch came before it: stop where it starts
            where.append(a.id < held.first_id)
    texts = (a.topic, a.category, a.system)
    by_id = len(listed) > LISTED_MAX
    groups: list[Any] = []
    if by_id or listed:
        ids = [] if by_id else sorted(set(listed))
        groups += conn.execute(
            select(a.source, a.qid, *texts, a.batch_id, func.count(), func.max(a.on_date))
            .where(*where, *([] if by_id else [a.qid.in_(ids)]))
            .group_by(a.source, a.qid, *texts, a.batch_id)
        ).all()
    if not by_id:
        rest = [a.qid.notin_(sorted(set(listed)))] if listed else []
        groups += [
            ("", "", *row)
            for row in conn.execute(
                select(*texts, a.batch_id, func.count(), func.max(a.on_date))
                .where(*where, *rest)
                .group_by(*texts, a.batch_id)
            ).all()
        ]
    return groups


def _held_fresh(
    held: HeldBatch, since: date, until: date, listed: set[str] | None
) -> list[tuple[Any, ...]]:
    """`fresh_misses`' groups of a held batch, counted as the database counts them (`listed`
    None: every miss by its question id)."""
    low, high = since.isoformat(), until.isoformat()
    counted: dict[tuple[str, str, str, str, str], list[Any]] = {}
    for source, qid, outcome, day, topic, category, system in held.rows:
        if day < low or day > high or outcome not in MISSED:
            continue
        if listed is None or qid in listed:
            key = (source, qid, topic, category, system)
        else:
            key = ("", "", topic, category, system)
        seen = counted.get(key)
        if seen is None:
            counted[key] = [1, day]
        else:
            seen[0] += 1
            if day > seen[1]:
                seen[1] = day
    return [
        (*key, held.batch_id, n, date.fromisoformat(last)) for key, (n, last) in counted.items()
    ]


def _as_day(value: Any) -> date:
    return value if isinstance(value, date) else date.fromisoformat(str(value))


@dataclass(frozen=True, slots=True)
class ReviewCard:
    """A review card not due before `rollover`: what a pull-forward chooses among."""

    card_id: int
    note_id: int
    stability: float
    last_review: datetime


def review_cards_not_due(
    conn: Executor,
    profile_id: int,
    rollover: datetime,
    *,
    topic_ids: Sequence[int] = (),
    note_ids: Sequence[int] = (),
    every: bool = False,
) -> list[ReviewCard]:
    """Unsuspended review cards of these topics (or notes; or `every` one of the profile's)
    due on `rollover` or later, by id."""
    c = cards.c
    where: list[Any] = [
        c.profile_id == profile_id,
        c.state == int(CardState.REVIEW),
        c.suspended.is_(False),
        c.due >= rollover,
    ]
    if topic_ids:
        linked = select(note_topics.c.note_id).where(note_topics.c.topic_id.in_(topic_ids))
        where.append(c.note_id.in_(linked))
    elif note_ids:
        where.append(c.note_id.in_(note_ids))
    elif not every:
        return []
    rows = conn.execute(
        select(c.id, c.note_id, c.stability, c.last_review).where(and_(*where)).order_by(c.id)
    ).all()
    return [ReviewCard(r[0], r[1], r[2] or 1.0, r[3]) for r in rows if r[3] is not None]


def replace_pull_forwards(
    conn: Executor, profile_id: int, day: date, chosen: dict[int, PulledForward]
) -> None:
    """The day's pull-forwards are `chosen`; earlier days' rows go (they count for nothing)."""
    p = pull_forwards.c
    conn.execute(delete(pull_forwards).where(p.profile_id == profile_id, p.study_day <= day))
    if chosen:
        conn.execute(
            insert(pull_forwards),
            [
                {
                    "profile_id": profile_id,
                    "card_id": cid,
                    "study_day": day,
                    "reason": why.text()[:300],  # as an older version shows it
                    "kind": why.kind.value,
                    "subject": why.subject[:300],
                    "on_date": why.on,
                    "misses": why.misses,
                }
                for cid, why in chosen.items()
            ],
        )


def pulled_forward(conn: Executor, profile_id: int, day: date) -> dict[int, PulledForward]:
    """The pull-forwards stored for study day `day`: card id -> what pulled it."""
    p = pull_forwards.c
    rows = conn.execute(
        select(p.card_id, p.kind, p.subject, p.on_date, p.misses).where(
            p.profile_id == profile_id, p.study_day == day
        )
    )
    return {
        card_id: PulledForward(PullKind(kind), subject, on_date, misses)
        for card_id, kind, subject, on_date, misses in rows
    }


def new_limit_raise(conn: Executor, profile_id: int, day: date, scopes: Iterable[str]) -> int:
    """The sum of the day's raises of the new-card limit for these scopes."""
    r = new_limit_raises.c
    total = conn.execute(
        select(func.coalesce(func.sum(r.extra), 0)).where(
            r.profile_id == profile_id, r.study_day == day, r.scope.in_(list(scopes))
        )
    ).scalar_one()
    return int(total)


def new_limit_raises_of(conn: Executor, profile_id: int, day: date) -> dict[str, int]:
    """Every raise of the day, by scope."""
    r = new_limit_raises.c
    rows = conn.execute(
        select(r.scope, r.extra).where(r.profile_id == profile_id, r.study_day == day)
    )
    return {scope: int(extra) for scope, extra in rows}


def set_new_limit_raise(conn: Executor, profile_id: int, day: date, scope: str, extra: int) -> None:
    """Set the day's raise for one scope (0 removes it); other days' raises go."""
    r = new_limit_raises.c
    conn.execute(
        delete(new_limit_raises).where(
            r.profile_id == profile_id, (r.study_day != day) | (r.scope == scope)
        )
    )
    if extra > 0:
        conn.execute(
            insert(new_limit_raises).values(
                profile_id=profile_id, study_day=day, scope=scope, extra=extra
            )
        )
