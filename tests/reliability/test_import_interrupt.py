"""Ctrl-C (SIGINT) during a large `flashcore qbank import`: the import stops at its next step,
says "interrupted: nothing imported" and exits 130, and the database has no batch and no
attempts; Ctrl-C that comes too late (after the commit) leaves the whole import. stderr is a
terminal here (a pty), so the progress bar is drawn and tells when the import is under way;
with stderr not a terminal there is no bar at all.
"""

from __future__ import annotations

import os
import pty
import random
import select
import shutil
import signal
import sqlite3
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from tests.qbank_logs import make_log
from tests.reliability.conftest import slow

ROOT = Path(__file__).resolve().parents[2]
MESSAGE = b"flashcore: interrupted: nothing imported"


class Run:
    """`flashcore qbank import` with stderr on a pty, read in a thread."""

    def __init__(self, db: Path, log: Path) -> None:
        master, terminal = pty.openpty()
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "flashcore.cli", "qbank", "import", str(log), "--db", str(db)],
            cwd=ROOT,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=terminal,
            env={**os.environ, "FLASHCORE_HOME": str(db.parent)},
        )
        os.close(terminal)
        self.master = master
        self.err = b""
        self.reader = threading.Thread(target=self._read, daemon=True)
        self.reader.start()

    def _read(self) -> None:
        while True:
            ready, _, _ = select.select([self.master], [], [], 0.1)
            if ready:
                try:
                    chunk = os.read(self.master, 65536)
                except OSError:  # the child closed its end
                    return
                if not chunk:
                    return
                self.err += chunk
            elif self.proc.poll() is not None:
                return

    def wait_for(self, text: bytes, timeout: float = 120) -> bool:
        deadline = time.monotonic() + timeout
        while text not in self.err:
            if self.proc.poll() is not None or time.monotonic() > deadline:
                return False
            time.sleep(0.01)
        return True

    def finish(self) -> tuple[int, bytes, bytes]:
        out, _ = self.proc.communicate(timeout=300)
        self.reader.join(10)
        os.close(self.master)
        return self.proc.returncode, out, self.err


def counts(db: Path) -> tuple[int, int]:
    with sqlite3.connect(db) as conn:
        batches = conn.execute("SELECT count(*) FROM qbank_batches").fetchone()[0]
        attempts = conn.execute("SELECT count(*) FROM qbank_attempts").fetchone()[0]
    conn.close()
    return batches, attempts


@pytest.fixture
def empty_db(sqlite_file: Path) -> Path:
    return sqlite_file


def _interrupt(empty_db: Path, tmp_path: Path, attempts: int, runs: int) -> None:
    log = tmp_path / "log.csv"
    log.write_bytes(make_log(attempts, seed=21))
    clean = tmp_path / "clean" / "fc.sqlite3"
    clean.parent.mkdir()
    shutil.copy(empty_db, clean)
    timing = Run(clean, log)
    assert timing.wait_for(b"reading"), timing.err
    started = time.monotonic()
    code, _out, err = timing.finish()
    took = time.monotonic() - started
    assert code == 0, err
    assert counts(clean) == (1, attempts)
    assert b"saving" in err, "the bar shows both phases"
    rng = random.Random(attempts)
    interrupted = late = 0
    plans = ["saving"] + [rng.uniform(0.0, took) for _ in range(runs - 1)]
    for n, plan in enumerate(plans):
        db = tmp_path / f"run-{n}" / "fc.sqlite3"
        db.parent.mkdir()
        shutil.copy(empty_db, db)
        run = Run(db, log)
        if plan == "saving":  # right inside the write transaction
            assert run.wait_for(b"saving"), run.err
        else:
            assert run.wait_for(b"reading"), run.err
            time.sleep(plan)
        run.proc.send_signal(signal.SIGINT)
        code, _out, err = run.finish()
        if code == 130:
            interrupted += 1
            assert err.rstrip().endswith(MESSAGE), err[-300:]
            assert err.count(b"interrupted") == 1
            assert counts(db) == (0, 0), f"run {n}: something was saved"
        else:
            late += 1
            assert code == 0, err[-300:]
            assert counts(db) == (1, attempts)
            assert b"Ctrl-C came after the import was saved" in err
    print(f"\nCtrl-C during qbank import of {attempts:,} attempts ({took:.1f} s): "
          f"{interrupted} interrupted with nothing saved (one inside the write transaction), "
          f"{late} came after the commit and kept the whole import")  # fmt: skip
    assert interrupted >= 1


def test_ctrl_c_during_a_large_import_saves_nothing_and_says_so(empty_db, tmp_path):
    _interrupt(empty_db, tmp_path, attempts=300_000, runs=2)


@pytest.mark.parametrize("runs", [pytest.param(20, marks=slow)])
def test_ctrl_c_during_a_large_import_20_times(empty_db, tmp_path, runs):
    _interrupt(empty_db, tmp_path, attempts=1_000_000, runs=runs)


def test_without_a_terminal_there_is_no_progress_bar(empty_db, tmp_path):
    log = tmp_path / "log.csv"
    log.write_bytes(make_log(20_000, seed=2))
    done = subprocess.run(
        [sys.executable, "-m", "flashcore.cli", "qbank", "import", str(log), "--db", str(empty_db)],
        cwd=ROOT,
        capture_output=True,
        timeout=120,
        env={**os.environ, "FLASHCORE_HOME": str(empty_db.parent)},
    )
    assert done.returncode == 0, done.stderr
    assert done.stderr == b""
    assert b"20000 attempts added" in done.stdout
