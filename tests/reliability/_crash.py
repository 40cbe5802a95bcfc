"""Victims for the `kill -9` tests, forked from a zygote so each run starts in milliseconds.

The zygote (`python -m tests.reliability._crash`) imports flashcore once, then reads one JSON
command a line on stdin: `{"job": NAME, "args": [...]}`. For each it forks a child that runs the
job until killed, prints the child's pid, waits for it and prints `done`. A child never touches
stdout: it acknowledges with `os.write` to its ack file (an O_APPEND file written by a syscall,
so a SIGKILL cannot lose an acknowledgement already made).
"""

from __future__ import annotations

import json
import os
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from flashcore.core.clock import FixedClock
from flashcore.core.model import Rating
from flashcore.storage.types import pack_before

RATINGS = (Rating.HARD, Rating.GOOD, Rating.EASY)  # no Again: no leech suspends a card
LIMIT_S = 20.0  # a child left alive this long stops by itself


def _ack(fd: int, value: object) -> None:
    os.write(fd, f"{value}\n".encode())


def answer_loop(url: str, ack_path: str, start: str, seed: int) -> None:
    """The real engine: answer cards round-robin, acknowledge each review id after commit."""
    import random

    from flashcore.services import Flashcore
    from flashcore.services.study import answer

    rng = random.Random(seed)
    clock = FixedClock(datetime.fromisoformat(start))
    fc = Flashcore.open(url, clock=clock)
    ids = [c["card_id"] for c in fc.cards()]
    fd = os.open(ack_path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)  # "ready"
    deadline = time.monotonic() + LIMIT_S
    while time.monotonic() < deadline:
        clock.advance(timedelta(seconds=1))
        result = answer(fc, rng.choice(ids), rng.choice(RATINGS))
        _ack(fd, result.review_id)


def split_loop(url: str, ack_path: str, start: str, seed: int) -> None:
    """The negative control: the same answer, but the card and its log row are committed in two
    transactions (raw SQL), with a short gap between them for the kill to land in."""
    import random
    import sqlite3

    from flashcore.core import fsrs_adapter
    from flashcore.core.settings import Settings
    from flashcore.storage.db import sqlite_path
    from flashcore.storage.repos import schedule_from

    rng = random.Random(seed)
    now = datetime.fromisoformat(start)
    path = sqlite_path(url)
    assert path is not None
    conn = sqlite3.connect(path, isolation_level=None)
    conn.row_factory = sqlite3.Row
    policy = fsrs_adapter.Policy.from_settings(Settings())
    ids = [r[0] for r in conn.execute("SELECT id FROM cards")]
    fd = os.open(ack_path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)  # "ready"
    deadline = time.monotonic() + LIMIT_S
    while time.monotonic() < deadline:
        now += timedelta(seconds=1)
        card_id, rating = rng.choice(ids), rng.choice(RATINGS)
        row = conn.execute("SELECT * FROM cards WHERE id = ?", (card_id,)).fetchone()
        before = schedule_from(_Row(row))
        after = fsrs_adapter.answer(card_id, before, rating, now, 0.9, policy)
        conn.execute("BEGIN IMMEDIATE")
        conn.execute(
            "UPDATE cards SET state = ?, step = ?, due = ?, stability = ?, difficulty = ?,"
            " last_review = ?, reps = ?, lapses = ?, desired_retention = 0.9,"
            " version = version + 1 WHERE id = ?",
            (int(after.state), after.step, _naive(after.due), after.memory.stability,
             after.memory.difficulty, _naive(now), after.reps, after.lapses, card_id),
        )  # fmt: skip
        conn.execute("COMMIT")
        time.sleep(0.01)  # the bug's window: card saved, log row not yet
        conn.execute("BEGIN IMMEDIATE")
        cur = conn.execute(
            "INSERT INTO review_logs (profile_id, card_id, reviewed_at, rating,"
            " desired_retention, reason, state_before, packed_before, due_before,"
            " last_review_before, lapses_before, state_after, step_after, stability_after,"
            " difficulty_after, due_after, leeched, buried_siblings)"
            " VALUES (?, ?, ?, ?, 0.9, '', ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 0, NULL)",
            (row["profile_id"], card_id, _naive(now), int(rating), int(before.state),
             pack_before((before.step, row["stability"], row["difficulty"], None, None)),
             row["due"], row["last_review"], before.lapses, int(after.state), after.step,
             after.memory.stability, after.memory.difficulty, _naive(after.due)),
        )  # fmt: skip
        conn.execute("COMMIT")
        _ack(fd, cur.lastrowid)


def backup_loop(db: str, ack_path: str, start: str, seed: int) -> None:
    """Back up again and again, acknowledging each finished backup's id."""
    from flashcore.storage.backup import create_backup

    when = datetime.fromisoformat(start)
    fd = os.open(ack_path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
    deadline = time.monotonic() + LIMIT_S
    while time.monotonic() < deadline:
        when += timedelta(seconds=1)
        _ack(fd, create_backup(Path(db), when).id)


class _Row:
    """A cards row read with sqlite3, with aware datetimes (for `schedule_from`)."""

    def __init__(self, row: Any) -> None:
        for key in row.keys():  # noqa: SIM118 - sqlite3.Row iterates values, not keys
            value = row[key]
            if key in ("due", "last_review") and value is not None:
                value = datetime.fromisoformat(value).replace(tzinfo=UTC)
            setattr(self, key, value)


def _naive(value: datetime) -> str:
    return value.astimezone(UTC).replace(tzinfo=None).isoformat(sep=" ")


JOBS = {"answer": answer_loop, "split": split_loop, "backup": backup_loop}


def warm_up(folder: Path) -> None:
    """Run the jobs' code paths once, so every lazy import is done before the first fork."""
    import flashcore.core.settings
    import flashcore.storage.repos  # noqa: F401
    from flashcore.services import Flashcore
    from flashcore.services.study import answer
    from flashcore.storage.backup import create_backup
    from tests.reliability.conftest import write_hot_deck

    clock = FixedClock(datetime(2026, 1, 1, tzinfo=UTC))
    with Flashcore.open(str(folder / "warm.sqlite3"), clock=clock, create=True) as fc:
        fc.add_decks([write_hot_deck(folder, 2)])
        answer(fc, fc.cards()[0]["card_id"], Rating.GOOD)
    create_backup(folder / "warm.sqlite3", clock.now())


def zygote(warm: Path) -> None:
    warm_up(warm)
    print("ready", flush=True)
    for line in sys.stdin:
        command = json.loads(line)
        pid = os.fork()
        if pid == 0:
            code = 0
            try:
                JOBS[command["job"]](*command["args"])
            except BaseException as exc:  # noqa: BLE001 - report, then leave without cleanup
                os.write(2, f"crash child failed: {exc!r}\n".encode())
                code = 3
            os._exit(code)
        print(pid, flush=True)
        _, status = os.waitpid(pid, 0)
        print(f"done {status}", flush=True)


if __name__ == "__main__":
    zygote(Path(sys.argv[1]))
