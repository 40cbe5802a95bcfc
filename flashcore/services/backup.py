"""Backups of a SQLite collection: list, create, restore, and the automatic ones.

Automatic backups are taken before a schema upgrade (`flashcore.storage.migrate`), before an
import (`decks add`, `qbank import`), before a restore, and at review start when something
changed since the newest backup and it is over 30 minutes old (`maybe_backup`). Each is
followed by pruning (12 daily, 10 weekly, 9 monthly; `flashcore.storage.backup.retained`).
A backup that cannot be made stops the import or restore it protects, with the reason.

PostgreSQL databases are not backed up by flashcore: the server's own `pg_dump` does it
properly, and `flashcore backup` says so.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy import func, select
from sqlalchemy.exc import ArgumentError

from flashcore.storage import backup as files
from flashcore.storage.backup import Backup, BackupError
from flashcore.storage.db import sqlite_path
from flashcore.storage.models import Card, Note, QbankBatch, ReviewLog
from flashcore.storage.uow import reading

if TYPE_CHECKING:
    from flashcore.services.collection import Flashcore

__all__ = ["AUTO_INTERVAL", "PG_ADVICE", "Backup", "BackupError"]

AUTO_INTERVAL = timedelta(minutes=30)
PG_ADVICE = (
    "flashcore backs up SQLite files only; back up PostgreSQL with pg_dump "
    "(pg_dump -Fc -f step1.dump DBNAME; restore: pg_restore --clean -d DBNAME step1.dump)"
)


@dataclass(frozen=True, slots=True)
class Created:
    backup: Backup
    removed: tuple[Backup, ...] = ()

    def to_json(self) -> dict[str, Any]:
        return self.backup.to_json() | {"pruned": [b.id for b in self.removed]}


@dataclass(frozen=True, slots=True)
class Restored:
    database: Path
    restored: Backup
    before: Backup | None  # the state replaced, backed up first
    set_aside: Path | None  # the damaged file replaced, copied as it was
    removed: tuple[Backup, ...] = field(default=())

    def to_json(self) -> dict[str, Any]:
        return {
            "database": str(self.database),
            "restored": self.restored.to_json(),
            "backup_before_restore": None if self.before is None else self.before.to_json(),
            "damaged_copy": None if self.set_aside is None else str(self.set_aside),
            "pruned": [b.id for b in self.removed],
        }


def database_file(url: str) -> Path:
    """The SQLite file behind `url`; BackupError with the pg_dump advice for PostgreSQL."""
    try:
        path = sqlite_path(url)
    except (ArgumentError, ValueError):
        raise BackupError(f"not a database URL: {url!r}") from None
    if path is None:
        if url.startswith("postgresql"):
            raise BackupError(PG_ADVICE)
        raise BackupError(f"cannot back up {url}: backups need a SQLite database file")
    return path


def list_backups(url: str) -> list[Backup]:
    """This database's backups, newest first."""
    return files.list_backups(database_file(url))


def find(url: str, ident: str) -> Backup:
    return files.find_backup(database_file(url), ident)


def create(url: str, now: datetime) -> Created:
    """Back up the database now, then prune by the retention rule."""
    db = database_file(url)
    if not db.is_file():
        raise BackupError(f"no database at {db}: nothing to back up")
    made = files.create_backup(db, now)
    return Created(made, tuple(files.prune(db, now)))


def newest_good_backup(db: Path) -> Backup | None:
    """The newest backup that passes `quick_check` and holds a flashcore schema."""
    for candidate in files.list_backups(db):
        if not files.check_file(candidate.path) and files.schema_revision(candidate.path):
            return candidate
    return None


# ---------------------------------------------------------------- automatic backups


def latest_activity(fc: Flashcore) -> datetime | None:
    """When the collection last changed, as far as its timestamps tell (newest answer, card or
    note change, question-bank import); None for a collection holding nothing to lose."""
    with reading(fc.engine) as session:
        newest_review = session.execute(
            select(ReviewLog.reviewed_at).order_by(ReviewLog.id.desc()).limit(1)
        ).scalar()
        times = [
            newest_review,
            session.execute(select(func.max(Note.modified_at))).scalar(),
            session.execute(select(func.max(Card.modified_at))).scalar(),
            session.execute(select(func.max(QbankBatch.imported_at))).scalar(),
        ]
    known = [t for t in times if t is not None]
    return max(known) if known else None


def backup_before_write(fc: Flashcore) -> Backup | None:
    """Back up a SQLite collection that holds something before an import or a repair writes
    to it (always: no interval). None on PostgreSQL and for an empty collection."""
    db = sqlite_path(fc.url)
    if db is None or latest_activity(fc) is None:
        return None
    return _create_and_prune(db, fc.now())


def maybe_backup(fc: Flashcore, *, interval: timedelta = AUTO_INTERVAL) -> Backup | None:
    """Back up when something changed since the newest backup and that one is older than
    `interval` (cheap: a directory listing and four indexed or small MAX queries)."""
    db = sqlite_path(fc.url)
    if db is None:
        return None
    now = fc.now()
    existing = files.list_backups(db)
    newest = existing[0].taken_at if existing else None
    if newest is not None and now - newest < interval:
        return None
    changed = latest_activity(fc)
    if changed is None or (newest is not None and changed < newest):
        return None
    return _create_and_prune(db, now)


def _create_and_prune(db: Path, now: datetime) -> Backup:
    made = files.create_backup(db, now)
    files.prune(db, now)
    return made


# ---------------------------------------------------------------- restore


def restore(url: str, ident: str, now: datetime) -> Restored:
    """Replace the database with backup `ident`. The current state is backed up first (a
    damaged file is copied aside as it is instead). No connection to the database may be open
    in this process; close other flashcore windows first."""
    db = database_file(url)
    chosen = files.find_backup(db, ident)
    problems = files.check_file(chosen.path)
    if problems:
        raise BackupError(
            f"backup {chosen.id} is damaged ({problems[0]}); nothing was restored — "
            "pick another from `flashcore backup list`"
        )
    if files.schema_revision(chosen.path) is None:
        raise BackupError(f"backup {chosen.id} is not a flashcore database; nothing was restored")
    before: Backup | None = None
    aside: Path | None = None
    damaged = False
    if db.exists():
        damaged = bool(files.check_file(db))
        if damaged:
            aside = files.set_aside(db, now)
        else:
            before = files.create_backup(db, now)
    files.restore_into(db, chosen.path, replace_file=damaged)
    return Restored(db, chosen, before, aside, tuple(files.prune(db, now)))
