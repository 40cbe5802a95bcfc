"""`doctor`: each kind of damage a crash, a bug or a hand edit leaves is repaired with a count;
a second run finds nothing; a damaged file is only reported, with the newest good backup."""

from __future__ import annotations

import json
import os
from datetime import timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa
from sqlalchemy import select
from sqlalchemy.orm import Session

from flashcore.core import fsrs_adapter
from flashcore.core.model import Rating
from flashcore.services import backup as backups
from flashcore.services import doctor
from flashcore.services.check import check
from flashcore.services.study import answer
from flashcore.storage.db import sqlite_path
from flashcore.storage.models import ReviewLog
from tests.conftest import SMALL_DECK, write_deck


@pytest.fixture
def studied(fc, tmp_path, clock):
    """SMALL_DECK (4 cards) with three answers on each of the first two cards."""
    (report,) = fc.add_decks([write_deck(tmp_path / "small.toml", SMALL_DECK)])
    assert report.ok
    ids = sorted(c["card_id"] for c in fc.cards())
    for rating in (Rating.GOOD, Rating.AGAIN, Rating.EASY):
        for card_id in ids[:2]:
            answer(fc, card_id, rating)
        clock.advance(timedelta(days=1))
    return fc


def raw(fc, *statements: str, fk_off: bool = False) -> None:
    """SQL behind flashcore's back (with foreign keys off when asked, as a careless tool
    would)."""
    engine = sa.create_engine(fc.url)
    try:
        with engine.begin() as conn:
            if fk_off and engine.dialect.name == "sqlite":
                conn.exec_driver_sql("PRAGMA foreign_keys=OFF")
            if fk_off and engine.dialect.name == "postgresql":
                conn.exec_driver_sql("SET LOCAL session_replication_role = replica")
            for statement in statements:
                conn.exec_driver_sql(statement)
    finally:
        engine.dispose()


def run_doctor(fc) -> doctor.DoctorReport:
    report = doctor.examine(fc.url)
    assert not report.damaged
    return doctor.repair(fc, report)


def assert_second_run_finds_nothing(fc) -> None:
    again = run_doctor(fc)
    assert again.fixes == {} and again.unrepaired == [] and again.backup is None


def test_a_sound_collection_needs_nothing(studied):
    report = run_doctor(studied)
    assert report.fixes == {} and report.backup is None
    assert report.to_json()["integrity"] in ("ok", "not checked (PostgreSQL)")


def test_orphan_review_rows_are_deleted(studied):
    card_id = min(c["card_id"] for c in studied.cards())
    raw(studied, f"DELETE FROM cards WHERE id = {card_id}", fk_off=True)
    report = run_doctor(studied)
    assert report.fixes == {doctor.ORPHAN_REVIEWS: 3}
    assert_second_run_finds_nothing(studied)


def test_a_card_that_disagrees_with_its_log_is_rewritten_from_it(studied):
    card_id = min(c["card_id"] for c in studied.cards())
    raw(studied, f"UPDATE cards SET reps = reps + 5, lapses = 7 WHERE id = {card_id}")
    assert check(studied).problems
    report = run_doctor(studied)
    assert report.fixes == {doctor.DISAGREEING: 1}
    assert check(studied).problems == []
    assert_second_run_finds_nothing(studied)


def test_impossible_due_dates_are_recomputed_from_the_log(studied, clock):
    ids = sorted(c["card_id"] for c in studied.cards())
    reviewed, new = ids[0], ids[3]
    expected = next(c for c in studied.cards() if c["card_id"] == reviewed)["due"]
    sqlite = studied.engine.dialect.name == "sqlite"
    far = "'12000-01-01 00:00:00+00'" if not sqlite else "'2026-11-25T09:00:00+02:00'"
    raw(
        studied,
        f"UPDATE cards SET due = '1970-01-01 00:00:00' WHERE id = {reviewed}",
        f"UPDATE cards SET due = {far} WHERE id = {new}",
    )
    report = run_doctor(studied)
    assert report.fixes == {doctor.IMPOSSIBLE_DUE: 2}
    cards = {c["card_id"]: c for c in studied.cards()}
    assert cards[reviewed]["due"] == expected  # what the log gives
    assert cards[new]["due"] == clock.now().isoformat() and cards[new]["state"] == "new"
    assert check(studied).problems == []
    assert_second_run_finds_nothing(studied)


