"""The quick_check for command-line users: before a command opens a SQLite collection it runs
`PRAGMA quick_check` (read-only) after a crash (a flashcore process's `.open` marker outlived
it) or when the last check that passed is 24 h old; a damaged database is refused in one line
naming the newest good backup, and nothing is written. Normal calls pay a stat and a folder
scan, and `--help` / `--version` nothing."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from flashcore.cli import main
from flashcore.services import health
from flashcore.storage import backup as files
from tests.conftest import SMALL_DECK, write_deck
from tests.reliability.test_failures import _garbage_page

NOW = datetime(2026, 11, 25, 9, 0, tzinfo=UTC)


class Runner:
    def __init__(self, capsys, monkeypatch):
        self.capsys, self.monkeypatch = capsys, monkeypatch

    def __call__(self, *args: object, at: datetime = NOW) -> tuple[int, str]:
        self.monkeypatch.setenv("FLASHCORE_NOW", at.isoformat())
        self.capsys.readouterr()
        try:
            code = main([str(a) for a in args])
        except SystemExit as exc:
            code = int(exc.code or 0)
        return code, self.capsys.readouterr().err


@pytest.fixture
def run(capsys, monkeypatch, tmp_path):
    monkeypatch.setenv("FLASHCORE_HOME", str(tmp_path / "home"))
    return Runner(capsys, monkeypatch)


@pytest.fixture
def checks(monkeypatch) -> list[Path]:
    """The databases quick-checked at startup, in order."""
    seen: list[Path] = []
    real = health._quick_check

    def counting(path: Path) -> list[str] | None:
        seen.append(path)
        return real(path)

    monkeypatch.setattr(health, "_quick_check", counting)
    return seen


@pytest.fixture
def db(run, tmp_path) -> Path:
    path = tmp_path / "step1.sqlite3"
    assert run("init", "--db", path)[0] == 0
    assert run("decks", "add", write_deck(tmp_path / "s.toml", SMALL_DECK), "--db", path)[0] == 0
    assert run("backup", "create", "--db", path)[0] == 0
    return path


def _markers(db: Path) -> list[str]:
    return sorted(p.name for p in db.parent.iterdir() if p.name.endswith(".open"))


def _dead_pid() -> int:
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait()
    return child.pid


def test_a_check_that_passed_is_not_repeated_within_24_hours(run, db, checks):
    assert files.last_quick_check(db) == NOW  # the first command after init checked
    for hours in (0, 1, 23):
        assert run("due", "--db", db, at=NOW + timedelta(hours=hours))[0] == 0
    assert checks == []
    assert run("due", "--db", db, at=NOW + timedelta(hours=24))[0] == 0
    assert checks == [db]
    assert files.last_quick_check(db) == NOW + timedelta(hours=24)
    assert run("due", "--db", db, at=NOW + timedelta(hours=30))[0] == 0
    assert checks == [db]


def test_a_clock_moved_back_by_a_day_checks_again(run, db, checks):
    assert run("due", "--db", db, at=NOW - timedelta(days=2))[0] == 0
    assert checks == [db]


def test_a_clean_exit_leaves_no_marker_and_help_checks_nothing(run, db, checks):
    assert run("due", "--db", db)[0] == 0
    assert _markers(db) == []
    assert run("--help")[0] == 0
    assert run("--version")[0] == 0
    assert run("due", "--help")[0] == 0
    assert checks == []


def test_a_marker_left_by_a_dead_process_triggers_a_check(run, db, checks):
    stale = db.with_name(f".{db.name}.{_dead_pid()}.open")
    stale.touch()
    other_db = db.with_name(f".other.sqlite3.{_dead_pid()}.open")  # another database's
    other_db.touch()
    assert run("cards", "--db", db, at=NOW + timedelta(minutes=5))[0] == 0
    assert checks == [db]
    assert not stale.exists() and other_db.exists()
    assert run("cards", "--db", db, at=NOW + timedelta(minutes=6))[0] == 0
    assert checks == [db]  # handled: no second check


def test_a_live_process_marker_is_not_a_crash(run, db, checks):
    alive = db.with_name(f".{db.name}.{os.getppid()}.open")  # e.g. a reviewer still open
    alive.touch()
    assert run("cards", "--db", db, at=NOW + timedelta(minutes=5))[0] == 0
    assert checks == [] and alive.exists()


def test_a_flashcore_killed_with_sigkill_makes_the_next_command_check(run, db, checks):
    code = (
        "import os, signal, sys; from datetime import datetime; from pathlib import Path; "
        "from flashcore.services import health; "
        "health.startup_check(Path(sys.argv[1]), datetime.fromisoformat(sys.argv[2])); "
        "os.kill(os.getpid(), signal.SIGKILL)"
    )
    victim = subprocess.run([sys.executable, "-c", code, str(db), NOW.isoformat()], check=False)
    assert victim.returncode == -signal.SIGKILL
    assert len(_markers(db)) == 1
    assert run("due", "--db", db, at=NOW + timedelta(minutes=1))[0] == 0
    assert checks == [db] and _markers(db) == []


def test_a_garbage_page_is_refused_in_one_line_naming_the_newest_good_backup(run, db, checks):
    good = files.list_backups(db)[0]
    _garbage_page(db)
    stale = db.with_name(f".{db.name}.{_dead_pid()}.open")
    stale.touch()
    before = db.read_bytes()
    side = files.quick_check_file(db).stat().st_mtime
    code, err = run("answer", 1, "good", "--db", db, at=NOW + timedelta(minutes=1))
    assert code == 1
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    assert "is damaged" in lines[0] and "flashcore doctor" in lines[0]
    assert f"flashcore backup restore {good.id}" in lines[0]
    assert checks == [db]
    assert db.read_bytes() == before  # nothing written: not the database,
    assert files.quick_check_file(db).stat().st_mtime == side  # not the last check's time,
    assert _markers(db) == [stale.name]  # no marker made, the crash marker kept
    code, again = run("due", "--db", db, at=NOW + timedelta(minutes=2))
    assert code == 1 and "is damaged" in again  # refused every time until repaired


def test_a_missing_file_is_not_checked_and_gets_no_side_file(run, tmp_path, checks):
    missing = tmp_path / "typo.sqlite3"
    code, _ = run("due", "--db", missing)
    assert code == 1 and checks == []
    assert not list(tmp_path.glob(".typo*"))


def test_the_reviewer_skips_the_daily_check_but_not_the_one_after_a_crash(db, checks):
    """`flashcore review` checks daily in the background, after its first paint."""
    later = NOW + timedelta(days=2)
    health.startup_check(db, later, daily=False)  # what `flashcore review` runs
    health.end_session()
    assert checks == []
    db.with_name(f".{db.name}.{_dead_pid()}.open").touch()
    health.startup_check(db, later, daily=False)
    health.end_session()
    assert checks == [db] and _markers(db) == []


def test_a_quick_check_answer_of_several_lines_is_told_in_one(run, db, monkeypatch):
    """SQLite may answer quick_check with one row of several lines (`*** in database main ***`
    then a line a page, seen with a page of 0xff bytes in a 4 MB collection): the refusal is
    still one line, every page named."""
    answer = ("*** in database main ***\nPage 7: btreeInitPage() returns error code 11\n"
              "Page 6: free space corruption")  # fmt: skip
    monkeypatch.setattr(health, "_quick_check", lambda path: [answer])
    code, err = run("weakness", "--db", db, at=NOW + timedelta(days=2))  # the daily check due
    assert code == 1
    assert len(err.strip().splitlines()) == 1, err
    assert "*** in database main ***; Page 7: btreeInitPage() returns error code 11; " in err
    assert "Page 6: free space corruption" in err
    assert health._problem_line(answer).count("\n") == 0  # the reviewer's line too
