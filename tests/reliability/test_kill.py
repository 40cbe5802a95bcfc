"""`kill -9` at random moments: in a review loop (no acknowledged answer lost, no card out of step
with its log), in a deliberately broken review loop (the negative control: the same checks must
catch it), and in the middle of a backup (the previous backup stays good; the next run removes
the leftovers)."""

from __future__ import annotations

import contextlib
import json
import os
import random
import re
import signal
import sqlite3
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from flashcore.services.check import check
from flashcore.storage import backup as files
from tests.reliability.conftest import cards_disagreeing, slow, totals

ROOT = Path(__file__).resolve().parents[2]
START = datetime(2026, 11, 25, 9, 0, tzinfo=UTC)


class Zygote:
    """A process that forks the victims (see tests/reliability/_crash.py)."""

    def __init__(self, warm: Path) -> None:
        warm.mkdir()
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "tests.reliability._crash", str(warm)],
            cwd=ROOT,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
            bufsize=1,
        )
        assert self.proc.stdout is not None
        assert self.proc.stdout.readline().strip() == "ready"

    def kill_during(self, job: str, db: object, ack: Path, *args: object, after: float) -> int:
        """Start `job` in a fresh child; once it is ready (its ack file exists), SIGKILL it
        `after` seconds later. Returns its wait status."""
        assert self.proc.stdin is not None and self.proc.stdout is not None
        command = {"job": job, "args": [str(a) for a in (db, ack, *args)]}
        self.proc.stdin.write(json.dumps(command) + "\n")
        self.proc.stdin.flush()
        pid = int(self.proc.stdout.readline())
        deadline = time.monotonic() + 10
        while not ack.exists() and time.monotonic() < deadline:
            time.sleep(0.001)
        time.sleep(after)
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)
        done = self.proc.stdout.readline().split()
        assert done[0] == "done", done
        return int(done[1])

    def close(self) -> None:
        assert self.proc.stdin is not None and self.proc.stdout is not None
        self.proc.stdin.close()
        self.proc.wait(timeout=30)
        self.proc.stdout.close()


@pytest.fixture(scope="module")
def zygote(tmp_path_factory):
    z = Zygote(tmp_path_factory.mktemp("zygote") / "warm")
    yield z
    z.close()


def killed(status: int) -> bool:
    return os.WIFSIGNALED(status) and os.WTERMSIG(status) == signal.SIGKILL


def acknowledged(path: Path) -> list[str]:
    return path.read_text().split() if path.exists() else []


def review_ids(fc) -> set[int]:
    with fc.engine.connect() as conn:
        return {r[0] for r in conn.exec_driver_sql("SELECT id FROM review_logs")}


def _kill_review_loop(fc, zygote, tmp_path, runs):
    rng = random.Random(20261125)
    acked: list[int] = []
    answered_runs = 0
    for run in range(runs):
        ack = tmp_path / f"ack-{run}.txt"
        start = START + timedelta(days=run)
        status = zygote.kill_during(
            "answer", fc.url, ack, start.isoformat(), run, after=rng.uniform(0.0, 0.2)
        )
        assert killed(status), f"run {run}: the child ended on its own ({status})"
        mine = [int(review_id) for review_id in acknowledged(ack)]
        answered_runs += bool(mine)
        acked += mine
        missing = set(acked) - review_ids(fc)
        assert not missing, f"run {run}: acknowledged answers lost: {sorted(missing)[:10]}"
        report = check(fc)
        assert report.problems == [], f"run {run}: {report.problems[:3]}"
        assert cards_disagreeing(fc.engine) == []
        reps, logs = totals(fc.engine)
        assert reps == logs
    with sqlite3.connect(fc.url.removeprefix("sqlite:///")) as conn:
        assert conn.execute("PRAGMA integrity_check").fetchall() == [("ok",)]
    conn.close()
    print(f"\nkill -9 in a review loop: {runs} runs, {answered_runs} killed mid-study, "
          f"{len(acked)} acknowledged answers, 0 missing, 0 cards disagreeing")  # fmt: skip
    assert answered_runs >= runs // 2, "most kills should land after some answers"


