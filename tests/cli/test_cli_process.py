"""A few real processes: what a shell sees (exit codes, stderr, --help), nothing faked."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from datetime import datetime

import pytest

from tests.conftest import SMALL_DECK, write_deck

NOW = "2026-11-25T09:00:00+00:00"


@pytest.fixture
def run(tmp_path):
    env = {k: v for k, v in os.environ.items() if k not in {"FLASHCORE_DB", "FLASHCORE_PROFILE"}}
    env.update(FLASHCORE_NOW=NOW, FLASHCORE_HOME=str(tmp_path / "home"))

    def run(*args, stdin=subprocess.DEVNULL, command=(sys.executable, "-m", "flashcore.cli")):
        return subprocess.run(
            [*command, *map(str, args)],
            cwd=tmp_path,
            env=env,
            stdin=stdin,
            capture_output=True,
            text=True,
            timeout=60,
        )

    return run


def test_help_exits_0_and_lists_the_commands(run):
    result = run("--help")
    assert result.returncode == 0
    for command in ("init", "decks", "cards", "config", "profiles", "due", "answer", "undo"):
        assert command in result.stdout
    assert result.stderr == ""


def test_the_installed_flashcore_script_runs(run):
    script = shutil.which("flashcore")
    if script is None:
        pytest.skip("the flashcore script is not installed in this environment")
    result = run("--version", command=(script,))
    assert result.returncode == 0
    assert result.stdout.startswith("flashcore ")


def test_a_usage_error_exits_2(run):
    result = run("answer", "not-a-number", "good")
    assert result.returncode == 2
    assert result.stderr.splitlines() == [
        "flashcore answer: usage error: argument CARD_ID: 'not-a-number' is not a card id "
        "(1 or more) (see `flashcore answer --help`)"
    ]


def test_an_error_exits_1_with_one_line_and_no_traceback(run, tmp_path):
    result = run("decks", "list", "--db", tmp_path / "typo.sqlite3")
    assert result.returncode == 1
    assert result.stderr.count("\n") == 1
    assert result.stderr.startswith("flashcore: error: ")
    assert "Traceback" not in result.stderr
    assert not (tmp_path / "typo.sqlite3").exists()


def test_prune_and_stale_answers_are_refused_by_real_processes(run, tmp_path, sqlite_template):
    from flashcore.core.clock import FixedClock
    from flashcore.core.model import Rating
    from flashcore.services import Flashcore
    from flashcore.services.study import answer
    from flashcore.storage.db import url_for_path

    db = tmp_path / "step1.sqlite3"
    shutil.copy(sqlite_template, db)
    deck = tmp_path / "d.toml"
    deck.write_text(
        '[deck]\nname = "P"\nkey = "p"\n\n[[cards]]\nid = "a"\nfront = "Q?"\nback = "A"\n',
        encoding="utf-8",
    )
    with Flashcore.open(url_for_path(db), clock=FixedClock(datetime.fromisoformat(NOW))) as fc:
        fc.add_decks([deck])
        answer(fc, 1, Rating.GOOD)
    refused = run("decks", "add", deck, "--prune", "--db", db)  # stdin is not a terminal
    assert refused.returncode != 0
    assert "--yes" in refused.stderr
    stale = run("answer", "1", "good", "--expect-reps", "0", "--db", db)
    assert stale.returncode == 1
    assert stale.stderr.count("\n") == 1
    assert "Traceback" not in stale.stderr


# What a one-shot command may import: `--help` nothing of SQLAlchemy; the daily commands
# (`due`, `answer`) SQLAlchemy Core but not its ORM (~90 ms of a ~480 ms `due --json`).
IMPORT_PROBE = """
import sys
from flashcore.cli import main
try:
    code = main(sys.argv[1:])
except SystemExit as exc:  # --help
    code = exc.code
loaded = [m for m in ("sqlalchemy", "sqlalchemy.orm", "flashcore.storage.models", "textual")
          if m in sys.modules]
