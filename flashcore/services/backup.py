"""Backups of a SQLite collection: list, create, restore, and the automatic ones.

Two kinds, listed together (newest first) and restored alike by id:

- copies: one SQLite file each, made with the backup API by `flashcore backup create`, before a
  restore (the state it replaces), before a schema upgrade and before `doctor` repairs: the
  moments where the student asked for safety work and waits for it;
- snapshots (`flashcore.storage.snapshots`), the automatic backups, in one page store that
  keeps each changed page once: taken in a background process (`flashcore.storage.background`)
  when something changed since the newest backup and that one is over 30 minutes old — after
  `review` has painted Home, when it quits, and when any other command ends — and, as a restore
  point, before `decks add` writes (the import waits only until the state is pinned, ~0.1 s).
  A `qbank import` is undone by `flashcore qbank remove BATCH` instead of a copy.

Each kind is pruned by the retention rule (12 daily, 10 weekly, 9 monthly, every one of today
and yesterday; `flashcore.storage.backup.retained`); the snapshots also to at most 3x the
database's size.

PostgreSQL databases are not backed up by flashcore: the server's own `pg_dump` does it
properly, and `flashcore backup` says so.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy.exc import ArgumentError

from flashcore.storage import background, repos, snapshots
from flashcore.storage import backup as files
from flashcore.storage.backup import Backup, BackupError
from flashcore.storage.db import sqlite_path

if TYPE_CHECKING:
    import subprocess

    from flashcore.services.context import Collection

__all__ = ["AUTO_INTERVAL", "PG_ADVICE", "Backup", "BackupError"]

AUTO_INTERVAL = background.AUTO_INTERVAL
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


def all_backups(db: Path) -> list[Backup]:
    """The copies and snapshots of the SQLite file `db`, newest first."""
    found = files.list_backups(db) + snapshots.list_snapshots(db)
    return sorted(found, key=lambda b: (b.taken_at, files._serial(b.id)), reverse=True)


def list_backups(url: str) -> list[Backup]:
    """This database's backups (copies and snapshots), newest first."""
    return all_backups(database_file(url))


@dataclass(frozen=True, slots=True)
class AutomaticStatus:
    store_bytes: int  # what the snapshots take on disk, together
    last_failure: str | None  # the last background job's error, until one succeeds


def automatic_status(url: str) -> AutomaticStatus:
    db = database_file(url)
    return AutomaticStatus(snapshots.store_bytes(db), background.last_error(db))


def find(url: str, ident: str) -> Backup:
    return find_in(database_file(url), ident)


def find_in(db: Path, ident: str) -> Backup:
    """A backup by id (`20261125-090000`), or a copy by file name or path."""
    wanted = Path(ident).name.removesuffix(files.SUFFIX).removeprefix(f"{db.stem}-")
    for backup in all_backups(db):
        if backup.id == wanted:
            return backup
    raise BackupError(
        f"no backup {ident!r} in {files.backup_folder(db)}; see `flashcore backup list` for the ids"
    )


def create(url: str, now: datetime) -> Created:
    """Back up the database now, then prune by the retention rule."""
    db = database_file(url)
    if not db.is_file():
        raise BackupError(f"no database at {db}: nothing to back up")
    made = files.create_backup(db, now)
    return Created(made, tuple(files.prune(db, now)))


def newest_good_backup(db: Path) -> Backup | None:
    """The newest backup that passes `quick_check` and holds a flashcore schema (a snapshot:
    its store passes `quick_check`; each snapshot was checked when it was taken, and its pages
    are checked against their digests when it is restored)."""
    store_sound: bool | None = None
    for candidate in all_backups(db):
        if candidate.kind == snapshots.KIND:
            if store_sound is None:
                store_sound = not files.check_file(candidate.path)
            if store_sound:
                return candidate
        elif not files.check_file(candidate.path) and files.schema_revision(candidate.path):
            return candidate
    return None


# ---------------------------------------------------------------- automatic backups


def latest_activity(fc: Collection) -> datetime | None:
    """When the collection last changed, as far as its timestamps tell (newest answer, card or
    note change, question-bank import); None for a collection holding nothing to lose."""
    return _changed_since(fc, None)


def _changed_since(fc: Collection, since: datetime | None) -> datetime | None:
    with fc.engine.connect() as conn:  # Core: no ORM for a check every command makes
        found = repos.changed_since(conn, since)
        conn.rollback()
    return found


def backup_before_write(fc: Collection) -> Backup | None:
    """A copy of a SQLite collection that holds something, before a repair writes to it
    (`doctor`: always, no interval). None on PostgreSQL and for an empty collection."""
    db = sqlite_path(fc.url)
    if db is None or latest_activity(fc) is None:
        return None
    return _create_and_prune(db, fc.now())


