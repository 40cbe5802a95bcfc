"""Question-bank batches: one import's batch from being claimed (not yet visible) to being
published, and which attempts a reader may see meanwhile (`shown`)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import delete, func, insert, select, update

from flashcore.storage.tables import qbank_attempts, qbank_batches

if TYPE_CHECKING:
    from flashcore.storage.repos.common import Executor

__all__ = [
    "BatchSummary",
    "EarlierBatch",
    "PendingBatch",
    "batch_latest_day",
    "batch_summaries",
    "claim_batch",
    "drop_pending",
    "finish_batch",
    "identical_batch",
    "import_in_progress",
    "last_published",
    "note_latest_day",
    "pending_batches",
    "publish_batch",
    "reweighing_batches",
    "shown",
]


@dataclass(frozen=True, slots=True)
class EarlierBatch:
    batch_id: int
    imported_at: datetime


def identical_batch(conn: Executor, profile_id: int, digest: str) -> EarlierBatch | None:
    """The profile's published batch imported from a log with this content hash, if any."""
    b = qbank_batches.c
    row = conn.execute(
        select(b.id, b.imported_at).where(
            b.profile_id == profile_id, b.content_hash == digest, b.pending_from.is_(None)
        )
    ).first()
    return None if row is None else EarlierBatch(int(row[0]), row[1])


# ------------------------------------------------------------------ batches being written

_NO_LIMIT = 2**62


def shown(profile_id: int) -> Any:
    """The condition an attempt of the profile meets when a reader may see it: it is not part
    of a batch still being written. Such a batch holds only attempt ids from its
    `pending_from` on (an import writes alone per profile, and ids only grow), so the
    condition is an id bound the database computes once per statement (usually none)."""
    b = qbank_batches.c
    floor = (
        select(func.min(b.pending_from))
        .where(b.profile_id == profile_id, b.pending_from.is_not(None))
        .scalar_subquery()
    )
    return qbank_attempts.c.id < func.coalesce(floor, _NO_LIMIT)


@dataclass(frozen=True, slots=True)
class PendingBatch:
    batch_id: int
    pending_from: int
    owner: str
    content_hash: str


def pending_batches(conn: Executor, profile_id: int, *, lock: bool = False) -> list[PendingBatch]:
    """The profile's batches still being written (or left by an import that died). With
    `lock` the profile's row is locked first (PostgreSQL), so that two imports that claim a
    batch at once take turns."""
    from flashcore.storage.tables import profiles

    if lock:
        conn.execute(
            select(profiles.c.id).where(profiles.c.id == profile_id).with_for_update()
        ).first()
    b = qbank_batches.c
    rows = conn.execute(
        select(b.id, b.pending_from, b.owner, b.content_hash)
        .where(b.profile_id == profile_id, b.pending_from.is_not(None))
        .order_by(b.id)
    )
    return [PendingBatch(int(i), int(p), str(o or ""), str(h)) for i, p, o, h in rows]


def last_published(conn: Executor, profile_id: int) -> int:
    """The profile's newest published batch id (0: none): an import compares it before and
    after it claims its batch, to know whether another one was published meanwhile."""
    b = qbank_batches.c
    found = conn.execute(
        select(func.max(b.id)).where(b.profile_id == profile_id, b.pending_from.is_(None))
    ).scalar()
    return int(found or 0)


def claim_batch(
    conn: Executor, profile_id: int, *, source: str, fmt: str, origin: str, digest: str,
    imported_at: datetime, rows_read: int, owner: str,
) -> PendingBatch:  # fmt: skip
    """A new batch, not yet visible: attempts from the next id on belong to it until
    `publish_batch` (call after `pending_batches(lock=True)` found none, in that transaction)."""
    a = qbank_attempts.c
    floor = int(conn.execute(select(func.coalesce(func.max(a.id), 0))).scalar_one()) + 1
    batch_id = conn.execute(
        insert(qbank_batches)
        .values(
            profile_id=profile_id,
            source=source,
            format=fmt,
            origin=origin,
            content_hash=digest,
            imported_at=imported_at,
            rows_read=rows_read,
            added=0,
            pending_from=floor,
            owner=owner[:200],
        )
        .returning(qbank_batches.c.id)
    ).scalar_one()
    return PendingBatch(int(batch_id), floor, owner, digest)


