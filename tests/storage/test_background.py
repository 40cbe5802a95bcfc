"""Safety work in a process of its own (flashcore.storage.background), for real: a restore
point pinned before an import writes, a due snapshot taken only when due and one at a time, a
quick check whose verdict later commands honour."""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from flashcore.core.model import Rating
from flashcore.services import backup as service
from flashcore.services import health
from flashcore.services.health import DamagedDatabaseError
from flashcore.services.study import answer
from flashcore.storage import background, snapshots
from flashcore.storage import backup as files
from flashcore.storage.db import sqlite_path
from tests.conftest import SMALL_DECK, write_deck
from tests.reliability.test_failures import _garbage_page

NOW = datetime(2026, 11, 25, 9, 0, tzinfo=UTC)


@pytest.fixture
def processes() -> str:
    background.MODE[0] = "process"
    return "process"


@pytest.fixture
def loaded(fc_sqlite, tmp_path):
    (report,) = fc_sqlite.add_decks([write_deck(tmp_path / "small.toml", SMALL_DECK)])
    assert report.ok
    return fc_sqlite


def db_of(fc) -> Path:
    path = sqlite_path(fc.url)
    assert path is not None
    return path


def _finish(proc: subprocess.Popen | None, timeout: float = 60) -> None:
    assert proc is not None
    assert proc.wait(timeout=timeout) == 0


def test_a_restore_point_is_pinned_before_the_import_writes_and_holds_the_state_before_it(
    loaded, processes, tmp_path
):
    db = db_of(loaded)
    started = time.monotonic()
    proc = background.start_snapshot(db, NOW, "before decks add", pin=True)
    waited = time.monotonic() - started
    assert proc is not None
    # the import writes while the copy runs
    other = write_deck(tmp_path / "other.toml", SMALL_DECK, name="Other", key="other")
    (report,) = loaded.add_decks([other])  # MODE "process": its own restore point too
    assert report.ok
    _finish(proc)
    oldest = snapshots.list_snapshots(db)[-1]
    target = tmp_path / "restored.sqlite3"
    snapshots.materialize(db, oldest.id, target)
    with sqlite3.connect(target) as conn:
        assert conn.execute("SELECT COUNT(*) FROM decks").fetchone() == (1,)
    conn.close()
    assert waited < 5.0, waited  # the pin, not the copy (measured ~0.1 s; slack for load)


def test_a_restore_point_that_cannot_be_taken_stops_the_import_with_the_reason(
    loaded, processes, tmp_path
):
    db = db_of(loaded)
    files.backup_folder(db).write_text("a file where the backup folder goes")
    with pytest.raises(service.BackupError, match=r"no restore point .*backup folder"):
        background.start_snapshot(db, NOW, "before decks add", pin=True)
    other = write_deck(tmp_path / "other.toml", SMALL_DECK, name="Other", key="other")
    with pytest.raises(service.BackupError, match="no restore point"):
        loaded.add_decks([other])
    assert {d.name for d in loaded.list_decks()} == {"Test::Deck"}  # nothing imported


def test_a_due_snapshot_is_taken_in_the_background_once_and_only_when_due(loaded, processes, clock):
    db = db_of(loaded)
    _finish(service.schedule_backup(loaded, "review start"))
    (made,) = service.list_backups(loaded.url)
    assert made.kind == "snapshot"
    assert service.schedule_backup(loaded, "review start") is None  # 0 minutes old
    clock.advance(timedelta(hours=1))
    proc = service.schedule_backup(loaded, "automatic")  # file times: maybe (the check
    if proc is not None:  # of the first snapshot wrote the database's -shm only)
        _finish(proc)
    assert service.list_backups(loaded.url) == [made]  # the database says: nothing changed
    answer(loaded, loaded.cards()[0]["card_id"], Rating.GOOD)
    _finish(service.schedule_backup(loaded, "automatic"))
    assert [b.taken_at for b in service.list_backups(loaded.url)] == [clock.now(), NOW]
    assert not list(files.backup_folder(db).glob(".*.lock"))
    assert not files.backup_folder(db).joinpath(f".{db.stem}.background.log").exists()


def test_a_second_due_snapshot_while_one_runs_leaves_the_work_to_it(loaded, processes):
    db = db_of(loaded)
    files.backup_folder(db).mkdir()
    background.snapshot_lock(db).write_text(str(os.getppid()))  # a live process holds it
    assert background.start_snapshot(db, NOW, "automatic", if_due=True) is None
    background.snapshot_lock(db).write_text("999999999")  # a killed one's
    _finish(background.start_snapshot(db, NOW, "automatic", if_due=True))
    assert len(snapshots.list_snapshots(db)) == 1


def test_a_background_check_of_a_large_file_records_damage_that_every_command_reports(
    loaded, processes, monkeypatch
):
    db = db_of(loaded)
    good = service.create(loaded.url, NOW).backup
    loaded.close()
    monkeypatch.setattr(health, "INLINE_CHECK_BYTES", 0)  # every file is "large"
    _garbage_page(db)
    started = time.monotonic()
    health.startup_check(db, NOW)  # due (never checked): started, not awaited
    health.end_session()
    assert time.monotonic() - started < 1.0
    deadline = time.monotonic() + 60
    while files.recorded_damage(db) is None and time.monotonic() < deadline:
        time.sleep(0.05)
    assert files.recorded_damage(db) is not None
    with pytest.raises(DamagedDatabaseError) as refused:
        health.startup_check(db, NOW + timedelta(minutes=1))
    line = str(refused.value)
    assert "is damaged" in line and f"flashcore backup restore {good.id}" in line
    service.restore(loaded.url, good.id, NOW + timedelta(minutes=2))
    assert files.recorded_damage(db) is None  # the restore cleared it
    health.startup_check(db, NOW + timedelta(minutes=3))
    health.end_session()


def test_a_background_check_that_passes_records_its_time_and_clears_crash_markers(
    loaded, processes, monkeypatch
):
    db = db_of(loaded)
    loaded.close()
    monkeypatch.setattr(health, "INLINE_CHECK_BYTES", 0)
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    marker = db.with_name(f".{db.name}.{dead.pid}.open")
    marker.touch()
    health.startup_check(db, NOW)
    health.end_session()
    deadline = time.monotonic() + 60
    while marker.exists() and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not marker.exists()
    assert files.last_quick_check(db) == NOW
    assert files.recorded_damage(db) is None
