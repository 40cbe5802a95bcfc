"""The guard behind the rule "only SQLite touches the database file".

On POSIX, closing *any* descriptor of a file drops every `fcntl` lock the process holds on it,
SQLite's included: a Python `open()` + `close()` of a live database (or of its -wal/-shm) makes
another process believe it is the last connection, and it checkpoints and deletes the WAL with
the answers in it. So while this process holds a SQLite connection to a file, nothing else in
the process may open, copy, rename, truncate or delete that file or its -wal/-shm.

`install()` adds an audit hook (`sys.addaudithook`) that watches:

- `sqlite3.connect`: the file becomes watched (with its -wal, -shm and -journal);
- `open` (Python's `open`, `io.open`, `os.open`, `Path.open`/`read_bytes`, shutil's copies),
  `os.rename` (`os.replace` too), `os.remove` (unlink), `os.truncate`, `shutil.copyfile`: on a
  watched path, a violation when the process has a descriptor open on that very file.

SQLite opens its files in C, which raises no audit event, so its own descriptors are never
reported; they are how the guard knows a connection is open: a descriptor in `/proc/self/fd` on
the same inode. A violation is recorded (tests/conftest.py fails the test with it) and the
operation is refused by raising `RawDatabaseAccess`, so the locks survive even where the code
swallows the error.

A process started with FLASHCORE_TEST_GUARD=<file> (the pseudo-terminal tests' reviewer and
commands) installs the guard through `python -m tests.guard ARGS...`, which runs
`flashcore.cli.main(ARGS)`, and appends each violation to that file.
"""

from __future__ import annotations

import contextlib
import os
import sys
import threading
import traceback
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import unquote

SUFFIXES = ("", "-wal", "-shm", "-journal")
_EVENTS = frozenset(
    {"sqlite3.connect", "open", "os.rename", "os.remove", "os.truncate", "shutil.copyfile"}
)

violations: list[str] = []
_watched: set[str] = set()  # real paths of every database file seen, with their side files
_names: set[str] = set()  # their base names: the hook's cheap first filter
_inside = threading.local()
_allowed = [0]
_installed = [False]
_report: list[Path] = []


class RawDatabaseAccess(RuntimeError):
    """A file operation on a database this process holds a SQLite connection to."""


def install(report: Path | None = None) -> None:
    """Add the audit hook once per process (audit hooks cannot be removed)."""
    if report is not None:
        _report[:] = [report]
    if not _installed[0]:
        _installed[0] = True
        sys.addaudithook(_hook)


@contextlib.contextmanager
def allowed() -> Iterator[None]:
    """For tests that damage a live database on purpose: no checks inside (every thread)."""
    _allowed[0] += 1
    try:
        yield
    finally:
        _allowed[0] -= 1


def database_path(database: Any) -> str | None:
    """The real path of what `sqlite3.connect` was given; None for memory databases."""
    if isinstance(database, bytes):
        database = os.fsdecode(database)
    if not isinstance(database, str | os.PathLike):
        return None
    name = os.fspath(database)
    if name.startswith("file:"):
        name = unquote(name[5:].split("?", 1)[0])
        if name.startswith("//"):
            name = name[2:]
            name = name[name.index("/") :] if "/" in name else ""
    if not name or name == ":memory:" or "mode=memory" in os.fspath(database):
        return None
    return os.path.realpath(name)


def watch(path: str) -> None:
    for suffix in SUFFIXES:
        _watched.add(path + suffix)
        _names.add(os.path.basename(path) + suffix)


def held_open(path: str) -> bool:
    """Whether this process has a descriptor open on the file at `path`."""
    try:
        target = os.stat(path)
    except OSError:
        return False  # not there: nothing of it is open
    try:
        fds = os.listdir("/proc/self/fd")
    except OSError:
        return False  # no /proc: the guard sees nothing
    for fd in fds:
        try:
            seen = os.stat(f"/proc/self/fd/{fd}")
        except OSError:
            continue
        if (seen.st_dev, seen.st_ino) == (target.st_dev, target.st_ino):
            return True
    return False


def _paths(event: str, args: tuple[Any, ...]) -> list[Any]:
    if event == "open":
        return [args[0]]
    if event in ("os.rename", "shutil.copyfile"):
        return [args[0], args[1]]
    return [args[0]]  # os.remove, os.truncate


def _hook(event: str, args: tuple[Any, ...]) -> None:
    if event not in _EVENTS or getattr(_inside, "busy", False):
        return
    _inside.busy = True
    try:
        if event == "sqlite3.connect":
            path = database_path(args[0])
            if path is not None:
                watch(path)
            return
        if _allowed[0]:
            return
        for raw in _paths(event, args):
            if isinstance(raw, int) or raw is None:
                continue  # a descriptor: opened earlier, where the check ran
            name = os.fsdecode(os.fspath(raw))
            if os.path.basename(name) not in _names:
                continue
            real = os.path.realpath(name)
            if real in _watched and held_open(real):
                _violation(event, real)
    finally:
        _inside.busy = False


def _violation(event: str, path: str) -> None:
    stack = "".join(traceback.format_stack(limit=12)[:-3])
    message = (
        f"{event} on {path} while this process holds a SQLite connection to it "
        f"(closing any descriptor drops SQLite's locks)\n{stack}"
    )
    violations.append(message)
    for report in _report:
        with contextlib.suppress(OSError), report.open("a", encoding="utf-8") as out:
            out.write(message + "\n\n")
    raise RawDatabaseAccess(message.splitlines()[0])


def main(argv: list[str]) -> int:
    """`python -m tests.guard ARGS...`: flashcore's command line under the guard."""
    report = os.environ.get("FLASHCORE_TEST_GUARD")
    install(Path(report) if report else None)
    from flashcore.cli import main as flashcore_main

    return flashcore_main(argv)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
