"""A qbank import writes in short transactions (schema 0015): its attempts go into a batch no
reader sees, a few hundred at a time, then one short transaction publishes the batch; the
weights follow in steps. On SQLite and PostgreSQL:

- the result equals the import written in one transaction per phase;
- a process killed between two of its steps leaves nothing visible, and the next import
  removes what it left and completes (no duplicate, nothing left behind);
- a process killed after the publish, while writing the weights, leaves the attempts whole;
  the next import (even one refused as identical) writes the weights it owed;
- a reviewer answering in another process while a large import runs loses no answer and
  answers while the import is still copying its attempts (it is not held for the import).
"""

from __future__ import annotations

import json
import multiprocessing
import os
import signal
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from tests import sqlite_templates
from tests.qbank_logs import make_log

NOW = datetime(2026, 11, 25, 9, tzinfo=UTC)
PUBLISHED = "(SELECT id FROM qbank_batches WHERE pending_from IS NULL)"
QUERIES = {
    "attempts": "SELECT source, qid, outcome, on_date, subject, system, category, topic,"
    f" seconds, fingerprint FROM qbank_attempts WHERE batch_id IN {PUBLISHED}"
    " ORDER BY fingerprint",
    "batches": "SELECT source, format, origin, content_hash, rows_read, added"
    " FROM qbank_batches WHERE pending_from IS NULL ORDER BY id",
    "tallies": "SELECT topic, category, system, sum(attempts), sum(misses) FROM qbank_tallies"
    " GROUP BY topic, category, system ORDER BY topic, category, system",
    "topics": "SELECT path, weight, reason FROM topics ORDER BY path",
    "cards": "SELECT n.key, c.ord, c.weight, c.weak_topic_id IS NULL FROM cards c"
    " JOIN notes n ON n.id = c.note_id ORDER BY n.key, c.ord",
    "pull_forwards": "SELECT n.key, c.ord, p.study_day, p.reason FROM pull_forwards p"
    " JOIN cards c ON c.id = p.card_id JOIN notes n ON n.id = c.note_id"
    " ORDER BY n.key, c.ord, p.study_day",
}
LEFT_BEHIND = (
    "SELECT (SELECT count(*) FROM qbank_batches WHERE pending_from IS NOT NULL"
    " OR owner IS NOT NULL), (SELECT count(*) FROM qbank_attempts WHERE batch_id NOT IN"
    f" {PUBLISHED})"
)


def content(fc: Any) -> dict[str, list[tuple[Any, ...]]]:
    with fc.engine.connect() as conn:
        return {k: [tuple(r) for r in conn.execute(sa.text(q))] for k, q in QUERIES.items()}


def left_behind(fc: Any) -> tuple[int, int]:
    with fc.engine.connect() as conn:
        found = conn.execute(sa.text(LEFT_BEHIND)).one()
    return int(found[0]), int(found[1])


def stored_rows(fc: Any) -> int:
    with fc.engine.connect() as conn:
        return int(conn.execute(sa.text("SELECT count(*) FROM qbank_attempts")).scalar_one())


def with_starter_decks(fc: Any) -> Any:
    from flashcore.services.decks import bundled_decks_dir

    fc.add_decks(sorted(bundled_decks_dir().glob("*.toml")))
    return fc


def starter_sqlite(path: Path) -> str:
    """A new SQLite collection at `path` holding the bundled decks, as `with_starter_decks` on
    a new collection (opened at NOW, timezone UTC) leaves it: this process's, copied
    (tests/sqlite_templates.py). Its URL."""
    from flashcore.services.decks import bundled_decks_dir
    from flashcore.storage.migrate import HEAD, migrations_dir

    decks = tuple((p.name, p.stat().st_size, p.stat().st_mtime_ns)
                  for p in sorted(bundled_decks_dir().glob("*.toml")))  # fmt: skip
    key = ("starter decks", str(migrations_dir()), HEAD, NOW, decks)
    return sqlite_templates.copied(key, _make_starter, path)


def _make_starter(url: str) -> None:
    fc = _open(url, create=True)
    try:
        with_starter_decks(fc)
    finally:
        fc.close()


