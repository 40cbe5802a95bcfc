"""A card's scheduling state and its review log: load, save, bury siblings, write an answer
(with its log row, chained to the one before); undoing one is `undo`'s, reading the log
`review_log`'s."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from functools import cache
from typing import TYPE_CHECKING, Any

from sqlalchemy import (
    and_,
    bindparam,
    case,
    cast,
    exists,
    func,
    insert,
    literal,
    null,
    or_,
    select,
    text,
    update,
)
from sqlalchemy.exc import IntegrityError

from flashcore.core.errors import NotFoundError
from flashcore.core.model import CardState, Memory, Schedule
from flashcore.storage.tables import (
    card_weight,
    cards,
    review_logs,
    schedulers,
)

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    from flashcore.storage.repos.common import Executor

from flashcore.storage.repos.common import dialect_of
from flashcore.storage.repos.log_rows import CHAIN_SOURCE, CHAINED, PACKED, previous_statement

# The review-log row has a module of its own (repos.log_rows); its names stay importable here.
from flashcore.storage.repos.log_rows import before_state as before_state
from flashcore.storage.repos.log_rows import given_review as given_review
from flashcore.storage.repos.log_rows import insert_review as insert_review
from flashcore.storage.repos.log_rows import set_before as set_before
from flashcore.storage.repos.log_rows import stored_review as stored_review
from flashcore.storage.repos.log_rows import unchain_successor as unchain_successor
from flashcore.storage.repos.log_rows import write_out as write_out


@dataclass(frozen=True, slots=True)
class CardRow:
    """What answering needs of a card, read in the answer's own transaction."""

    card_id: int
    note_id: int
    schedule: Schedule
    version: int
    suspended: bool
    weight: float
    desired_retention: float | None
    leech: bool
    buried_until: datetime | None
    siblings: int | None = None  # the note's other cards, when known (None: look)


def schedule_from(row: Any) -> Schedule:
    memory = (
        Memory(stability=row.stability, difficulty=row.difficulty)
        if row.stability is not None and row.difficulty is not None
        else None
    )
    return Schedule(
        state=CardState(row.state),
        due=row.due,
        step=row.step,
        memory=memory,
        last_review=row.last_review,
        reps=row.reps,
        lapses=row.lapses,
    )


@cache
def _load_card_statement(lock: bool) -> Any:
    t = cards
    query = select(
        t.c.id, t.c.note_id, t.c.state, t.c.step, t.c.due, t.c.stability, t.c.difficulty,
        t.c.last_review, t.c.reps, t.c.lapses, t.c.version, t.c.suspended, card_weight(t).label("weight"),
        t.c.desired_retention, t.c.leech, t.c.buried_until,
    ).where(t.c.id == bindparam("b_id"), t.c.profile_id == bindparam("b_profile"))  # fmt: skip
    return query.with_for_update() if lock else query


def load_card(session: Executor, profile_id: int, card_id: int, *, lock: bool = False) -> CardRow:
    """The card as answering needs it (statements are built once: answering is a hot path)."""
    lock = lock and dialect_of(session).name == "postgresql"
    row = session.execute(
        _load_card_statement(lock), {"b_id": card_id, "b_profile": profile_id}
    ).first()
    if row is None:
        raise NotFoundError(f"no card {card_id} in this profile")
    return CardRow(
        card_id=row.id,
        note_id=row.note_id,
        schedule=schedule_from(row),
        version=row.version,
        suspended=row.suspended,
        weight=row.weight,
        desired_retention=row.desired_retention,
        leech=row.leech,
        buried_until=row.buried_until,
    )


_SCHEDULE_COLUMNS = (
    "state", "step", "due", "stability", "difficulty", "last_review", "reps", "lapses",
    "desired_retention", "version", "modified_at",
)  # fmt: skip


@cache
def _save_statement(extra: tuple[str, ...]) -> Any:
    t = cards
    return (
        update(t)
        .where(t.c.id == bindparam("b_id"), t.c.version == bindparam("b_version"))
        .values({name: bindparam(f"v_{name}") for name in (*_SCHEDULE_COLUMNS, *extra)})
    )


def _schedule_params(
    card_id: int, expected_version: int, schedule: Schedule, now: datetime, retention: float | None
) -> dict[str, Any]:
    """The parameters of `_save_statement`: the card's new schedule, guarded by its version."""
    memory = schedule.memory
    return {
        "v_state": int(schedule.state),
        "v_step": schedule.step,
        "v_due": schedule.due,
        "v_stability": memory.stability if memory else None,
        "v_difficulty": memory.difficulty if memory else None,
        "v_last_review": schedule.last_review,
        "v_reps": schedule.reps,
        "v_lapses": schedule.lapses,
        "v_desired_retention": retention,
        "v_version": expected_version + 1,
        "v_modified_at": now,
        "b_id": card_id,
        "b_version": expected_version,
    }


