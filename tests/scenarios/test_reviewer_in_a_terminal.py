"""The reviewer as a student lives with it: `flashcore review` in a real pseudo-terminal, beside
other processes, over several study days (the coordinator's tmux + libfaketime walk of
notes/live/tuidays.py, as a test that needs only the Python dependencies).

Each day the reviewer runs in its own pty (100x32, TERM=xterm-256color) with FLASHCORE_NOW frozen
at the day's morning; a reader thread feeds its output to a terminal emulator (pyte) and the test
reads the screen as text. Home ("Due now") -> Enter -> for every card: Space, then a grade drawn
by a seeded RNG (mostly Good) -> "All done for today" -> q, and the process must exit 0. After the
12th answer another process imports a qbank log (a UWorld paste, a CSV, a QID list by day) while
the reviewer stays open: the reviewer must keep working and pick the import up, its weak topics'
cards coming next (the first day: within 4 cards, read for half a second each; before it no
card had a weak topic).

Every day, each through the command line as a separate process: Home's "Due now" numbers equal
`stats --json`'s queue today; at the day's end `stats --json` counts as many reviews today as
answers were typed, nothing is left due today, and `check` passes. SQLite for 3 days,
PostgreSQL for 2. A failure names the seed and the day and shows the screen.
"""

from __future__ import annotations

import fcntl
import json
import os
import pty
import random
import re
import struct
import subprocess
import sys
import termios
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pyte  # the test extra's terminal emulator: a missing one fails, never skips
import pytest

ROOT = Path(__file__).resolve().parents[2]
SEED = int(os.environ.get("FLASHCORE_SCENARIO_SEED", "7"))
START = datetime(2027, 1, 4, 8, 0, tzinfo=UTC)
SAMPLES = ("uworld-paste.tsv", "missed.csv", "incorrect-qids.txt")
COLS, ROWS = 100, 32
IMPORT_AFTER = 12  # answers before the second process imports a qbank log
WAIT_LIMIT = 5.0  # seconds "Nothing to answer right now" may show before the day is ended
HOME_TIMEOUT = 90.0  # a loaded machine: Textual's import and the collection's first open
SCREEN_TIMEOUT = 30.0
SYNC_QUERY = b"\x1b[?2026$p"  # does the terminal support synchronized output (DECRQM)?
SYNC_SUPPORTED = b"\x1b[?2026;2$y"  # yes (not on now): Textual then brackets every frame
SYNC_START, SYNC_END = b"\x1b[?2026h", b"\x1b[?2026l"
# After the import the student reads the next cards for a moment (a quiet moment is when the open
# reviewer looks for other processes' changes); a weak topic's card must come among them. (A
# student who answers every card within 0.1 s sees the old order for several cards more.)
READING = 0.5
PICKUP_WITHIN = 4
WEAK = "weak topic: "  # a card's "why" line when a missed question's topic brought it
DUE_NOW = re.compile(r"(\d+) new · (\d+) learning · (\d+) review")


