"""Safety work nobody waits for, in a process of its own:

    python -m flashcore.storage.background snapshot DB WHEN REASON [--pin | --if-due]
    python -m flashcore.storage.background check DB WHEN [CRASH_MARKER ...]

- `snapshot`: an automatic backup (`flashcore.storage.snapshots.take`), then the pruning of the
  snapshots (retention rule, and at most 3x the database on disk). The copy it makes passes
  `quick_check` page for page as the database was when pinned, so it records the day's quick
  check too (one read of the file a day, not two). With `--if-due` only when
  one is due: something changed since the newest backup and that one is `AUTO_INTERVAL` old
  (the starting process looks at file times only, ~1 ms; this process asks the database). With
  `--pin` it prints
  `pinned` on stdout as soon as the state it copies is fixed (a read transaction), so an import
  waits for that alone (~0.1 s) and writes while the copy runs: the snapshot is still the state
  before the import, a restore point.
- `check`: `PRAGMA quick_check` through a read-only connection. Passing records its time
  (`.<db>.quick_check`), clears a recorded damage and removes the crash markers named; failing
  records the problem (`.<db>.damaged`), which every later command reports, in one line, until
  `doctor` or a restore finds the file sound.

Why a process, not a thread: it goes on when the reviewer or command that started it ends (a
thread would hold up the exit, or die with it), it never competes for the reviewer's
interpreter or its connections, it runs at the lowest priority (`nice 19`, which the disk
scheduler follows too), and it imports neither SQLAlchemy nor the ORM (it starts in ~0.1 s). One runs at a time per kind and database (a lock file holding its pid); a restore point
(`--pin`) never waits for another snapshot. What goes wrong is written to
`backups/.<stem>.background.log`; the next due snapshot or check tries again.

`MODE` is "process"; the tests set "inline" (the same work, run in the calling thread at once)
or "off".
"""

from __future__ import annotations

import contextlib
import os
import select
import sqlite3
import subprocess
import sys
from collections.abc import Callable, Sequence
from datetime import datetime, timedelta
from pathlib import Path
from typing import IO

from flashcore.files import process_alive
from flashcore.storage import backup as files
from flashcore.storage import snapshots
from flashcore.storage.backup import BackupError, quick_check_file

MODE = ["process"]  # "process" | "inline" | "off"
AUTO_INTERVAL = timedelta(minutes=30)
PIN_TIMEOUT_S = 20.0
PINNED = b"pinned"


# ---------------------------------------------------------------- side files


def snapshot_lock(db: Path) -> Path:
    return files.backup_folder(db) / f".{db.stem}.snapshot.lock"


def check_lock(db: Path) -> Path:
    return db.with_name(f".{db.name}.check.lock")


def log_file(db: Path) -> Path:
    return files.backup_folder(db) / f".{db.stem}.background.log"


def running(lock: Path) -> bool:
    """Whether a live process holds `lock` (one read of a small file)."""
    try:
        pid = int(lock.read_text(encoding="ascii").strip() or 0)
    except (OSError, ValueError):
        return False
    return pid == os.getpid() or process_alive(pid)


def _take_lock(lock: Path) -> bool:
    for _ in range(2):
        try:
            fd = os.open(lock, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o644)
        except FileExistsError:
            if running(lock):
                return False
            lock.unlink(missing_ok=True)  # its process is gone
            continue
        except OSError:
            return False
        with os.fdopen(fd, "w", encoding="ascii") as out:
            out.write(str(os.getpid()))
        return True
    return False


def last_error(db: Path) -> str | None:
    """The last line a background job wrote to its log, if the log holds anything."""
    try:
        lines = log_file(db).read_text(encoding="utf-8").strip().splitlines()
    except OSError:
        return None
    return lines[-1] if lines else None


def _log(db: Path, message: str) -> None:
    with contextlib.suppress(OSError), log_file(db).open("a", encoding="utf-8") as out:
        out.write(message.replace("\n", " ") + "\n")


# ---------------------------------------------------------------- the jobs