def test_kill_9_in_a_review_loop_loses_no_acknowledged_answer(hot_sqlite, zygote, tmp_path):
    _kill_review_loop(hot_sqlite, zygote, tmp_path, runs=20)


@pytest.mark.parametrize("runs", [pytest.param(200, marks=slow)])
def test_kill_9_in_a_review_loop_200_times(hot_sqlite, zygote, tmp_path, runs):
    _kill_review_loop(hot_sqlite, zygote, tmp_path, runs=runs)


def test_the_checks_catch_a_card_and_log_committed_separately(hot_sqlite, zygote, tmp_path):
    """Negative control: answers that commit the card and its log row in two transactions are
    caught by the same checks once a kill lands between the two."""
    fc = hot_sqlite
    rng = random.Random(7)
    for run in range(40):
        ack = tmp_path / f"split-{run}.txt"
        start = START + timedelta(days=run)
        zygote.kill_during(
            "split", fc.url, ack, start.isoformat(), run, after=rng.uniform(0.0, 0.2)
        )
        if check(fc).problems:
            break
    else:
        pytest.fail("40 kills never split a card from its log: the checks would miss the bug")
    diverged = cards_disagreeing(fc.engine)
    assert diverged, "a card must have more reps than log rows"
    reps, logs = totals(fc.engine)
    assert reps > logs
    flagged = {p["card_id"] for p in check(fc).problems}
    assert flagged == {card_id for card_id, _reps, _logs in diverged}
    print(f"\nnegative control: split commits caught after {run + 1} kills: {diverged}")


TEMP = re.compile(r"^\..*\.tmp(-journal|-wal|-shm)?$")


def _big_database(path: Path) -> None:
    """A flashcore file with 8 MB of extra pages, so a backup takes long enough to interrupt."""
    conn = sqlite3.connect(path)
    conn.execute("CREATE TABLE ballast (data BLOB)")
    payload = random.Random(1).randbytes(64 * 1024)
    conn.executemany("INSERT INTO ballast VALUES (?)", [(payload,)] * 128)
    conn.commit()
    conn.close()


def _kill_backups(db: Path, zygote, tmp_path: Path, runs: int) -> None:
    _big_database(db)
    previous = files.create_backup(db, START)
    folder = files.backup_folder(db)
    rng = random.Random(3)
    interrupted = 0
    for run in range(runs):
        ack = tmp_path / f"backup-{run}.txt"
        start = START + timedelta(hours=run + 1)
        status = zygote.kill_during(
            "backup", db, ack, start.isoformat(), run, after=rng.uniform(0.0, 0.15)
        )
        assert killed(status)
        interrupted += any(TEMP.match(p.name) for p in folder.iterdir())
        assert files.check_file(previous.path) == [], "the previous backup must stay good"
        for backup in files.list_backups(db):
            assert files.check_file(backup.path) == [], f"{backup.id} is listed but unsound"
        for made in acknowledged(ack):  # keep the folder small
            files.find_backup(db, made).path.unlink()
        nxt = files.create_backup(db, start + timedelta(minutes=30))  # the next run cleans up
        assert not [p.name for p in folder.iterdir() if TEMP.match(p.name)]
        nxt.path.unlink()
    print(f"\nkill -9 during a backup: {runs} runs, {interrupted} left a temporary file that "
          "the next backup removed; the previous backup stayed good every time")  # fmt: skip


def test_kill_9_during_a_backup_keeps_the_previous_one_and_leaves_no_temporary_file(
    sqlite_file, zygote, tmp_path
):
    _kill_backups(sqlite_file, zygote, tmp_path, runs=8)


@pytest.mark.parametrize("runs", [pytest.param(100, marks=slow)])
def test_kill_9_during_a_backup_100_times(sqlite_file, zygote, tmp_path, runs):
    _kill_backups(sqlite_file, zygote, tmp_path, runs=runs)
