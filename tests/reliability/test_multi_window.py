"""The student's multi-window day, for real (issue 13): `flashcore review` in a pseudo-terminal
with the wall clock (no FLASHCORE_NOW) on a collection whose start-up backup is due, and in a
"second terminal", between answers, every command a student runs, each its own process. Every
answer the reviewer acknowledged (it showed the next card) must be in the review log, the
reviewer must quit with exit 0, and `check` and `PRAGMA integrity_check` must be clean. Every
process — the background backups and checks they start too — runs under the file guard
(tests/guard.py, installed by tests/guarded_site/sitecustomize.py), which reports any open of
the live database outside SQLite.

Home is watched too: a deck added from the second terminal appears on it without a key.
"""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from tests.conftest import DECKS, write_deck
from tools.bench.tui import CARD_BACK, CARD_FRONT, HOME_READY, NO_MORE, Terminal

ROOT = Path(__file__).resolve().parents[2]
SAMPLE = DECKS / "samples" / "uworld-paste.tsv"


class Day:
    """A student's folder: the collection, a home, the guard's report; runs commands."""

    def __init__(self, tmp_path: Path, db: str) -> None:
        self.tmp = tmp_path
        self.db = db
        self.report = tmp_path / "guard-report.txt"
        env = {k: v for k, v in os.environ.items() if not k.startswith("FLASHCORE_")}
        # tests/guarded_site/sitecustomize.py: every process, background jobs too, is guarded
        site = str(ROOT / "tests" / "guarded_site")
        path = os.pathsep.join(p for p in (site, str(ROOT), env.get("PYTHONPATH", "")) if p)
        self.env = env | {
            "FLASHCORE_HOME": str(tmp_path / "home"),
            "FLASHCORE_TEST_GUARD": str(self.report),
            "PYTHONPATH": path,
        }

    def command(self, *args: object) -> list[str]:
        return [sys.executable, "-m", "tests.guard", *(str(a) for a in args), "--db", self.db]

    def run(self, *args: object) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            self.command(*args), cwd=self.tmp, env=self.env, capture_output=True, text=True,
            timeout=300, check=False,
        )  # fmt: skip

    def ok(self, *args: object) -> subprocess.CompletedProcess[str]:
        done = self.run(*args)
        assert done.returncode == 0, f"flashcore {args}: {done.returncode} {done.stderr}"
        assert "Traceback" not in done.stderr, done.stderr
        return done

    def violations(self) -> str:
        return self.report.read_text() if self.report.exists() else ""


class Reviewer:
    """`flashcore review` on a pseudo-terminal, driven by keys; counts acknowledged answers."""

    def __init__(self, day: Day) -> None:
        self.term = Terminal(day.command("review"), day.env)
        self.acknowledged = 0
        self.finished = False

    def wait_home(self) -> None:
        self.term.wait_for(HOME_READY)

    def wait_text(self, text: bytes, since: int, timeout: float = 20.0) -> None:
        self.term.wait_for(text, since=since, timeout=timeout)

    def start_session(self) -> None:
        mark = self.term.mark()
        self.term.send(b"\r")
        _, marker = self.term.wait_for(CARD_FRONT, *NO_MORE, since=mark)
        assert marker == CARD_FRONT, "no card to study"

    def answer_good(self) -> None:
        """Space, then 3; acknowledged once the next card (or the end) is on screen."""
        assert not self.finished, "the session ran out of cards"
        mark = self.term.mark()
        self.term.send(b" ")
        self.term.wait_for(CARD_BACK, since=mark)
        mark = self.term.mark()
        self.term.send(b"3")
        _, marker = self.term.wait_for(CARD_FRONT, *NO_MORE, since=mark)
        self.acknowledged += 1
        self.finished = marker != CARD_FRONT

    def quit(self) -> int:
        return self.term.close(b"q")


@pytest.fixture
def reviewers() -> Iterator[list[Reviewer]]:
    started: list[Reviewer] = []
    yield started
    for reviewer in started:  # a failed test must not leave a reviewer running
        if reviewer.term.proc.poll() is None:
            reviewer.term.proc.kill()
            reviewer.term.close()


def _review_rows(db: str) -> int:
    engine = sa.create_engine(db if "://" in db else f"sqlite:///{db}")
    try:
        with engine.connect() as conn:
            return int(conn.execute(sa.text("SELECT COUNT(*) FROM review_logs")).scalar_one())
    finally:
        engine.dispose()


def _backups(db: str) -> list[Path]:
    folder = Path(db).parent / "backups"
    return sorted(folder.iterdir()) if folder.is_dir() else []


EXTRA_DECK = """
[[cards]]
id = "mw-1"
front = "Which cytokine drives class switching to IgE?"
back = "IL-4"
topics = ["Immunology::Hypersensitivity::Type I"]
"""


