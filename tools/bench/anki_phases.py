"""Where a first `decks add --with-scheduling` of the AnKing-sized package spends its CPU, phase
by phase (issue 16): the package `tools.bench.anki_import` builds (kept in `--work`), imported
into a fresh SQLite profile with each phase's thread CPU time added up.

    python -m tools.bench.anki_phases --work /tmp/flashcore-bench-anki [--runs 3] [--stage always]
        [--timeline]

The phases are the import's own functions, wrapped by name while it runs (a renamed function
is reported as missing, not timed); a part called from two phases adds up in one line. The
staging thread's work is timed on its own thread (`stage thread`), every other phase on the
import's. Prints each run with the load average: compare runs only at a like load. `--timeline` also
prints each phase's wall span per thread (the import's and the staging thread's chains).
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
from collections import defaultdict
from pathlib import Path

from tools.bench.anki_import import build, peak_rss_mb
from tools.bench.anki_import import run_queue_wait as _run_queue_wait
from tools.bench.qbank_phases import timed_phases

_SCHED = "flashcore.services.anki_scheduling"
_SYNC = "flashcore.storage.anki_attached"
# (module, attribute path, label): the import's phases, outermost first.
PHASES = (
    ("flashcore.services.anki_import", "read_package", "reading the package"),
    ("flashcore.services.anki_import", "open_package", "  opening it (collection extracted)"),
    ("flashcore.services.anki_import", "convert", "  the notes' conversion"),
    ("flashcore.services.backup", "restore_point", "restore point"),
    ("flashcore.services.anki_identity", "exported_guids", "own notes coming back"),
    ("flashcore.storage.repos", "upsert_deck", "notes, cards and links written"),
    ("flashcore.storage.bulk_cards", "recount_topic_cards", "  topic counts after"),
    (_SCHED, "import_from_package", "scheduling, in all"),
    (_SCHED, "package_card_ids", "  the cards paired"),
    (_SCHED, "_adopt_preset", "  the preset"),
    (_SCHED, "_bulk", "  the review log"),
    ("flashcore.services.anki_stage", "AnswerStaging.result", "    waiting for the stage"),
    (_SYNC, "AttachedCollection.insert_imported_answers", "    the answers inserted"),
    (_SCHED, "_first_states", "  the cards' states and anchors"),
    (_SCHED, "_decode", "    the cards' data decoded"),
    ("flashcore.storage.repos", "renumber_new_cards", "new-card places"),
    ("flashcore.services.anki_unchanged", "stamp_after_import", "the re-import's stamp"),
    ("flashcore.storage.uow", "_check_keys", "foreign keys checked"),
    ("sqlalchemy.orm", "Session.commit", "commits"),
    ("flashcore.services.decks", "_refresh_after", "weights and statistics after"),
    ("flashcore.storage.anki_stage", "StageDb.stage", "stage thread: the answers staged"),
    ("flashcore.services.anki_days", "fill_days", "stage thread: day tables (+ import's)"),
)


def run_once(package: Path, stage: str, timeline: bool = False) -> None:
    from flashcore.core.clock import SystemClock
    from flashcore.services import Flashcore, anki_stage
    from flashcore.services.decks import add_decks

    if stage != "auto":
        anki_stage.spare_core = lambda: stage == "always"  # type: ignore[assignment]
    with tempfile.TemporaryDirectory() as folder:
        db = Path(folder) / "flashcore.sqlite3"
        with Flashcore.open(f"sqlite:///{db}", clock=SystemClock(), create=True) as fc:
            spent: dict[str, float] = defaultdict(float)
            spans: list[tuple[float, float, float, str, str]] = []
            load = os.getloadavg()[0]
            with timed_phases(spent, PHASES, spans if timeline else None) as missing:
                waited = _run_queue_wait()
                began = time.perf_counter()
                wall, cpu, own = began, time.process_time(), time.thread_time()
                reports = add_decks(fc, [package], prune=False, with_scheduling=True)
                wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
                own = time.thread_time() - own
                waited = _run_queue_wait() - waited
    assert reports[0].ok, reports[0].problems[:3]
    print(f"first import: wall {wall:.2f} s, CPU {cpu:.2f} s, the import's thread {own:.2f} s,"
          f" peak RSS {peak_rss_mb():.0f} MB (load average {load:.2f} before,"
          f" {os.getloadavg()[0]:.2f} after)")  # fmt: skip
    print(f"  the import's thread: {own:.2f} s on a core, {waited:.2f} s waiting for one,"
          f" {wall - own - waited:.2f} s asleep (I/O, locks, waiting for its threads)")  # fmt: skip
    top = 0.0
    for _module, _path, label in PHASES:
        if label in spent:
            print(f"  {label:40s} {spent[label]:.3f}")
            if not label.startswith((" ", "stage")):
                top += spent[label]
    print(f"  {'the rest (import thread)':40s} {own - top:.3f}")
    if missing:
        print("  not timed (renamed?): " + ", ".join(missing))
    if timeline:
        print_timeline(spans, began, wall)


def print_timeline(
    spans: list[tuple[float, float, float, str, str]], began: float, wall: float
) -> None:
    """Each phase's wall time span in the import, thread by thread (the calls of one phase in
    one thread from the first's start to the last's end, their CPU added up): which work
    overlaps, and where a thread waits for the other."""
    merged: dict[tuple[str, str], list[float]] = {}
    for start, end, cpu, label, thread in spans:
        span = merged.setdefault((thread, label), [start, end, 0.0, 0])
        span[0], span[1] = min(span[0], start), max(span[1], end)
        span[2] += cpu
        span[3] += 1
    width = 48
    print(f"timeline (wall seconds from the start; {width} columns = {wall:.2f} s):")
    for (thread, label), (start, end, cpu, calls) in sorted(
        merged.items(), key=lambda item: item[1][0]
    ):
        a = int((start - began) / wall * width) if wall > 0 else 0
        b = max(a + 1, int((end - began) / wall * width)) if wall > 0 else 1
        bar = " " * a + "#" * (b - a)
        times = f"{start - began:5.2f}-{end - began:5.2f} cpu {cpu:5.2f}"
        print(f"  {bar:{width}} {times} {thread[:14]:14} {label.strip()} (x{calls})")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tools.bench.anki_phases", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)  # fmt: skip
    parser.add_argument("--work", type=Path, default=Path("/tmp/flashcore-bench-anki"))
    parser.add_argument("--runs", type=int, default=1)
    parser.add_argument("--notes", type=int, default=35_000)
    parser.add_argument("--revlog", type=int, default=1_000_000)
    parser.add_argument("--media", type=int, default=200)
    parser.add_argument("--stage", choices=("auto", "always", "never"), default="always")
    parser.add_argument("--timeline", action="store_true",
                        help="each phase's wall span, thread by thread")  # fmt: skip
    args = parser.parse_args(argv)
    args.work.mkdir(parents=True, exist_ok=True)
    package = build(args.work, args.notes, args.revlog, args.media)
    for _ in range(args.runs):
        run_once(package, args.stage, args.timeline)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
