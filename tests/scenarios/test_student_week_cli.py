"""A shorter study week through the command line, every step a separate process as a student's
shell runs it, with FLASHCORE_NOW moved: decks loaded, a qbank log imported each day (UWorld
paste, CSV with correct and incorrect, a QID list; some in the evening), every card `due`
offers answered with `answer --expect-reps`, a day skipped, a setting changed, an undo. After
every day: `due`, `decks list`, `due --deck`, `stats` agree; "due tomorrow" (`stats`) equals
the next day's first `due`; no card was answered twice in the day unless in (re)learning, pulled
cards at most once; `check` passes; every answer is in the review log. A failure names the
seed and the day."""

from __future__ import annotations

import json
import os
import random
import re
import sqlite3
import subprocess
import sys
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from flashcore.storage.types import from_micros
from tests.scenarios import builders

SEED = int(os.environ.get("FLASHCORE_SCENARIO_SEED", "5"))
SLOW = os.environ.get("FLASHCORE_SLOW") == "1"  # six days instead of four
GRADES = ("again", "hard", "good", "easy")
START = datetime(2026, 11, 2, tzinfo=UTC)


class Shell:
    def __init__(self, tmp_path: Path) -> None:
        self.tmp = tmp_path
        self.db = tmp_path / "week.sqlite3"
        self.env = {
            k: v for k, v in os.environ.items() if k not in {"FLASHCORE_DB", "FLASHCORE_PROFILE"}
        }
        self.env["FLASHCORE_HOME"] = str(tmp_path / "home")
        self.now = START

    def __call__(self, *args: object, ok: bool = True, stdin: bytes | None = None) -> str:
        self.env["FLASHCORE_NOW"] = self.now.isoformat()
        result = subprocess.run(
            [sys.executable, "-m", "flashcore.cli", *map(str, args), "--db", str(self.db)],
            cwd=self.tmp,
            env=self.env,
            input=stdin,
            capture_output=True,
            timeout=120,
        )
        out, err = result.stdout.decode(), result.stderr.decode()
        assert "Traceback" not in err, err
        if ok:
            assert result.returncode == 0, f"flashcore {args} ({self.now}): {err}"
        return out

    def json(self, *args: object) -> Any:
        return json.loads(self(*args, "--json"))

    def counts(self, *args: object) -> tuple[int, int, int]:
        """The counts line `due` prints: `N new, N learning, N review`."""
        out = self("due", *args)
        found = re.search(r"(\d+) new, (\d+) learning, (\d+) review", out)
        return (0, 0, 0) if found is None else tuple(int(g) for g in found.groups())  # type: ignore[return-value]


def test_a_study_week_through_separate_processes(tmp_path):
    rng = random.Random(SEED)
    sh = Shell(tmp_path)
    sh("init")
    decks = builders.write_decks(tmp_path / "decks", notes_per_leaf=1)
    sh("decks", "add", *decks)
    sh("config", "set", "new_per_day", "3")
    given: list[tuple[int, str, str]] = []  # (card, instant, grade)
    told: tuple[int, int, int] | None = None
    weak = {rng.choice(builders.leaves(1)).path}
    days = 6 if SLOW else 4
    for day in range(days):
        where = f"seed {SEED}, day {day}"
        if day == 2:  # a day off; from the day after, fewer reviews a day
            told = None
            sh("config", "set", "reviews_per_day", "4")
            continue
        sh.now = START + timedelta(days=day, hours=rng.choice([7, 9, 10, 13]))
        first = sh.counts()
        if told is not None:
            assert first == told, f"{where}: due tomorrow said {told}, the first queue is {first}"
        block = builders.qbank_block(rng, weak, 10, notes_per_leaf=1)
        kind = ("uworld", "csv", "qids")[day % 3]
        if kind == "uworld":
            log = builders.uworld_paste(block, rng)
        elif kind == "csv":
            log = builders.csv_log(block, (sh.now - timedelta(hours=4)).date())
        else:
            log = builders.qid_list(block)
        evening = day == 1  # the evening's misses reach the next study day's queue
        if not evening:
            sh("qbank", "import", "-", "--again", stdin=log)
        answered = study(sh, rng, given, where, undo=day == 1)
        assert answered < 80, f"{where}: {answered} answers"
        if evening:
            sh.now = sh.now.replace(hour=21)
            sh("qbank", "import", "-", "--again", stdin=log)
        # every surface agrees, for the collection and each deck
        whole = sh.counts()
        stats = sh.json("stats")
        assert tuple(stats["queue"]["today"][k] for k in ("new", "learning", "review")) == whole
        listed = sh.json("decks", "list")
        for deck in rng.sample(listed, 2):
            scoped = sh.counts("--deck", deck["name"])
            assert (deck["new"], deck["learning"], deck["due"]) == scoped, f"{where}: {deck}"
        told = tuple(stats["queue"]["tomorrow"][k] for k in ("new", "learning", "review"))
        sh("check")  # exit 1 on any card whose log replays differently
        check_log(sh, given, where)


def study(
    sh: Shell, rng: random.Random, given: list[tuple[int, str, str]], where: str, *, undo: bool
) -> int:
    answers = 0
    undone = False
    while True:
        queue = sh.json("due")
        if not queue:
            # learning steps later today: come back when they are due
            cards = [c for c in sh.json("cards") if c["state"] in ("learning", "relearning")]
            soon = [datetime.fromisoformat(c["due"]) for c in cards]
            soon = [d for d in soon if d - sh.now < timedelta(hours=1)]
            if not soon:
                return answers
            sh.now = max(min(soon), sh.now) + timedelta(seconds=1)
            continue
        for item in queue:
            grade = rng.choices(GRADES, (0.1, 0.1, 0.7, 0.1))[0]
            sh("answer", item["card_id"], grade, "--expect-reps", item["reps"])
            given.append((item["card_id"], sh.now.isoformat(), grade))
            answers += 1
            sh.now += timedelta(seconds=rng.randrange(20, 60))
            if undo and not undone and answers == 3:
                sh("undo")
                given.pop()
                undone = True
                break  # the undone card comes back in the next listing
        assert answers < 80, f"{where}: the queue did not empty"


def check_log(sh: Shell, given: list[tuple[int, str, str]], where: str) -> None:
    with sqlite3.connect(sh.db) as conn:
        rows = conn.execute(
            "SELECT card_id, reviewed_at, rating, state_before, reason FROM review_logs ORDER BY id"
        ).fetchall()
    assert len(rows) == len(given), f"{where}: {len(rows)} logged, {len(given)} answers given"
    assert [r[0] for r in rows] == [g[0] for g in given]
    assert [r[2] for r in rows] == [GRADES.index(g[2]) + 1 for g in given]
    by_day: Counter[tuple[str, int]] = Counter()
    pulled: Counter[tuple[str, int]] = Counter()
    for card_id, at, _rating, state_before, reason in rows:
        day = (from_micros(at) - timedelta(hours=4)).date().isoformat()  # UTC microseconds
        if state_before in (0, 2):  # new or review: a card's first answer of the day
            by_day[(day, card_id)] += 1
        if reason.startswith("pulled forward"):
            pulled[(day, card_id)] += 1
    assert max(by_day.values(), default=0) <= 1, f"{where}: answered twice: {by_day.most_common(3)}"
    assert max(pulled.values(), default=0) <= 1, f"{where}: pulled twice: {pulled.most_common(3)}"