def run_snapshot(
    db: Path,
    when: datetime,
    reason: str,
    *,
    on_pinned: Callable[[], None] | None = None,
    if_due: bool = False,
) -> None:
    """The `snapshot` job, in this process. A restore point (`on_pinned`) runs even while
    another snapshot does; a due one leaves the work to it."""
    folder = files.backup_folder(db)
    created = not folder.exists()
    try:
        folder.mkdir(exist_ok=True)
    except OSError as exc:
        raise BackupError(
            f"cannot use the backup folder {folder}: {files._os_reason(exc)}"
        ) from None
    if on_pinned is None and not _take_lock(snapshot_lock(db)):
        return
    try:
        if if_due and not due(db, when):
            return
        try:
            snapshots.take(db, when, reason, on_pinned=on_pinned)
        except BackupError:
            # Perhaps the database itself failed the check: the next command checks it.
            quick_check_file(db).unlink(missing_ok=True)
            raise
        # The copy passed quick_check page for page as the database was when pinned: that is
        # the day's check too (crash markers are left to a check of the file itself).
        files.record_quick_check(db, when)
        snapshots.prune(db, when)
        log_file(db).unlink(missing_ok=True)  # the last job went well
    finally:
        if on_pinned is None:
            snapshot_lock(db).unlink(missing_ok=True)
        if created:
            with contextlib.suppress(OSError):
                folder.rmdir()  # only when empty: nothing was due, or the first one failed


def newest_backup(db: Path) -> datetime | None:
    """When the newest backup of `db` (a copy or a snapshot) was taken."""
    times = [b.taken_at for b in files.list_backups(db)[:1] + snapshots.list_snapshots(db)[:1]]
    return max(times, default=None)


def due(db: Path, when: datetime, interval: timedelta = AUTO_INTERVAL) -> bool:
    """Whether an automatic backup of `db` is due at `when`: something changed since the
    newest backup (the database's own timestamps say) and that one is `interval` old."""
    from flashcore.storage import repos  # SQLAlchemy: in the background process only
    from flashcore.storage.db import make_engine, url_for_path

    newest = newest_backup(db)
    if newest is not None and when - newest < interval:
        return False
    engine = make_engine(url_for_path(db))
    try:
        with engine.connect() as conn:
            return repos.changed_since(conn, newest) is not None
    finally:
        engine.dispose()


def maybe_changed(db: Path, when: datetime, interval: timedelta = AUTO_INTERVAL) -> bool:
    """A first look, from file times alone (a directory listing and a few stats): False when
    no backup can be due (the newest is younger than `interval`, or neither the database nor
    its write-ahead log was written since the backup store or newest copy was)."""
    newest = newest_backup(db)
    if newest is not None and when - newest < interval:
        return False
    written = _mtime(db, db.with_name(db.name + "-wal"))
    store = files.store_path(db)
    copies = files.list_backups(db)[:1]
    saved = _mtime(store, store.with_name(store.name + "-wal"), *(b.path for b in copies))
    return saved == 0.0 or written > saved


def _mtime(*paths: Path) -> float:
    times = [0.0]
    for path in paths:
        with contextlib.suppress(OSError):
            times.append(path.stat().st_mtime)
    return max(times)


def run_check(db: Path, when: datetime, crashed: Sequence[Path] = ()) -> None:
    """The `check` job, in this process."""
    lock = check_lock(db)
    if not _take_lock(lock):
        return
    try:
        problems = quick_check(db)
        if problems is None:
            return  # it could not run (a lock, a read-only folder): the next command retries
        if problems:
            files.record_damage(db, problems[0])
            return
        files.record_quick_check(db, when)
        files.clear_damage(db)
        for marker in crashed:
            marker.unlink(missing_ok=True)
    finally:
        lock.unlink(missing_ok=True)


def quick_check(db: Path) -> list[str] | None:
    """quick_check's problems ([] when sound), or None when it could not run for a reason
    other than damage (no -shm can be made in a read-only folder, a busy lock, ...)."""
    try:
        conn = files.open_readonly(db)
        try:
            return files.check_connection(conn)
        finally:
            conn.close()
    except sqlite3.Error as exc:
        if getattr(exc, "sqlite_errorname", "").startswith(("SQLITE_CORRUPT", "SQLITE_NOTADB")):
            return [str(exc)]
        return None


# ---------------------------------------------------------------- starting them


def start_snapshot(
    db: Path, when: datetime, reason: str, *, pin: bool = False, if_due: bool = False
) -> subprocess.Popen[bytes] | None:
    """Start a snapshot of `db` in the background. With `pin`, return once the state it
    copies is fixed (raises BackupError when that fails: no restore point, so the caller must
    not write); otherwise return at once (None when nothing was started: one is running, or,
    with `if_due`, none can be due)."""
    if MODE[0] == "off":
        return None
    if MODE[0] == "inline":
        try:
            run_snapshot(db, when, reason, on_pinned=(lambda: None) if pin else None,
                         if_due=if_due)  # fmt: skip
        except BackupError as exc:
            if pin:
                raise
            _log(db, f"{when.isoformat()} snapshot ({reason}): {exc}")
        return None
    if not pin and (running(snapshot_lock(db)) or (if_due and not maybe_changed(db, when))):
        return None
    flag = ["--pin"] if pin else ["--if-due"] if if_due else []
    args = ["snapshot", str(db), when.isoformat(), reason, *flag]
    proc = _spawn(db, args, stdout=subprocess.PIPE if pin else subprocess.DEVNULL)
    if pin:
        _wait_pinned(proc, db)
    return proc


