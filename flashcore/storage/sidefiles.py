"""The health side files beside a SQLite database, never in it (a damaged database is never
written to): `.<db name>.quick_check`, whose mtime is the time of the last quick_check that
passed; `.<db name>.damaged`, what a background check found wrong; `.<db name>.upgrade`, locked
by the one process upgrading the schema; and `.<db name>.<pid>.open`,
one per flashcore process using the database, removed when that process ends cleanly (a marker
whose process is gone means it crashed or was killed)."""

from __future__ import annotations

import contextlib
import os
import re
from datetime import UTC, datetime
from pathlib import Path

from flashcore.files import process_alive


def _utc(when: datetime) -> datetime:
    if when.tzinfo is None:
        raise ValueError("naive datetime: side files are stamped in UTC from an aware time")
    return when.astimezone(UTC)


_OPEN = re.compile(r"^\.(?P<db>.+)\.(?P<pid>[0-9]+)\.open$")


def quick_check_file(db: Path) -> Path:
    return db.with_name(f".{db.name}.quick_check")


def last_quick_check(db: Path) -> datetime | None:
    """When `db` last passed a quick_check (one stat), or None if never recorded."""
    try:
        return datetime.fromtimestamp(quick_check_file(db).stat().st_mtime, UTC)
    except OSError:
        return None


def record_quick_check(db: Path, when: datetime) -> None:
    """Remember that `db` passed a quick_check at `when`; silently skipped when the folder
    cannot be written (the next command checks again)."""
    path = quick_check_file(db)
    stamp = _utc(when).timestamp()
    with contextlib.suppress(OSError):
        path.write_text(f"last quick_check passed: {_utc(when).isoformat()}\n", encoding="utf-8")
        os.utime(path, (stamp, stamp))


def damage_file(db: Path) -> Path:
    """`.<db name>.damaged`: what a background quick_check found wrong (one line), until a
    check passes again (doctor, a restore, the next check)."""
    return db.with_name(f".{db.name}.damaged")


def record_damage(db: Path, problem: str) -> None:
    with contextlib.suppress(OSError):
        damage_file(db).write_text(problem.replace("\n", " ") + "\n", encoding="utf-8")


def recorded_damage(db: Path) -> str | None:
    """The problem a background check recorded for `db`, or None (one failed stat)."""
    try:
        return damage_file(db).read_text(encoding="utf-8").strip() or "damaged"
    except OSError:
        return None


def clear_damage(db: Path) -> None:
    with contextlib.suppress(OSError):
        damage_file(db).unlink(missing_ok=True)


def upgrade_lock_file(db: Path) -> Path:
    """`.<db name>.upgrade`: the file whose `flock` one process holds while it upgrades the
    database's schema (flashcore.storage.migrate); it stays, empty, between upgrades."""
    return db.with_name(f".{db.name}.upgrade")


def held_by_this_process(path: Path) -> bool:
    """Whether this process has a descriptor open on the file at `path` (a SQLite connection,
    in practice), from `/proc/self/fd` (one stat per descriptor); False where there is none."""
    try:
        target = path.stat()
        fds = os.listdir("/proc/self/fd")
    except OSError:
        return False
    for fd in fds:
        try:
            seen = os.stat(f"/proc/self/fd/{fd}")
        except OSError:
            continue
        if (seen.st_dev, seen.st_ino) == (target.st_dev, target.st_ino):
            return True
    return False


def _other_markers(db: Path) -> list[tuple[int, Path]]:
    """The `.open` markers of `db` that other processes left, as (pid, path): one folder scan."""
    found: list[tuple[int, Path]] = []
    try:
        entries = list(os.scandir(db.parent))
    except OSError:
        return found
    for entry in entries:
        match = _OPEN.match(entry.name)
        if match is None or match["db"] != db.name:
            continue
        pid = int(match["pid"])
        if pid != os.getpid():
            found.append((pid, Path(entry.path)))
    return found


def live_markers(db: Path) -> list[int]:
    """The ids of *other* running processes that have `db` open (their `.open` markers)."""
    return sorted(pid for pid, _ in _other_markers(db) if process_alive(pid))


def mark_open(db: Path) -> Path | None:
    """Create this process's marker beside `db`; None when the folder is not writable."""
    marker = db.with_name(f".{db.name}.{os.getpid()}.open")
    try:
        marker.touch()
    except OSError:
        return None
    return marker


def crash_markers(db: Path) -> list[Path]:
    """Markers of `db` left by processes that are gone (one scan of the folder)."""
    return [path for pid, path in _other_markers(db) if not process_alive(pid)]
