"""Backups: the retention rule (pure), making, finding, restoring, and the automatic backups
before imports and at review start; PostgreSQL is pointed to pg_dump."""

from __future__ import annotations

import random
import sqlite3
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from flashcore.core.model import Rating
from flashcore.services import backup as service
from flashcore.services import qbank
from flashcore.services.study import answer
from flashcore.storage import backup as files
from flashcore.storage.backup import BackupError, Retention, retained
from flashcore.storage.db import sqlite_path
from tests.conftest import DECKS, SMALL_DECK, write_deck

NOW = datetime(2026, 11, 25, 9, 0, tzinfo=UTC)


DEFAULT = Retention()


def kept(taken: list[datetime], now: datetime = NOW, limits: Retention = DEFAULT):
    return [t for t, keep in zip(taken, retained(taken, now, limits), strict=True) if keep]


# ---------------------------------------------------------------- retention (pure)


def test_a_year_of_daily_backups_keeps_two_recent_12_daily_10_weekly_9_monthly():
    taken = [NOW - timedelta(days=d, hours=2) for d in range(366)]
    survivors = kept(taken)
    assert len(survivors) == 2 + 12 + 10 + 9
    days = [(NOW.date() - t.date()).days for t in survivors]
    assert days[:14] == list(range(14))  # today, yesterday, then 12 daily
    weekly = survivors[14:24]
    assert all(t.weekday() == 6 for t in weekly)  # the newest backup of a week: its Sunday
    monthly = survivors[24:]
    assert all((t + timedelta(days=1)).month != t.month for t in monthly)  # last of the month
    assert len({(t.year, t.month) for t in monthly}) == 9


def test_every_backup_of_today_and_yesterday_is_kept_and_older_days_keep_their_newest():
    taken = [NOW - timedelta(minutes=30 * i) for i in range(48 * 4)]  # every 30 min, 4 days
    survivors = kept(taken)
    recent = [t for t in taken if t.date() >= NOW.date() - timedelta(days=1)]
    assert set(recent) <= set(survivors)
    older = [t for t in survivors if t not in recent]
    older_days = {t.date() for t in taken if t not in recent}
    assert len(older) == len({t.date() for t in older}) == len(older_days) == 3  # one a day...
    for t in older:  # ...the newest of that day
        assert t == max(x for x in taken if x.date() == t.date())


def test_the_rule_depends_on_the_times_not_on_their_order():
    taken = [NOW - timedelta(hours=7 * i) for i in range(400)]
    shuffled = taken[:]
    random.Random(1).shuffle(shuffled)
    assert set(kept(shuffled)) == set(kept(taken))


def test_a_lone_old_backup_and_backups_from_the_future_are_kept():
    lone = [NOW - timedelta(days=1000)]
    assert kept(lone) == lone
    future = [NOW + timedelta(days=3), NOW + timedelta(days=2)]
    assert kept(future) == future


def test_smaller_limits_are_honoured():
    taken = [NOW - timedelta(days=d) for d in range(100)]
    assert len(kept(taken, limits=Retention(daily=1, weekly=1, monthly=1))) == 2 + 3
    assert len(kept(taken, limits=Retention(daily=0, weekly=0, monthly=0))) == 2


# ---------------------------------------------------------------- files


@pytest.fixture
def loaded(fc_sqlite, tmp_path):
    (report,) = fc_sqlite.add_decks([write_deck(tmp_path / "small.toml", SMALL_DECK)])
    assert report.ok
    return fc_sqlite


def db_of(fc) -> Path:
    path = sqlite_path(fc.url)
    assert path is not None
    return path


def test_a_backup_is_a_checked_single_file_named_by_the_clock(loaded):
    made = service.create(loaded.url, NOW).backup
    db = db_of(loaded)
    assert made.path == db.parent / "backups" / f"{db.stem}-20261125-090000.sqlite3"
    assert made.id == "20261125-090000" and made.taken_at == NOW
    assert files.check_file(made.path) == []
    assert made.path.read_bytes()[18:20] == b"\x01\x01"  # rollback journal, not WAL
    assert sorted(p.name for p in made.path.parent.iterdir()) == [made.path.name]
    with sqlite3.connect(made.path) as conn:
        assert conn.execute("SELECT COUNT(*) FROM notes").fetchone() == (3,)
    conn.close()


