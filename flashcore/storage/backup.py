"""SQLite backups: consistent copies made with SQLite's backup API, checked with
`PRAGMA quick_check`, written to a temporary file in the backup folder and renamed into place;
restore; integrity checks; the side files beside the database; and the retention rule (12
daily, 10 weekly, 9 monthly).

Backups live in `backups/` next to the database file, named `<dbstem>-YYYYmmdd-HHMMSS.sqlite3`
in UTC (`-2`, `-3`... when two are taken in one second). The automatic ones are snapshots in one
page store beside them (`flashcore.storage.snapshots`); ids are unique across both. The caller
passes the time: nothing here reads the wall clock. A plain file copy of a live WAL database can
miss everything still in the -wal file, so copies always go through SQLite. The database being
copied is opened read-only (`mode=ro`), so copying or checking a damaged file never writes to it.

Only SQLite touches a database file this process may hold a connection to: closing *any*
descriptor of the file drops SQLite's POSIX locks, and another process then deletes the WAL
with the answers in it (SQLite's "How To Corrupt", section 2.2). So nothing here opens, copies,
renames or deletes the live file or its -wal/-shm, except `_replace_file` (a damaged database,
no connection anywhere: `restore` checks) and `set_aside` (the same).
"""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import sqlite3
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import quote

from flashcore.core.errors import DatabaseError
from flashcore.files import create_like, fsync_path, process_alive
from flashcore.storage.retention import DEFAULT as DEFAULT_RETENTION
from flashcore.storage.retention import Retention as Retention
from flashcore.storage.retention import retained as retained
from flashcore.storage.sidefiles import clear_damage as clear_damage
from flashcore.storage.sidefiles import crash_markers as crash_markers
from flashcore.storage.sidefiles import damage_file as damage_file
from flashcore.storage.sidefiles import held_by_this_process as held_by_this_process
from flashcore.storage.sidefiles import last_quick_check as last_quick_check
from flashcore.storage.sidefiles import live_markers as live_markers
from flashcore.storage.sidefiles import mark_open as mark_open
from flashcore.storage.sidefiles import quick_check_file as quick_check_file
from flashcore.storage.sidefiles import record_damage as record_damage
from flashcore.storage.sidefiles import record_quick_check as record_quick_check
from flashcore.storage.sidefiles import recorded_damage as recorded_damage

FOLDER = "backups"
SUFFIX = ".sqlite3"
STAMP = "%Y%m%d-%H%M%S"
TEMP_SUFFIX = ".tmp"
BUSY_TIMEOUT_S = 10.0
_NAME = re.compile(r"^(?P<stem>.+)-(?P<stamp>\d{8}-\d{6})(?:-(?P<n>[0-9]+))?\.sqlite3$")
# A temporary copy, and the journal files SQLite may leave beside it when killed mid-copy.
_TEMP = re.compile(r"^\..+\.(?P<pid>[0-9]+)\.tmp(?:-journal|-wal|-shm)?$")


class BackupError(DatabaseError):
    """A backup could not be made, found, checked or restored; nothing was changed."""


@dataclass(frozen=True, slots=True)
class Backup:
    """One backup file. `id` is what `flashcore backup restore` takes."""

    id: str
    path: Path
    taken_at: datetime
    size: int
    kind: str = "copy"  # a SQLite file of its own; "snapshot": in the page store (`path`)

    def to_json(self) -> dict[str, object]:
        return {
            "id": self.id,
            "path": str(self.path),
            "taken_at": self.taken_at.isoformat(),
            "bytes": self.size,
            "kind": self.kind,
        }


# ---------------------------------------------------------------- names and listing


def backup_folder(db: Path) -> Path:
    return db.parent / FOLDER


def _utc(when: datetime) -> datetime:
    if when.tzinfo is None:
        raise ValueError("naive datetime: backups are named in UTC from an aware time")
    return when.astimezone(UTC)


def parse_name(stem: str, name: str) -> tuple[str, datetime] | None:
    """(id, taken_at) for a backup file name of the database `stem`, else None."""
    match = _NAME.match(name)
    if match is None or match["stem"] != stem:
        return None
    try:
        taken = datetime.strptime(match["stamp"], STAMP).replace(tzinfo=UTC)
    except ValueError:
        return None
    ident = match["stamp"] + (f"-{match['n']}" if match["n"] else "")
    return ident, taken


def list_backups(db: Path) -> list[Backup]:
    """The backups of `db`, newest first."""
    folder = backup_folder(db)
    if not folder.is_dir():
        return []
    found = []
    for entry in folder.iterdir():
        parsed = parse_name(db.stem, entry.name)
        if parsed is None or not entry.is_file():
            continue
        ident, taken = parsed
        found.append(Backup(ident, entry, taken, entry.stat().st_size))
    return sorted(found, key=lambda b: (b.taken_at, _serial(b.id)), reverse=True)