def backup_due(fc: Collection, *, interval: timedelta = AUTO_INTERVAL) -> bool:
    """Whether an automatic backup is due: something changed since the newest backup and that
    one is older than `interval` (cheap: a directory listing, one small query of the snapshot
    store and four indexed or small MAX queries). Never on PostgreSQL."""
    db = sqlite_path(fc.url)
    if db is None:
        return False
    now = fc.now()
    existing = all_backups(db)
    newest = existing[0].taken_at if existing else None
    if newest is not None and now - newest < interval:
        return False
    return _changed_since(fc, newest) is not None


def schedule_backup(fc: Collection, reason: str) -> subprocess.Popen[bytes] | None:
    """Start the automatic backup in the background if it may be due: this process looks at
    file times only (~1 ms, no query), the background process asks the database (as
    `backup_due`) and takes the snapshot when it is. Returns at once, with the background
    process (None when nothing was started)."""
    db = sqlite_path(fc.url)
    if db is None:
        return None
    return background.start_snapshot(db, fc.now(), reason, if_due=True)


def background_busy(db: Path) -> bool:
    """Whether a background check or snapshot of the SQLite file `db` is running (started by
    a command that has ended; for tools that must not time a command beside them)."""
    locks = (background.snapshot_lock(db), background.check_lock(db))
    return any(background.running(lock) for lock in locks)


def restore_point(fc: Collection, reason: str) -> None:
    """Before an import writes: a snapshot of the collection as it is, taken in the
    background; returns once its state is pinned (the import may write from then on). Raises
    BackupError when none can be taken, so the import changes nothing. Nothing on PostgreSQL
    or for an empty collection."""
    db = sqlite_path(fc.url)
    if db is None:
        return
    with fc.engine.connect() as conn:  # not `latest_activity`: its scans take ~50 ms at 200k
        holds = repos.holds_anything(conn)
        conn.rollback()
    if holds:
        background.start_snapshot(db, fc.now(), reason, pin=True)


def maybe_backup(fc: Collection, *, interval: timedelta = AUTO_INTERVAL) -> Backup | None:
    """Take the automatic backup now, in this thread, when one is due (`backup_due`): the
    snapshot, then the pruning. For callers that want it done before they go on."""
    db = sqlite_path(fc.url)
    if db is None or not backup_due(fc, interval=interval):
        return None
    now = fc.now()
    made = snapshots.take(db, now, "automatic")
    snapshots.prune(db, now)
    return made


def _create_and_prune(db: Path, now: datetime) -> Backup:
    made = files.create_backup(db, now)
    files.prune(db, now)
    return made


# ---------------------------------------------------------------- restore


def restore(url: str, ident: str, now: datetime) -> Restored:
    """Replace the database with backup `ident` (a copy or a snapshot). The current state is
    backed up first (a damaged file is copied aside as it is instead, which needs every other
    flashcore window on it closed)."""
    db = database_file(url)
    chosen = find_in(db, ident)
    with _restorable(db, chosen) as source:
        problems = files.check_file(source)
        if problems:
            raise BackupError(
                f"backup {chosen.id} is damaged ({problems[0]}); nothing was restored — "
                "pick another from `flashcore backup list`"
            )
        if files.schema_revision(source) is None:
            raise BackupError(
                f"backup {chosen.id} is not a flashcore database; nothing was restored"
            )
        before: Backup | None = None
        aside: Path | None = None
        damaged = False
        if db.exists():
            damaged = bool(files.check_file(db))
            if damaged:
                aside = files.set_aside(db, now)
            else:
                before = files.create_backup(db, now)
        files.restore_into(db, source, replace_file=damaged)
    files.clear_damage(db)  # what a background check recorded is gone with the file
    return Restored(db, chosen, before, aside, tuple(files.prune(db, now)))


@contextlib.contextmanager
def _restorable(db: Path, chosen: Backup) -> Iterator[Path]:
    """A SQLite file holding `chosen`: the copy itself, or a snapshot written out beside the
    database (removed afterwards)."""
    if chosen.kind != snapshots.KIND:
        yield chosen.path
        return
    tmp = db.with_name(f".{db.name}.restore.{os.getpid()}{files.TEMP_SUFFIX}")
    for leftover in (tmp, tmp.with_name(tmp.name + "-journal")):
        leftover.unlink(missing_ok=True)
    try:
        snapshots.materialize(db, chosen.id, tmp)
        yield tmp
    finally:
        for leftover in (tmp, tmp.with_name(tmp.name + "-journal")):
            leftover.unlink(missing_ok=True)