def small_steps(monkeypatch: pytest.MonkeyPatch, rows: int) -> None:
    from flashcore.services import write_steps

    monkeypatch.setattr(write_steps, "FIRST_ROWS", rows)
    monkeypatch.setattr(write_steps, "MIN_ROWS", rows)
    monkeypatch.setattr(write_steps, "MAX_ROWS", rows)
    monkeypatch.setattr(write_steps, "PAUSE_S", 0.0)


def _open(url: str, *, create: bool = False) -> Any:
    from flashcore.core.clock import FixedClock
    from flashcore.services import Flashcore

    return Flashcore.open(url, clock=FixedClock(NOW), create=create, timezone="UTC")


def _import_then_die(url: str, log: bytes, rows: int, phase: str) -> None:
    """Import `log` in steps of `rows`; SIGKILL this process halfway through copying the
    attempts (`phase` "copy") or after the first step of card weights ("weights")."""
    from flashcore.services import qbank, qbank_import, write_steps
    from flashcore.storage.repos import weights as weights_repo

    write_steps.FIRST_ROWS = write_steps.MIN_ROWS = write_steps.MAX_ROWS = rows
    write_steps.PAUSE_S = 0.0

    def progress(name: str, done: int, total: int) -> None:
        if phase == "copy" and name == "saving" and 2 * done >= total > done:
            os.kill(os.getpid(), signal.SIGKILL)

    if phase == "weights":
        write = weights_repo.update_card_weights

        def write_then_die(conn: Any, changed: list[Any]) -> None:
            write(conn, changed)
            if changed:
                conn.commit()  # the step as run_write_on would commit it
                os.kill(os.getpid(), signal.SIGKILL)

        qbank_import.weights_repo.update_card_weights = write_then_die  # type: ignore[attr-defined]
    fc = _open(url)
    qbank.import_log(fc, log, origin="log.csv", progress=progress)
    raise AssertionError("the import should have been killed")


def _killed(url: str, log: bytes, rows: int, phase: str) -> None:
    proc = multiprocessing.get_context("spawn").Process(
        target=_import_then_die, args=(url, log, rows, phase)
    )
    proc.start()
    proc.join(300)
    assert proc.exitcode == -signal.SIGKILL, proc.exitcode


@pytest.fixture
def starter_fc(db_url: str, clock: Any) -> Iterator[Any]:
    """A new collection holding the bundled decks, on SQLite and on PostgreSQL."""
    from flashcore.services import Flashcore
    from flashcore.storage.db import sqlite_path

    path = sqlite_path(db_url)
    url = db_url if path is None else starter_sqlite(path)
    fc = Flashcore.open(url, clock=clock, create=True, timezone="UTC")
    try:
        if path is None:
            with_starter_decks(fc)
        yield fc
    finally:
        fc.close()


def test_the_copied_starter_collection_is_what_adding_the_decks_to_a_new_one_gives(tmp_path):
    """What `starter_sqlite` hands out, copy after copy, is what the decks added to a new
    collection give: every row of every table, the same schema."""
    from flashcore.storage.db import make_engine
    from tests.migrations.fixtures import dump

    direct = _open(str(tmp_path / "direct.sqlite3"), create=True)
    try:
        with_starter_decks(direct)
    finally:
        direct.close()

    def rows(path: Path) -> dict[str, Any]:
        engine = make_engine(f"sqlite:///{path}")
        try:
            return dump(engine)
        finally:
            engine.dispose()

    expected = rows(tmp_path / "direct.sqlite3")
    assert len(expected["cards"]["rows"]) > 500
    for name in ("first.sqlite3", "second.sqlite3"):
        starter_sqlite(tmp_path / name)
        assert rows(tmp_path / name) == expected
        assert sqlite_templates.schema_of(tmp_path / name) == sqlite_templates.schema_of(
            tmp_path / "direct.sqlite3"
        )


@pytest.fixture
def starter_sqlite_fc(tmp_path: Path, clock: Any) -> Iterator[Any]:
    from flashcore.services import Flashcore

    url = starter_sqlite(tmp_path / "fc.sqlite3")
    fc = Flashcore.open(url, clock=clock, create=True, timezone="UTC")
    try:
        yield fc
    finally:
        fc.close()