print("LOADED", code, ",".join(loaded))
"""


def _loaded(tmp_path, *args: str) -> tuple[int, list[str]]:
    env = dict(os.environ, FLASHCORE_HOME=str(tmp_path / "home"), FLASHCORE_NOW=NOW)
    done = subprocess.run(
        [sys.executable, "-c", IMPORT_PROBE, *args], capture_output=True, text=True, env=env
    )
    return probe_report(done)


def probe_report(done: subprocess.CompletedProcess[str]) -> tuple[int, list[str]]:
    """An import probe's exit code and the modules it saw loaded (its `LOADED` line)."""
    line = next(x for x in done.stdout.splitlines() if x.startswith("LOADED"))
    _, code, *names = line.split(" ")
    return int(code), [n for n in "".join(names).split(",") if n]


def test_one_shot_commands_import_only_what_they_need(tmp_path, sqlite_template):
    db = tmp_path / "c.sqlite3"
    shutil.copy(sqlite_template, db)
    deck = write_deck(tmp_path / "d.toml", SMALL_DECK, key="imm")
    assert _loaded(tmp_path, "--help") == (0, [])
    assert _loaded(tmp_path, "--db", str(db), "decks", "add", str(deck))[0] == 0
    code, loaded = _loaded(tmp_path, "--db", str(db), "due", "--json")
    assert code == 0 and loaded == ["sqlalchemy"]
    code, loaded = _loaded(tmp_path, "--db", str(db), "answer", "1", "good")
    assert code == 0 and loaded == ["sqlalchemy"]


def test_simultaneous_answers_to_one_card_are_all_recorded_on_the_wall_clock(
    run, tmp_path, sqlite_template
):
    """Six processes answer one card at the same moment, on the real clock and without
    --expect-reps: each waits for the write lock and records its answer after the previous
    one; none is refused for a clock that seems to run backwards (each reads the time under
    the lock, not before waiting for it)."""
    deck = write_deck(tmp_path / "deck.toml", SMALL_DECK)
    db = tmp_path / "race.sqlite3"
    shutil.copy(sqlite_template, db)  # a new collection, as `init` leaves it
    assert run("decks", "add", deck, "--db", db).returncode == 0
    env = {k: v for k, v in os.environ.items() if k not in {"FLASHCORE_DB", "FLASHCORE_NOW"}}
    env["FLASHCORE_HOME"] = str(tmp_path / "home")
    argv = [sys.executable, "-m", "flashcore.cli", "answer", "1", "good", "--db", str(db)]
    racers = [
        subprocess.Popen(argv, cwd=tmp_path, env=env, stdout=subprocess.PIPE,
                         stderr=subprocess.PIPE, text=True)
        for _ in range(6)
    ]  # fmt: skip
    outcomes = [(p.wait(60), p.stderr.read()) for p in racers]
    for racer in racers:
        racer.stdout.close()
        racer.stderr.close()
    assert [code for code, _ in outcomes] == [0] * 6, [err for _, err in outcomes]
    cards = json.loads(run("cards", "--json", "--db", db).stdout)
    assert next(c for c in cards if c["card_id"] == 1)["reps"] == 6


def test_review_refuses_a_clock_out_of_range_before_taking_the_terminal(
    run, tmp_path, sqlite_template
):
    db = tmp_path / "c.sqlite3"
    shutil.copy(sqlite_template, db)  # a new collection, as `init` leaves it
    env = {**os.environ, "FLASHCORE_NOW": "9999-01-01T00:00:00+00:00"}
    result = subprocess.run(
        [sys.executable, "-m", "flashcore.cli", "review", "--db", str(db)],
        cwd=tmp_path, env=env, capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert result.returncode == 2
    assert result.stdout == ""  # the app never drew
    assert result.stderr.splitlines() == [
        "flashcore: usage error: FLASHCORE_NOW: '9999-01-01T00:00:00+00:00' is outside the "
        "years 1970 to 2099"
    ]
