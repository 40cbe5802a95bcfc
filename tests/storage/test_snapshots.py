"""The snapshot store (automatic backups): a snapshot holds the state pinned before any later
write, restores exactly, keeps each page once, is pruned by the retention rule and a size
budget, and a damaged page is refused rather than restored."""

from __future__ import annotations

import sqlite3
import zlib
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from flashcore.storage import backup as files
from flashcore.storage import snapshots
from flashcore.storage.backup import BackupError, Retention
from tests.reliability.conftest import SLOW

NOW = datetime(2026, 11, 25, 9, 0, tzinfo=UTC)


def _write(db: Path, sql: str, params: tuple = ()) -> None:
    conn = sqlite3.connect(db)
    try:
        conn.execute(sql, params)
        conn.commit()
    finally:
        conn.close()


def _rows(db: Path) -> list[tuple]:
    conn = sqlite3.connect(db)
    try:
        return conn.execute("SELECT id, body FROM notes_like ORDER BY id").fetchall()
    finally:
        conn.close()


@pytest.fixture
def db(tmp_path: Path) -> Path:
    """A WAL database that looks like flashcore's (an alembic_version table and the core tables
    the integrity check looks for, `backup.CORE_TABLES`) holding 2,000 rows of ~300 bytes (~150
    pages)."""
    from flashcore.storage.backup import CORE_TABLES

    path = tmp_path / "c.sqlite3"
    conn = sqlite3.connect(path)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("CREATE TABLE alembic_version (version_num TEXT)")
    conn.execute("INSERT INTO alembic_version VALUES ('0005')")
    for name in CORE_TABLES:
        conn.execute(f"CREATE TABLE {name} (id INTEGER PRIMARY KEY)")
    conn.execute("CREATE TABLE notes_like (id INTEGER PRIMARY KEY, body TEXT)")
    conn.executemany(
        "INSERT INTO notes_like (body) VALUES (?)", [(f"note {i} " * 30,) for i in range(2000)]
    )
    conn.commit()
    conn.close()
    return path


def _restored(db: Path, ident: str, tmp_path: Path) -> Path:
    target = tmp_path / f"restored-{ident}.sqlite3"
    snapshots.materialize(db, ident, target)
    assert files.check_file(target) == []
    return target


def test_a_snapshot_restores_exactly_the_state_it_was_taken_from(db, tmp_path):
    before = _rows(db)
    made = snapshots.take(db, NOW, "test")
    assert (made.kind, made.id, made.taken_at) == ("snapshot", "20261125-090000", NOW)
    _write(db, "UPDATE notes_like SET body = 'changed' WHERE id <= 10")
    assert _rows(_restored(db, made.id, tmp_path)) == before
    assert snapshots.list_snapshots(db) == [made]


def test_a_write_after_the_pin_is_not_in_the_snapshot(db, tmp_path):
    """The restore point before an import: the import may write once the state is pinned."""
    before = _rows(db)
    made = snapshots.take(
        db, NOW, "before import",
        on_pinned=lambda: _write(db, "DELETE FROM notes_like WHERE id > 100"),
    )  # fmt: skip
    assert len(_rows(db)) == 100  # the "import" happened
    assert _rows(_restored(db, made.id, tmp_path)) == before


def test_a_second_snapshot_stores_only_the_pages_that_changed(db, tmp_path):
    snapshots.take(db, NOW, "first")
    first = snapshots.store_bytes(db)
    _write(db, "UPDATE notes_like SET body = 'x' WHERE id = 1500")
    snapshots.take(db, NOW + timedelta(days=1), "second")
    grown = snapshots.store_bytes(db) - first
    size = db.stat().st_size
    assert first < size  # compressed
    assert grown < 0.1 * size, (grown, size)  # a few pages, not another copy
    newest, oldest = snapshots.list_snapshots(db)
    assert _rows(_restored(db, newest.id, tmp_path))[1499] == (1500, "x")
    assert _rows(_restored(db, oldest.id, tmp_path))[1499][1].startswith("note 1499")


def test_ids_are_unique_across_copies_and_snapshots_of_one_second(db):
    copy = files.create_backup(db, NOW)
    snap = snapshots.take(db, NOW, "automatic")
    again = files.create_backup(db, NOW)
    assert [copy.id, snap.id, again.id] == [
        "20261125-090000", "20261125-090000-2", "20261125-090000-3",
    ]  # fmt: skip