def test_an_import_in_small_steps_equals_one_written_in_one_transaction_per_phase(
    starter_sqlite_fc, tmp_path, monkeypatch
):
    from flashcore.services import Flashcore, qbank, write_steps
    from flashcore.services import qbank_import as qi

    fc_sqlite = starter_sqlite_fc
    log = make_log(3_000, seed=5)
    whole = Flashcore.open(
        starter_sqlite(tmp_path / "whole.sqlite3"), clock=fc_sqlite.clock, timezone="UTC"
    )
    try:
        monkeypatch.setattr(write_steps, "FIRST_ROWS", 10**9)
        monkeypatch.setattr(write_steps, "MAX_ROWS", 10**9)
        one = qbank.import_log(whole, log, origin="log.csv")
        expected = content(whole)
    finally:
        whole.close()
    monkeypatch.undo()
    small_steps(monkeypatch, 97)
    steps: list[Any] = []
    monkeypatch.setattr(qi, "Steps", _counting(qi.Steps, steps))
    stepped = qbank.import_log(fc_sqlite, log, origin="log.csv")
    assert stepped.to_json() == one.to_json()
    assert content(fc_sqlite) == expected
    assert sum(s.transactions for s in steps) >= 3_000 // 97  # the copy alone: 31 steps
    assert left_behind(fc_sqlite) == (0, 0)


def _counting(cls: Any, seen: list[Any]) -> Any:
    class Counted(cls):  # type: ignore[misc, valid-type]
        def __init__(self, conn: Any) -> None:
            super().__init__(conn)
            seen.append(self)

    return Counted


def test_a_kill_between_steps_leaves_nothing_visible_and_the_next_import_completes(
    starter_fc, tmp_path
):
    from flashcore.services import qbank

    fc = starter_fc
    log = make_log(2_000, seed=7)
    before = content(fc)
    _killed(fc.url, log, 100, "copy")
    assert 0 < stored_rows(fc) < 2_000, "killed halfway: some rows written, none visible"
    assert content(fc) == before
    assert qbank.list_batches(fc) == [] and not qbank.has_attempts(fc)
    report = qbank.import_log(fc, log, origin="log.csv")
    assert (report.added, report.duplicates) == (2_000, 0)
    assert left_behind(fc) == (0, 0)
    assert stored_rows(fc) == 2_000
    again = qbank.import_log(fc, log, origin="log.csv", again=True)
    assert (again.added, again.duplicates) == (0, 2_000)


def test_a_kill_while_writing_weights_keeps_the_import_and_the_next_run_writes_them(
    starter_fc, tmp_path
):
    from flashcore.core.errors import FlashcoreError
    from flashcore.services import qbank, weights

    fc = starter_fc
    log = make_log(2_000, seed=9)
    _killed(fc.url, log, 50, "weights")
    after = content(fc)
    assert len(after["attempts"]) == 2_000 and len(after["batches"]) == 1
    assert left_behind(fc) == (1, 0)  # published, its weights owed
    with pytest.raises(FlashcoreError, match="identical to batch"):
        qbank.import_log(fc, log, origin="log.csv")
    assert left_behind(fc) == (0, 0)
    done = content(fc)
    weights.refresh_weights(fc)
    assert content(fc) == done, "the owed weights are those a full refresh writes"


def _answer(url: str, seconds: float, out: str) -> None:
    """Answer a card every 5 ms for `seconds` at most, until `out`.stop appears (the import is
    done: on a busy machine reading the log alone can outlast a fixed time); record each
    answer's wait and commit time."""
    from flashcore.core.clock import FixedClock
    from flashcore.core.model import Rating
    from flashcore.services import Flashcore
    from flashcore.services.study import answer

    clock = FixedClock(NOW)
    waits: list[tuple[float, float]] = []
    committed: list[int] = []
    with Flashcore.open(url, clock=clock) as fc:
        ids = [c["card_id"] for c in fc.cards()]
        Path(out + ".ready").touch()
        deadline = time.monotonic() + seconds
        n = 0
        while time.monotonic() < deadline and not Path(out + ".stop").exists():
            clock.advance(timedelta(seconds=1))
            started = time.monotonic()
            result = answer(fc, ids[n % len(ids)], Rating.GOOD)
            waits.append((started, time.monotonic()))
            committed.append(result.review_id)
            n += 1
            time.sleep(0.005)
    Path(out).write_text(json.dumps({"waits": waits, "committed": committed}))


