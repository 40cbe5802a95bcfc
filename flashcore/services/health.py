"""Cheap health checks that run where they cost the student nothing: `PRAGMA quick_check`
before a command opens a SQLite collection after a crash (or once a day), and in the reviewer's
background after its first paint. Kept apart from `doctor` (the full check and repairs) so that
every command can afford to import it: it loads neither the ORM nor the repair code.
"""

from __future__ import annotations

import sqlite3
from datetime import datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING

from flashcore.core.errors import DatabaseError
from flashcore.storage import backup as files
from flashcore.storage.db import sqlite_path

if TYPE_CHECKING:
    from flashcore.services.collection import Flashcore


CHECK_EVERY = timedelta(hours=24)
_markers: list[Path] = []  # this process's `.open` markers, removed by `end_session`


class DamagedDatabaseError(DatabaseError):
    """The quick check before opening found a damaged database; nothing was written."""


def startup_check(path: Path, now: datetime, *, daily: bool = True) -> None:
    """Before a command opens the SQLite collection `path`: run `PRAGMA quick_check` through a
    read-only connection when a flashcore process that used `path` did not end cleanly (its
    `.open` marker outlived it) or, with `daily`, when the last check that passed is
    `CHECK_EVERY` old (or from the future: the clock moved). The reviewer passes `daily=False`:
    it checks in the background after its first paint. A failure raises DamagedDatabaseError,
    one line naming the newest good backup, and nothing is written, not even the side files.
    Otherwise this process's marker is created (`end_session` removes it). The cost when
    nothing is due: one stat, one scan of the folder and one small file created."""
    crashed = files.crash_markers(path)
    last = files.last_quick_check(path) if daily else now
    if crashed or last is None or abs(now - last) >= CHECK_EVERY:
        if not files.is_sqlite_file(path):
            return  # no file yet, or not SQLite: opening it says what is wrong
        problems = _quick_check(path)
        if problems is None:
            return  # it could not run (a read-only folder, a lock): opening says what is wrong
        if problems:
            raise DamagedDatabaseError(_damaged_line(path, problems[0]))
        files.record_quick_check(path, now)
        for marker in crashed:
            marker.unlink(missing_ok=True)
    mine = files.mark_open(path)
    if mine is not None:
        _markers.append(mine)


def end_session() -> None:
    """This process is done with its collections: remove its `.open` markers (a process that
    never gets here was killed, and the next one checks the database)."""
    while _markers:
        _markers.pop().unlink(missing_ok=True)


def _quick_check(path: Path) -> list[str] | None:
    """quick_check's problems ([] when sound), or None when it could not run for a reason
    other than damage (no -shm can be made in a read-only folder, a busy lock, ...)."""
    try:
        conn = files.open_readonly(path)
        try:
            return files.check_connection(conn)
        finally:
            conn.close()
    except sqlite3.Error as exc:
        if getattr(exc, "sqlite_errorname", "").startswith(("SQLITE_CORRUPT", "SQLITE_NOTADB")):
            return [str(exc)]
        return None


def _damaged_line(path: Path, problem: str) -> str:
    from flashcore.services import backup as backups  # only on damage

    good = backups.newest_good_backup(path)
    if good is None:
        offer = "no good backup exists, so copy the file somewhere safe first"
    else:
        offer = (
            f"the newest good backup is {good.id} ({good.taken_at:%Y-%m-%d %H:%M} UTC): "
            f"flashcore backup restore {good.id} --db {path}"
        )
    return (
        f"{path} is damaged (quick_check: {problem}); nothing was changed; "
        f"run `flashcore doctor`; {offer}"
    )


def quick_health(fc: Flashcore) -> str | None:
    """A cheap `PRAGMA quick_check` of a SQLite collection, for the reviewer to run in the
    background after its first paint: None when sound (or not SQLite), else one line saying
    what to do. It never writes."""
    path = sqlite_path(fc.url)
    if path is None:
        return None
    problems = files.check_file(path)
    if not problems:
        files.record_quick_check(path, fc.now())  # the next command need not check again
        return None
    return (
        f"the database failed its quick check ({problems[0]}); finish up, quit and run "
        "`flashcore doctor` (it names the newest good backup)"
    )