def test_pruning_follows_the_retention_rule(db):
    taken = [NOW - timedelta(days=d) for d in range(0, 40, 2)]
    for when in reversed(taken):
        _write(db, "UPDATE notes_like SET body = ? WHERE id = 7", (str(when),))
        snapshots.take(db, when, "daily")
    small = Retention(daily=3, weekly=2, monthly=1)
    dropped = snapshots.prune(db, NOW, small)
    left = snapshots.list_snapshots(db)
    assert {s.taken_at for s in left} == {
        t for t, keep in zip(taken, files.retained(taken, NOW, small), strict=True) if keep
    }
    assert len(dropped) + len(left) == len(taken)


def test_the_store_is_held_to_three_times_the_database_keeping_the_newest(db, tmp_path):
    for hour in range(6):  # every snapshot a new copy: each page rewritten, incompressibly
        _write(db, "UPDATE notes_like SET body = hex(randomblob(150))")
        snapshots.take(db, NOW + timedelta(hours=hour), "rewrite")
    assert len(snapshots.list_snapshots(db)) == 6  # today's: all kept by the rule...
    dropped = snapshots.prune(db, NOW + timedelta(hours=6))
    left = snapshots.list_snapshots(db)
    assert dropped and left  # ...but not past the budget, oldest first
    assert snapshots.store_bytes(db) <= snapshots.BUDGET * db.stat().st_size
    assert left[0].taken_at == NOW + timedelta(hours=5)
    assert _rows(_restored(db, left[0].id, tmp_path)) == _rows(db)


def _daily_study(db: Path, days: int) -> list:
    """A small change every day and the pruning after each snapshot, as the background job
    does; returns the snapshots left."""
    start = NOW - timedelta(days=days - 1)
    for day in range(days):
        when = start + timedelta(days=day)
        _write(db, "UPDATE notes_like SET body = ? WHERE id = ?", (f"d{day}", 1 + day % 2000))
        snapshots.take(db, when, "daily")
        snapshots.prune(db, when)
    return snapshots.list_snapshots(db)


def test_six_weeks_of_daily_study_keep_a_snapshot_of_every_recent_day_within_the_budget(db):
    left = _daily_study(db, 42)
    days = {s.taken_at.date() for s in left}
    assert {(NOW - timedelta(days=d)).date() for d in range(14)} <= days  # today..13 days ago
    assert len(left) == 2 + 12 + 4  # and the newest of each earlier week
    assert snapshots.store_bytes(db) <= snapshots.BUDGET * db.stat().st_size


@pytest.mark.slow
@pytest.mark.skipif(not SLOW, reason="long variant: set FLASHCORE_SLOW=1 to run it")
def test_a_year_of_daily_study_keeps_the_retention_rule_within_the_budget(db):
    left = _daily_study(db, 366)
    assert len(left) == 2 + 12 + 10 + 9
    assert snapshots.store_bytes(db) <= snapshots.BUDGET * db.stat().st_size


def test_a_damaged_page_in_the_store_is_refused_not_restored(db, tmp_path):
    made = snapshots.take(db, NOW, "test")
    store = files.store_path(db)
    conn = sqlite3.connect(store)
    conn.execute(
        "UPDATE pages SET data = ? WHERE id = (SELECT MAX(id) FROM pages)",
        (zlib.compress(b"\0" * 4096),),
    )
    conn.commit()
    conn.close()
    with pytest.raises(BackupError, match="damaged"):
        snapshots.materialize(db, made.id, tmp_path / "out.sqlite3")


def test_a_damaged_database_makes_no_snapshot_and_leaves_the_store_as_it_was(db):
    made = snapshots.take(db, NOW, "good")
    with db.open("r+b") as f:  # no connection to it is open
        f.seek(4096 * 3)
        f.write(bytes(range(256)) * 16)
    with pytest.raises(BackupError, match="no snapshot was taken"):
        snapshots.take(db, NOW + timedelta(hours=1), "bad")
    assert snapshots.list_snapshots(db) == [made]
    assert not [p for p in files.backup_folder(db).iterdir() if p.name.endswith(".tmp")]