def _prepare(db: str) -> None:
    """A collection holding two decks and no backup (made here, where no background job
    runs): the reviewer's start-up backup is due."""
    from flashcore.cli import system_timezone
    from flashcore.core.clock import SystemClock
    from flashcore.services import Flashcore

    with Flashcore.open(db, clock=SystemClock(), create=True, timezone=system_timezone()) as fc:
        reports = fc.add_decks([DECKS / "immunology.toml", DECKS / "pathology.toml"])
        assert all(r.ok for r in reports)


def _snapshots(day: Day) -> list[dict[str, Any]]:
    listed = json.loads(day.ok("backup", "list", "--json").stdout)
    return [b for b in listed if b["kind"] == "snapshot"]


def _the_day(day: Day, reviewers: list[Reviewer], *, sqlite: bool) -> dict[str, Any]:
    _prepare(day.db)
    if sqlite:
        assert _backups(day.db) == []  # something to lose and no backup: one is due at start
    before = _review_rows(day.db)
    reviewer = Reviewer(day)
    reviewers.append(reviewer)
    reviewer.wait_home()
    # Home refreshes by itself when another process commits: a deck added elsewhere appears.
    mark = reviewer.term.mark()
    extra = write_deck(day.tmp / "extra.toml", EXTRA_DECK, name="Multiwindow", key="mw")
    day.ok("decks", "add", extra)
    reviewer.wait_text(b"Multiwindow", since=mark)
    reviewer.start_session()
    reviewer.answer_good()
    first_command_at = datetime.now(UTC).isoformat()
    apkg = day.tmp / "step1.apkg"
    second_deck = write_deck(day.tmp / "second.toml", EXTRA_DECK.replace("mw-1", "mw-2"),
                             name="Second", key="second")  # fmt: skip
    commands: list[tuple[object, ...]] = [
        ("due",), ("stats", "--json"), ("weakness",), ("cards",),
        ("qbank", "import", SAMPLE), ("decks", "add", second_deck), ("backup", "create"),
        ("doctor",), ("check",), ("export", "anki", "-o", apkg),
    ]  # fmt: skip
    outcomes = {}
    for args in commands:
        done = day.run(*args)
        outcomes[" ".join(str(a) for a in args[:2])] = (done.returncode, done.stderr.strip())
        assert "Traceback" not in done.stderr, (args, done.stderr)
        for _ in range(2):
            reviewer.answer_good()
    stats = day.ok("stats", "--json")
    snapshots = _snapshots(day) if sqlite else []
    code = reviewer.quit()
    tail = reviewer.term.tail()
    return {
        "before": before,
        "first_command_at": first_command_at,
        "acknowledged": reviewer.acknowledged,
        "code": code,
        "tail": tail,
        "outcomes": outcomes,
        "stats": stats.stdout,
        "snapshots": snapshots,
        "after": _review_rows(day.db),
        "check": day.run("check"),
    }


def test_the_reviewer_beside_every_other_command_keeps_every_answer_on_sqlite(tmp_path, reviewers):
    db = tmp_path / "step1.sqlite3"
    day = Day(tmp_path, str(db))
    seen = _the_day(day, reviewers, sqlite=True)
    assert seen["code"] == 0, seen["tail"]
    assert "Error" not in seen["tail"], seen["tail"]
    bad = {k: v for k, v in seen["outcomes"].items() if v[0] != 0}
    assert bad == {}, bad
    assert seen["after"] == seen["before"] + seen["acknowledged"] == 21
    assert seen["check"].returncode == 0, seen["check"].stdout + seen["check"].stderr
    with sqlite3.connect(db) as conn:
        assert conn.execute("PRAGMA integrity_check").fetchall() == [("ok",)]
    conn.close()
    assert day.violations() == ""
    # The start-up backup ran in the background while the reviewer answered (and the
    # commands' own automatic ones, when due); `backup create` made a copy.
    assert any(s["taken_at"] < seen["first_command_at"] for s in seen["snapshots"]), seen


@pytest.mark.postgres
def test_the_reviewer_beside_every_other_command_keeps_every_answer_on_postgresql(
    pg_url, tmp_path, reviewers
):
    day = Day(tmp_path, pg_url)
    seen = _the_day(day, reviewers, sqlite=False)
    assert seen["code"] == 0, seen["tail"]
    assert "Error" not in seen["tail"], seen["tail"]
    bad = {k: v for k, v in seen["outcomes"].items() if v[0] != 0}
    assert list(bad) == ["backup create"] and "pg_dump" in bad["backup create"][1]
    assert seen["after"] == seen["before"] + seen["acknowledged"] == 21
    assert seen["check"].returncode == 0, seen["check"].stdout + seen["check"].stderr
    assert day.violations() == ""
