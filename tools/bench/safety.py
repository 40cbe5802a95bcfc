"""Benchmark: the safety work a student meets (backups, integrity checks), as whole processes.

    python -m tools.bench.safety [--cards 50000] [--reviews 1000000] [--runs 1]
                                     [--keep DIR] [--json]

Part of `python -m tools.bench` (its "safety" section); alone here. On a fresh copy of the
benchmark's collection (built by its builder, cached with `--keep`), each run times:

1. the first command of the day: `flashcore due --json` when the last quick check is over a
   day old (never, on a fresh copy), then the same command again (checked: the warm figure),
   and how long the work it left in the background ran (a quick check, the day's backup);
2. four imports in one day, one after the other: `decks add` (a 10-card deck) and `qbank
   import` (a 1,000-row log), twice each, each process timed, and the background work each
   left; then what the automatic backups take on disk (bytes, and times the database);
3. the restore point's wait: how long an import waits for its snapshot to be pinned
   (in-process; absent from a flashcore without restore points).

Background work is found as running `flashcore.storage.background` processes (Linux /proc)
and waited for before the next step, so each step's figures are its own.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import shutil
import statistics
import sys
import tempfile
import threading
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from tools.bench.engine import (
    BenchError,
    Options,
    child_env,
    ensure_built,
    log,
    python_child,
    run_process,
)

BACKGROUND = b"flashcore.storage.background"
DECK = """[deck]
name = "Bench::Extra {n}"
key = "bench-extra-{n}"
{cards}"""
CARD = """
[[cards]]
id = "x{n}-{i}"
front = "Bench question {n}.{i}"
back = "Answer {i}"
topics = ["Bench::Extra"]
"""
# `flashcore ARGS...` with timers around the safety work a command can wait on (whichever of
# these this flashcore has): the quick check before opening, the backups before an import or
# at review start, the restore point, the backup started when a command ends. The sum of the
# outermost calls is written to the file named first, when the process ends.
TRACED_CLI = """
import atexit, importlib, json, sys, time
spent = {}
depth = [0]
def timed(module, name):
    try:
        owner = importlib.import_module(module)
    except ImportError:
        return
    original = getattr(owner, name, None)
    if original is None:
        return
    def wrapper(*args, **kwargs):
        depth[0] += 1
        start = time.perf_counter()
        try:
            return original(*args, **kwargs)
        finally:
            depth[0] -= 1
            if depth[0] == 0:
                spent[name] = spent.get(name, 0.0) + time.perf_counter() - start
    setattr(owner, name, wrapper)
for module, name in (
    ("flashcore.services.health", "startup_check"),
    ("flashcore.services.backup", "backup_before_write"),
    ("flashcore.services.backup", "maybe_backup"),
    ("flashcore.services.backup", "restore_point"),
    ("flashcore.cli", "_after_commands"),
):
    timed(module, name)
def dump():
    with open(sys.argv[1], "w") as out:
        json.dump(spent, out)
atexit.register(dump)
from flashcore.cli import main
sys.exit(main(sys.argv[2:]))
"""
PIN = """
import json, sys, time
from datetime import datetime
from pathlib import Path
a = json.loads(sys.argv[1])
try:
    from flashcore.storage import background
except ImportError:
    print(json.dumps({"pin": None}))
    raise SystemExit(0)
t = time.perf_counter()
proc = background.start_snapshot(Path(a["db"]), datetime.fromisoformat(a["now"]), "bench",
                                  pin=True)