def test_a_due_date_that_is_not_a_date_is_repaired_on_sqlite(fc_sqlite, tmp_path):
    fc_sqlite.add_decks([write_deck(tmp_path / "small.toml", SMALL_DECK)])
    card_id = min(c["card_id"] for c in fc_sqlite.cards())
    answer(fc_sqlite, card_id, Rating.GOOD)
    raw(fc_sqlite, f"UPDATE cards SET due = 'soon' WHERE id = {card_id}")
    assert run_doctor(fc_sqlite).fixes == {doctor.IMPOSSIBLE_DUE: 1}
    assert check(fc_sqlite).problems == []


def test_replayed_dues_match_fsrs(studied):
    card_id = min(c["card_id"] for c in studied.cards())
    raw(studied, f"UPDATE cards SET due = '1970-01-01 00:00:00' WHERE id = {card_id}")
    run_doctor(studied)
    with Session(studied.engine) as session:
        past = [
            fsrs_adapter.PastAnswer(
                Rating(r.rating), r.reviewed_at, r.desired_retention, elapsed_days=r.elapsed_days
            )
            for r in session.execute(
                select(
                    ReviewLog.rating,
                    ReviewLog.reviewed_at,
                    ReviewLog.desired_retention,
                    ReviewLog.elapsed_days,
                )
                .where(ReviewLog.card_id == card_id)
                .order_by(ReviewLog.reviewed_at, ReviewLog.id)
            )
        ]
    expected = fsrs_adapter.replay(card_id, studied.now(), past, studied.policy)
    card = next(c for c in studied.cards() if c["card_id"] == card_id)
    assert card["due"] == expected.due.isoformat()


def test_broken_text_is_cleaned(studied):
    note = {"front": "Ig\u0000E", "back": "type \ud83d I \ud800"}
    fields = json.dumps(note)  # ASCII with \u escapes: NUL, a pair split in two, a lone half
    raw(
        studied,
        f"UPDATE notes SET fields = '{fields}' WHERE key = 'test:t1-ige'",
        "UPDATE decks SET description = 'starter' || char(0) || 'deck'"
        if studied.engine.dialect.name == "sqlite"
        else "UPDATE decks SET description = 'starter deck'",
    )
    report = run_doctor(studied)
    assert report.fixes[doctor.BROKEN_TEXT] >= 1
    with studied.engine.connect() as conn:
        stored = conn.execute(
            sa.text("SELECT fields FROM notes WHERE key = 'test:t1-ige'")
        ).scalar()
    cleaned = json.loads(stored) if isinstance(stored, str) else stored
    assert cleaned == {"front": "IgE", "back": "type \ufffd I \ufffd"}
    assert_second_run_finds_nothing(studied)


def test_text_that_is_not_utf8_is_cleaned_on_sqlite(fc_sqlite, tmp_path):
    fc_sqlite.add_decks([write_deck(tmp_path / "small.toml", SMALL_DECK)])
    bad = '{"front": "Ig', '", "back": "x"}'
    raw(
        fc_sqlite,
        f"UPDATE notes SET fields = CAST(X'{bad[0].encode().hex()}FF{bad[1].encode().hex()}'"
        " AS TEXT) WHERE key = 'test:t1-ige'",
    )
    assert run_doctor(fc_sqlite).fixes == {doctor.BROKEN_TEXT: 1}
    with fc_sqlite.engine.connect() as conn:
        stored = conn.execute(sa.text("SELECT fields FROM notes WHERE key = 'test:t1-ige'"))
        assert json.loads(stored.scalar()) == {"front": "Ig\ufffd", "back": "x"}
    assert_second_run_finds_nothing(fc_sqlite)


def test_clean_text_removes_nul_and_mends_surrogates():
    assert doctor.clean_text("a\x00b") == "ab"
    assert doctor.clean_text("\ud83d\ude00") == "\U0001f600"  # a split pair is joined
    assert doctor.clean_text("x\udc00y") == "x\ufffdy"
    assert doctor.clean_text("plain é") == "plain é"


