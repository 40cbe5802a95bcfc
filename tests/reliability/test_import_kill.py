"""`kill -9` at random moments during `flashcore qbank import` and `flashcore decks add`, then
the same command again: the database then equals one where the command ran once undisturbed
(attempts, batches, weights, pull-forwards; notes, cards, topics), and a killed import left
either nothing or everything, never part of a batch.

Each run is a real `python -m flashcore.cli` process (startup included, so early kills land
before the import starts, as a user's would). Default 6 runs per command; FLASHCORE_SLOW=1
runs 60 with a larger log.
"""

from __future__ import annotations

import os
import random
import shutil
import signal
import sqlite3
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import write_deck
from tests.qbank_logs import make_log
from tests.reliability.conftest import slow

ROOT = Path(__file__).resolve().parents[2]

# What a reader sees: the attempts of published batches (an import writes its attempts into a
# batch no reader sees, then publishes it in one short transaction: schema 0015).
PUBLISHED = "(SELECT id FROM qbank_batches WHERE pending_from IS NULL)"
QBANK_TABLES = {
    "qbank_attempts": "SELECT source, qid, outcome, on_date, subject, system, category, topic,"
    f" seconds, fingerprint FROM qbank_attempts WHERE batch_id IN {PUBLISHED}"
    " ORDER BY fingerprint",
    "qbank_batches": "SELECT source, format, origin, content_hash, rows_read, added"
    " FROM qbank_batches WHERE pending_from IS NULL ORDER BY id",
    "qbank_tallies": "SELECT topic, category, system, sum(attempts), sum(misses)"
    " FROM qbank_tallies GROUP BY topic, category, system ORDER BY topic, category, system",
    "topics": "SELECT path, weight, reason FROM topics ORDER BY path",
    "cards": "SELECT n.key, c.ord, c.weight, c.weak_topic_id FROM cards c"
    " JOIN notes n ON n.id = c.note_id ORDER BY n.key, c.ord",
    "pull_forwards": "SELECT count(*) FROM pull_forwards",
}
# Worked out from the attempts after an import publishes them, and written in steps after it:
# a kill in between leaves them to the next import (or the next study day's refresh).
QBANK_DERIVED = frozenset({"topics", "cards", "pull_forwards"})
# Nothing of an interrupted import left behind, once the next one has run.
LEFT_BEHIND = (
    "SELECT (SELECT count(*) FROM qbank_batches WHERE pending_from IS NOT NULL"
    " OR owner IS NOT NULL), (SELECT count(*) FROM qbank_attempts WHERE batch_id NOT IN"
    f" {PUBLISHED})"
)
DECK_TABLES = {
    "decks": "SELECT key, name FROM decks ORDER BY key",
    "notes": "SELECT key, kind, fields, tags, content_hash, removed FROM notes ORDER BY key",
    "cards": "SELECT n.key, c.ord, c.state, c.reps, c.suspended FROM cards c"
    " JOIN notes n ON n.id = c.note_id ORDER BY n.key, c.ord",
    "topics": "SELECT path FROM topics ORDER BY path",
    "note_topics": "SELECT n.key, t.path FROM note_topics x JOIN notes n ON n.id = x.note_id"
    " JOIN topics t ON t.id = x.topic_id ORDER BY n.key, t.path",
    "note_qids": "SELECT n.key, q.source, q.qid FROM note_qids q"
    " JOIN notes n ON n.id = q.note_id ORDER BY n.key, q.source, q.qid",
}


def cli(db: Path, *args: str) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [sys.executable, "-m", "flashcore.cli", *args, "--db", str(db)],
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        env={**os.environ, "FLASHCORE_HOME": str(db.parent)},
    )


def run(db: Path, *args: str) -> tuple[int, str]:
    proc = cli(db, *args)
    _, err = proc.communicate(timeout=300)
    return proc.returncode, err.decode()


def content(db: Path, queries: dict[str, str]) -> dict[str, list[tuple[Any, ...]]]:
    with sqlite3.connect(db) as conn:
        out = {name: conn.execute(query).fetchall() for name, query in queries.items()}
        assert conn.execute("PRAGMA integrity_check").fetchall() == [("ok",)]
        assert conn.execute("PRAGMA foreign_key_check").fetchall() == []
    conn.close()
    return out