def _serial(ident: str) -> int:
    parts = ident.split("-")
    return int(parts[2]) if len(parts) > 2 else 1


def find_backup(db: Path, ident: str) -> Backup:
    """A backup by id (`20261125-090000`), file name or path."""
    wanted = Path(ident).name.removesuffix(SUFFIX).removeprefix(f"{db.stem}-")
    for backup in list_backups(db):
        if backup.id == wanted:
            return backup
    raise BackupError(
        f"no backup {ident!r} in {backup_folder(db)}; see `flashcore backup list` for the ids"
    )


def _free_target(
    folder: Path, stem: str, when: datetime, taken: frozenset[str] = frozenset()
) -> tuple[str, Path]:
    """A backup id (and file) not used yet, neither by a file nor by an id in `taken`."""
    base = _utc(when).strftime(STAMP)
    serial = 1
    while True:
        ident = base if serial == 1 else f"{base}-{serial}"
        target = folder / f"{stem}-{ident}{SUFFIX}"
        if ident not in taken and not target.exists():
            return ident, target
        serial += 1


STORE_SUFFIX = ".snapshots.sqlite3"


def store_path(db: Path) -> Path:
    """The page store holding `db`'s automatic snapshots (`flashcore.storage.snapshots`)."""
    return backup_folder(db) / f"{db.stem}{STORE_SUFFIX}"


def snapshot_ids(db: Path) -> frozenset[str]:
    """The ids of `db`'s snapshots, so that a file backup never takes one of them."""
    store = store_path(db)
    if not store.is_file():
        return frozenset()
    try:
        conn = sqlite3.connect(store, timeout=BUSY_TIMEOUT_S)
        try:
            return frozenset(r[0] for r in conn.execute("SELECT ident FROM snapshots"))
        finally:
            conn.close()
    except sqlite3.Error:
        return frozenset()


def remove_stale_temps(folder: Path, prefix: str = "") -> list[Path]:
    """Delete temporary files left by a backup or restore that was killed (their process is
    gone), only those whose name starts with `prefix`; returns what was removed."""
    removed: list[Path] = []
    if not folder.is_dir():
        return removed
    for entry in folder.iterdir():
        match = _TEMP.match(entry.name) if entry.name.startswith(prefix) else None
        if match is None or _alive(int(match["pid"])):
            continue
        entry.unlink(missing_ok=True)
        removed.append(entry)
    return removed


def _alive(pid: int) -> bool:
    if pid == os.getpid():
        return False  # this process runs one backup at a time: its own leftovers are stale
    return process_alive(pid)


# ---------------------------------------------------------------- checks


def _readonly_uri(path: Path) -> str:
    return f"file:{quote(str(path))}?mode=ro"


def open_readonly(path: Path) -> sqlite3.Connection:
    """A connection that never writes to `path` (no checkpoint on close)."""
    if not path.is_file():
        raise BackupError(f"no database at {path}")
    return sqlite3.connect(_readonly_uri(path), uri=True, timeout=BUSY_TIMEOUT_S)


# Tables every flashcore schema has had since its first revision: a file that names a revision
# without them was damaged, or changed by another program (SQLite's checks find it sound).
CORE_TABLES = ("profiles", "decks", "notes", "cards", "review_logs")