pinned = time.perf_counter() - t
proc.wait()
print(json.dumps({"pin": pinned, "whole": time.perf_counter() - t}))
"""


def background_pids() -> list[int]:
    """Running `flashcore.storage.background` processes (none where /proc is missing)."""
    found = []
    with contextlib.suppress(OSError):
        for entry in os.listdir("/proc"):
            if not entry.isdigit():
                continue
            with contextlib.suppress(OSError):
                if BACKGROUND in Path(f"/proc/{entry}/cmdline").read_bytes():
                    found.append(int(entry))
    return found


def wait_background(timeout: float = 900.0) -> float:
    """Wait until no background job runs; seconds waited."""
    started = time.monotonic()
    while background_pids():
        if time.monotonic() - started > timeout:
            raise BenchError(f"background work still running after {timeout:.0f} s")
        time.sleep(0.05)
    return time.monotonic() - started


def fresh_copy(source: Path, db: Path) -> None:
    """`source` copied to `db`, with no backups, side files or journals of an earlier run."""
    wait_background()
    for entry in db.parent.glob(f"*{db.name}*"):
        if entry.is_file():
            entry.unlink()
    shutil.rmtree(db.parent / "backups", ignore_errors=True)
    shutil.copyfile(source, db)


def folder_bytes(folder: Path) -> int:
    if not folder.is_dir():
        return 0
    return sum(p.stat().st_size for p in folder.rglob("*") if p.is_file())


def _sec(seconds: float) -> float:
    return round(seconds, 3)


def _command(args: Sequence[str], env: dict[str, str], work: Path) -> tuple[float, float]:
    """`flashcore ARGS` as a whole process: its wall time, and how long of it was spent in
    safety work (seconds each)."""
    trace = work / "safety-trace.json"
    trace.unlink(missing_ok=True)
    done = run_process([sys.executable, "-c", TRACED_CLI, str(trace), *args], env, work)
    spent = json.loads(trace.read_text()) if trace.exists() else {}
    return done.seconds, sum(spent.values())


def one_run(source: Path, now_iso: str, work: Path, run: int) -> dict[str, Any]:
    from tests.qbank_logs import make_log

    db = work / "safety" / "c.sqlite3"
    db.parent.mkdir(exist_ok=True)
    fresh_copy(source, db)
    env = child_env(work, db, now_iso)
    out: dict[str, Any] = {"database_bytes": db.stat().st_size}
    log(f"safety run {run + 1}: the first command of the day")
    seconds, waited = _command(["due", "--json"], env, work)
    out["first_command_s"], out["first_command_safety_s"] = _sec(seconds), _sec(waited)
    out["first_command_background_s"] = _sec(wait_background())
    seconds, waited = _command(["due", "--json"], env, work)
    out["warm_command_s"], out["warm_command_safety_s"] = _sec(seconds), _sec(waited)
    wait_background()
    imports = []
    for n in range(4):
        if n % 2 == 0:
            deck = work / "safety" / f"extra-{n}.toml"
            cards = "".join(CARD.format(n=n, i=i) for i in range(10))
            deck.write_text(DECK.format(n=n, cards=cards), encoding="utf-8")
            args = ["decks", "add", str(deck)]
        else:
            paste = work / "safety" / f"log-{n}.csv"
            paste.write_bytes(make_log(1000, seed=100 + n))
            args = ["qbank", "import", str(paste)]
        what = " ".join(args[:2])
        log(f"safety run {run + 1}: import {n + 1}/4 ({what})")
        seconds, waited = _command(args, env, work)
        imports.append({"command": what, "s": _sec(seconds), "safety_s": _sec(waited)})
        imports[-1]["background_s"] = _sec(wait_background())
    out["imports"] = imports
    backups = folder_bytes(db.parent / "backups")
    out["backups_bytes_after_imports"] = backups
    out["backups_x_database"] = round(backups / db.stat().st_size, 2)
    log(f"safety run {run + 1}: the restore point's wait")
    done = python_child(PIN, {"db": str(db), "now": now_iso}, env, work)
    pin = json.loads(done.stdout)
    out["restore_point_pin_s"] = None if pin["pin"] is None else _sec(pin["pin"])
    out["restore_point_whole_s"] = None if pin["pin"] is None else _sec(pin["whole"])
    wait_background()
    return out


def measure_safety(source: Path, now_iso: str, work: Path, runs: int) -> dict[str, Any]:
    """The runs of `one_run` and their medians."""
    done = [one_run(source, now_iso, work, run) for run in range(runs)]
    first = done[0]

    def median(key: str) -> float | None:
        values = [r[key] for r in done if r.get(key) is not None]
        return _sec(statistics.median(values)) if values else None

    return {
        "runs": done,
        "database_bytes": first["database_bytes"],
        "first_command_s": median("first_command_s"),
        "first_command_safety_s": median("first_command_safety_s"),
        "warm_command_s": median("warm_command_s"),
        "first_command_background_s": median("first_command_background_s"),
        "decks_add_s": _sec(statistics.median(
            i["s"] for r in done for i in r["imports"] if i["command"] == "decks add")),
        "qbank_import_s": _sec(statistics.median(
            i["s"] for r in done for i in r["imports"] if i["command"] == "qbank import")),
        "imports_safety_s": _sec(max(i["safety_s"] for r in done for i in r["imports"])),
        "imports_background_s": _sec(max(
            i["background_s"] for r in done for i in r["imports"])),
        "backups_bytes_after_imports": max(r["backups_bytes_after_imports"] for r in done),
        "backups_x_database": max(r["backups_x_database"] for r in done),
        "restore_point_pin_s": median("restore_point_pin_s"),
    }  # fmt: skip


def render_safety(s: dict[str, Any]) -> list[str]:
    mb = s["database_bytes"] / 1e6
    pin = s.get("restore_point_pin_s")
    return [
        f"safety work ({len(s['runs'])} run(s) on a fresh copy of the {mb:,.0f} MB database):",
        f"  first command of the day (due --json): {s['first_command_s']:.2f} s, of which "
        f"{s['first_command_safety_s']:.2f} s waiting on safety work; warm "
        f"{s['warm_command_s']:.2f} s; the background work it started ran "
        f"{s['first_command_background_s']:.1f} s",
        f"  decks add {s['decks_add_s']:.2f} s, qbank import {s['qbank_import_s']:.2f} s "
        f"(median of 2 each); an import waited at most {s['imports_safety_s']:.2f} s on "
        f"safety work; background work after an import ran up to "
        f"{s['imports_background_s']:.1f} s",
        f"  automatic backups after 4 imports: {s['backups_bytes_after_imports'] / 1e6:,.0f} MB "
        f"({s['backups_x_database']:.2f}x the database)",
        "  restore point: "
        + ("none (this flashcore copies before imports)" if pin is None
           else f"the import waits {pin * 1000:.0f} ms for its snapshot to be pinned"),
    ]  # fmt: skip


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(
        prog="python -m tools.bench.safety",
        description="Time the backups and integrity checks a student meets.",
        epilog="example: python -m tools.bench.safety --cards 200000 --reviews 4000000 "
        "--keep /tmp/fc-bench-200k",
    )
    p.add_argument("--cards", type=int, default=50_000, help="cards (default 50000)")
    p.add_argument("--reviews", type=int, default=1_000_000, help="review-log rows")
    p.add_argument("--runs", type=int, default=1, help="runs (default 1)")
    p.add_argument("--keep", type=Path, help="cache the built collection here")
    p.add_argument("--json", action="store_true", help="print the results as one JSON document")
    return p.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> int:
    a = parse_args(argv)
    with contextlib.ExitStack() as stack:
        cache = a.keep.resolve() if a.keep else None
        if cache is None:
            cache = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="fc-bench-")))
        cache.mkdir(parents=True, exist_ok=True)
        try:
            built = ensure_built(
                Options(cards=a.cards, reviews=a.reviews, anki=False, keep=cache), cache
            )
            work = Path(stack.enter_context(tempfile.TemporaryDirectory(dir=cache)))
            (work / "home").mkdir()
            results = measure_safety(built.fc_path, built.meta["now_iso"], work, a.runs)
        except BenchError as exc:
            log(f"error: {exc}")
            return 1
    results["load_average"] = [round(x, 2) for x in os.getloadavg()]
    print(json.dumps(results, indent=2) if a.json else "\n".join(render_safety(results)))
    return 0


if __name__ == "__main__":
    sys.exit(main())


class BackgroundWatch:
    """Samples, in a thread, when background safety work runs: `stop()` gives the
    (start, end) windows in `time.monotonic` (the pseudo-terminal harness's clock)."""

    def __init__(self, every: float = 0.05) -> None:
        self.every = every
        self.windows: list[tuple[float, float]] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)
        self._thread.start()

    def _sample(self) -> None:
        started: float | None = None
        while not self._stop.is_set():
            now = time.monotonic()
            if background_pids():
                started = now if started is None else started
            elif started is not None:
                self.windows.append((started, now))
                started = None
            self._stop.wait(self.every)
        if started is not None:
            self.windows.append((started, time.monotonic()))

    def stop(self) -> list[tuple[float, float]]:
        self._stop.set()
        self._thread.join(timeout=5)
        return self.windows
