"""A card's scheduling state and its review log: load, save, bury siblings, undo."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from functools import cache
from typing import TYPE_CHECKING, Any

from sqlalchemy import (
    bindparam,
    delete,
    func,
    insert,
    or_,
    select,
    update,
)
from sqlalchemy.exc import IntegrityError

from flashcore.core.errors import NotFoundError
from flashcore.core.model import CardState, Memory, Schedule
from flashcore.storage.tables import (
    cards,
    review_logs,
    schedulers,
)

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    from flashcore.storage.repos.common import Executor

from flashcore.storage.repos.common import dialect_of


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
        t.c.last_review, t.c.reps, t.c.lapses, t.c.version, t.c.suspended, t.c.weight,
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
    memory = schedule.memory
    params: dict[str, Any] = {
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


@cache
def _insert_review_statement() -> Any:
    return insert(review_logs)


# The before-state columns a chained row leaves NULL, and where the previous row keeps each.
CHAINED = ("step_before", "stability_before", "difficulty_before", "due_before",
           "last_review_before", "retention_before")  # fmt: skip
_CHAIN_SOURCE = ("step_after", "stability_after", "difficulty_after", "due_after", "reviewed_at",
                 "desired_retention")  # fmt: skip
# The before-state values stored together in `packed_before` (schema 0015), in its order.
PACKED = ("step_before", "stability_before", "difficulty_before", "retention_before",
          "buried_until_before")  # fmt: skip


def stored_review(values: dict[str, Any]) -> dict[str, Any]:
    """A review-log row as given (every before-state value by name) -> as stored: the packed
    values in `packed_before`. A row already stored passes unchanged."""
    if "packed_before" in values:
        return values
    out = {k: v for k, v in values.items() if k not in PACKED and k != "chained"}
    out["packed_before"] = tuple(values.get(name) for name in PACKED)
    return out


def given_review(row: dict[str, Any]) -> dict[str, Any]:
    """A stored review-log row -> every before-state value by name, and `chained` (its
    `due_before` is NULL: the chained values are the previous row's, see `before_state`)."""
    if "packed_before" not in row:
        return row
    out = {k: v for k, v in row.items() if k != "packed_before"}
    packed = row["packed_before"] or (None,) * len(PACKED)
    out.update(zip(PACKED, packed, strict=True))
    out["chained"] = "due_before" in row and row["due_before"] is None
    return out


@cache
def _previous_statement() -> Any:
    r = review_logs.c
    return (
        select(*(r[name] for name in _CHAIN_SOURCE))
        .where(r.card_id == bindparam("b_card"))
        .order_by(r.id.desc())
        .limit(1)
    )


def insert_review(session: Executor, values: dict[str, Any]) -> int:
    """Insert one review-log row (every before-state value by name); its id (SQLite's last row
    id, RETURNING elsewhere). When the card is exactly as its previous answer left it, the row
    is written chained (its before-state read from that answer's row: one seek on the card's
    index, ~10 us)."""
    previous = session.execute(_previous_statement(), {"b_card": values["card_id"]}).first()
    if previous is not None and all(
        _same(values.get(name), previous[i]) for i, name in enumerate(CHAINED)
    ):
        values = {**values, **dict.fromkeys(CHAINED)}
    result = session.execute(_insert_review_statement(), stored_review(values))
    return int(result.inserted_primary_key[0])  # type: ignore[attr-defined]


def _same(a: Any, b: Any) -> bool:
    """Equal and of one kind (a float 0.0 is not None; 1 is not 1.0 written as text)."""
    return a == b and (a is None) == (b is None)


@cache
def _chain_statement() -> Any:
    r = review_logs.c
    return (
        select(r.id, *(r[name] for name in _CHAIN_SOURCE))
        .where(r.card_id == bindparam("b_card"), r.id < bindparam("b_id"))
        .order_by(r.id.desc())
        .limit(1)
    )


def before_state(session: Executor, row: dict[str, Any]) -> dict[str, Any]:
    """The row (stored, or with `id`, `card_id` and `chained` at least) with its whole
    before-state by name: as stored, or (chained) from the card's previous row."""
    row = given_review(row)
    if not row.get("chained"):
        return row
    previous = session.execute(
        _chain_statement(), {"b_card": row["card_id"], "b_id": row["id"]}
    ).first()
    if previous is None:  # cannot happen while unchain_successor guards deletes and rewrites
        raise NotFoundError(f"review {row['id']}: the answer it follows is missing")
    return {**row, **dict(zip(CHAINED, previous[1:], strict=True)), "chained": False}


def unchain_successor(session: Executor, card_id: int, log_id: int) -> None:
    """Before the row `log_id` is deleted or its after-state rewritten: the card's next row, if
    chained to it, gets its before-state written out (so it stays exact)."""
    r = review_logs.c
    nxt = session.execute(
        select(r.id).where(r.card_id == card_id, r.id > log_id).order_by(r.id).limit(1)
    ).scalar()
    if nxt is not None:
        write_out(session, nxt)


def write_out(session: Executor, log_id: int) -> None:
    """Store a chained row's before-state in the row itself (nothing for a row not chained)."""
    r = review_logs.c
    row = session.execute(
        select(r.id, r.card_id, r.due_before, r.packed_before).where(r.id == log_id)
    ).first()
    if row is None or row.due_before is not None:
        return
    set_before(session, log_id, before_state(session, dict(row._mapping)))


def set_before(session: Executor, log_id: int, values: dict[str, Any]) -> None:
    """Write before-state values (by name: any of `CHAINED`, `PACKED`, `state_before`,
    `lapses_before`) into the row `log_id`, keeping the others as stored."""
    r = review_logs.c
    current = session.execute(select(r.packed_before).where(r.id == log_id)).scalar_one()
    packed = dict(zip(PACKED, current or (None,) * len(PACKED), strict=True))
    packed.update((k, v) for k, v in values.items() if k in PACKED)
    direct = {k: v for k, v in values.items() if k not in PACKED and k.endswith("_before")}
    session.execute(
        update(review_logs)
        .where(r.id == log_id)
        .values(**direct, packed_before=tuple(packed[name] for name in PACKED))
    )


def last_reviews(session: Session, profile_id: int, count: int) -> list[dict[str, Any]]:
    """The last `count` answers given in flashcore (answers imported from Anki are history,
    not something to undo), each with its before-state."""
    rows = session.execute(
        select(review_logs)
        .where(review_logs.c.profile_id == profile_id, review_logs.c.imported.is_(False))
        .order_by(review_logs.c.id.desc())
        .limit(count)
    )
    return [before_state(session, dict(r._mapping)) for r in rows]


def undo_review(session: Session, log: dict[str, Any], now: datetime) -> None:
    """Restore the card to its state before `log` and delete the log row."""
    card = session.execute(
        select(cards.c.version, cards.c.reps).where(cards.c.id == log["card_id"])
    ).first()
    if card is None:
        raise NotFoundError(f"card {log['card_id']} no longer exists")
    log = before_state(session, log)
    values: dict[str, Any] = {
        "state": log["state_before"],
        "step": log["step_before"],
        "stability": log["stability_before"],
        "difficulty": log["difficulty_before"],
        "due": log["due_before"],
        "last_review": log["last_review_before"],
        "reps": card.reps - 1,
        "lapses": log["lapses_before"],
        "desired_retention": log["retention_before"],
        "buried_until": log.get("buried_until_before"),
        "version": card.version + 1,
        "modified_at": now,
    }
    if log["leeched"]:
        values.update(suspended=False, leech=False)
    session.execute(update(cards).where(cards.c.id == log["card_id"]).values(**values))
    siblings = log.get("buried_siblings") or []
    if siblings:
        session.execute(
            update(cards)
            .where(cards.c.id.in_(siblings))
            .values(buried_until=None, version=cards.c.version + 1)
        )
    unchain_successor(session, log["card_id"], log["id"])
    session.execute(delete(review_logs).where(review_logs.c.id == log["id"]))


def review_counts_since(session: Executor, profile_id: int, since: datetime) -> dict[int, int]:
    """Answers since `since` grouped by the state the card was in (NEW counts introductions)."""
    r = review_logs.c
    rows = session.execute(
        select(r.state_before, func.count())
        .where(r.profile_id == profile_id, r.reviewed_at >= since)
        .group_by(r.state_before)
    )
    return {int(s): int(n) for s, n in rows}


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
    r = review_logs.c
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


def review_outcomes(session: Executor, profile_id: int, since: datetime) -> list[ReviewOutcome]:
    """The profile's answers to cards in review (not learning, not new) since `since`. A
    chained row (schema 0012) takes its stability and last review from the card's previous row:
    the one before it in this read, or, for a card's first answer here, the stored one."""
    r, c = review_logs.c, cards.c
    rows = session.execute(
        select(r.id, r.card_id, c.note_id, r.reviewed_at, r.state_before, r.packed_before,
               r.last_review_before, r.stability_after, r.elapsed_days, r.rating, r.due_before)
        .join(cards, cards.c.id == r.card_id)
        .where(r.profile_id == profile_id, r.reviewed_at >= since)
        .order_by(r.card_id, r.id)
    ).all()  # fmt: skip
    review = int(CardState.REVIEW)
    out = []
    previous: tuple[int, float, datetime] | None = None  # card, its stability after, when
    for row in rows:
        stability, last = row.packed_before[1], row.last_review_before
        if row.due_before is None:  # chained
            if previous is not None and previous[0] == row.card_id:
                stability, last = previous[1], previous[2]
            elif row.state_before == review:
                filled = before_state(session, {"id": row.id, "card_id": row.card_id,
                                                "chained": True})  # fmt: skip
                stability, last = filled["stability_before"], filled["last_review_before"]
        previous = (row.card_id, row.stability_after, row.reviewed_at)
        if row.state_before == review and stability is not None:
            out.append(ReviewOutcome(row.note_id, row.reviewed_at, stability, last,
                                     row.elapsed_days, row.rating == 1))  # fmt: skip
    return out
