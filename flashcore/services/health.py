"""Cheap health checks that run where they cost the student nothing: `PRAGMA quick_check`
of a SQLite collection after a crash (or once a day), before a command opens it when that is
quick (a file up to `INLINE_CHECK_BYTES`), otherwise in a background process
(`flashcore.storage.background check`) that records what it finds beside the database; a
recorded problem is reported by every later command. Kept apart from `doctor` (the full check
and repairs) so that every command can afford to import it: it loads neither the ORM nor the
repair code.
"""

from __future__ import annotations

import contextlib
from datetime import datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING

from flashcore.core.errors import DatabaseError
from flashcore.storage import background
from flashcore.storage import backup as files
from flashcore.storage.db import sqlite_path

if TYPE_CHECKING:
    from flashcore.services.context import Collection


CHECK_EVERY = timedelta(hours=24)
# Up to this size the check runs before the command (well under 0.1 s); a larger collection
# (quick_check reads every page: ~1-3 s at 50,000 cards) is checked in the background.
INLINE_CHECK_BYTES = 16 * 1024 * 1024
_markers: list[Path] = []  # this process's `.open` markers, removed by `end_session`
_pending: list[tuple[Path, datetime, list[Path]]] = []  # checks for `start_pending_checks`


class DamagedDatabaseError(DatabaseError):
    """The quick check before opening found a damaged database; nothing was written."""


def startup_check(path: Path, now: datetime, *, daily: bool = True) -> None:
    """Before a command opens the SQLite collection `path`.

    A problem a background check recorded raises DamagedDatabaseError (one line naming the
    newest good backup; nothing is written, not even the side files). A check is due when a
    flashcore process that used `path` did not end cleanly (its `.open` marker outlived it)
    or, with `daily`, when the last check that passed is `CHECK_EVERY` old (or from the
    future: the clock moved). A due check of a small file runs here, read-only, and a failure
    raises as above; a larger file is checked by a background process, started when the
    command is done (`end_session`) or once the reviewer shows Home
    (`start_pending_checks`), so that it does not compete with the command for the disk. Then
    this process's marker is created (`end_session` removes it). The cost when nothing is
    due: two stats, one scan of the folder and one small file created."""
    recorded = files.recorded_damage(path)
    if recorded is not None:
        raise DamagedDatabaseError(_damaged_line(path, recorded))
    crashed = files.crash_markers(path)
    last = files.last_quick_check(path) if daily else now
    if crashed or last is None or abs(now - last) >= CHECK_EVERY:
        if not files.is_sqlite_file(path):
            return  # no file yet, or not SQLite: opening it says what is wrong
        if _size(path) > INLINE_CHECK_BYTES:
            _pending.append((path, now, crashed))
        else:
            problems = _quick_check(path)
            if problems is None:
                return  # it could not run (a read-only folder, a lock): opening says why
            if problems:
                raise DamagedDatabaseError(_damaged_line(path, problems[0]))
            files.record_quick_check(path, now)
            for marker in crashed:
                marker.unlink(missing_ok=True)
    mine = files.mark_open(path)
    if mine is not None:
        _markers.append(mine)


def _size(path: Path) -> int:
    try:
        return path.stat().st_size
    except OSError:
        return 0


def start_pending_checks() -> None:
    """Start the background checks `startup_check` left for later (returns at once)."""
    while _pending:
        path, now, crashed = _pending.pop(0)
        # One that cannot start now is still due for the next command.
        with contextlib.suppress(DatabaseError):
            background.start_check(path, now, crashed)


def end_session() -> None:
    """This process is done with its collections: start the checks left for later, remove its
    `.open` markers (a process that never gets here was killed, and the next one checks the
    database)."""
    start_pending_checks()
    while _markers:
        _markers.pop().unlink(missing_ok=True)


def _quick_check(path: Path) -> list[str] | None:
    """quick_check's problems ([] when sound), or None when it could not run for a reason
    other than damage (no -shm can be made in a read-only folder, a busy lock, ...)."""
    return background.quick_check(path)


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
        f"{path} is damaged (quick_check: {_one_line(problem)}); nothing was changed; "
        f"run `flashcore doctor`; {offer}"
    )


def quick_health(fc: Collection) -> str | None:
    """A `PRAGMA quick_check` of a SQLite collection, run here: None when sound (or not
    SQLite), else one line saying what to do. It never writes to the database."""
    path = sqlite_path(fc.url)
    if path is None:
        return None
    problems = files.check_file(path)
    if not problems:
        files.record_quick_check(path, fc.now())  # the next command need not check again
        files.clear_damage(path)
        return None
    return _problem_line(problems[0])


def recorded_problem(fc: Collection) -> str | None:
    """What a background check found wrong with the collection (one stat when nothing was),
    as one line saying what to do; for the reviewer to show."""
    path = sqlite_path(fc.url)
    recorded = None if path is None else files.recorded_damage(path)
    return None if recorded is None else _problem_line(recorded)


def _one_line(problem: str) -> str:
    """quick_check's answer may be one row of several lines (`*** in database main ***`, then
    a line a page): joined, so that the message stays one line."""
    return "; ".join(line.strip() for line in problem.splitlines() if line.strip())


def _problem_line(problem: str) -> str:
    return (
        f"the database failed its quick check ({_one_line(problem)}); finish up, quit and run "
        "`flashcore doctor` (it names the newest good backup)"
    )
