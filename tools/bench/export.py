"""Benchmark: `write_apkg` against plain genanki writing the same notes; and `flashcore export
anki --with-scheduling` on the engine benchmark's synthetic collection.

    python -m tools.bench.export [--notes 35000] [--repeat 3]
    python -m tools.bench.export --collection [--cards 50000] [--reviews 1000000] [--runs 3]
                                 [--keep DIR]

`--collection` builds (or takes from `--keep DIR`, the cache `python -m tools.bench --keep DIR
--no-anki` fills) the 50,000-card / 1,000,000-review collection, then runs the whole command
`--runs` times on a fresh copy, each time after the background work of the one before
(the first command of the day's backup) is done: wall time with the load average beside it,
CPU time (user + system) and peak RSS of the process, the package's size, and whether every
run wrote the same bytes (same database, same clock). Targets (issue 19): 10 s, 150 MB.

Each variant runs in its own process (so peak RSS is its own): the notes are built first, then
the whole export call is timed (best of `--repeat`), then run once more under tracemalloc.
Memory is reported as the call's Python heap peak (tracemalloc) and the growth of the process's
peak RSS over what the inputs already took. Plain genanki gets the same notes with the least
conversion a working exporter needs (fields joined, spaces in tags replaced) and writes with
`Package.write_to_file` (uncompressed zip; its leaked temporary database is removed here).
"""

from __future__ import annotations

import argparse
import gc
import hashlib
import json
import os
import random
import resource
import statistics
import subprocess
import sys
import tempfile
import time
import tracemalloc
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import genanki

from flashcore.core.model import CardState, NoteKind
from flashcore.exporters.anki import (
    BASIC_MODEL,
    CLOZE_MODEL,
    ExportCard,
    ExportNote,
    ExportReview,
    deck_id_for,
    guid_for,
    write_apkg,
)

NOW = datetime(2026, 3, 1, 12, tzinfo=UTC)
VARIANTS = ("genanki", "flashcore", "flashcore+scheduling")
_VOCABULARY = (
    "mast cell IgE histamine eosinophil complement C3b opsonin neutrophil macrophage "
    "interleukin TNF-alpha interferon gamma T-helper cytotoxic CD8 CD4 MHC class antigen "
    "presentation B cell plasma antibody isotype switching affinity maturation germinal "
    "center lymph node spleen thymus selection tolerance anergy apoptosis Fas ligand "
    "perforin granzyme natural killer cell dendritic Langerhans vaccine adjuvant hapten"
)
_WORDS = _VOCABULARY.split()
_DECKS = [f"Step 1::{s}" for s in ("Immunology", "Microbiology", "Pharmacology", "Pathology")] + [
    f"Step 1::Microbiology::{s}" for s in ("Bacteria", "Viruses", "Fungi", "Parasites")
]


def _sentence(rng: random.Random, words: int) -> str:
    return " ".join(rng.choice(_WORDS) for _ in range(words))


def _new_card(ord_: int) -> ExportCard:
    return ExportCard.unstudied(ord_, NOW)


def _card(rng: random.Random, ord_: int, scheduled: bool) -> ExportCard:
    """A new card, or (scheduled, 60%) a review card with 1-6 Good answers on time."""
    if not scheduled or rng.random() < 0.4:
        return _new_card(ord_)
    at = NOW - timedelta(days=rng.randint(20, 200), seconds=rng.randint(0, 86_399))
    stability, difficulty, before = 2.3, rng.uniform(3, 8), CardState.NEW
    reviews: list[ExportReview] = []
    while at < NOW and len(reviews) < 6:
        stability *= 2.2
        due = at + timedelta(days=max(1, round(stability)))
        reviews.append(
            ExportReview(
                reviewed_at=at,
                rating=3,
                duration_ms=rng.randint(2_000, 30_000),
                state_before=before,
                state_after=CardState.REVIEW,
                due_after=due,
                stability_after=stability,
                difficulty_after=difficulty,
                desired_retention=0.9,
            )
        )
        at, before = due + timedelta(seconds=rng.randint(0, 40_000)), CardState.REVIEW
    last = reviews[-1]
    return ExportCard(
        ord=ord_,
        state=CardState.REVIEW,
        due=last.due_after,
        step=None,
        stability=stability,
        difficulty=difficulty,
        last_review=last.reviewed_at,
        reps=len(reviews),
        lapses=0,
        desired_retention=0.9,
        suspended=rng.random() < 0.05,
        flagged=rng.random() < 0.02,
        reviews=tuple(reviews),
    )