def test_two_backups_in_one_second_get_distinct_ids_and_are_found_every_way(loaded):
    first = service.create(loaded.url, NOW).backup
    second = service.create(loaded.url, NOW).backup
    assert (first.id, second.id) == ("20261125-090000", "20261125-090000-2")
    assert [b.id for b in service.list_backups(loaded.url)] == [second.id, first.id]
    for ident in (second.id, second.path.name, str(second.path)):
        assert service.find(loaded.url, ident) == second
    with pytest.raises(BackupError, match="flashcore backup list"):
        service.find(loaded.url, "20200101-000000")


def test_pruning_deletes_what_the_rule_does_not_keep(loaded):
    small = Retention(daily=3, weekly=2, monthly=1)
    taken = [NOW - timedelta(days=d) for d in range(0, 90, 3)]
    for when in taken:
        files.create_backup(db_of(loaded), when)
    removed = files.prune(db_of(loaded), NOW, small)
    survivors = service.list_backups(loaded.url)
    assert len(removed) == len(taken) - len(survivors)
    assert {b.taken_at for b in survivors} == set(kept(taken, limits=small))
    assert len(survivors) == 1 + 3 + 2 + 1


def test_stale_temporary_files_of_dead_processes_are_removed(loaded):
    folder = files.backup_folder(db_of(loaded))
    folder.mkdir()
    dead = folder / ".fc-20261125-090000.sqlite3.999999999.tmp"
    dead.write_bytes(b"half a backup")
    (folder / (dead.name + "-journal")).write_bytes(b"x")
    service.create(loaded.url, NOW)
    assert not [p for p in folder.iterdir() if p.name.startswith(".")]


def test_a_backup_of_a_damaged_database_is_refused_and_leaves_nothing(loaded, tmp_path):
    good = service.create(loaded.url, NOW).backup
    db = db_of(loaded)
    loaded.close()
    with db.open("r+b") as f:
        f.seek(4096 * 3)
        f.write(bytes(range(256)) * 16)
    with pytest.raises(BackupError, match="no backup was made"):
        service.create(loaded.url, NOW + timedelta(hours=1))
    assert service.list_backups(loaded.url) == [good]


# ---------------------------------------------------------------- automatic backups


def test_decks_add_takes_a_restore_point_and_a_qbank_import_none(
    fc_sqlite, tmp_path, clock, inline_jobs
):
    fc = fc_sqlite
    fc.add_decks([write_deck(tmp_path / "small.toml", SMALL_DECK)])
    assert service.list_backups(fc.url) == []  # an empty collection has nothing to lose
    clock.advance(timedelta(minutes=1))
    other = write_deck(tmp_path / "other.toml", SMALL_DECK, name="Other", key="other")
    fc.add_decks([other])
    (before_decks,) = service.list_backups(fc.url)
    assert before_decks.kind == "snapshot" and before_decks.taken_at == clock.now()
    clock.advance(timedelta(minutes=1))
    paste = (DECKS / "samples" / "uworld-paste.tsv").read_bytes()
    report = qbank.import_log(fc, paste, origin="paste")
    assert service.list_backups(fc.url) == [before_decks]  # undone by `qbank remove` instead
    assert qbank.remove_batch(fc, report.batch_id) == report.added
    fc.close()
    clock.advance(timedelta(minutes=1))
    service.restore(fc.url, before_decks.id, clock.now())  # the state before `decks add`
    with sqlite3.connect(db_of(fc)) as conn:
        assert conn.execute("SELECT COUNT(*) FROM decks").fetchone() == (1,)
    conn.close()


def test_a_deck_file_with_errors_makes_no_backup(loaded, tmp_path, inline_jobs):
    bad = tmp_path / "bad.toml"
    bad.write_text("[deck]\nname = 1\n", encoding="utf-8")
    (report,) = loaded.add_decks([bad])
    assert not report.ok
    assert service.list_backups(loaded.url) == []


