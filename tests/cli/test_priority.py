"""Bulk commands (`qbank import`, `decks add`) lower their own CPU priority, so a reviewer
open beside them gets the processor first; FLASHCORE_BULK_NICE sets the level, 0 disables."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys

import pytest

from flashcore.cli import priority
from tests.conftest import SMALL_DECK, write_deck
from tests.qbank_logs import make_log

NOW = "2026-11-25T09:00:00+00:00"

# Runs one command through flashcore.cli.main in a process of its own and prints its niceness
# (before, after) on the last line.
PROBE = """
import os, sys
from flashcore.cli import main
before = os.nice(0)
code = main(sys.argv[1:])
print("niceness", before, os.nice(0), code)
"""


@pytest.fixture
def probe(tmp_path, sqlite_template):
    base = {k: v for k, v in os.environ.items() if not k.startswith("FLASHCORE_")}
    base.update(FLASHCORE_NOW=NOW, FLASHCORE_HOME=str(tmp_path / "home"))
    db = tmp_path / "c.sqlite3"

    def run(*args: object, nice: str | None = None) -> tuple[int, int, int]:
        env = dict(base) if nice is None else {**base, "FLASHCORE_BULK_NICE": nice}
        done = subprocess.run(
            [sys.executable, "-c", PROBE, *map(str, args), "--db", str(db)],
            env=env, capture_output=True, text=True, timeout=120, cwd=tmp_path,
        )  # fmt: skip
        last = done.stdout.strip().splitlines()[-1].split()
        assert last[0] == "niceness", done.stdout + done.stderr
        before, after, code = map(int, last[1:])
        return after - before, code, before

    shutil.copy(sqlite_template, db)  # a new collection (the subject is the commands after)
    return run


def test_qbank_import_and_decks_add_lower_their_priority_by_the_default(probe, tmp_path):
    deck = write_deck(tmp_path / "small.toml", SMALL_DECK)
    log = tmp_path / "missed.csv"
    log.write_bytes(make_log(50))
    lowered, code, before = probe("decks", "add", deck)
    assert code == 0
    assert lowered == min(priority.BULK_NICE, 19 - before)
    lowered, code, _ = probe("qbank", "import", log)
    assert code == 0
    assert lowered == min(priority.BULK_NICE, 19 - before)


def test_the_level_comes_from_flashcore_bulk_nice_and_0_keeps_full_priority(probe, tmp_path):
    deck = write_deck(tmp_path / "small.toml", SMALL_DECK)
    lowered, code, before = probe("decks", "add", deck, nice="0")
    assert (lowered, code) == (0, 0)
    lowered, code, _ = probe("decks", "add", deck, nice="3")
    assert (lowered, code) == (min(3, 19 - before), 0)


def test_other_commands_keep_full_priority(probe, tmp_path):
    deck = write_deck(tmp_path / "small.toml", SMALL_DECK)
    probe("decks", "add", deck, nice="0")
    lowered, code, _ = probe("due")
    assert (lowered, code) == (0, 0)


@pytest.mark.parametrize("value", ["high", "20", "-1"])
def test_a_bad_flashcore_bulk_nice_is_a_usage_error(cli, deck, monkeypatch, value):
    monkeypatch.setenv("FLASHCORE_BULK_NICE", value)
    result = cli("decks", "add", deck)
    assert result.code == 2
    assert "FLASHCORE_BULK_NICE" in result.err


def test_priority_is_lowered_once_per_process(monkeypatch):
    calls: list[int] = []
    monkeypatch.setattr(priority, "_lowered", [False])
    monkeypatch.setattr(os, "nice", lambda n: calls.append(n) or 10)
    monkeypatch.setenv("FLASHCORE_BULK_NICE", "10")
    priority.yield_cpu()
    priority.yield_cpu()
    assert calls == [10, 0]