def test_repairs_are_preceded_by_a_backup_on_sqlite(studied):
    if studied.engine.dialect.name != "sqlite":
        pytest.skip("PostgreSQL backups are pg_dump's job")
    raw(studied, "UPDATE cards SET reps = reps + 1")
    report = run_doctor(studied)
    assert report.backup is not None
    assert backups.list_backups(studied.url)[0] == report.backup


def test_a_damaged_file_is_never_written_and_the_newest_good_backup_is_named(
    fc_sqlite, tmp_path, clock
):
    fc = fc_sqlite
    fc.add_decks([write_deck(tmp_path / "small.toml", SMALL_DECK)])
    good = backups.create(fc.url, clock.now()).backup
    clock.advance(timedelta(hours=1))
    bad = backups.create(fc.url, clock.now()).backup
    bad.path.write_bytes(b"SQLite format 3\0" + b"\x00" * 4000)  # the newest backup is bad
    db = sqlite_path(fc.url)
    assert isinstance(db, Path)
    fc.close()
    with db.open("r+b") as f:
        f.seek(4096 * 2)
        f.write(b"\xa5" * 4096)
    before = db.read_bytes()
    report = doctor.examine(fc.url)
    assert report.damaged and report.good_backup == good
    assert report.restore_command() == f"flashcore backup restore {good.id} --db {db}"
    with pytest.raises(Exception, match="damaged"):
        doctor.repair(fc, report)
    assert db.read_bytes() == before


def test_quick_health_is_silent_on_a_sound_file_and_names_doctor_on_a_damaged_one(
    fc_sqlite, tmp_path
):
    from flashcore.services.health import quick_health
    from flashcore.storage.db import sqlite_path

    assert quick_health(fc_sqlite) is None
    path = sqlite_path(fc_sqlite.url)
    fc_sqlite.close()
    data = bytearray(path.read_bytes())
    data[100:4096] = b"\xff" * (4096 - 100)  # garbage over the first page's b-tree
    path.write_bytes(bytes(data))
    problem = quick_health(fc_sqlite)
    assert problem is not None and "flashcore doctor" in problem


def _killed_mid_write(folder: Path) -> Path:
    """A process that writes the Anki imports' record and is killed (SIGKILL) between its
    write and its rename, as a `decks add` killed at that moment; the file it left."""
    import subprocess
    import sys

    code = (
        "import os, signal, sys\n"
        "from pathlib import Path\n"
        "from flashcore.storage import import_prints\n"
        "import_prints.os.replace = lambda *a: os.kill(os.getpid(), signal.SIGKILL)\n"
        "import_prints.save_prints(Path(sys.argv[1]), {'k': {'stamp': 'half'}})\n"
    )
    child = subprocess.Popen([sys.executable, "-c", code, str(folder)])
    assert child.wait() == -9
    from flashcore.storage.import_prints import scratch_file

    left = scratch_file(folder, child.pid)
    assert left.exists()
    return left


def test_doctor_removes_the_temporary_file_a_killed_import_left_in_the_media_folder(
    studied, tmp_path, monkeypatch
):
    from flashcore.services.anki_import import media_dir
    from flashcore.storage.import_prints import load_prints, save_prints, scratch_file

    monkeypatch.setenv("FLASHCORE_HOME", str(tmp_path / "home"))  # PostgreSQL's media folder
    folder = media_dir(studied)
    save_prints(folder, {"kept": {"stamp": "whole"}})
    stale = _killed_mid_write(folder)
    live = scratch_file(folder, os.getppid())  # a live process's write is left alone
    live.write_text("{}")
    report = doctor.repair(studied, doctor.examine(studied.url))
    assert report.fixes == {doctor.STALE_PRINTS: 1}
    assert not stale.exists() and live.exists()
    assert load_prints(folder) == {"kept": {"stamp": "whole"}}  # the record itself stays
    assert doctor.repair(studied, doctor.examine(studied.url)).fixes == {}