def test_an_automatic_backup_is_due_when_something_changed_and_the_last_is_30_minutes_old(
    loaded, clock
):
    fc = loaded
    first = service.maybe_backup(fc)
    assert first is not None and first.kind == "snapshot"  # changes and no backup yet
    clock.advance(timedelta(minutes=10))
    answer(fc, fc.cards()[0]["card_id"], Rating.GOOD)
    assert not service.backup_due(fc) and service.maybe_backup(fc) is None  # 10 minutes old
    clock.advance(timedelta(minutes=25))
    second = service.maybe_backup(fc)
    assert second is not None and second.taken_at == clock.now()
    clock.advance(timedelta(hours=2))
    assert not service.backup_due(fc)  # nothing changed since
    assert fc.ensure_starter_decks() is None  # review start: no backup before Home any more
    clock.advance(timedelta(minutes=1))
    answer(fc, fc.cards()[1]["card_id"], Rating.GOOD)
    assert service.backup_due(fc)
    assert service.list_backups(fc.url)[0] == second


def test_the_review_start_and_command_backups_run_in_the_background_only_when_due(
    loaded, clock, inline_jobs
):
    fc = loaded
    service.schedule_backup(fc, "review start")
    (made,) = service.list_backups(fc.url)
    service.schedule_backup(fc, "review start")  # not due: the newest is from now
    clock.advance(timedelta(hours=1))
    service.schedule_backup(fc, "automatic")  # an hour later, but nothing changed
    assert service.list_backups(fc.url) == [made]
    answer(fc, fc.cards()[0]["card_id"], Rating.GOOD)
    service.schedule_backup(fc, "automatic")
    assert [b.taken_at for b in service.list_backups(fc.url)] == [clock.now(), made.taken_at]


# ---------------------------------------------------------------- restore


def test_restore_brings_back_the_backup_and_keeps_the_replaced_state(loaded, clock):
    fc = loaded
    made = service.create(fc.url, clock.now()).backup
    clock.advance(timedelta(minutes=5))
    answer(fc, fc.cards()[0]["card_id"], Rating.GOOD)
    url = fc.url
    fc.close()
    clock.advance(timedelta(minutes=5))
    done = service.restore(url, made.id, clock.now())
    assert done.restored == made and done.before is not None and done.set_aside is None
    with sqlite3.connect(done.database) as conn:
        assert conn.execute("SELECT COUNT(*) FROM review_logs").fetchone() == (0,)
        assert conn.execute("PRAGMA journal_mode").fetchone() == ("wal",)
    conn.close()
    with sqlite3.connect(done.before.path) as conn:
        assert conn.execute("SELECT COUNT(*) FROM review_logs").fetchone() == (1,)
    conn.close()


def test_restore_replaces_a_damaged_database_and_copies_it_aside(loaded, clock):
    made = service.create(loaded.url, clock.now()).backup
    db = db_of(loaded)
    loaded.close()
    db.write_bytes(b"\0" * 8192)
    db.with_name(db.name + "-wal").write_bytes(b"stale wal of the damaged file")
    done = service.restore(loaded.url, made.id, clock.now())
    assert done.before is None and done.set_aside is not None
    assert done.set_aside.read_bytes() == b"\0" * 8192
    assert not db.with_name(db.name + "-wal").exists()
    assert files.check_file(db) == []
    assert not done.set_aside.name.startswith(f"{db.stem}-2")  # never listed as a backup
    assert [b.id for b in service.list_backups(loaded.url)] == [made.id]


def test_restore_refuses_a_damaged_backup_and_changes_nothing(loaded, clock):
    made = service.create(loaded.url, clock.now()).backup
    made.path.write_bytes(b"SQLite format 3\0" + b"\xff" * 5000)
    db = db_of(loaded)
    loaded.close()
    before = db.read_bytes()
    with pytest.raises(BackupError, match="damaged"):
        service.restore(loaded.url, made.id, clock.now())
    assert db.read_bytes() == before
    assert len(service.list_backups(loaded.url)) == 1


# ---------------------------------------------------------------- PostgreSQL


@pytest.mark.postgres
def test_postgresql_is_pointed_to_pg_dump(pg_url, clock):
    from flashcore.services import Flashcore

    for call in (
        lambda: service.list_backups(pg_url),
        lambda: service.create(pg_url, NOW),
        lambda: service.restore(pg_url, "x", NOW),
    ):
        with pytest.raises(BackupError, match="pg_dump"):
            call()
    with Flashcore.open(pg_url, clock=clock, create=True) as fc:
        assert service.backup_before_write(fc) is None
        assert service.maybe_backup(fc) is None