def make_notes(count: int, scheduled: bool) -> list[ExportNote]:
    """Deterministic synthetic notes: 60% basic, 40% cloze with 2-3 deletions."""
    notes = []
    for i in range(count):
        rng = random.Random(f"bench:{i}")
        deck = rng.choice(_DECKS)
        extra = _sentence(rng, rng.randint(0, 30))
        fields: dict[str, str]
        cards: tuple[ExportCard, ...]
        if rng.random() < 0.6:
            kind = NoteKind.BASIC
            fields = {"front": _sentence(rng, 14) + "?", "back": _sentence(rng, 20)}
            if extra:
                fields["extra"] = extra
            cards = (_card(rng, 0, scheduled),)
        else:
            kind, n = NoteKind.CLOZE, rng.randint(2, 3)
            text = " ".join(
                f"{_sentence(rng, 8)} {{{{c{k}::{_sentence(rng, 2)}}}}}" for k in range(1, n + 1)
            )
            fields = {"text": text, "extra": extra}
            cards = tuple(_card(rng, k, scheduled) for k in range(1, n + 1))
        notes.append(
            ExportNote(
                key=f"bench:{i}",
                kind=kind,
                fields=fields,
                deck_name=deck,
                html=rng.random() < 0.3,
                tags=("high-yield", f"block {i % 7}"),
                topics=(f"{deck.split('::')[1]}::{_sentence(rng, 2)}::{_sentence(rng, 2)}",),
                qids=(f"uworld:{100000 + i}",) if rng.random() < 0.5 else (),
                modified_at=NOW - timedelta(days=rng.randint(0, 300)),
                cards=cards,
            )
        )
    return notes


def plain_genanki(notes: list[ExportNote], path: Path) -> None:
    """What a straightforward genanki exporter does with the same notes."""
    decks: dict[str, genanki.Deck] = {}
    for note in notes:
        deck = decks.get(note.deck_name)
        if deck is None:
            deck = decks[note.deck_name] = genanki.Deck(deck_id_for(note.deck_name), note.deck_name)
        tags = [t.replace(" ", "_") for t in (*note.tags, *note.topics, *note.qids)]
        if note.kind is NoteKind.CLOZE:
            model, fields = CLOZE_MODEL, [note.fields["text"], note.fields.get("extra", "")]
        else:
            model = BASIC_MODEL
            fields = [note.fields["front"], note.fields["back"], note.fields.get("extra", "")]
        deck.add_note(genanki.Note(model=model, fields=fields, tags=tags, guid=guid_for(note.key)))
    genanki.Package(list(decks.values())).write_to_file(str(path), timestamp=NOW.timestamp())


def _run_one(variant: str, count: int, repeat: int) -> dict[str, float]:
    notes = make_notes(count, scheduled=variant.endswith("scheduling"))
    with tempfile.TemporaryDirectory(prefix="flashcore-bench-") as folder:
        out = Path(folder) / "out.apkg"
        leaks = Path(folder) / "genanki-tmp"
        leaks.mkdir()
        tempfile.tempdir = str(leaks)  # genanki leaves one database per export: keep it here

        def call() -> None:
            if variant == "genanki":
                plain_genanki(notes, out)
            else:
                write_apkg(notes, out, with_scheduling=variant.endswith("scheduling"), now=NOW)
            for leaked in leaks.iterdir():
                leaked.unlink()

        gc.collect()
        rss_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        seconds = min(_timed(call) for _ in range(repeat))
        rss_growth = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - rss_before
        gc.collect()
        tracemalloc.start()
        call()
        heap_peak = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
        size = out.stat().st_size
        tempfile.tempdir = None
    return {
        "seconds": seconds,
        "heap_peak_mb": heap_peak / 2**20,
        "rss_growth_mb": rss_growth / 1024,
        "size_mb": size / 2**20,
        "cards": sum(len(n.cards) for n in notes),
    }


def _timed(call: Callable[[], None]) -> float:
    start = time.perf_counter()
    call()
    return time.perf_counter() - start


_MEASURED = """
import json, os, sys, time
start = time.perf_counter()
pid = os.fork()
if pid == 0:
    try:
        os.execvp(sys.argv[2], sys.argv[2:])
    finally:
        os._exit(127)
_pid, status, usage = os.wait4(pid, 0)
with open(sys.argv[1], "w") as out:
    json.dump({"seconds": time.perf_counter() - start, "cpu": usage.ru_utime + usage.ru_stime,
               "maxrss_kb": usage.ru_maxrss, "code": os.waitstatus_to_exitcode(status)}, out)
"""


