"""Benchmark: the reviewer's memory while a student leaves it open on a card.

    python -m tools.bench.idle [--minutes 10] [--speed 1] [--every 10] [--json]

A fresh profile (the starter decks) in a temporary FLASHCORE_HOME; `flashcore review` runs on a
pseudo-terminal (the reader of `tools.bench.tui`), Enter starts the session and the first card
stays on screen, its clock redrawn every second, for `--minutes` of wall time. The reviewer's
resident memory (VmRSS) is read every `--every` seconds. `--speed N` runs the reviewer under
Debian's `faketime -f '+0 xN'` (not a Python dependency: install the `faketime` package), so an
hour on screen takes 60/N minutes.

It reports the memory at the start and the end and the growth per hour on screen, fitted over
the second half of the samples (the first minutes include the screen's own first allocations).
Before the idle collection of the reviewer's one-second tick (flashcore.tui.collector.idle_tick)
an open card grew ~14 MB an hour; a figure near zero is the target.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path

from tools.bench.engine import BenchError
from tools.bench.tui import HOME_READY, Terminal

CARD_SHOWN = b"show answer"
HOME_READING = 3.0  # seconds on Home before Enter, as a student reads it (Enter at once on
# the first paint left the collector on for the whole session: no hold, no growth to see)


def resident_kb(pid: int) -> int:
    """VmRSS of `pid`, or of its first descendant that runs Python (under `faketime`)."""
    for _ in range(5):
        try:
            kids = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
        except OSError:
            kids = []
        if not kids:
            break
        pid = int(kids[0])
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    raise BenchError(f"no VmRSS for process {pid}")


def growth_per_hour(samples: Sequence[tuple[float, int]], speed: float) -> float:
    """KB per hour on screen: the least-squares slope of the later half of (seconds, KB)."""
    later = list(samples[len(samples) // 2 :])
    if len(later) < 2:
        return 0.0
    mean_t = sum(t for t, _ in later) / len(later)
    mean_k = sum(k for _, k in later) / len(later)
    var = sum((t - mean_t) ** 2 for t, _ in later)
    if var == 0:
        return 0.0
    slope = sum((t - mean_t) * (k - mean_k) for t, k in later) / var  # KB per wall second
    return slope * 3600 / speed


def run(minutes: float, speed: float, every: float) -> dict[str, object]:
    home = Path(tempfile.mkdtemp(prefix="flashcore-idle-"))
    env = {k: v for k, v in os.environ.items() if k not in ("FLASHCORE_NOW", "FLASHCORE_DB")}
    env["FLASHCORE_HOME"] = str(home)
    cmd = [sys.executable, "-m", "flashcore", "review"]
    if speed != 1:
        if shutil.which("faketime") is None:
            raise BenchError("--speed needs Debian's faketime (apt-get install faketime)")
        cmd = ["faketime", "-f", f"+0 x{speed:g}", *cmd]
    term = Terminal(cmd, env)
    try:
        term.wait_for(HOME_READY, timeout=120)
        time.sleep(HOME_READING)
        mark = term.mark()
        term.send(b"\r")
        term.wait_for(CARD_SHOWN, since=mark, timeout=60)
        time.sleep(2)
        start, drawn = time.monotonic(), sum(len(d) for _, d in term.chunks)
        samples = [(0.0, resident_kb(term.proc.pid))]
        while samples[-1][0] < minutes * 60:
            time.sleep(every)
            samples.append((time.monotonic() - start, resident_kb(term.proc.pid)))
        drawn = sum(len(d) for _, d in term.chunks) - drawn
    finally:
        code = term.close(b"qq")
        shutil.rmtree(home, ignore_errors=True)
    if code != 0:
        raise BenchError(f"flashcore review exited {code}: {term.tail()!r}")
    return {
        "wall_minutes": round(samples[-1][0] / 60, 2),
        "screen_minutes": round(samples[-1][0] * speed / 60, 1),
        "speed": speed,
        "rss_start_kb": samples[0][1],
        "rss_end_kb": samples[-1][1],
        "growth_kb": samples[-1][1] - samples[0][1],
        "growth_kb_per_hour": round(growth_per_hour(samples, speed)),
        "bytes_drawn": drawn,
        "load_average": os.getloadavg()[0],
    }


def main(argv: Sequence[str] | None = None) -> int:
    p = argparse.ArgumentParser(
        prog="python -m tools.bench.idle", description=__doc__.split("\n")[0]
    )
    p.add_argument("--minutes", type=float, default=10.0, help="wall minutes on the card (10)")
    p.add_argument("--speed", type=float, default=1.0, help="faketime speed-up (1: real clock)")
    p.add_argument("--every", type=float, default=10.0, help="seconds between samples (10)")
    p.add_argument("--json", action="store_true", help="one JSON object")
    args = p.parse_args(argv)
    try:
        result = run(args.minutes, args.speed, args.every)
    except BenchError as exc:
        print(f"bench idle: {exc}", file=sys.stderr)
        return 1
    if args.json:
        print(json.dumps(result))
    else:
        print(
            f"reviewer left on a card {result['screen_minutes']} min on screen "
            f"({result['wall_minutes']} wall, speed {args.speed:g}): RSS "
            f"{result['rss_start_kb']} -> {result['rss_end_kb']} KB "
            f"(+{result['growth_kb']}), {result['growth_kb_per_hour']} KB/hour on screen "
            f"(later half), load {result['load_average']:.1f}"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