def publish_batch(conn: Executor, batch_id: int, added: int) -> None:
    """The batch becomes visible with its attempts, all at once (one row changes). Its owner
    stays until `finish_batch`: the weights that follow it are still being written."""
    b = qbank_batches.c
    conn.execute(
        update(qbank_batches).where(b.id == batch_id).values(pending_from=None, added=added)
    )


def finish_batch(conn: Executor, batch_ids: Iterable[int]) -> None:
    """The weights that follow these published batches are written."""
    b = qbank_batches.c
    conn.execute(update(qbank_batches).where(b.id.in_(list(batch_ids))).values(owner=None))


def batch_latest_day(conn: Executor, batch_id: int, first_id: int) -> date | None:
    """The latest day of a batch's attempts (ids from `first_id` on)."""
    a = qbank_attempts.c
    day = conn.execute(
        select(func.max(a.on_date)).where(a.id >= first_id, a.batch_id == batch_id)
    ).scalar()
    return day if day is None or isinstance(day, date) else date.fromisoformat(str(day))


def note_latest_day(conn: Executor, batch_id: int, day: date | None) -> None:
    """Keep the latest day of a published batch's attempts (see `qbank_batches.latest_on`)."""
    b = qbank_batches.c
    conn.execute(update(qbank_batches).where(b.id == batch_id).values(latest_on=day))


def import_in_progress(conn: Executor, profile_id: int) -> bool:
    """Whether an import into the profile is writing (its batch, or the weights after it)."""
    b = qbank_batches.c
    found = conn.execute(
        select(b.id).where(b.profile_id == profile_id, b.owner.is_not(None)).limit(1)
    ).first()
    return found is not None


def reweighing_batches(conn: Executor, profile_id: int) -> list[tuple[int, str]]:
    """(batch id, owner) of the profile's published batches whose weights are still being
    written (or were left unwritten by an import that died)."""
    b = qbank_batches.c
    rows = conn.execute(
        select(b.id, b.owner).where(
            b.profile_id == profile_id, b.pending_from.is_(None), b.owner.is_not(None)
        )
    )
    return [(int(i), str(o)) for i, o in rows]


def drop_pending(conn: Executor, batch: PendingBatch, rows: int) -> int:
    """Delete up to `rows` attempts of an unpublished batch (from its first id on, not the
    whole table); once none is left, the batch itself. Returns how many attempts went."""
    a, b = qbank_attempts.c, qbank_batches.c
    ids = (
        select(a.id)
        .where(a.id >= batch.pending_from, a.batch_id == batch.batch_id)
        .limit(rows)
        .scalar_subquery()
    )
    deleted = conn.execute(delete(qbank_attempts).where(a.id.in_(ids)))
    gone = int(getattr(deleted, "rowcount", 0) or 0)
    if gone < rows:
        conn.execute(
            delete(qbank_batches).where(b.id == batch.batch_id, b.pending_from.is_not(None))
        )
    return gone


@dataclass(frozen=True, slots=True)
class BatchSummary:
    batch_id: int
    imported_at: datetime
    source: str
    format: str
    origin: str
    rows_read: int
    added: int
    attempts: int  # still stored


def batch_summaries(conn: Executor, profile_id: int) -> list[BatchSummary]:
    """The profile's batches, newest first, with how many of their attempts are stored."""
    a, b = qbank_attempts.c, qbank_batches.c
    counts = {
        int(batch_id): int(n)
        for batch_id, n in conn.execute(
            select(a.batch_id, func.count())
            # `+ 0`: every attempt in table order; through the (profile_id, on_date) index
            # (schema 0023) 1,100,000 attempts took 0.78 + 1.36 s CPU, in table order 0.20
            .where((a.profile_id + 0) == profile_id, shown(profile_id))
            .group_by(a.batch_id)
        )
    }
    rows = conn.execute(
        select(b.id, b.imported_at, b.source, b.format, b.origin, b.rows_read, b.added)
        .where(b.profile_id == profile_id, b.pending_from.is_(None))
        .order_by(b.id.desc())
    )
    return [
        BatchSummary(int(r[0]), r[1], r[2], r[3], r[4], int(r[5]), int(r[6]), counts.get(r[0], 0))
        for r in rows
    ]
