"""Only SQLite touches a database this process holds a connection to.

Why: on POSIX, closing any descriptor of a file drops every lock the process holds on it,
SQLite's included. The first test shows what that did to students (issue 13): another process
then takes itself for the last connection, checkpoints and deletes the WAL, and what this
process writes next is invisible to everyone else. The others check the guard (tests/guard.py,
active in every test through tests/conftest.py) that keeps the whole class of bug out.
"""

from __future__ import annotations

import os
import shutil
import sqlite3
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

import pytest

from flashcore.services import backup as service
from flashcore.services import doctor, health
from flashcore.storage import backup as files
from flashcore.storage.db import sqlite_path
from tests import guard

NOW = datetime(2026, 11, 25, 9, 0, tzinfo=UTC)
COUNT = (
    "import sqlite3, sys; c = sqlite3.connect(sys.argv[1]); "
    "print(c.execute('SELECT COUNT(*) FROM t').fetchone()[0]); c.close()"
)


def _count_in_another_process(db: Path) -> int:
    done = subprocess.run(
        [sys.executable, "-c", COUNT, str(db)], capture_output=True, text=True, check=True
    )
    return int(done.stdout)


def _old_is_sqlite_file(path: Path) -> bool:
    """What storage/backup.py did before issue 13: a plain open() of the live file."""
    try:
        with path.open("rb") as f:
            return f.read(16) == b"SQLite format 3\x00"
    except OSError:
        return False


def test_a_plain_open_of_a_live_database_hides_the_answers_after_it_from_other_processes(
    tmp_path,
):
    db = tmp_path / "x.sqlite3"
    conn = sqlite3.connect(db, isolation_level=None)
    try:
        conn.execute("PRAGMA journal_mode=WAL")
        conn.execute("CREATE TABLE t (x)")
        conn.execute("INSERT INTO t VALUES (1)")
        with guard.allowed():
            assert _old_is_sqlite_file(db)  # open + close: this process's locks are gone
        assert _count_in_another_process(db) == 1
        # That process took itself for the last connection: it checkpointed and deleted the
        # WAL that this process still writes to.
        assert not db.with_name(db.name + "-wal").exists()
        for i in range(6):
            conn.execute("INSERT INTO t VALUES (?)", (i,))
        assert _count_in_another_process(db) == 1  # six answers nobody else can see
    finally:
        conn.close()


def test_through_sqlite_the_same_sequence_keeps_every_write_visible(tmp_path):
    db = tmp_path / "x.sqlite3"
    conn = sqlite3.connect(db, isolation_level=None)
    try:
        conn.execute("PRAGMA journal_mode=WAL")
        conn.execute("CREATE TABLE t (x)")
        conn.execute("INSERT INTO t VALUES (1)")
        assert files.is_sqlite_file(db)
        assert _count_in_another_process(db) == 1
        assert db.with_name(db.name + "-wal").exists()
        for i in range(6):
            conn.execute("INSERT INTO t VALUES (?)", (i,))
        assert _count_in_another_process(db) == 7
    finally:
        conn.close()


def test_the_guard_catches_the_original_bug_a_plain_open_during_the_review_start_backup(
    fc_sqlite, monkeypatch
):
    """Put the old header check back: the backup taken while the collection is open (the
    reviewer's start-up backup) opens the live file, and the guard refuses and reports it."""
    monkeypatch.setattr(files, "is_sqlite_file", _old_is_sqlite_file)
    start = len(guard.violations)
    with pytest.raises(guard.RawDatabaseAccess):
        service.create(fc_sqlite.url, NOW)
    found = guard.violations[start:]
    del guard.violations[start:]  # seen here; not a failure of this test
    assert len(found) == 1
    assert found[0].startswith(f"open on {os.path.realpath(sqlite_path(fc_sqlite.url))}")
    assert "_old_is_sqlite_file" in found[0]  # the report shows where it came from


@pytest.mark.parametrize("suffix", ["", "-wal", "-shm"])
@pytest.mark.parametrize(
    "operation",
    ["read_bytes", "copyfile", "replace onto", "unlink", "truncate", "os.open"],
)
def test_the_guard_refuses_every_file_operation_on_a_held_database_and_its_side_files(
    fc_sqlite, tmp_path, suffix, operation
):
    db = sqlite_path(fc_sqlite.url)
    assert db is not None
    with fc_sqlite.engine.connect() as conn:  # a pooled connection: the files are open
        conn.exec_driver_sql("SELECT 1").all()
        target = db.with_name(db.name + suffix)
        spare = tmp_path / "spare"
        spare.write_bytes(b"x")
        actions = {
            "read_bytes": lambda: target.read_bytes(),
            "copyfile": lambda: shutil.copyfile(target, tmp_path / "copy"),
            "replace onto": lambda: os.replace(spare, target),
            "unlink": lambda: target.unlink(),
            "truncate": lambda: os.truncate(target, 0),
            "os.open": lambda: os.close(os.open(target, os.O_RDONLY)),
        }
        start = len(guard.violations)
        with pytest.raises(guard.RawDatabaseAccess):
            actions[operation]()
        found = guard.violations[start:]
        del guard.violations[start:]
    assert found and os.path.realpath(target) in found[0]
    assert target.exists()  # refused before it happened


def test_sqlite_s_own_files_stats_and_closed_databases_are_not_reported(fc_sqlite, tmp_path):
    db = sqlite_path(fc_sqlite.url)
    assert db is not None
    start = len(guard.violations)
    assert files.is_sqlite_file(db)  # through SQLite
    assert files.check_file(db) == []
    made = service.create(fc_sqlite.url, NOW).backup  # the backup API, then a rename of a copy
    assert db.stat().st_size > 0 and made.path.exists()
    assert made.path.read_bytes()[:16] == b"SQLite format 3\x00"  # a backup: nobody holds it
    fc_sqlite.close()
    assert db.read_bytes()[:16] == b"SQLite format 3\x00"  # closed: a file like any other
    assert guard.violations[start:] == []


def test_every_check_and_backup_path_runs_beside_an_open_collection_without_a_violation(
    fc_sqlite, tmp_path
):
    """The paths the audit of issue 13 found: the header check (backups, the start-up quick
    check, doctor), the quick check, a backup, the doctor's examination, a restore into the
    live file, with the collection open in this process throughout."""
    db = sqlite_path(fc_sqlite.url)
    assert db is not None
    start = len(guard.violations)
    with fc_sqlite.engine.connect() as conn:
        conn.exec_driver_sql("SELECT 1").all()
        health.startup_check(db, NOW)
        health.end_session()
        assert health.quick_health(fc_sqlite) is None
        made = service.create(fc_sqlite.url, NOW).backup
        assert not doctor.examine(fc_sqlite.url).damaged
        files.restore_into(db, made.path)
    assert guard.violations[start:] == []