def save_schedule(
    session: Executor,
    card_id: int,
    expected_version: int,
    schedule: Schedule,
    now: datetime,
    *,
    retention: float | None,
    extra: dict[str, Any] | None = None,
) -> bool:
    """Write a card's new schedule if nobody changed it meanwhile; False when they did."""
    params = _schedule_params(card_id, expected_version, schedule, now, retention)
    keys: tuple[str, ...] = ()
    if extra:
        keys = tuple(sorted(extra))
        for k in keys:
            params[f"v_{k}"] = extra[k]
    result = session.execute(_save_statement(keys), params)
    return bool(result.rowcount == 1)  # type: ignore[attr-defined]


@cache
def _siblings_statement() -> Any:
    t = cards
    return select(t.c.id).where(
        t.c.note_id == bindparam("b_note"),
        t.c.id != bindparam("b_card"),
        t.c.suspended.is_(False),
        or_(t.c.buried_until.is_(None), t.c.buried_until <= bindparam("b_now")),
    )


@cache
def _bury_statement() -> Any:
    t = cards
    return (
        update(t)
        .where(t.c.id.in_(bindparam("b_ids", expanding=True)))
        .values(buried_until=bindparam("b_until"), version=t.c.version + 1)
    )


@cache
def _bury_returning_statement() -> Any:
    t = cards
    return (
        update(t)
        .where(
            t.c.note_id == bindparam("b_note"),
            t.c.id != bindparam("b_card"),
            t.c.suspended.is_(False),
            or_(t.c.buried_until.is_(None), t.c.buried_until <= bindparam("b_now")),
        )
        .values(buried_until=bindparam("b_until"), version=t.c.version + 1)
        .returning(t.c.id)
    )


def bury_siblings(
    session: Executor, note_id: int, card_id: int, until: datetime, now: datetime
) -> list[int]:
    """Bury the note's other active cards until `until`; their ids (one statement where the
    database supports UPDATE … RETURNING)."""
    params = {"b_note": note_id, "b_card": card_id, "b_now": now, "b_until": until}
    if dialect_of(session).update_returning:
        return sorted(session.execute(_bury_returning_statement(), params).scalars())
    ids = list(session.execute(_siblings_statement(), params).scalars())
    if ids:
        session.execute(_bury_statement(), {"b_ids": ids, "b_until": until})
    return ids


def find_scheduler_id(session: Executor, profile_id: int, digest: str) -> int | None:
    """The id of this scheduler configuration if it is recorded (reads only)."""
    found = session.execute(
        select(schedulers.c.id).where(
            schedulers.c.profile_id == profile_id, schedulers.c.digest == digest
        )
    ).scalar()
    return None if found is None else int(found)


def limit_lock_waits(session: Executor, ms: int) -> None:
    """PostgreSQL: for the rest of the transaction, a statement that would wait longer than
    `ms` for a lock fails instead (other databases: nothing)."""
    if dialect_of(session).name == "postgresql":
        session.execute(text(f"SET LOCAL lock_timeout = {int(ms)}"))


def scheduler_id_for(
    session: Session, profile_id: int, digest: str, config: dict[str, Any], now: datetime
) -> tuple[int, bool]:
    """The id of this scheduler configuration (recorded once per profile), and whether this
    call created it."""
    found = session.execute(
        select(schedulers.c.id).where(
            schedulers.c.profile_id == profile_id, schedulers.c.digest == digest
        )
    ).scalar()
    if found is not None:
        return int(found), False
    try:
        with session.begin_nested():  # two first answers may race to record it
            new_id = session.execute(
                insert(schedulers)
                .values(profile_id=profile_id, digest=digest, config=config, created_at=now)
                .returning(schedulers.c.id)
            ).scalar_one()
    except IntegrityError:
        winner = session.execute(
            select(schedulers.c.id).where(
                schedulers.c.profile_id == profile_id, schedulers.c.digest == digest
            )
        ).scalar_one()
        return int(winner), False
    return int(new_id), True


def scheduler_configs(session: Session, profile_id: int) -> dict[int, dict[str, Any]]:
    rows = session.execute(
        select(schedulers.c.id, schedulers.c.config).where(schedulers.c.profile_id == profile_id)
    )
    return {r.id: dict(r.config) for r in rows}


@dataclass(frozen=True, slots=True)
class Burial:
    """The note whose other active cards an answer buries, and until when."""

    note_id: int
    until: datetime


