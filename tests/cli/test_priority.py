"""Bulk commands (`qbank import`, `decks add`) lower their own CPU priority, so a reviewer
open beside them gets the processor first; FLASHCORE_BULK_NICE sets the level, 0 disables."""

from __future__ import annotations

import atexit
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
def session():
    try:
        with open("/proc/self/autogroup") as f:
            print("session", f.read().split()[-1])
    except OSError:
        pass
session()
print("niceness", before, os.nice(0), code)
import atexit
atexit._run_exitfuncs()  # what the process does at its exit
atexit._clear()
session()
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
            start_new_session=True,  # its session's group, not this test run's, is lowered
        )  # fmt: skip
        last = [x for x in done.stdout.splitlines() if x.startswith("niceness")][-1].split()
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
    monkeypatch.setattr(priority, "lower_session", lambda level: False)  # not this session
    monkeypatch.setenv("FLASHCORE_BULK_NICE", "10")
    priority.yield_cpu()
    priority.yield_cpu()
    assert calls == [10, 0]


def _session_nice() -> int | None:
    try:
        with open("/proc/self/autogroup") as f:
            return int(f.read().split()[-1])
    except (OSError, ValueError, IndexError):
        return None


def test_a_bulk_command_lowers_its_sessions_share_until_it_exits(tmp_path, sqlite_template):
    """Under Linux's autogroup scheduling the CPUs are shared between sessions (terminals)
    first: the import's own nice did not make it yield to a reviewer in another terminal. Its
    session's group is lowered while it runs, and set back when it exits (in a session of its
    own here, as from another terminal: this test run's is left alone)."""
    if _session_nice() is None:
        pytest.skip("no autogroup scheduling here")
    db = tmp_path / "c.sqlite3"
    shutil.copy(sqlite_template, db)
    log = tmp_path / "missed.csv"
    log.write_bytes(make_log(50))
    env = {k: v for k, v in os.environ.items() if not k.startswith("FLASHCORE_")}
    env.update(FLASHCORE_NOW=NOW, FLASHCORE_HOME=str(tmp_path / "home"))
    done = subprocess.run(
        [sys.executable, "-c", PROBE, "qbank", "import", str(log), "--db", str(db)],
        env=env, capture_output=True, text=True, timeout=120, cwd=tmp_path,
        start_new_session=True,
    )  # fmt: skip
    seen = [line.split()[1] for line in done.stdout.splitlines() if line.startswith("session")]
    assert seen == [str(priority.BULK_NICE), "0"], done.stdout + done.stderr  # during, at exit


def test_the_session_is_lowered_to_the_level_and_set_back_at_exit(tmp_path, monkeypatch):
    group = tmp_path / "autogroup"
    group.write_text("/autogroup-42 nice 0\n")
    at_exit: list[tuple[object, tuple[object, ...]]] = []
    monkeypatch.setattr(priority, "AUTOGROUP", str(group))
    monkeypatch.setattr(atexit, "register", lambda f, *a: at_exit.append((f, a)))
    monkeypatch.setattr(priority, "_restore_on_signals", lambda before: None)  # not pytest's
    assert priority.lower_session(5)
    assert group.read_text() == "5"
    ((restore, args),) = at_exit
    restore(*args)  # type: ignore[operator]
    assert group.read_text() == "0"


def test_a_session_already_as_low_or_no_autogroup_is_left_alone(tmp_path, monkeypatch):
    group = tmp_path / "autogroup"
    group.write_text("/autogroup-42 nice 7\n")
    monkeypatch.setattr(priority, "AUTOGROUP", str(group))
    monkeypatch.setattr(atexit, "register", lambda *a: pytest.fail("nothing to restore"))
    assert not priority.lower_session(5)
    assert group.read_text() == "/autogroup-42 nice 7\n"
    monkeypatch.setattr(priority, "AUTOGROUP", str(tmp_path / "none"))
    assert not priority.lower_session(5)


def test_yield_cpu_lowers_the_session_with_the_process(monkeypatch):
    lowered: list[int] = []
    monkeypatch.setattr(priority, "_lowered", [False])
    monkeypatch.setattr(os, "nice", lambda n: 10)
    monkeypatch.setattr(priority, "lower_session", lambda level: lowered.append(level) or True)
    monkeypatch.setenv("FLASHCORE_BULK_NICE", "7")
    priority.yield_cpu()
    priority.yield_cpu()
    assert lowered == [7]


# A session of its own: its leader starts a bulk command's lowering in a child, ends the child
# with SIGTERM (`timeout`, `kill`, a script's supervisor) and prints its session's nice after.
TERMINATED = """
import signal, subprocess, sys, time
with open("/proc/self/autogroup") as f:
    print("before", f.read().split()[-1])
child = subprocess.Popen(
    [sys.executable, "-c",
     "import time; from flashcore.cli import priority; priority.yield_cpu(); "
     "print('lowered', flush=True); time.sleep(60)"],
    stdout=subprocess.PIPE, text=True,
)
assert child.stdout.readline().strip() == "lowered"
with open("/proc/self/autogroup") as f:
    print("during", f.read().split()[-1])
child.send_signal(signal.SIGTERM)
print("returncode", child.wait(timeout=30))
with open("/proc/self/autogroup") as f:
    print("after", f.read().split()[-1])
"""


def test_a_bulk_command_ended_by_sigterm_sets_its_session_back():
    """SIGTERM ends Python without its atexit: the terminal's session stayed lowered for every
    later command in it (a reviewer started there too). The command still ends as SIGTERM
    ends it, with its session set back first."""
    if _session_nice() is None:
        pytest.skip("no autogroup scheduling here")
    env = {k: v for k, v in os.environ.items() if not k.startswith("FLASHCORE_")}
    env["FLASHCORE_BULK_NICE"] = str(priority.BULK_NICE)
    done = subprocess.run(
        [sys.executable, "-c", TERMINATED],
        env=env, capture_output=True, text=True, timeout=120, start_new_session=True,
    )  # fmt: skip
    lines = dict(line.split(maxsplit=1) for line in done.stdout.splitlines())
    assert lines.get("during") == str(priority.BULK_NICE), done.stdout + done.stderr
    assert lines["returncode"] == str(-15)  # ended by the signal, as before
    assert lines["after"] == lines["before"], done.stdout + done.stderr