def start_check(
    db: Path, when: datetime, crashed: Sequence[Path] = ()
) -> subprocess.Popen[bytes] | None:
    """Start a quick_check of `db` in the background (None when one is already running)."""
    if MODE[0] == "off":
        return None
    if MODE[0] == "inline":
        run_check(db, when, crashed)
        return None
    if running(check_lock(db)):
        return None
    args = ["check", str(db), when.isoformat(), *map(str, crashed)]
    return _spawn(db, args, stdout=subprocess.DEVNULL)


_children: list[subprocess.Popen[bytes]] = []  # started here and maybe still running


def reap() -> None:
    """Forget the background processes that ended (so none is left a zombie). The others are
    kept referenced: a process is meant to outlive this one, not to be waited for."""
    _children[:] = [child for child in _children if child.poll() is None]


def _spawn(db: Path, args: list[str], *, stdout: int) -> subprocess.Popen[bytes]:
    reap()
    folder = files.backup_folder(db)
    err: IO[bytes] | int = subprocess.DEVNULL
    with contextlib.suppress(OSError):
        folder.mkdir(exist_ok=True)
        err = log_file(db).open("ab")
    try:
        child = subprocess.Popen(
            [sys.executable, "-m", "flashcore.storage.background", *args],
            stdin=subprocess.DEVNULL,
            stdout=stdout,
            stderr=err,
            start_new_session=True,  # the terminal's Ctrl-C and hang-up are not for it
            close_fds=True,
        )
        _children.append(child)
        return child
    except OSError as exc:
        raise BackupError(f"cannot start a background job: {files._os_reason(exc)}") from None
    finally:
        if not isinstance(err, int):
            err.close()


def _wait_pinned(proc: subprocess.Popen[bytes], db: Path) -> None:
    assert proc.stdout is not None
    line = b""
    try:
        ready, _, _ = select.select([proc.stdout], [], [], PIN_TIMEOUT_S)
        if ready:
            line = proc.stdout.readline().strip()
    finally:
        proc.stdout.close()
    if line == PINNED:
        return
    text = line.decode(errors="replace").removeprefix("error: ")
    if not text:
        text = f"it gave no sign within {PIN_TIMEOUT_S:.0f} s"
        with contextlib.suppress(OSError):
            proc.kill()
    raise BackupError(f"no restore point could be taken ({text}); nothing was changed")


# ---------------------------------------------------------------- the process


def main(argv: Sequence[str]) -> int:
    if len(argv) < 3 or argv[0] not in ("snapshot", "check"):
        sys.stderr.write("usage: python -m flashcore.storage.background snapshot|check DB WHEN\n")
        return 2
    db = Path(argv[1])
    with contextlib.suppress(OSError):
        os.nice(19)  # the reviewer and the student's commands first (disk too: it follows nice)
    try:
        return _job(argv[0], db, datetime.fromisoformat(argv[2]), argv[3:])
    finally:
        with contextlib.suppress(OSError):
            if log_file(db).stat().st_size == 0:  # opened for this job's errors: none came
                log_file(db).unlink()
                files.backup_folder(db).rmdir()  # made for the log alone (only when empty)


def _job(kind: str, db: Path, when: datetime, argv: Sequence[str]) -> int:
    if kind == "check":
        run_check(db, when, [Path(p) for p in argv])
        return 0
    reason = argv[0] if argv else "automatic"
    pin = "--pin" in argv[1:]
    if_due = "--if-due" in argv[1:]

    def pinned() -> None:
        sys.stdout.buffer.write(PINNED + b"\n")
        sys.stdout.flush()

    try:
        run_snapshot(db, when, reason, on_pinned=pinned if pin else None, if_due=if_due)
    except BackupError as exc:
        _log(db, f"{when.isoformat()} snapshot ({reason}): {exc}")
        if pin:
            with contextlib.suppress(OSError, ValueError):
                sys.stdout.buffer.write(f"error: {exc}\n".encode())
                sys.stdout.flush()
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