def write_answer(
    session: Executor,
    card_id: int,
    expected_version: int,
    schedule: Schedule,
    now: datetime,
    *,
    retention: float,
    extra: dict[str, Any],
    burial: Burial | None,
    review: dict[str, Any],
) -> tuple[int, list[int]] | None:
    """An answer's writes: the card's new schedule if it is still at `expected_version`, its
    siblings buried, its review-log row (chained as `insert_review` decides); the row's id and
    the siblings buried, or None when the card changed meanwhile (nothing written).

    PostgreSQL: one statement (the writes as data-modifying CTEs, the chain decided in SQL), one
    round trip instead of four; a class of students answering on one server spends its answer's
    tail waiting for each round trip's turn on the CPU. SQLite: the statements in turn (no round
    trips in a library)."""
    if dialect_of(session).name == "postgresql":
        return _write_answer_at_once(
            session, card_id, expected_version, schedule, now,
            retention=retention, extra=extra, burial=burial, review=review,
        )  # fmt: skip
    if not save_schedule(
        session, card_id, expected_version, schedule, now, retention=retention, extra=extra
    ):
        return None
    buried: list[int] = []
    if burial is not None:
        buried = bury_siblings(session, burial.note_id, card_id, burial.until, now)
    return insert_review(session, {**review, "buried_siblings": buried}), buried


def _write_answer_at_once(
    session: Executor,
    card_id: int,
    expected_version: int,
    schedule: Schedule,
    now: datetime,
    *,
    retention: float,
    extra: dict[str, Any],
    burial: Burial | None,
    review: dict[str, Any],
) -> tuple[int, list[int]] | None:
    extra_keys = tuple(sorted(extra))
    params: dict[str, Any] = {
        **_schedule_params(card_id, expected_version, schedule, now, retention),
        "b_card": card_id,
        **{f"v_{k}": extra[k] for k in extra_keys},
        **{f"r_{k}": v for k, v in review.items()},
        # the packed before-state (schema 0017) as written when the row is chained or not
        "r_packed_chained": (None, None, None, None, review.get("buried_until_before")),
        "r_packed_whole": tuple(review.get(name) for name in PACKED),
    }
    if burial is not None:
        params.update(b_note=burial.note_id, b_now=now, b_until=burial.until)
    statement = _answer_statement(extra_keys, tuple(sorted(review)), burial is not None)
    row = session.execute(statement, params).first()
    if row is None:
        return None
    return int(row[0]), sorted(row[1] or [])  # types.IdList: [] for none


@cache
def _answer_statement(extra: tuple[str, ...], columns: tuple[str, ...], bury: bool) -> Any:
    """WITH saved AS (UPDATE cards ... RETURNING id), buried AS (UPDATE siblings ... only if
    saved), previous AS (the card's last review-log row) INSERT INTO review_logs SELECT ...
    WHERE EXISTS (saved) RETURNING id, buried_siblings. Every part sees one snapshot; the card's
    row lock and version guard make it the same one the statements in turn would see (an answer
    to the card committed meanwhile changed its version: nothing is written)."""
    r = review_logs.c
    saved = _save_statement(extra).returning(cards.c.id).cte("saved")
    answered = exists(select(saved.c.id))
    if bury:
        # PostgreSQL's (the only dialect with json_agg): its dialect is not imported on SQLite
        from sqlalchemy.dialects.postgresql import aggregate_order_by

        buried = _bury_returning_statement().where(answered).cte("buried")
        siblings: Any = (
            select(func.json_agg(aggregate_order_by(buried.c.id, buried.c.id)))  # none: NULL
            .select_from(buried)
            .scalar_subquery()
        )
    else:
        siblings = null()  # types.IdList: none is NULL
    previous = previous_statement().cte("previous")

    def value(name: str, type_: Any = None) -> Any:  # typed in SQL: a NULL in a CASE is text
        type_ = r[name].type if type_ is None else type_
        return cast(bindparam(f"r_{name}", type_=type_), type_)

    chain = select(
        exists(
            select(literal(1))
            .select_from(previous)
            .where(
                and_(
                    *(
                        previous.c[source].is_not_distinct_from(value(name, r[source].type))
                        for name, source in zip(CHAINED, CHAIN_SOURCE, strict=True)
                    )
                )
            )
        ).label("same")
    ).cte("chain")
    chain = chain.prefix_with("MATERIALIZED")  # decided once, not once per column that reads it
    names = [c for c in columns if c not in (*PACKED, "buried_siblings", "chained")]
    exprs = [
        case((chain.c.same, null()), else_=value(name)) if name in CHAINED else value(name)
        for name in names
    ]
    packed = case(
        (chain.c.same, value("packed_chained", r.packed_before.type)),
        else_=value("packed_whole", r.packed_before.type),
    )
    body = select(*exprs, packed, siblings).select_from(chain).where(answered)
    return (
        insert(review_logs)
        .from_select([*names, "packed_before", "buried_siblings"], body, include_defaults=False)
        .returning(r.id, r.buried_siblings)
    )