def test_a_reviewer_answers_while_a_large_import_copies_and_loses_nothing(starter_fc, tmp_path):
    from flashcore.services import qbank, qbank_import

    fc = starter_fc
    log = make_log(60_000, seed=13)
    out = str(tmp_path / "reviewer.json")
    windows: list[tuple[str, float]] = []

    def progress(phase: str, done: int, total: int) -> None:
        if phase == "saving":
            windows.append(("saving", time.monotonic()))

    reviewer = multiprocessing.get_context("spawn").Process(target=_answer, args=(fc.url, 60, out))
    reviewer.start()
    deadline = time.monotonic() + 120
    while not Path(out + ".ready").exists():
        assert time.monotonic() < deadline and reviewer.is_alive(), "the reviewer did not start"
        time.sleep(0.05)
    time.sleep(0.3)
    steps: list[Any] = []
    original = qbank_import.Steps
    qbank_import.Steps = _counting(original, steps)  # type: ignore[misc]
    try:
        report = qbank.import_log(fc, log, origin="big.csv", progress=progress)
        windows.append(("done", time.monotonic()))  # the weights after the copy: steps too
    finally:
        qbank_import.Steps = original  # type: ignore[misc]
        Path(out + ".stop").touch()
    reviewer.join(120)
    assert reviewer.exitcode == 0
    assert report.added == 60_000
    result = json.loads(Path(out).read_text())
    with fc.engine.connect() as conn:
        stored = {r[0] for r in conn.execute(sa.text("SELECT id FROM review_logs"))}
    assert set(result["committed"]) <= stored, "an acknowledged answer is missing"
    assert len(stored) == len(result["committed"])
    first, last = windows[0][1], windows[-1][1]
    during = [w for w in result["waits"] if first <= w[1] <= last]
    # The copy and the weights ran in many short transactions, and answers committed between.
    assert steps[0].transactions >= 10
    assert during, "no answer committed while the import wrote"
    longest = max(end - start for start, end in result["waits"])
    print(f"\n{len(result['waits'])} answers, {len(during)} while it wrote "
          f"({steps[0].transactions} write transactions); longest answer {longest * 1000:.0f} ms")  # fmt: skip
    assert longest < 2.0, f"an answer waited {longest:.2f} s"


def test_a_review_session_rebuilds_its_queue_once_an_import_is_done_not_at_each_step(
    starter_sqlite_fc, tmp_path, monkeypatch
):
    from flashcore.services.study import StudySession
    from flashcore.storage import repos

    fc = starter_sqlite_fc
    session = StudySession(fc)
    rebuilds: list[int] = []
    rebuild = StudySession._rebuild

    def counted(self: Any, now: Any) -> None:
        rebuilds.append(1)
        rebuild(self, now)

    monkeypatch.setattr(StudySession, "_rebuild", counted)
    try:
        session.queue()
        assert len(rebuilds) == 1
        with fc.engine.begin() as conn:  # another process claims a batch and writes a step
            claimed = repos.claim_batch(
                conn, fc.profile_id, source="uworld", fmt="uworld", origin="x.csv",
                digest="x", imported_at=NOW, rows_read=1, owner="elsewhere:1:x",
            )  # fmt: skip
        with fc.engine.begin() as conn:
            conn.execute(sa.text("UPDATE profiles SET weights_day = NULL WHERE id = 0"))
        session.queue()
        assert len(rebuilds) == 1, "no rebuild for the commits of an import still writing"
        with fc.engine.begin() as conn:
            repos.publish_batch(conn, claimed.batch_id, 0)
            repos.finish_batch(conn, [claimed.batch_id])
        session.queue()  # an import seen running is taken as running for IMPORT_RECHECK_S
        assert len(rebuilds) == 1
        monkeypatch.setattr(StudySession, "IMPORT_RECHECK_S", 0.0)  # ... that moment is over
        session.queue()
        assert len(rebuilds) == 2, "rebuilt once the import is done"
    finally:
        session.close()
