"""Whether and when the collection changed (for the automatic backups)."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from sqlalchemy import (
    func,
    select,
)

from flashcore.storage.tables import (
    cards,
    notes,
    review_logs,
)

if TYPE_CHECKING:
    from flashcore.storage.repos.common import Executor


def changed_since(session: Executor, since: datetime | None) -> datetime | None:
    """When the collection last changed, if after `since` (every change when None), as its
    timestamps tell: the newest answer, question-bank import, note or card change. The cheap
    questions first (the newest review row by id, the few import batches); the note and card
    scans (~25 ms each at 200,000 cards) only when those found nothing newer."""
    from flashcore.storage.tables import qbank_batches

    newest_review = session.execute(
        select(review_logs.c.reviewed_at).order_by(review_logs.c.id.desc()).limit(1)
    ).scalar()
    newest_batch = session.execute(select(func.max(qbank_batches.c.imported_at))).scalar()
    quick: list[datetime] = [t for t in (newest_review, newest_batch) if t is not None]
    if since is not None and quick and max(quick) > since:
        return max(quick)
    times = [
        *quick,
        session.execute(select(func.max(notes.c.modified_at))).scalar(),
        session.execute(select(func.max(cards.c.modified_at))).scalar(),
    ]
    known: list[datetime] = [t for t in times if t is not None]
    if not known:
        return None
    newest = max(known)
    return newest if since is None or newest > since else None


def profile_stamp(session: Executor, profile_id: int) -> tuple[object, ...]:
    """What another process's qbank import, removal, deck load, `config set` or `exam set`
    changes in a profile and a review session's own answers never do, read from small tables
    (import batches, decks, the profile's settings and exam): equal stamps mean none of those
    happened in between (PostgreSQL has no commit counter like SQLite's `data_version`)."""
    from flashcore.storage.tables import decks, exams, profiles, qbank_batches

    b, d = qbank_batches.c, decks.c
    batches = session.execute(
        select(
            func.count(b.id), func.max(b.id), func.max(b.imported_at), func.count(b.owner)
        ).where(b.profile_id == profile_id)
    ).one()
    deck_rows = session.execute(
        select(func.count(d.id), func.max(d.updated_at)).where(d.profile_id == profile_id)
    ).one()
    settings = session.execute(
        select(profiles.c.settings).where(profiles.c.id == profile_id)
    ).scalar()
    e = exams.c
    exam = session.execute(
        select(e.exam_date, e.minutes_per_day, e.buffer_days, e.retention_plan).where(
            e.profile_id == profile_id
        )
    ).first()
    return (*batches, *deck_rows, settings, None if exam is None else tuple(exam))


def holds_anything(session: Executor) -> bool:
    """Whether the collection holds anything a student could lose (a note, an answer, an
    imported attempt): a few one-row lookups."""
    from flashcore.storage.tables import qbank_batches

    for table in (notes, review_logs, qbank_batches):
        if session.execute(select(table.c.id).limit(1)).first() is not None:
            return True
    return False