def collection_case(cards: int, reviews: int, runs: int, keep: Path | None) -> dict[str, Any]:
    """`flashcore export anki --with-scheduling` as a whole process on the synthetic collection."""
    from tools.bench import engine
    from tools.bench.safety import fresh_copy, wait_background

    opts = engine.parse_args(["--no-anki", "--cards", str(cards), "--reviews", str(reviews)])
    with tempfile.TemporaryDirectory(prefix="flashcore-bench-export-") as folder:
        work = Path(folder)
        cache = keep if keep is not None else work / "cache"
        cache.mkdir(parents=True, exist_ok=True)
        built = engine.ensure_built(opts, cache)
        db = work / "flashcore.sqlite3"
        fresh_copy(built.fc_path, db)
        env = engine.child_env(work, db, built.meta["now_iso"])
        command = [*engine.flashcore_command(), "export", "anki", "--with-scheduling", "--json"]
        subprocess.run([*engine.flashcore_command(), "due"], env=env, check=True,
                       capture_output=True)  # fmt: skip  # the first command of the day
        samples, digests = [], set()
        for run in range(runs):
            wait_background()
            out = work / f"run{run}.apkg"
            result = work / "result.json"
            load = os.getloadavg()
            done = subprocess.run(
                [sys.executable, "-c", _MEASURED, str(result), *command, "-o", str(out)],
                env=env, capture_output=True, text=True,
            )  # fmt: skip
            measured = json.loads(result.read_text())
            if measured["code"] != 0:
                raise SystemExit(f"export failed: {done.stderr.strip()}")
            digests.add(hashlib.sha256(out.read_bytes()).hexdigest())
            samples.append({**measured, "load": load, "bytes": out.stat().st_size})
            out.unlink()
        return {
            "cards": cards,
            "reviews": reviews,
            "runs": samples,
            "seconds": statistics.median(s["seconds"] for s in samples),
            "cpu": statistics.median(s["cpu"] for s in samples),
            "maxrss_mb": max(s["maxrss_kb"] for s in samples) / 1024,
            "size_mb": samples[0]["bytes"] / 2**20,
            "same_bytes": len(digests) == 1,
        }


def render_collection(r: dict[str, Any]) -> str:
    lines = [
        f"export anki --with-scheduling, {r['cards']:,} cards / {r['reviews']:,} reviews "
        f"({len(r['runs'])} runs, whole processes)",
        f"  median wall {r['seconds']:.2f} s, median CPU {r['cpu']:.2f} s, "
        f"peak RSS {r['maxrss_mb']:.0f} MB (targets: 10 s, 150 MB); "
        f"package {r['size_mb']:.1f} MB, same bytes every run: {'yes' if r['same_bytes'] else 'NO'}",
    ]
    for i, s in enumerate(r["runs"], start=1):
        load = " ".join(f"{x:.2f}" for x in s["load"])
        lines.append(
            f"  run {i}: wall {s['seconds']:.2f} s, CPU {s['cpu']:.2f} s, "
            f"RSS {s['maxrss_kb'] / 1024:.0f} MB, load average {load}"
        )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--notes", type=int, default=35_000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--collection", action="store_true",
                        help="export the synthetic collection with its history instead")  # fmt: skip
    parser.add_argument("--cards", type=int, default=50_000)
    parser.add_argument("--reviews", type=int, default=1_000_000)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--keep", type=Path, help="cache folder of the built collection")
    parser.add_argument("--json", action="store_true", help="print the collection case as JSON")
    parser.add_argument("--one", choices=VARIANTS, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.collection:
        found = collection_case(args.cards, args.reviews, args.runs, args.keep)
        print(json.dumps(found) if args.json else render_collection(found))
        return 0
    if args.one:
        print(json.dumps(_run_one(args.one, args.notes, args.repeat)))
        return 0
    results = {}
    for variant in VARIANTS:
        command = [sys.executable, "-m", "tools.bench.export", "--one", variant]
        command += ["--notes", str(args.notes), "--repeat", str(args.repeat)]
        done = subprocess.run(command, check=True, capture_output=True, text=True)
        results[variant] = json.loads(done.stdout)
    base = results["genanki"]
    print(f"{args.notes} notes, best of {args.repeat}; ratios against plain genanki")
    header = f"{'variant':<22}{'cards':>7}{'time s':>9}{'x':>6}{'heap MB':>9}{'x':>6}"
    print(header + f"{'RSS+ MB':>9}{'size MB':>9}")
    for variant, r in results.items():
        print(
            f"{variant:<22}{r['cards']:>7}{r['seconds']:>9.2f}"
            f"{r['seconds'] / base['seconds']:>6.2f}{r['heap_peak_mb']:>9.1f}"
            f"{r['heap_peak_mb'] / base['heap_peak_mb']:>6.2f}{r['rss_growth_mb']:>9.1f}"
            f"{r['size_mb']:>9.1f}"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