class Terminal:
    """One process on a pseudo-terminal of its own, its screen kept by a terminal emulator."""

    def __init__(self, argv: list[str], env: dict[str, str]) -> None:
        master, slave = pty.openpty()
        fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", ROWS, COLS, 0, 0))
        self.master = master
        self.screen = pyte.Screen(COLS, ROWS)
        self.stream = pyte.ByteStream(self.screen)
        self.changed = threading.Condition()  # held to read the screen; notified on output
        self.in_frame = False
        self.shown = ""
        self.proc = subprocess.Popen(
            argv,
            stdin=slave,
            stdout=slave,
            stderr=slave,
            env=env,
            cwd=ROOT,
            start_new_session=True,
            close_fds=True,
        )
        os.close(slave)
        self.reader = threading.Thread(target=self._read, daemon=True)
        self.reader.start()

    def _read(self) -> None:
        pending = b""  # the end of the last chunk when it may begin a frame's marker
        while True:
            try:
                chunk = os.read(self.master, 65536)
            except OSError:  # EIO: the process and its terminal are gone
                chunk = b""
            if not chunk:
                with self.changed:
                    self.stream.feed(pending)
                    self._publish()
                return
            if SYNC_QUERY in chunk:  # a terminal with synchronized output, as tmux and most
                os.write(self.master, SYNC_SUPPORTED)  # terminals now are: frames come whole
            data, pending = pending + chunk, b""
            with self.changed:
                at = 0
                while True:
                    marks = [(data.find(m, at), m) for m in (SYNC_START, SYNC_END)]
                    found = [(i, m) for i, m in marks if i >= 0]
                    if not found:
                        break
                    i, mark = min(found)
                    self.stream.feed(data[at : i + len(mark)])
                    at = i + len(mark)
                    self.in_frame = mark == SYNC_START
                    if not self.in_frame:
                        self._publish()
                rest = data[at:]
                for n in range(min(len(rest), len(SYNC_START) - 1), 0, -1):
                    if SYNC_START.startswith(rest[-n:]) or SYNC_END.startswith(rest[-n:]):
                        rest, pending = rest[:-n], rest[-n:]
                        break
                self.stream.feed(rest)
                if not self.in_frame:
                    self._publish()

    def _publish(self) -> None:
        """The screen as the student sees it: whole frames only (a half-drawn frame could
        lack a word it is about to show, or still show one it is taking away)."""
        self.shown = "\n".join(line.rstrip() for line in self.screen.display)
        self.changed.notify_all()

    def text(self) -> str:
        with self.changed:
            return self.shown

    def send(self, keys: bytes) -> None:
        os.write(self.master, keys)

    def wait_for(self, *words: str, timeout: float = SCREEN_TIMEOUT, why: str = "") -> str:
        """The first of `words` on the screen; a dead process or the timeout fails the test
        with the screen as it is. The screen is read holding the reader's lock, so no output
        slips between a look and the wait for the next."""
        end = time.monotonic() + timeout
        with self.changed:
            while True:
                screen = self.text()
                for word in words:
                    if word in screen:
                        return word
                if "Traceback" in screen or self.proc.poll() is not None:
                    self.changed.wait(0.3)  # what it wrote last
                    code = self.proc.poll()
                    pytest.fail(f"{why}: the reviewer died (exit {code}):\n{self.text()}", False)
                if time.monotonic() > end:
                    pytest.fail(f"{why}: no {words} after {timeout:.0f} s:\n{screen}", False)
                self.changed.wait(0.5)  # the next output (or a look at whether it exited)

    def wait_gone(self, word: str, timeout: float = SCREEN_TIMEOUT, why: str = "") -> None:
        end = time.monotonic() + timeout
        with self.changed:
            while word in self.text():
                if time.monotonic() > end:
                    pytest.fail(
                        f"{why}: {word!r} still shown after {timeout:.0f} s:\n{self.text()}"
                    )
                self.changed.wait(0.5)

    def close(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(10)
        os.close(self.master)
        self.reader.join(5)


@dataclass
class Student:
    env: dict[str, str]
    now: datetime = START
    days: list[dict[str, Any]] = field(default_factory=list)
    cli_s: float = 0.0

    def child_env(self) -> dict[str, str]:
        return {**self.env, "FLASHCORE_NOW": self.now.isoformat()}

    def cli(self, *args: str) -> subprocess.CompletedProcess[str]:
        t0 = time.monotonic()
        try:
            return self._cli(*args)
        finally:
            self.cli_s += time.monotonic() - t0

    def _cli(self, *args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "flashcore", *args],
            env=self.child_env(),
            cwd=ROOT,
            capture_output=True,
            text=True,
            timeout=120,
        )

    def stats(self, why: str) -> dict[str, Any]:
        result = self.cli("stats", "--json")
        assert result.returncode == 0, f"{why}: stats --json: {result.stdout}{result.stderr}"
        data: dict[str, Any] = json.loads(result.stdout)
        return data

    @contextmanager
    def reviewer(self) -> Iterator[Terminal]:
        env = {**self.child_env(), "TERM": "xterm-256color"}
        for name in ("TEXTUAL", "NO_COLOR", "TEXTUAL_DRIVER", "COLUMNS", "LINES"):
            env.pop(name, None)
        terminal = Terminal([sys.executable, "-m", "flashcore", "review"], env)
        try:
            yield terminal
        finally:
            terminal.close()

    def study_day(self, index: int) -> None:
        why = f"seed {SEED}, day {index} ({self.now.date()})"
        day: dict[str, Any] = {"day": index, "answered": 0, "waited": False, "imported": None}
        self.days.append(day)
        with self.reviewer() as term:
            t0 = time.monotonic()
            self.home_agrees(term, why)
            day["home_s"] = round(time.monotonic() - t0, 1)
            t1 = time.monotonic()
            term.send(b"\r")
            self.answer_all(term, day, random.Random(SEED * 1000 + index), why)
            day["answers_s"] = round(time.monotonic() - t1, 1)
            term.send(b"q")
            try:
                code = term.proc.wait(SCREEN_TIMEOUT)
            except subprocess.TimeoutExpired:
                pytest.fail(f"{why}: q did not quit the reviewer:\n{term.text()}", False)
            assert code == 0, f"{why}: the reviewer exited {code}:\n{term.text()}"
        self.day_ends(day, why)

    def home_agrees(self, term: Terminal, why: str) -> None:
        """Home's "Due now" numbers are `stats --json`'s queue today (read beside it)."""
        term.wait_for("Due now", timeout=HOME_TIMEOUT, why=why + ", Home")
        shown = DUE_NOW.search(term.text())
        assert shown, f"{why}: Home's numbers unreadable:\n{term.text()}"
        queue = self.stats(why)["queue"]["today"]
        assert [int(n) for n in shown.groups()] == [
            queue["new"],
            queue["learning"],
            queue["review"],
        ], f"{why}: Home says {shown.group(0)!r}, stats --json {queue}"

    def answer_all(self, term: Terminal, day: dict[str, Any], rng: random.Random, why: str) -> None:
        """Space and a grade for every card until "All done for today"; the qbank import after
        the 12th answer."""
        weak = {False: 0, True: 0}  # cards shown "why: ... weak topic", before/after the import
        waiting_since: float | None = None
        while True:
            seen = term.wait_for(
                "show answer",
                "All done for today",
                "Nothing to answer right now",
                why=f"{why}, after {day['answered']} answers",
            )
            if seen == "All done for today":
                break
            if seen == "Nothing to answer right now":
                # With a frozen clock learning cards due later are learned ahead: a wait
                # would never end.
                waiting_since = waiting_since or time.monotonic()
                if time.monotonic() - waiting_since > WAIT_LIMIT:
                    day["waited"] = True
                    break
                time.sleep(0.2)
                continue
            waiting_since = None
            after = day["imported"] is not None
            if after and WEAK in term.text():
                day.setdefault("first_weak", day["answered"])
            weak[after] += WEAK in term.text()
            if IMPORT_AFTER <= day["answered"] < IMPORT_AFTER + PICKUP_WITHIN:
                time.sleep(READING)  # a moment's reading: the reviewer looks for news then
            term.send(b" ")
            term.wait_gone("show answer", why=f"{why}, answer {day['answered'] + 1}")
            grade = rng.choices("1234", weights=[10, 6, 74, 10])[0]
            term.send(grade.encode())
            day["answered"] += 1
            if day["answered"] == IMPORT_AFTER:
                sample = SAMPLES[day["day"] % len(SAMPLES)]
                result = self.cli("qbank", "import", f"decks/samples/{sample}")
                assert result.returncode == 0, (
                    f"{why}: qbank import {sample}: {result.stdout}{result.stderr}"
                )
                day["imported"] = sample
        day["weak_before"], day["weak_after"] = weak[False], weak[True]

    def day_ends(self, day: dict[str, Any], why: str) -> None:
        """Every answer typed is a review today, nothing is left due today, `check` passes,
        and the import reached the open reviewer."""
        checking = subprocess.Popen(  # beside the day's last `stats`: both only read
            [sys.executable, "-m", "flashcore", "check"],
            env=self.child_env(),
            cwd=ROOT,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        end = self.stats(why)
        check_out, _ = checking.communicate(timeout=120)
        assert checking.returncode == 0, f"{why}: check: {check_out}"
        day["reviews"] = end["today"]["reviews"]
        day["left"] = end["queue"]["today"]["total"]
        day["cli_s"] = round(self.cli_s, 1)
        self.cli_s = 0
        assert day["imported"], f"{why}: fewer than {IMPORT_AFTER} answers, nothing imported: {day}"
        assert day["reviews"] == day["answered"], f"{why}: answers typed != reviews today: {day}"
        assert day["left"] == 0, f"{why}: still due today after 'All done': {end['queue']}, {day}"
        # The import's weak topics bring their cards first: the open reviewer took them up.
        assert day["weak_after"] > 0, f"{why}: no weak topic's card after the import: {day}"
        if day["day"] == 0:  # the first import: before it no card had a weak topic; soon after, one
            assert day["weak_before"] == 0, f"{why}: weak topics before any import: {day}"
            assert day["first_weak"] < IMPORT_AFTER + PICKUP_WITHIN, f"{why}: picked up late: {day}"
        assert not day["waited"], f"{why}: 'Nothing to answer right now' lasted: {day}"


def walk(db: str, home: Path, days: int) -> None:
    env = {k: v for k, v in os.environ.items() if k not in {"FLASHCORE_PROFILE", "FLASHCORE_NOW"}}
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(ROOT), env.get("PYTHONPATH", "")) if p)
    env["FLASHCORE_HOME"] = str(home)
    env["FLASHCORE_DB"] = db
    student = Student(env)
    for index in range(days):
        student.study_day(index)
        print(json.dumps(student.days[-1]))
        student.now += timedelta(days=1)


def test_three_days_in_the_reviewer_on_sqlite(sqlite_url: str, tmp_path: Path) -> None:
    walk(sqlite_url, tmp_path / "home", days=3)


@pytest.mark.postgres
def test_two_days_in_the_reviewer_on_postgres(pg_head_url: str, tmp_path: Path) -> None:
    walk(pg_head_url, tmp_path / "home", days=2)
