"""Benchmark: importing a large missed-question log end to end (parse, deduplicate, insert,
match, re-weight, pull forward) into a SQLite collection holding the starter decks.

    python -m tools.bench.qbank [--attempts 100000] [--runs 3]

Prints rows/s for a first import and for re-importing the same file (all duplicates), and the
machine's load average (the numbers are only comparable on a quiet machine). The issue's
target is >= 100,000 rows/s end to end.
"""

from __future__ import annotations

import argparse
import os
import statistics
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

from tests.qbank_logs import make_log


def run_once(data: bytes, attempts: int) -> tuple[float, float]:
    from flashcore.core.clock import FixedClock
    from flashcore.services import Flashcore, qbank
    from flashcore.services.decks import bundled_decks_dir

    with tempfile.TemporaryDirectory() as folder:
        clock = FixedClock(datetime(2026, 11, 25, 9, tzinfo=UTC))
        fc = Flashcore.open(str(Path(folder) / "bench.sqlite3"), clock=clock, create=True)
        try:
            fc.add_decks(sorted(bundled_decks_dir().glob("*.toml")))
            start = time.perf_counter()
            report = qbank.import_log(fc, data, origin="bench.csv")
            first = time.perf_counter() - start
            assert report.added == attempts
            start = time.perf_counter()
            again = qbank.import_log(fc, data, origin="bench.csv", again=True)
            second = time.perf_counter() - start
            assert again.added == 0 and again.duplicates == attempts
        finally:
            fc.close()
    return first, second


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tools.bench.qbank", description=__doc__)
    parser.add_argument("--attempts", type=int, default=100_000)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args(argv)
    data = make_log(args.attempts)
    firsts, seconds = [], []
    for _ in range(args.runs):
        first, second = run_once(data, args.attempts)
        firsts.append(first)
        seconds.append(second)
    f, s = statistics.median(firsts), statistics.median(seconds)
    load = ", ".join(f"{x:.2f}" for x in os.getloadavg())
    print(f"{args.attempts:,} attempts, {len(data) / 1e6:.1f} MB, median of {args.runs} runs "
          f"(load average {load} on {os.cpu_count()} cores)")  # fmt: skip
    print(f"first import: {f:.2f} s = {args.attempts / f:,.0f} rows/s (target >= 100,000)")
    print(f"re-import (all duplicates): {s:.2f} s = {args.attempts / s:,.0f} rows/s")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