def check_connection(conn: sqlite3.Connection, *, full: bool = False) -> list[str]:
    """`PRAGMA quick_check` (or `integrity_check` when `full`), and a flashcore file's core
    tables present: [] when the file is sound."""
    pragma = "integrity_check" if full else "quick_check"
    rows = [str(r[0]) for r in conn.execute(f"PRAGMA {pragma}").fetchall()]
    if rows != ["ok"]:
        return rows or ["no answer from the integrity check"]
    names = {str(r[0]) for r in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")}
    missing = [t for t in CORE_TABLES if t not in names] if "alembic_version" in names else []
    return [f"flashcore's tables missing: {', '.join(missing)}"] if missing else []


def check_file(path: Path, *, full: bool = False) -> list[str]:
    """The problems SQLite finds in `path` ([] when sound), without writing to it. A file that
    is not a SQLite database at all is reported as a problem, not raised."""
    try:
        conn = open_readonly(path)
    except sqlite3.Error as exc:
        return [str(exc)]
    try:
        return check_connection(conn, full=full)
    except sqlite3.Error as exc:
        return [str(exc)]
    finally:
        conn.close()


def schema_revision(path: Path) -> str | None:
    """The flashcore schema revision stored in `path`; None when it is not a flashcore file."""
    try:
        conn = open_readonly(path)
    except sqlite3.Error:
        return None
    try:
        row = conn.execute("SELECT version_num FROM alembic_version").fetchone()
    except sqlite3.Error:
        return None
    finally:
        conn.close()
    return None if row is None else str(row[0])


# ---------------------------------------------------------------- making and restoring


def create_backup(db: Path, when: datetime) -> Backup:
    """Copy `db` into its backup folder: backup API into a temporary file, `quick_check`, then
    rename. Raises BackupError (leaving no file behind) when the copy fails or is unsound."""
    if not is_sqlite_file(db):
        raise BackupError(
            f"{db} is not a SQLite database (damaged header, or another kind of file); "
            "no backup was made; check --db"
        )
    folder = backup_folder(db)
    created = not folder.exists()
    try:
        folder.mkdir(exist_ok=True)
        remove_stale_temps(folder)
    except OSError as exc:
        raise BackupError(f"cannot use the backup folder {folder}: {_os_reason(exc)}") from None
    ident, target = _free_target(folder, db.stem, when, snapshot_ids(db))
    tmp = folder / f".{target.name}.{os.getpid()}{TEMP_SUFFIX}"
    try:
        create_like(tmp, db)  # a backup of a 0600 database is 0600 too
        _copy_checked(db, tmp, what=str(db), consequence="no backup was made")
        fsync_path(tmp)
        os.replace(tmp, target)
        fsync_path(folder)
    except OSError as exc:
        raise BackupError(f"cannot write a backup in {folder}: {_os_reason(exc)}") from None
    finally:
        tmp.unlink(missing_ok=True)
        if created and not target.exists():
            with contextlib.suppress(OSError):
                folder.rmdir()  # leave no empty folder behind a failed first backup
    return Backup(ident, target, _utc(when).replace(microsecond=0), target.stat().st_size)


def is_sqlite_file(path: Path) -> bool:
    """Whether `path` is a SQLite database file (an empty file counts as not), asked of SQLite
    itself: it reads the header through a read-only connection. Never `open()` a database
    file: this process may hold a connection to it, and closing any descriptor of the file
    drops SQLite's POSIX locks (another process then deletes the WAL, answers in it lost)."""
    try:
        if not path.is_file() or path.stat().st_size == 0:
            return False
        conn = open_readonly(path)
    except (OSError, sqlite3.Error, BackupError):
        return False
    try:
        conn.execute("PRAGMA schema_version").fetchone()
    except sqlite3.DatabaseError as exc:
        # Only "not a database" says no; damage past the header or a lock is for the caller's
        # check to report, as a SQLite file.
        return getattr(exc, "sqlite_errorname", "") != "SQLITE_NOTADB"
    finally:
        conn.close()
    return True


def _copy_checked(source: Path, target: Path, *, what: str, consequence: str) -> None:
    """Backup API `source` -> new file `target` in rollback-journal mode, then quick_check."""
    try:
        src = open_readonly(source)
    except sqlite3.Error as exc:
        raise BackupError(f"cannot read {what}: {exc}") from None
    try:
        dst = sqlite3.connect(target)
        try:
            src.backup(dst)
            dst.execute("PRAGMA journal_mode=DELETE")  # one self-contained file
            problems = check_connection(dst)
            if not problems and not _has_table(dst, "alembic_version"):
                problems = ["it is not a flashcore database (no alembic_version table)"]
        finally:
            dst.close()
    except sqlite3.Error as exc:
        reason = _sqlite_reason(exc, what=what, folder=target.parent)
        raise BackupError(f"{reason}; {consequence}") from None
    finally:
        src.close()
    if problems:
        raise BackupError(
            f"{what} failed its check ({problems[0]}); {consequence}; run `flashcore doctor`"
        )


def _has_table(conn: sqlite3.Connection, name: str) -> bool:
    row = conn.execute(
        "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?", (name,)
    ).fetchone()
    return row is not None


def restore_into(db: Path, backup: Path, *, replace_file: bool = False) -> None:
    """Make `db` hold exactly what `backup` holds.

    By default the backup API writes into the live file: one write transaction, so a crash
    leaves the old or the new content and other connections see one or the other. With
    `replace_file` (for a damaged database, which SQLite cannot write into) the backup is copied
    to a temporary file beside `db`, stale -wal/-shm/-journal files are removed and the copy is
    renamed over `db`; set the damaged file aside first.
    """
    problems = check_file(backup)
    if problems:
        raise BackupError(f"backup {backup.name} is damaged ({problems[0]}); pick another one")
    if not replace_file and _page_size(backup) != _page_size(db):
        replace_file = True  # the backup API cannot change the page size of a WAL database
    if replace_file:
        _replace_file(db, backup)
        return
    try:
        src = open_readonly(backup)
        try:
            dst = sqlite3.connect(db, timeout=BUSY_TIMEOUT_S)
            try:
                src.backup(dst)
                problems = check_connection(dst)
            finally:
                dst.close()
        finally:
            src.close()
    except sqlite3.Error as exc:
        reason = _sqlite_reason(exc, what=str(db), folder=db.parent)
        raise BackupError(f"{reason}; nothing was restored") from None
    if problems:  # pragma: no cover - the backup was checked just before
        raise BackupError(f"{db} failed its check after the restore: {problems[0]}")


def _page_size(path: Path) -> int | None:
    try:
        conn = open_readonly(path)
    except sqlite3.Error:
        return None
    try:
        return int(conn.execute("PRAGMA page_size").fetchone()[0])
    except sqlite3.Error:
        return None
    finally:
        conn.close()


def _refuse_if_in_use(db: Path, action: str) -> None:
    """Copying, renaming or deleting the database file is safe only while nobody holds a
    connection to it: not this process, not another flashcore (its `.open` marker)."""
    if held_by_this_process(db):
        raise BackupError(
            f"cannot {action} {db} while this process holds a connection to it; close the "
            "collection first (nothing was changed)"
        )
    others = live_markers(db)
    if others:
        raise BackupError(
            f"cannot {action} {db} while other flashcore processes use it (pids "
            f"{', '.join(map(str, others))}); close the other windows first (nothing was "
            "changed)"
        )


def _replace_file(db: Path, backup: Path) -> None:
    _refuse_if_in_use(db, "replace")
    for stale in db.parent.glob(f".{db.name}.restore.*{TEMP_SUFFIX}*"):  # a killed restore's
        match = _TEMP.match(stale.name)
        if match is not None and not _alive(int(match["pid"])):
            stale.unlink(missing_ok=True)
    tmp = db.with_name(f".{db.name}.restore.{os.getpid()}{TEMP_SUFFIX}")
    try:
        create_like(tmp, db)  # the restored file keeps the database's permissions
        _copy_checked(backup, tmp, what=f"backup {backup.name}", consequence="nothing was restored")
        fsync_path(tmp)
        for suffix in ("-wal", "-shm", "-journal"):  # they belong to the file being replaced
            db.with_name(db.name + suffix).unlink(missing_ok=True)
        os.replace(tmp, db)
        fsync_path(db.parent)
    except OSError as exc:
        raise BackupError(f"cannot replace {db}: {_os_reason(exc)}") from None
    finally:
        tmp.unlink(missing_ok=True)


def set_aside(db: Path, when: datetime) -> Path:
    """Copy a damaged database byte for byte (with its -wal) into the backup folder as
    `<stem>-damaged-YYYYmmdd-HHMMSS.sqlite3`, which is never listed, restored or pruned."""
    _refuse_if_in_use(db, "copy aside")
    folder = backup_folder(db)
    try:
        folder.mkdir(exist_ok=True)
        _, target = _free_target(folder, f"{db.stem}-damaged", when)
        create_like(target, db)
        shutil.copyfile(db, target)
        wal = db.with_name(db.name + "-wal")
        if wal.exists():
            create_like(target.with_name(target.name + "-wal"), db)
            shutil.copyfile(wal, target.with_name(target.name + "-wal"))
        fsync_path(target)
    except OSError as exc:
        raise BackupError(f"cannot copy {db} aside into {folder}: {_os_reason(exc)}") from None
    return target


# ---------------------------------------------------------------- retention


def prune(db: Path, now: datetime, limits: Retention = DEFAULT_RETENTION) -> list[Backup]:
    """Delete the backups the retention rule does not keep; returns them."""
    backups = list_backups(db)
    keep = retained([b.taken_at for b in backups], now, limits)
    removed = [b for b, kept in zip(backups, keep, strict=True) if not kept]
    for backup in removed:
        backup.path.unlink(missing_ok=True)
    return removed


# ---------------------------------------------------------------- messages


def _os_reason(exc: OSError) -> str:
    import errno

    if exc.errno == errno.ENOSPC:
        return "the disk is full; free some space and try again (nothing was changed)"
    if exc.errno in (errno.EACCES, errno.EPERM, errno.EROFS):
        return "permission denied; make the folder writable"
    return exc.strerror or str(exc)


def _sqlite_reason(exc: sqlite3.Error, *, what: str, folder: Path) -> str:
    name = getattr(exc, "sqlite_errorname", "")
    if name == "SQLITE_FULL" or "disk is full" in str(exc):
        return f"cannot write to {folder}: the disk is full; free some space and try again"
    if name.startswith(("SQLITE_READONLY", "SQLITE_CANTOPEN", "SQLITE_PERM")):
        return f"cannot write in {folder} ({exc}); make the folder and its files writable"
    if name.startswith(("SQLITE_NOTADB", "SQLITE_CORRUPT")):
        return f"{what} is damaged or not a database ({exc}); run `flashcore doctor`"
    if name.startswith(("SQLITE_BUSY", "SQLITE_LOCKED")):
        return f"{what} is busy (another flashcore is writing); try again"
    return f"{what}: {exc}"
