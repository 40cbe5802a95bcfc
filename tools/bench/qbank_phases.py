"""Where the large `qbank import` spends its CPU, phase by phase (issue 19): the bench's large
collection (`tools.bench.qbank`'s, kept in `--keep DIR`), copied, its history summed by a first
report, then the bench's 100,000-row log imported with each phase's thread CPU time added up.

    python -m tools.bench.qbank_phases --keep /tmp/bench-qbank [--runs 3]

The phases are the import's own service functions, wrapped by name while it runs (a renamed
function is reported as missing, not timed): reading the log, finding duplicates and matching
the misses, the copy, the publish, the fold into the kept sums, the weights' plan (of which
the kept sums scored and the card pass), the pull-forwards, and the writes after the plan; and
within them the parts that cost most at 200k cards (each timed where it runs: a part called
from two phases adds up in one line).
Prints each run with the load average (compare runs only at a like load) and the cycle
collector's time during the import.
"""

from __future__ import annotations

import argparse
import functools
import gc
import os
import tempfile
import threading
import time
from collections import defaultdict
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from tools.bench.qbank import NOW, build_large, copy_database

# (module, attribute path, label): the import's phases, outermost first.
PHASES = (
    ("flashcore.services.qbank_import", "_read_into", "reading the log"),
    ("flashcore.services.qbank_import", "_summarize", "duplicates and matching"),
    ("flashcore.storage.qbank_stage", "HeldStage.dedupe", "  of which duplicates (held log)"),
    ("flashcore.services.matching", "load_index", "  of which the topic index"),
    ("flashcore.services.qbank_import", "_Writer._copy", "copy"),
    ("flashcore.storage.qbank_stage", "HeldStage.order", "  of which the stage's rows"),
    ("flashcore.storage.qbank_stage", "HeldStage.save_rows", "  of which the steps' inserts"),
    ("flashcore.services.qbank_import", "_Writer._publish", "publish"),
    ("flashcore.storage.qbank_stage", "HeldStage.tallies", "  of which the tallies"),
    ("flashcore.storage.repos", "missed_suspended", "  of which the suspended cards"),
    ("flashcore.services.qbank_import", "fold_into_sums", "fold into the kept sums"),
    ("flashcore.storage.repos", "group_days", "  of which per group and day"),
    ("flashcore.storage.repos", "fold_windows", "  of which the windows"),
    ("flashcore.storage.repos", "fold_rows", "  of which the writes"),
    ("flashcore.services.qbank_import", "_reweigh", "weights and pull-forwards, in all"),
    ("flashcore.services.weights", "plan_refresh", "  the weights' plan"),
    ("flashcore.services.weights", "score_all", "    of which scores"),
    ("flashcore.services.weights", "_card_weight_changes", "    of which the card pass"),
    ("flashcore.storage.repos.weights", "card_weights_and_topics", "      of which its read"),
    ("flashcore.services.pullforward", "choose", "  the pull-forwards"),
    ("flashcore.storage.today", "fresh_misses", "    of which the fresh misses"),
    ("flashcore.storage.repos.weights", "update_card_weights", "  the changed cards written"),
)


@contextmanager
def timed_phases(
    spent: dict[str, float],
    phases: tuple[tuple[str, str, str], ...] = PHASES,
    spans: list[tuple[float, float, float, str, str]] | None = None,
) -> Iterator[list[str]]:
    """The phases' functions wrapped to add their thread CPU time into `spent` (by label)
    while the block runs; yields the phases not found. With `spans`, each call is also noted
    there: (wall start, wall end, thread CPU, label, thread name), `time.perf_counter`'s."""
    import importlib

    undo: list[Callable[[], None]] = []
    missing: list[str] = []
    for module_name, path, label in phases:
        owner: Any = importlib.import_module(module_name)
        *parents, name = path.split(".")
        for part in parents:
            owner = getattr(owner, part, None)
        original = getattr(owner, name, None) if owner is not None else None
        if original is None:
            missing.append(f"{module_name}.{path}")
            continue

        def wrapper(*a: Any, _f: Any = original, _label: str = label, **k: Any) -> Any:
            start, began = time.thread_time(), time.perf_counter()
            try:
                return _f(*a, **k)
            finally:
                cpu = time.thread_time() - start
                spent[_label] += cpu
                if spans is not None:
                    thread = threading.current_thread().name
                    spans.append((began, time.perf_counter(), cpu, _label, thread))

        setattr(owner, name, functools.wraps(original)(wrapper))
        undo.append(functools.partial(setattr, owner, name, original))
    try:
        yield missing
    finally:
        for step in reversed(undo):
            step()


def _collector_time() -> tuple[Callable[[], float], Callable[[], None]]:
    """A reading of the cycle collector's thread CPU time so far, and its removal."""
    total = [0.0, 0.0]

    def callback(phase: str, _info: dict[str, Any]) -> None:
        if phase == "start":
            total[1] = time.thread_time()
        else:
            total[0] += time.thread_time() - total[1]

    gc.callbacks.append(callback)
    return (lambda: total[0]), (lambda: gc.callbacks.remove(callback))


def run_once(db: Path, data: bytes) -> None:
    from flashcore.core.clock import FixedClock
    from flashcore.services import Flashcore, qbank, weakness

    with tempfile.TemporaryDirectory() as folder:
        copy = Path(folder) / "large.sqlite3"
        copy_database(db, copy)
        Flashcore.open(str(copy), clock=FixedClock(NOW)).close()
        fc = Flashcore.open(str(copy), clock=FixedClock(NOW))
        try:
            weakness.report(fc)  # the history summed into the kept sums, as in the bench
            spent: dict[str, float] = defaultdict(float)
            collected, stop = _collector_time()
            before = collected()
            with timed_phases(spent) as missing:
                wall, cpu = time.perf_counter(), time.process_time()
                report = qbank.import_log(fc, data, origin="new.csv")
                wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
            stop()
        finally:
            fc.close()
    load = ", ".join(f"{x:.2f}" for x in os.getloadavg())
    print(f"import: {report.added:,} added, wall {wall:.3f} s, CPU {cpu:.3f} s = "
          f"{report.added / cpu:,.0f} rows/s of CPU (load average {load})")  # fmt: skip
    for _module, _path, label in PHASES:
        if label in spent:
            print(f"  {label:36s} {spent[label]:.3f}")
    print(f"  {'cycle collector during the import':36s} {collected() - before:.3f}")
    if missing:
        print("  not timed (renamed?): " + ", ".join(missing))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tools.bench.qbank_phases", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)  # fmt: skip
    parser.add_argument("--keep", type=Path, required=True, help="the large collection's folder")
    parser.add_argument("--runs", type=int, default=1)
    parser.add_argument("--attempts", type=int, default=100_000)
    parser.add_argument("--cards", type=int, default=200_000)
    parser.add_argument("--history", type=int, default=1_000_000)
    args = parser.parse_args(argv)
    db, log = build_large(args.keep.resolve(), args.cards, args.history, args.attempts)
    data = log.read_bytes()
    for _ in range(args.runs):
        run_once(db, data)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
