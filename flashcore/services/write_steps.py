"""Work in short write transactions, so that a reviewer's answer slips in between: each step
sized from the time the one before took, a pause after each (services.qbank_import writes a
large log this way)."""

from __future__ import annotations

import functools
import time
from collections.abc import Callable, Iterator
from typing import Any

from flashcore.storage import repos
from flashcore.storage.uow import deferred_sync, run_write_on, unsynced_commit

__all__ = ["FIRST_ROWS", "HOLD_S", "MAX_ROWS", "MIN_ROWS", "PAUSE_S", "Steps", "drop_batch"]

# Writing holds SQLite's write lock (on PostgreSQL, row locks) in short transactions, so that
# a reviewer's answer slips in between: each aims at HOLD_S of work (its rows are sized from
# the time the one before took), and the import pauses PAUSE_S after each (longer than
# storage.db.LOCK_POLL_S, so a waiting answer sees the lock free).
HOLD_S = 0.004
FIRST_ROWS = 500
MIN_ROWS, MAX_ROWS = 50, 50_000
PAUSE_S = 0.002


class Steps:
    """Work over `total` items in short write transactions, each sized so that it holds the
    lock about HOLD_S (from how long the one before took), with a PAUSE_S between them. The
    steps' commits do not wait for the disk (`deferred_sync`): each use ends with a
    transaction of its own that does (the publish, the fold's end, the batch marked done),
    and a crash before it loses only steps that one would have completed."""

    def __init__(self, conn: Any) -> None:
        self.conn = conn
        # SQLite works in this thread: its CPU time, not the waits of a busy machine. A
        # server works elsewhere: the time the step's statements took, without the round
        # trips that begin and commit it (on a busy machine each waits for the server's
        # process to run: counted in, they took HOLD_S whatever the rows, and a 100,000-row
        # copy went in ~1,100 steps of ~90 rows at load 14).
        self.sqlite = conn.dialect.name == "sqlite"
        self.clock = time.thread_time if self.sqlite else time.perf_counter
        self.size = FIRST_ROWS
        self.transactions = 0  # how many this import wrote in (the tests count them)

    def run(
        self, total: int, write: Callable[[Any, int, int], None],
        step: Callable[[int], None] | None = None, meanwhile: Iterator[object] | None = None,
    ) -> None:  # fmt: skip
        """`meanwhile`: work of the caller's that needs neither the connection nor the write
        lock, in slices of well under PAUSE_S (each `next` one slice): the pauses between
        the steps run its slices instead of sleeping (the lock is as free for a waiting
        answer), the rest of it after the last step."""
        with deferred_sync(self.conn):
            self._run(total, write, step, meanwhile)
        if meanwhile is not None:
            for _slice in meanwhile:
                pass

    def _run(
        self, total: int, write: Callable[[Any, int, int], None],
        step: Callable[[int], None] | None, meanwhile: Iterator[object] | None,
    ) -> None:  # fmt: skip
        done = 0
        while done < total:
            if step is not None:
                step(done)
            stop = min(total, done + self.size)
            timed = [0.0]  # the statements' time (a server's), of the last try
            started = self.clock()
            run_write_on(self.conn, functools.partial(_between, write, done, stop, timed))
            took = self.clock() - started if self.sqlite else timed[0]
            self.transactions += 1
            rate = (stop - done) / max(took, 1e-4)
            self.size = max(MIN_ROWS, min(MAX_ROWS, int((self.size + rate * HOLD_S) / 2)))
            done = stop
            if done < total:
                meanwhile = _pause(meanwhile)
        if step is not None and total:
            step(total)


def _pause(meanwhile: Iterator[object] | None) -> Iterator[object] | None:
    """PAUSE_S without the write lock: spent on slices of `meanwhile` while it has any (then
    None), else asleep."""
    end = time.perf_counter() + PAUSE_S
    if meanwhile is not None:
        for _slice in meanwhile:
            if time.perf_counter() >= end:
                return meanwhile
        meanwhile = None
    left = end - time.perf_counter()
    if left > 0:
        time.sleep(left)
    return meanwhile


def _between(
    write: Callable[[Any, int, int], None], start: int, stop: int, timed: list[float], c: Any
) -> None:
    unsynced_commit(c)
    began = time.perf_counter()
    write(c, start, stop)
    timed[0] = time.perf_counter() - began


def drop_batch(conn: Any, batch: repos.PendingBatch) -> None:
    """Remove an unpublished batch with its attempts, in short transactions."""
    while True:
        gone = run_write_on(conn, lambda c: repos.drop_pending(c, batch, 2_000))
        if gone < 2_000:
            return
        time.sleep(PAUSE_S)
