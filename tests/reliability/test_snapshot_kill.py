"""kill -9 during an automatic snapshot (a background process of its own): the store keeps
the snapshots it had, sound and restorable, and the next snapshot cleans up the temporary copy
and the lock the killed one left."""

from __future__ import annotations

import random
import signal
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from flashcore.storage import background, snapshots
from flashcore.storage import backup as files
from tests.reliability.conftest import slow
from tests.reliability.test_kill import _big_database

START = datetime(2026, 11, 25, 9, 0, tzinfo=UTC)
ROOT = Path(__file__).resolve().parents[2]


def _kill_snapshots(db: Path, tmp_path: Path, runs: int) -> None:
    _big_database(db)
    first = snapshots.take(db, START, "first")
    rng = random.Random(5)
    for run in range(runs):
        when = START + timedelta(hours=run + 1)
        job = subprocess.Popen(
            [sys.executable, "-m", "flashcore.storage.background", "snapshot", str(db),
             when.isoformat(), "killed"],
            cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )  # fmt: skip
        time.sleep(rng.uniform(0.05, 0.6))
        job.send_signal(signal.SIGKILL)
        job.wait()
        listed = snapshots.list_snapshots(db)
        assert first in listed
        for snap in listed:  # whatever it left, every listed snapshot restores soundly
            target = tmp_path / f"check-{run}-{snap.id}.sqlite3"
            snapshots.materialize(db, snap.id, target)
            assert files.check_file(target) == []
            target.unlink()
    background.run_snapshot(db, START + timedelta(days=1), "after the kills", if_due=False)
    folder = files.backup_folder(db)
    assert not [p.name for p in folder.iterdir() if p.name.endswith((".tmp", ".lock"))]
    assert snapshots.list_snapshots(db)[0].taken_at == START + timedelta(days=1)


def test_kill_9_during_a_snapshot_keeps_the_store_sound(sqlite_file, tmp_path):
    _kill_snapshots(sqlite_file, tmp_path, runs=4)


@pytest.mark.parametrize("runs", [pytest.param(40, marks=slow)])
def test_kill_9_during_a_snapshot_40_times(sqlite_file, tmp_path, runs):
    _kill_snapshots(sqlite_file, tmp_path, runs=runs)