@pytest.fixture(scope="module")
def base_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A collection holding the bundled decks (so attempts match cards and topics)."""
    from flashcore.core.clock import FixedClock
    from flashcore.services import Flashcore
    from flashcore.services.decks import bundled_decks_dir

    db = tmp_path_factory.mktemp("base") / "base.sqlite3"
    clock = FixedClock(datetime(2026, 11, 25, 9, tzinfo=UTC))
    with Flashcore.open(str(db), clock=clock, create=True) as fc:
        fc.add_decks(sorted(bundled_decks_dir().glob("*.toml")))
    return db


def fresh_copy(base: Path, folder: Path) -> Path:
    folder.mkdir()
    db = folder / "fc.sqlite3"
    shutil.copy(base, db)
    return db


def kill_at_random(
    base: Path, tmp_path: Path, command: list[str], queries: dict[str, str], runs: int, seed: int,
    derived: frozenset[str] = frozenset(),
) -> dict[str, int]:  # fmt: skip
    """Clean run first (the reference and the timing), then `runs` kills at uniform moments
    over the clean run's length, each followed by the same command run to completion.
    `derived`: the queries whose tables may lag after the commit (written in steps after it)."""
    clean_db = fresh_copy(base, tmp_path / "clean")
    started = time.monotonic()
    code, err = run(clean_db, *command)
    took = time.monotonic() - started
    assert code == 0, err
    clean = content(clean_db, queries)
    empty = content(base, queries)
    rng = random.Random(seed)
    outcomes = {"killed before commit": 0, "killed after commit": 0, "finished first": 0,
                "killed while re-weighing": 0}  # fmt: skip
    for n in range(runs):
        db = fresh_copy(base, tmp_path / f"run-{n}")
        proc = cli(db, *command)
        time.sleep(rng.uniform(0.0, took))
        proc.send_signal(signal.SIGKILL)
        proc.communicate(timeout=60)
        after_kill = content(db, queries)
        if proc.returncode != -signal.SIGKILL:
            outcomes["finished first"] += 1
            assert after_kill == clean
        elif after_kill == empty:
            outcomes["killed before commit"] += 1
        else:
            committed = {k: v for k, v in after_kill.items() if k not in derived}
            assert committed == {k: v for k, v in clean.items() if k not in derived}, (
                f"run {n}: a partial import after kill -9"
            )
            lag = "killed after commit" if after_kill == clean else "killed while re-weighing"
            outcomes[lag] += 1
        code, err = run(db, *command)
        assert code == 0 or "identical to batch" in err, err
        assert content(db, queries) == clean, f"run {n}: the re-run differs from a clean run"
        if derived:
            with sqlite3.connect(db) as conn:
                assert conn.execute(LEFT_BEHIND).fetchone() == (0, 0), f"run {n}: left behind"
            conn.close()
    return outcomes


def qbank_log(tmp_path: Path, attempts: int) -> Path:
    path = tmp_path / "log.csv"
    path.write_bytes(make_log(attempts, seed=11))
    return path


def _kill_qbank(base_db: Path, tmp_path: Path, attempts: int, runs: int) -> None:
    log = qbank_log(tmp_path, attempts)
    outcomes = kill_at_random(
        base_db, tmp_path, ["qbank", "import", str(log)], QBANK_TABLES, runs, seed=attempts,
        derived=QBANK_DERIVED,
    )  # fmt: skip
    print(f"\nkill -9 during qbank import of {attempts:,} attempts, {runs} runs: {outcomes}; "
          "every re-run equals a clean import")  # fmt: skip


def test_kill_9_during_qbank_import_then_rerun_equals_a_clean_import(base_db, tmp_path):
    _kill_qbank(base_db, tmp_path, attempts=20_000, runs=6)


@pytest.mark.parametrize("runs", [pytest.param(60, marks=slow)])
def test_kill_9_during_qbank_import_60_times(base_db, tmp_path, runs):
    _kill_qbank(base_db, tmp_path, attempts=100_000, runs=runs)


def big_deck(folder: Path, cards: int) -> Path:
    body = "".join(
        f'\n[[cards]]\nid = "n{i:05d}"\nfront = "Question {i} about topic {i % 40}"\n'
        f'back = "Answer {i}"\ntopics = ["Load::Topic {i % 40}"]\nqids = ["uworld:{700000 + i}"]\n'
        for i in range(cards)
    )
    return write_deck(folder / "load.toml", body, name="Load::Deck", key="load")


def _kill_decks(base_db: Path, tmp_path: Path, cards: int, runs: int) -> None:
    deck = big_deck(tmp_path, cards)
    outcomes = kill_at_random(
        base_db, tmp_path, ["decks", "add", str(deck)], DECK_TABLES, runs, seed=cards
    )
    print(f"\nkill -9 during decks add of {cards:,} cards, {runs} runs: {outcomes}; "
          "every re-run equals a clean add")  # fmt: skip


def test_kill_9_during_decks_add_then_rerun_equals_a_clean_add(base_db, tmp_path):
    _kill_decks(base_db, tmp_path, cards=3_000, runs=6)


@pytest.mark.parametrize("runs", [pytest.param(60, marks=slow)])
def test_kill_9_during_decks_add_60_times(base_db, tmp_path, runs):
    _kill_decks(base_db, tmp_path, cards=10_000, runs=runs)
