"""Benchmark: flashcore against the real Anki backend on one synthetic Step 1-sized collection.

    python -m tools.bench [--cards 50000] [--reviews 1000000] [--runs 5] [--no-anki]
                              [--no-safety] [--json] [--keep DIR]

It builds one collection (50,000 cards over 20 decks and 500 topics, some cloze notes with 2-3
cards, 1,000,000 review-log rows, 10,000 new cards, 300 in learning, 2,200 reviews due today)
and writes it twice: into flashcore's own schema (migrated by `Flashcore.open`; decks, topics
and notes through Core inserts on the models' tables, cards and the review log through
executemany on SQLAlchemy's connection, since SQLAlchemy's per-row parameter handling would
double the build) and into a real Anki collection with FSRS on (set up with Anki's API, rows
written in bulk with SQL). Card histories are replayed through `fsrs` (a few hundred simulated
students' histories, reused), so stability and difficulty are what FSRS computes.
Then, in fresh processes, it measures the medians of:

1. today's queue, cold (`build_queue(fc, limit=1)` right after opening: every card ranked, the
   counts and the first card, which is what Anki's `col.sched.get_queued_cards()` returns) and
   warm; also the full listing (`limit=None`, every queued card with its note, deck and topics,
   as `due --json` prints it); Anki: `col.sched.get_queued_cards()` right after opening;
2. preview + answer + next card, p50 / p99 / max over `--answers` answers on a fresh copy
   (flashcore: `show`, `answer`, `StudySession.queue()` as the reviewer does; Anki: the card and
   `describe_next_states` (no HTML rendering), `answer_card`, `get_queued_cards`);
3. `flashcore due --json` and `flashcore --help` as whole processes; Anki's whole process
   (import, open, queue);
4. peak memory (ru_maxrss) of the `due --json` process and of the answering process;
5. the safety work a student meets (`tools.bench.safety`, skipped with `--no-safety`):
   the first command of the day beside the warm one, four imports in one day and what the
   automatic backups then take on disk, the wait for an import's restore point.

The answering loop is reported with and without the deferred WAL work (the checkpoint
`StudySession.idle` runs every 10 answers, in a worker of the reviewer while the student reads).

Both collections use the same limits (20 new a day, `--reviews-per-day` reviews, siblings
buried, reviews by lowest retrievability). Anki reads the wall clock, so the collection is built
around the wall-clock time of the build and flashcore runs with FLASHCORE_NOW frozen at that
instant. Nothing is written outside a temporary folder unless `--keep DIR` names a cache folder
(a cache holding an Anki collection is rebuilt when it is more than an hour old, since Anki's
"today" moves with the wall clock).
"""

from __future__ import annotations

import argparse
import bisect
import contextlib
import functools
import hashlib
import json
import math
import os
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

if TYPE_CHECKING:
    from sqlalchemy import Table

BENCH_VERSION = 3
SEED = 20261125
MB = 1024 * 1024

# Shape of the synthetic collection (counts scale with --cards).
DECK_NAMES = (
    "Anatomy", "Behavioral", "Biochemistry", "Biostatistics", "Cardiology", "Dermatology",
    "Endocrinology", "Gastroenterology", "Hematology", "Immunology", "Microbiology",
    "Musculoskeletal", "Nephrology", "Neurology", "Pathology", "Pharmacology", "Physiology",
    "Psychiatry", "Pulmonology", "Reproductive",
)  # fmt: skip
LEAVES_PER_SYSTEM = 24  # 20 systems + 20 x 24 leaves = 500 topics
CLOZE_SHARE = 0.12
NEW_SHARE = 0.20
LEARNING_PER_50K = 300
DUE_TODAY_PER_50K = 2200
SUSPENDED_SHARE = 0.01
OVERDUE_DAYS = 5
FUTURE_DAYS = 365
MAX_ANSWERS_PER_HISTORY = 100
MAX_HISTORY_YEARS = 8
ANKI_DAYS_BEFORE = 4000  # Anki's collection creation day, this many days before today

# Anki ids: notes and cards get their own ranges (Anki ids are millisecond stamps by habit).
ANKI_NOTE_BASE = 1_300_000_000_000
ANKI_CARD_BASE = 1_400_000_000_000
ANKI_FSRS_DECAY = 0.1542

NEW, LEARNING, REVIEW, RELEARNING = 0, 1, 2, 3

TARGETS = {
    "file_size": "database file <= 1.5x Anki's",
    "queue_cold": "cold queue build <= Anki's",
    "answer_next_p50": "answer + next p50 <= 0.5 ms",
    "answer_next_p99": "answer + next p99 <= 2 ms",
    "due_json_process": "due --json process <= 1.5x Anki's process",
    "help_process": "--help <= 60 ms",
    "rss_due_json": "peak memory (due --json) <= 120 MB",
    "rss_in_process": "peak memory (answering) <= 120 MB",
}


def log(message: str) -> None:
    """Progress goes to stderr, so `--json` keeps stdout to one document."""
    sys.stderr.write(f"bench: {message}\n")
    sys.stderr.flush()


# ---------------------------------------------------------------- options


@dataclass(frozen=True, slots=True)
class Options:
    cards: int = 50_000
    reviews: int = 1_000_000
    runs: int = 5
    answer_runs: int = 3
    answers: int = 500
    anki: bool = True
    json: bool = False
    keep: Path | None = None
    reviews_per_day: int = 9999
    seed: int = SEED
    safety: bool = True

    def cache_key(self) -> dict[str, Any]:
        return {
            "bench_version": BENCH_VERSION,
            "cards": self.cards,
            "reviews": self.reviews,
            "reviews_per_day": self.reviews_per_day,
            "seed": self.seed,
        }


def parse_args(argv: Sequence[str] | None) -> Options:
    p = argparse.ArgumentParser(
        prog="python -m tools.bench",
        description="Benchmark flashcore against the real Anki backend on a synthetic collection.",
        epilog="example: python -m tools.bench --runs 5 --keep /tmp/fc-bench",
    )
    p.add_argument("--cards", type=int, default=50_000, help="cards (default 50000)")
    p.add_argument("--reviews", type=int, default=1_000_000, help="review-log rows")
    p.add_argument("--runs", type=int, default=5, help="runs per process measurement")
    p.add_argument("--answer-runs", type=int, default=3, help="runs of the answering loop")
    p.add_argument("--answers", type=int, default=500, help="answers per answering run")
    p.add_argument("--no-anki", action="store_true", help="skip the Anki side")
    p.add_argument("--no-safety", action="store_true",
                   help="skip the safety section (first command of the day, imports, backups)")  # fmt: skip
    p.add_argument("--json", action="store_true", help="print the results as one JSON document")
    p.add_argument("--keep", type=Path, help="cache the built collections in this folder")
    p.add_argument(
        "--reviews-per-day",
        type=int,
        default=9999,
        help="review limit in both apps (default 9999, so a run never hits it)",
    )
    p.add_argument("--seed", type=int, default=SEED, help=argparse.SUPPRESS)
    a = p.parse_args(argv)
    if a.cards < 100 or a.reviews < a.cards or a.runs < 1 or a.answer_runs < 1 or a.answers < 1:
        p.error("need --cards >= 100, --reviews >= --cards, and positive run counts")
    return Options(
        cards=a.cards,
        reviews=a.reviews,
        runs=a.runs,
        answer_runs=a.answer_runs,
        answers=a.answers,
        anki=not a.no_anki,
        json=a.json,
        keep=a.keep.resolve() if a.keep else None,
        reviews_per_day=a.reviews_per_day,
        seed=a.seed,
        safety=not a.no_safety,
    )


# ---------------------------------------------------------------- histories through fsrs


@dataclass(frozen=True, slots=True)
class Step:
    """One answer of a simulated history; times are seconds from the history's first answer."""

    at: int
    rating: int
    state_before: int
    step_before: int | None
    stability_before: float | None
    difficulty_before: float | None
    due_before: int
    last_review_before: int | None
    lapses_before: int
    retention_before: float | None
    state_after: int
    step_after: int | None
    stability_after: float
    difficulty_after: float
    due_after: int
    reps_after: int
    lapses_after: int
    anki_ivl: int  # Anki's revlog convention: days, or negative seconds while learning
    anki_last_ivl: int
    anki_type: int  # 0 learn, 1 review, 2 relearn


def simulate_histories(count: int, seed: int) -> list[list[Step]]:
    """`count` students' histories of one card each, answered through flashcore's fsrs adapter
    (which runs `fsrs.Scheduler`): reviews happen when due (up to two days late), a review is
    recalled with the probability FSRS predicts, learning steps are failed one time in five."""
    from flashcore.core import fsrs_adapter
    from flashcore.core.model import CardState, Rating, Schedule
    from flashcore.core.settings import Settings

    policy = fsrs_adapter.Policy.from_settings(Settings())
    curve = fsrs_adapter.curve(policy)
    base = datetime(2000, 1, 1, tzinfo=UTC)
    span = timedelta(days=365 * MAX_HISTORY_YEARS)

    def secs(value: datetime) -> int:
        return int((value - base).total_seconds())

    histories = []
    for index in range(count):
        rng = random.Random(f"{seed}:history:{index}")
        schedule = Schedule(state=CardState.NEW, due=base)
        now = base
        steps: list[Step] = []
        last_ivl = 0
        for n in range(MAX_ANSWERS_PER_HISTORY):
            if n:
                late = rng.randrange(0, 2 * 86400 if schedule.state is CardState.REVIEW else 600)
                now = max(now, schedule.due) + timedelta(seconds=late)
            if now - base > span:
                break
            if schedule.state is CardState.REVIEW and schedule.memory and schedule.last_review:
                recall = curve.retrievability(schedule.memory.stability, schedule.last_review, now)
                x = rng.random()
                if rng.random() >= recall:
                    rating = Rating.AGAIN
                else:
                    rating = Rating.HARD if x < 0.08 else Rating.EASY if x > 0.93 else Rating.GOOD
            else:
                x = rng.random()
                rating = (
                    Rating.AGAIN
                    if x < 0.2
                    else Rating.HARD
                    if x < 0.25
                    else Rating.EASY
                    if x > 0.95
                    else Rating.GOOD
                )
            new = fsrs_adapter.answer(index + 1, schedule, rating, now, 0.9, policy)
            assert new.memory is not None
            wait = secs(new.due) - secs(now)
            ivl = max(1, round(wait / 86400)) if new.state is CardState.REVIEW else -wait
            before = schedule.memory
            steps.append(
                Step(
                    at=secs(now),
                    rating=int(rating),
                    state_before=int(schedule.state),
                    step_before=schedule.step,
                    stability_before=before.stability if before else None,
                    difficulty_before=before.difficulty if before else None,
                    due_before=secs(schedule.due),
                    last_review_before=secs(schedule.last_review) if schedule.last_review else None,
                    lapses_before=schedule.lapses,
                    retention_before=None if schedule.state is CardState.NEW else 0.9,
                    state_after=int(new.state),
                    step_after=new.step,
                    stability_after=new.memory.stability,
                    difficulty_after=new.memory.difficulty,
                    due_after=secs(new.due),
                    reps_after=new.reps,
                    lapses_after=new.lapses,
                    anki_ivl=ivl,
                    anki_last_ivl=last_ivl,
                    anki_type={NEW: 0, LEARNING: 0, REVIEW: 1, RELEARNING: 2}[int(schedule.state)],
                )
            )
            last_ivl = ivl
            schedule = new
        histories.append(steps)
    return histories


# ---------------------------------------------------------------- the collection's plan


@dataclass(slots=True)
class NotePlan:
    note_id: int
    deck: int
    cloze: bool
    topics: tuple[int, ...]
    created: int = 0  # epoch seconds


@dataclass(slots=True)
class CardPlan:
    card_id: int
    note_id: int
    ord: int  # flashcore's ordinal: 0 for basic notes, the cloze number for cloze notes
    kind: str  # new | learning | due | later
    suspended: bool = False
    history: int = -1
    first: int = 0  # the card's log rows are history[first:end]
    end: int = 0
    shift: int = 0  # epoch seconds of the history's time 0

    def last(self, histories: list[list[Step]]) -> Step:
        return histories[self.history][self.end - 1]


@dataclass(slots=True)
class Plan:
    now: int
    rollover: int
    histories: list[list[Step]]
    topics: list[tuple[int, str, int | None]]  # id, path, parent id
    notes: list[NotePlan]
    cards: list[CardPlan]
    stats: dict[str, int] = field(default_factory=dict)


def topic_paths() -> list[tuple[int, str, int | None]]:
    out: list[tuple[int, str, int | None]] = []
    for system in DECK_NAMES:
        parent = len(out) + 1
        out.append((parent, system, None))
        for leaf in range(1, LEAVES_PER_SYSTEM + 1):
            out.append((len(out) + 1, f"{system}::Topic {leaf:02d}", parent))
    return out


def _pick_end(ends: list[int], target: int) -> int:
    i = bisect.bisect_left(ends, target)
    if i == 0:
        return ends[0]
    if i == len(ends):
        return ends[-1]
    return ends[i] if ends[i] - target < target - ends[i - 1] else ends[i - 1]


def plan_collection(opts: Options, now: int, rollover: int) -> Plan:
    """Notes, cards and which slice of which history each card carries, placed in time."""
    rng = random.Random(opts.seed)
    scale = opts.cards / 50_000
    histories = simulate_histories(max(40, min(300, opts.cards // 150)), opts.seed)
    review_ends = [[j + 1 for j, s in enumerate(h) if s.state_after == REVIEW] for h in histories]
    learn_ends = [
        [j + 1 for j, s in enumerate(h) if s.state_after in (LEARNING, RELEARNING)]
        for h in histories
    ]
    topics = topic_paths()
    leaves_by_system = [[t for t in topics if t[2] == s[0]] for s in topics if s[2] is None]

    notes: list[NotePlan] = []
    cards: list[CardPlan] = []
    while len(cards) < opts.cards:
        note_id = len(notes) + 1
        left = opts.cards - len(cards)
        cloze = rng.random() < CLOZE_SHARE and left >= 2
        count = min(left, rng.choice((2, 2, 3))) if cloze else 1
        deck = rng.randrange(len(DECK_NAMES))
        own = leaves_by_system[deck] if rng.random() < 0.8 else rng.choice(leaves_by_system)
        chosen = {rng.choice(own)[0] for _ in range(rng.choice((1, 1, 2)))}
        notes.append(NotePlan(note_id, deck, cloze, tuple(sorted(chosen))))
        for k in range(count):
            ords = k + 1 if cloze else 0
            cards.append(CardPlan(len(cards) + 1, note_id, ords, "later"))

    # The newest notes are the ones not yet studied.
    new_target = round(opts.cards * NEW_SHARE)
    note_of_last = -1
    for marked, card in enumerate(reversed(cards)):
        if marked >= new_target and card.note_id != note_of_last:
            break
        card.kind = "new"
        note_of_last = card.note_id
    studied = [c for c in cards if c.kind != "new"]
    rng.shuffle(studied)
    n_learning = max(2, round(LEARNING_PER_50K * scale))
    n_due = max(5, round(DUE_TODAY_PER_50K * scale))
    for c in studied[:n_learning]:
        c.kind = "learning"
    for c in studied[n_learning : n_learning + n_due]:
        c.kind = "due"
    for c in rng.sample(cards, round(opts.cards * SUSPENDED_SHARE)):
        if c.kind in ("new", "later"):
            c.suspended = True

    # Each studied card: a history and how far into it the card is.
    mean = opts.reviews / max(1, len(studied))
    total = 0
    for c in studied:
        ends_for = learn_ends if c.kind == "learning" else review_ends
        while True:
            c.history = rng.randrange(len(histories))
            if ends_for[c.history]:
                break
        target = max(1, round(rng.gammavariate(2.0, mean / 2.0)))
        c.end = _pick_end(ends_for[c.history], target)
        total += c.end
    # Hit the review count exactly: move some cards further along their history, then drop the
    # oldest rows of others (as if those answers predate the log).
    reviewable = [c for c in studied if c.kind != "learning"]
    stalls = 0
    while total < opts.reviews and stalls < 50 * len(reviewable):
        c = rng.choice(reviewable)
        ends = review_ends[c.history]
        i = bisect.bisect_right(ends, c.end)
        if i == len(ends):
            stalls += 1
            continue
        total += ends[i] - c.end
        c.end = ends[i]
    excess = total - opts.reviews
    while excess > 0:
        c = rng.choice(studied)
        drop = min(excess, c.end - c.first - 1, rng.randint(1, 8))
        if drop > 0:
            c.first += drop
            excess -= drop
    if excess < 0:
        log(f"histories hold only {opts.reviews + excess} answers; asked for {opts.reviews}")

    # Place each history in time. Nothing was answered yet today (so both apps start the day
    # with 20 new cards to introduce): learning cards are left over from the last session,
    # reviews were last answered before today's study day began.
    day_start = rollover - 86400
    for c in studied:
        last = c.last(histories)
        wait = last.due_after - last.at
        if c.kind == "learning":
            last_review = day_start - rng.randrange(60, 6 * 3600)
        elif c.kind == "due":
            due = rng.randrange(now - OVERDUE_DAYS * 86400, rollover)
            last_review = min(due - wait, day_start - 60)
        else:
            lo, hi = rollover, min(day_start + wait, now + FUTURE_DAYS * 86400)
            due = rng.randrange(lo, hi) if hi > lo else lo
            last_review = due - wait
        c.shift = last_review - last.at
    by_note: dict[int, list[CardPlan]] = {}
    for c in cards:
        by_note.setdefault(c.note_id, []).append(c)
    for note in notes:
        starts = [c.shift + histories[c.history][0].at for c in by_note[note.note_id] if c.end]
        note.created = min(starts) - 60 if starts else now - rng.randrange(86400, 90 * 86400)
    plan = Plan(now, rollover, histories, topics, notes, cards)
    plan.stats = {
        "cards": len(cards),
        "notes": len(notes),
        "cloze_notes": sum(n.cloze for n in notes),
        "decks": len(DECK_NAMES),
        "topics": len(topics),
        "review_logs": sum(c.end - c.first for c in studied),
        "new": sum(c.kind == "new" for c in cards),
        "learning": sum(c.kind == "learning" for c in cards),
        "due_reviews": sum(c.kind == "due" for c in cards),
        "later_reviews": sum(c.kind == "later" for c in cards),
        "suspended": sum(c.suspended for c in cards),
        "histories": len(histories),
    }
    return plan


# ---------------------------------------------------------------- writing both collections

EPOCH = datetime(1970, 1, 1)  # naive on purpose: SQLite stores UTC without an offset
_DAY_TEXT: dict[int, str] = {}


@functools.cache
def _times_of_day() -> list[str]:
    return [
        f"{h:02d}:{m:02d}:{s:02d}.000000" for h in range(24) for m in range(60) for s in range(60)
    ]


def stamp(seconds: int) -> str:
    """The text SQLAlchemy's SQLite DATETIME writes for this whole-second UTC instant (what
    flashcore's UTCDateTime stores), made from two lookups: four million values through the
    type's Python bind processors would take longer than the rest of the build."""
    day, second = divmod(seconds, 86400)
    text = _DAY_TEXT.get(day)
    if text is None:
        text = _DAY_TEXT[day] = (EPOCH + timedelta(days=day)).date().isoformat()
    return f"{text} {_times_of_day()[second]}"


def _check_stamp_format() -> None:
    from sqlalchemy.dialects import sqlite

    process = sqlite.DATETIME().bind_processor(sqlite.dialect())  # type: ignore[no-untyped-call]
    assert process is not None
    for sample in (0, 1_795_570_007, 1_795_570_007 + 86399):
        if process(EPOCH + timedelta(seconds=sample)) != stamp(sample):
            raise BenchError("SQLAlchemy's SQLite datetime text changed; update bench.stamp")


class BenchError(Exception):
    """A failure of the benchmark itself (a child process failed, a collection is wrong)."""


@dataclass(frozen=True, slots=True)
class AnkiIds:
    basic: int
    cloze: int
    decks: tuple[int, ...]
    today: int


def _local_day(seconds: int, zone: ZoneInfo) -> int:
    from flashcore.core import studyday

    return studyday.study_date(datetime.fromtimestamp(seconds, UTC), zone, 4).toordinal()


def _note_text(note: NotePlan, cards: int) -> tuple[dict[str, str], list[str]]:
    system = DECK_NAMES[note.deck]
    if note.cloze:
        parts = [
            f"In {system} case {note.note_id}, {{{{c1::the characteristic finding}}}} results "
            f"from {{{{c2::the underlying mechanism}}}}",
            " and is treated with {{c3::the first-line drug}}" if cards > 2 else "",
        ]
        return {"text": "".join(parts) + ".", "extra": "From the bench collection."}, [
            "text",
            "extra",
        ]
    return {
        "front": f"{system} case {note.note_id}: which finding best explains this vignette?",
        "back": f"Answer {note.note_id}: the classic finding, its mechanism and first-line care.",
    }, ["front", "back"]


def prepare_anki(path: Path, opts: Options, plan: Plan, zone: ZoneInfo) -> AnkiIds:
    """A new Anki collection with FSRS on, the decks and the same limits; Anki's API for all
    of it. Notes, cards and the review log are then written in bulk with SQL."""
    from anki.collection import Collection

    col = Collection(str(path))
    try:
        col.set_config("fsrs", True)
        parent = col.decks.id("Step 1")
        decks = tuple(int(col.decks.id(f"Step 1::{name}") or 0) for name in DECK_NAMES)
        assert parent is not None and col.db is not None
        conf = col.decks.config_dict_for_deck_id(parent)
        conf["new"]["perDay"] = 20
        conf["new"]["bury"] = True
        conf["rev"]["perDay"] = opts.reviews_per_day
        conf["rev"]["bury"] = True
        conf["buryInterdayLearning"] = True
        conf["reviewOrder"] = 7  # REVIEW_CARD_ORDER_RETRIEVABILITY_ASCENDING
        conf["newGatherPriority"] = 1  # NEW_CARD_GATHER_PRIORITY_LOWEST_POSITION
        conf["desiredRetention"] = 0.9
        col.decks.update_config(conf)
        col.decks.select(parent)
        basic = int(col.models.by_name("Basic")["id"])  # type: ignore[index]
        cloze = int(col.models.by_name("Cloze")["id"])  # type: ignore[index]
        from flashcore.core import studyday

        today = studyday.study_date(datetime.fromtimestamp(plan.now, UTC), zone, 4)
        crt = studyday.day_start_of(today - timedelta(days=ANKI_DAYS_BEFORE), zone, 4)
        col.db.execute("update col set crt = ?", int(crt.timestamp()))
    finally:
        col.close()
    col = Collection(str(path))
    try:
        anki_today = int(col.sched.today)
    finally:
        col.close()
    if anki_today != ANKI_DAYS_BEFORE:
        raise BenchError(f"Anki's day is {anki_today}, expected {ANKI_DAYS_BEFORE}")
    return AnkiIds(basic, cloze, decks, anki_today)


def _bulk_engine(path: Path) -> Any:
    from sqlalchemy import create_engine, event

    engine = create_engine(f"sqlite:///{path}")

    def pragmas(dbapi_connection: Any, _record: Any) -> None:
        cursor = dbapi_connection.cursor()
        for pragma in (
            "journal_mode=MEMORY",
            "synchronous=OFF",
            "cache_size=-262144",
            "temp_store=MEMORY",
            "foreign_keys=OFF",
        ):
            cursor.execute(f"PRAGMA {pragma}")
        cursor.close()

    event.listen(engine, "connect", pragmas)
    return engine


def write_collections(
    plan: Plan, opts: Options, fc_path: Path, anki_path: Path | None, timezone: str
) -> None:
    """Migrate a fresh flashcore file, then write the plan into it (and into Anki) in bulk."""
    import sqlite3

    from sqlalchemy import insert

    from flashcore.core import topics as topic_keys
    from flashcore.core.clock import FixedClock
    from flashcore.core.introduction import NewOrder
    from flashcore.services.collection import Flashcore
    from flashcore.storage.db import url_for_path
    from flashcore.storage.models import Card, Deck, Note, NoteTopic, ReviewLog, Topic
    from flashcore.storage.repos import renumber_new_cards
    from flashcore.storage.uow import run_write

    _check_stamp_format()
    now_dt = datetime.fromtimestamp(plan.now, UTC)
    with Flashcore.open(
        url_for_path(fc_path), clock=FixedClock(now_dt), create=True, timezone=timezone
    ) as fc:
        fc.config_set("reviews_per_day", str(opts.reviews_per_day))
        profile = fc.profile_id
        # The scheduler configuration the log rows name, recorded the way answering does.
        scheduler = getattr(fc, "scheduler_id", None)
        optional_log_values = {
            "scheduler_id": run_write(fc.engine, scheduler) if scheduler else None,
            "buried_until_before": None,
        }
    zone = ZoneInfo(timezone)
    ids = prepare_anki(anki_path, opts, plan, zone) if anki_path else None

    h = plan.histories
    notes = {n.note_id: n for n in plan.notes}
    cards_per_note: dict[int, int] = {}
    for c in plan.cards:
        cards_per_note[c.note_id] = cards_per_note.get(c.note_id, 0) + 1

    card_columns = _writable_columns(Card, CARD_COLUMNS, {})
    log_extra = _writable_columns(ReviewLog, LOG_COLUMNS, optional_log_values)[len(LOG_COLUMNS) :]
    log_columns = (*LOG_COLUMNS, *log_extra)
    log_constants = tuple(optional_log_values[c] for c in log_extra)

    engine = _bulk_engine(fc_path)
    anki = sqlite3.connect(anki_path) if anki_path else None
    try:
        if anki is not None:
            for pragma in ("synchronous=OFF", "cache_size=-262144", "temp_store=MEMORY"):
                anki.execute(f"PRAGMA {pragma}")
        with engine.connect() as conn:
            # Decks, topics, notes and their topics: the models' own tables (types and all).
            conn.execute(
                insert(_table(Deck)),
                [
                    {"id": i + 1, "profile_id": profile, "key": name.lower(),
                     "name": f"Step 1::{name}", "description": "", "html": False,
                     "source": "flashcore.bench", "created_at": now_dt, "updated_at": now_dt}
                    for i, name in enumerate(DECK_NAMES)
                ],
            )  # fmt: skip
            conn.execute(
                insert(_table(Topic)),
                [
                    {"id": tid, "profile_id": profile, "path": path,
                     "key": topic_keys.path_key(path), "parent_id": parent, "weight": 0.0,
                     "reason": ""}
                    for tid, path, parent in plan.topics
                ],
            )  # fmt: skip
            note_rows = []
            anki_notes = []
            for n in plan.notes:
                fields, names = _note_text(n, cards_per_note[n.note_id])
                key = f"{DECK_NAMES[n.deck].lower()}:n{n.note_id:06d}"
                created = datetime.fromtimestamp(n.created, UTC)
                note_rows.append(
                    {"id": n.note_id, "profile_id": profile, "deck_id": n.deck + 1, "key": key,
                     "kind": "cloze" if n.cloze else "basic", "fields": fields, "tags": [],
                     "content_hash": hashlib.sha256(key.encode()).hexdigest(), "removed": False,
                     "source_line": None, "created_at": created, "modified_at": created}
                )  # fmt: skip
                if ids is not None:
                    first = fields[names[0]]
                    tags = " ".join(
                        "#Step1::" + plan.topics[t - 1][1].replace(" ", "_") for t in n.topics
                    )
                    anki_notes.append(
                        (ANKI_NOTE_BASE + n.note_id, f"fc{n.note_id:08d}",
                         ids.cloze if n.cloze else ids.basic, n.created, -1,
                         f" {tags} " if tags else "", "\x1f".join(fields[k] for k in names),
                         first, int(hashlib.sha1(first.encode()).hexdigest()[:8], 16), 0, "")
                    )  # fmt: skip
            conn.execute(insert(_table(Note)), note_rows)
            conn.execute(
                insert(_table(NoteTopic)),
                [{"note_id": n.note_id, "topic_id": t} for n in plan.notes for t in n.topics],
            )
            # Cards: scheduling columns from the end of each card's history.
            card_rows = []
            anki_cards = []
            for c in plan.cards:
                note = notes[c.note_id]
                if c.end:
                    s = c.last(h)
                    last_review = s.at + c.shift
                    due = s.due_after + c.shift
                    row = {"state": s.state_after, "step": s.step_after,
                           "stability": s.stability_after, "difficulty": s.difficulty_after,
                           "due": stamp(due), "last_review": stamp(last_review),
                           "reps": s.reps_after, "lapses": s.lapses_after,
                           "desired_retention": 0.9, "version": s.reps_after,
                           "modified_at": stamp(last_review)}  # fmt: skip
                else:
                    row = {"state": NEW, "step": None, "stability": None, "difficulty": None,
                           "due": stamp(note.created), "last_review": None, "reps": 0,
                           "lapses": 0, "desired_retention": None, "version": 0,
                           "modified_at": stamp(note.created)}  # fmt: skip
                row.update(
                    id=c.card_id, profile_id=profile, note_id=c.note_id, ord=c.ord,
                    suspended=c.suspended, buried_until=None, flagged=False, leech=False,
                    weight=0.0, weak_topic_id=None,
                )  # fmt: skip
                card_rows.append(row)
                if ids is not None:
                    anki_cards.append(_anki_card(c, note, plan, ids, zone))
            conn.exec_driver_sql(
                _insert_sql(conn, "cards", card_columns),
                [tuple(row[c] for c in card_columns) for row in card_rows],
            )
            # The new cards' introduction order, as `decks add` stores it (the default order).
            renumber_new_cards(conn, profile, NewOrder.INTERLEAVED)
            if anki is not None:
                anki.executemany(f"insert into notes values ({','.join('?' * 11)})", anki_notes)
                anki.executemany(f"insert into cards values ({','.join('?' * 18)})", anki_cards)
            # The review log in time order with its indexes in place, in both apps, as
            # answering writes it. (Indexes built after a bulk load are packed full, so each
            # answer's log row would split a leaf of the per-card index, ~6 more pages
            # written per answer than a collection reviewed day by day, in either app.)
            log_sql = _insert_sql(conn, "review_logs", log_columns)
            for fc_chunk, anki_chunk in _log_rows(plan, profile, anki is not None, zone):
                if log_constants:
                    fc_chunk = [row + log_constants for row in fc_chunk]
                conn.exec_driver_sql(log_sql, fc_chunk)
                if anki is not None:
                    anki.executemany("insert into revlog values (?,?,?,?,?,?,?,?,?)", anki_chunk)
            conn.commit()
            if anki is not None:
                anki.commit()
            written = conn.exec_driver_sql("select count(*) from review_logs").scalar()
            if written != plan.stats["review_logs"]:
                raise BenchError(f"wrote {written} review logs, planned {plan.stats}")
        with engine.connect() as conn:
            conn.exec_driver_sql("PRAGMA journal_mode=WAL")
    finally:
        engine.dispose()
        if anki is not None:
            anki.close()


def _table(model: Any) -> Table:
    """A model's Table (typed as such for the checker)."""
    table: Table = model.__table__
    return table


def _anki_card(c: CardPlan, note: NotePlan, plan: Plan, ids: AnkiIds, zone: ZoneInfo) -> tuple:  # type: ignore[type-arg]
    """One `cards` row in Anki's schema, FSRS memory state in `data`."""
    cid, nid = ANKI_CARD_BASE + c.card_id, ANKI_NOTE_BASE + note.note_id
    did = ids.decks[note.deck]
    ordinal = c.ord - 1 if note.cloze else 0
    if not c.end:
        queue = -1 if c.suspended else 0
        return (cid, nid, did, ordinal, note.created, -1, 0, queue, note.note_id, 0, 0, 0, 0,
                0, 0, 0, 0, "")  # fmt: skip
    s = c.last(plan.histories)
    last_review, due = s.at + c.shift, s.due_after + c.shift
    data = json.dumps(
        {"s": round(s.stability_after, 4), "d": round(s.difficulty_after, 3), "dr": 0.9,
         "decay": ANKI_FSRS_DECAY, "lrt": last_review},
        separators=(",", ":"),
    )  # fmt: skip
    if s.state_after == REVIEW:
        kind, queue, factor, left = 2, 2, 2500, 0
        due_day = ids.today + _local_day(due, zone) - _local_day(plan.now, zone)
        ivl = max(1, _local_day(due, zone) - _local_day(last_review, zone))
        due_value = due_day
    elif s.state_after == LEARNING:
        kind, queue, factor, ivl, due_value = 1, 1, 0, 0, due
        left = 2 - (s.step_after or 0)  # learning steps 1m 10m
    else:
        kind, queue, factor, due_value = 3, 1, 2500, due
        ivl = max(1, round(s.stability_after))
        left = 1 - (s.step_after or 0)  # relearning step 10m
    if c.suspended:
        queue = -1
    return (cid, nid, did, ordinal, last_review, -1, kind, queue, due_value, ivl, factor,
            s.reps_after, s.lapses_after, left, 0, 0, 0, data)  # fmt: skip


CARD_COLUMNS = (
    "id", "profile_id", "note_id", "ord", "state", "step", "stability", "difficulty", "due",
    "last_review", "reps", "lapses", "desired_retention", "suspended", "buried_until", "flagged",
    "leech", "weight", "weak_topic_id", "version", "modified_at",
)  # fmt: skip


def _writable_columns(model: Any, known: Sequence[str], optional: dict[str, Any]) -> list[str]:
    """`known` columns, then the table's other columns the bench has a value for. A column the
    bench does not know is left to its default when it may be; otherwise the build stops with
    a clear message (the schema changed under the benchmark)."""
    table_columns = {c.name: c for c in model.__table__.columns}
    gone = [c for c in known if c not in table_columns]
    if gone:
        raise BenchError(f"{model.__tablename__} has no column {', '.join(gone)}: update bench")
    extra = []
    for name, col in table_columns.items():
        if name in known or (col.primary_key and name == "id"):
            continue
        if name in optional:
            extra.append(name)
        elif not (col.nullable or col.server_default is not None):
            raise BenchError(f"{model.__tablename__}.{name} is new and required: update bench")
    return [*known, *extra]


# The review log's columns in the order `_log_rows` fills them (checked against the model).
LOG_COLUMNS = (
    "profile_id", "card_id", "reviewed_at", "rating", "duration_ms", "desired_retention",
    "reason", "state_before", "due_before", "last_review_before", "lapses_before",
    "packed_before", "state_after", "step_after", "stability_after", "difficulty_after",
    "due_after", "leeched", "buried_siblings", "elapsed_days",
)  # fmt: skip
MICROS = 1_000_000  # the review log's times: UTC microseconds since the epoch (UTCMicros)


def _insert_sql(conn: Any, table_name: str, columns: Sequence[str]) -> str:
    """INSERT text for a driver-level executemany (SQLAlchemy's per-row parameter handling
    costs more than SQLite itself for a million rows)."""
    quote = conn.dialect.identifier_preparer.quote
    names = ", ".join(quote(c) for c in columns)
    marks = ", ".join("?" for _ in columns)
    return f"INSERT INTO {quote(table_name)} ({names}) VALUES ({marks})"


def _log_rows(
    plan: Plan, profile: int, anki: bool, zone: ZoneInfo, chunk: int = 20_000
) -> Iterator[tuple[list[tuple[Any, ...]], list[tuple[int, ...]]]]:
    """Review-log rows for both schemas, in time order (as an app would have written them)."""
    from flashcore.storage.types import pack_before, to_retention

    retention = to_retention(0.9)
    h = plan.histories
    cards = plan.cards
    if len(cards) >= 1 << 20:
        raise BenchError("at most about a million cards")
    keys: list[int] = []
    for ci, c in enumerate(cards):
        if c.end:
            steps = h[c.history]
            for j in range(c.first, c.end):
                keys.append(((steps[j].at + c.shift) << 27) | (ci << 7) | j)
    keys.sort()
    last_id = 0
    # Each card's last row, as answering compares it: an answer given to the card exactly as
    # its previous answer left it is written chained (its before-state NULL, read from there).
    after: dict[int, tuple[Any, ...]] = {}
    days: dict[int, int] = {}  # quarter hour -> study day (answering records elapsed days)

    def day(seconds: int) -> int:
        quarter = seconds // 900
        found = days.get(quarter)
        if found is None:
            found = days[quarter] = _local_day(quarter * 900, zone)
        return found

    for start in range(0, len(keys), chunk):
        fc_rows: list[tuple[Any, ...]] = []
        anki_rows: list[tuple[int, ...]] = []
        for key in keys[start : start + chunk]:
            c = cards[(key >> 7) & 0xFFFFF]
            s = h[c.history][key & 0x7F]
            at = key >> 27
            shift = c.shift
            duration = 2000 + (at * 7 + c.card_id * 131) % 14000
            lr = s.last_review_before
            before = (s.step_before, s.stability_before, s.difficulty_before,
                      (s.due_before + shift) * MICROS, None if lr is None else (lr + shift) * MICROS,
                      s.retention_before)  # fmt: skip
            chained = after.get(c.card_id) == before
            after[c.card_id] = (s.step_after, s.stability_after, s.difficulty_after,
                                (s.due_after + shift) * MICROS, at * MICROS, 0.9)  # fmt: skip
            # As storage.types stores them: the rest of the before-state packed (NULL when
            # chained or all None), the retention as stored (0.9: 0.0), no buried sibling as NULL.
            if chained:
                due_before = last_before = packed = None
            else:
                due_before, last_before = before[3], before[4]
                packed = pack_before((before[0], before[1], before[2], before[5], None))
            fc_rows.append(
                (profile, c.card_id, at * MICROS, s.rating, duration, retention, "", s.state_before,
                 due_before, last_before, s.lapses_before, packed, s.state_after, s.step_after,
                 s.stability_after, s.difficulty_after, (s.due_after + shift) * MICROS, False,
                 None, 0 if lr is None else max(0, day(at) - day(lr + shift)))
            )  # fmt: skip
            if anki:
                last_id = max(at * 1000, last_id + 1)
                anki_rows.append(
                    (last_id, ANKI_CARD_BASE + c.card_id, -1, s.rating, s.anki_ivl,
                     s.anki_last_ivl, round(s.difficulty_after * 100), duration, s.anki_type)
                )  # fmt: skip
        yield fc_rows, anki_rows


# ---------------------------------------------------------------- the cache


@dataclass(frozen=True, slots=True)
class Built:
    fc_path: Path
    anki_path: Path | None
    meta: dict[str, Any]
    reused: bool


def _remove_sqlite(path: Path) -> None:
    for suffix in ("", "-wal", "-shm", "-journal"):
        with contextlib.suppress(FileNotFoundError):
            path.with_name(path.name + suffix).unlink()


def schema_digest() -> str:
    """A fingerprint of flashcore's schema (models and migrations), so a cached collection
    is rebuilt when either changes, even without a new Alembic revision."""
    from flashcore.storage import models
    from flashcore.storage.migrate import migrations_dir

    digest = hashlib.sha256(Path(models.__file__).read_bytes())
    for path in sorted((migrations_dir() / "versions").glob("*.py")):
        digest.update(path.name.encode() + path.read_bytes())
    return digest.hexdigest()[:16]


def ensure_built(opts: Options, cache: Path) -> Built:
    """The pristine collections in `cache`, built now unless a usable cached copy is there."""
    from flashcore.cli import system_timezone
    from flashcore.core import studyday

    fc_path = cache / "flashcore.sqlite3"
    anki_dir = cache / "anki"
    anki_path = anki_dir / "collection.anki2" if opts.anki else None
    meta_path = cache / "meta.json"
    timezone = system_timezone()
    zone = ZoneInfo(timezone)
    wall = int(time.time())
    if meta_path.exists() and fc_path.exists():
        meta = json.loads(meta_path.read_text())
        usable = meta.get("key") == opts.cache_key() and meta.get("schema") == schema_digest()
        if opts.anki:
            same_day = _local_day(wall, zone) == _local_day(int(meta.get("now", 0)), zone)
            usable = usable and bool(meta.get("anki")) and same_day
            usable = usable and wall - int(meta.get("now", 0)) < 3600
            usable = usable and anki_path is not None and anki_path.exists()
        if usable:
            log(f"reusing the collection cached in {cache}")
            return Built(fc_path, anki_path, meta, True)
        log(f"the cache in {cache} is stale or for other options; rebuilding")
    _remove_sqlite(fc_path)
    shutil.rmtree(anki_dir, ignore_errors=True)
    meta_path.unlink(missing_ok=True)
    if anki_path is not None:
        anki_dir.mkdir(parents=True)
    started = time.perf_counter()
    now = wall
    rollover = int(studyday.next_rollover(datetime.fromtimestamp(now, UTC), zone, 4).timestamp())
    log(f"planning {opts.cards} cards and {opts.reviews} review-log rows (histories via fsrs)")
    plan = plan_collection(opts, now, rollover)
    planned = time.perf_counter() - started
    log(f"planned in {planned:.1f}s; writing flashcore" + (" and Anki" if anki_path else ""))
    write_collections(plan, opts, fc_path, anki_path, timezone)
    meta = {
        "key": opts.cache_key(),
        "schema": schema_digest(),
        "now": now,
        "now_iso": datetime.fromtimestamp(now, UTC).isoformat(),
        "timezone": timezone,
        "anki": anki_path is not None,
        "stats": plan.stats,
        "plan_seconds": round(planned, 2),
        "build_seconds": round(time.perf_counter() - started, 2),
        "flashcore_bytes": fc_path.stat().st_size,
        "anki_bytes": anki_path.stat().st_size if anki_path else None,
    }
    meta_path.write_text(json.dumps(meta, indent=2))
    log(f"built in {meta['build_seconds']}s")
    return Built(fc_path, anki_path, meta, False)


# ---------------------------------------------------------------- child processes

FC_QUEUE = """
import json, sys, time
a = json.loads(sys.argv[1])
t0 = time.perf_counter()
from flashcore.core.clock import FixedClock, parse_instant
from flashcore.services.collection import Flashcore
from flashcore.services.study import build_queue
t1 = time.perf_counter()
fc = Flashcore.open(a["url"], clock=FixedClock(parse_instant(a["now"])))
t2 = time.perf_counter()
q = build_queue(fc, limit=1)
t3 = time.perf_counter()
build_queue(fc, limit=None)
t4 = time.perf_counter()
warm, warm1 = [], []
for _ in range(a["warm"]):
    s = time.perf_counter()
    build_queue(fc, limit=None)
    warm.append(time.perf_counter() - s)
    s = time.perf_counter()
    build_queue(fc, limit=1)
    warm1.append(time.perf_counter() - s)
fc.close()
print(json.dumps({"import": t1 - t0, "open": t2 - t1, "cold": t3 - t2, "full_first": t4 - t3,
                  "warm": warm, "warm1": warm1, "new": q.new, "learning": q.learning,
                  "review": q.review}))
"""

ANKI_QUEUE = """
import json, sys, time
a = json.loads(sys.argv[1])
t0 = time.perf_counter()
from anki.collection import Collection
t1 = time.perf_counter()
col = Collection(a["path"])
t2 = time.perf_counter()
q = col.sched.get_queued_cards()
t3 = time.perf_counter()
counts = {"new": q.new_count, "learning": q.learning_count, "review": q.review_count}
col.close()
print(json.dumps({"import": t1 - t0, "open": t2 - t1, "cold": t3 - t2, **counts}))
"""

ANKI_WHOLE = """
import sys
from anki.collection import Collection
col = Collection(sys.argv[1])
col.sched.get_queued_cards()
col.close()
"""

_RATING_DRAW = """
def draw(rng):
    x = rng.random()
    rating = 1 if x < 0.10 else 2 if x < 0.15 else 4 if x > 0.95 else 3
    return rating, rng.uniform(4.0, 12.0)
"""

FC_ANSWERS = (
    """
import json, random, sys, time
from datetime import timedelta
a = json.loads(sys.argv[1])
from flashcore.core.clock import FixedClock, parse_instant
from flashcore.core.model import Rating
from flashcore.services.collection import Flashcore
from flashcore.services.study import StudySession
"""
    + _RATING_DRAW
    + """
clock = FixedClock(parse_instant(a["now"]))
fc = Flashcore.open(a["url"], clock=clock)
rng = random.Random(a["seed"])
session = StudySession(fc)  # what the review screen keeps between answers
q = session.queue(details=False)  # the reviewer reads the card's details with show()
card = q.items[0].card_id if q.items else None
rows = []
while card is not None and len(rows) < a["answers"]:
    rating, think = draw(rng)
    t0 = time.perf_counter()
    view = session.show(card)
    t1 = time.perf_counter()
    clock.advance(timedelta(seconds=think))
    t2 = time.perf_counter()
    session.answer(
        card, Rating(rating), duration_ms=round(think * 1000), expect_version=view.version
    )
    t3 = time.perf_counter()
    q = session.queue(details=False)
    t4 = time.perf_counter()
    card = q.items[0].card_id if q.items else None
    session.idle()  # as the reviewer does in a worker while the student reads (a checkpoint)
    rows.append((t1 - t0, t3 - t2, t4 - t3, time.perf_counter() - t4))
session.close()
fc.close()
print(json.dumps({"rows": rows}))
"""
)

ANKI_ANSWERS = (
    """
import json, random, sys, time
a = json.loads(sys.argv[1])
from anki.collection import Collection
from anki.cards import Card
from anki.scheduler.v3 import CardAnswer
"""
    + _RATING_DRAW
    + """
RATINGS = {1: CardAnswer.AGAIN, 2: CardAnswer.HARD, 3: CardAnswer.GOOD, 4: CardAnswer.EASY}
col = Collection(a["path"])
rng = random.Random(a["seed"])
q = col.sched.get_queued_cards()
rows = []
while q.cards and len(rows) < a["answers"]:
    rating, _think = draw(rng)
    t0 = time.perf_counter()
    top = q.cards[0]
    card = Card(col, backend_card=top.card)
    card.start_timer()
    col.sched.describe_next_states(top.states)
    t1 = time.perf_counter()
    col.sched.answer_card(
        col.sched.build_answer(card=card, states=top.states, rating=RATINGS[rating])
    )
    t2 = time.perf_counter()
    q = col.sched.get_queued_cards()
    t3 = time.perf_counter()
    rows.append((t1 - t0, t2 - t1, t3 - t2))
col.close()
print(json.dumps({"rows": rows}))
"""
)


# Linux carries a process's peak RSS across fork + exec, so a child of the (large) benchmark
# process would report the benchmark's own peak. A small launcher forks and execs the measured
# command instead, times it, and writes its wall time and its own peak RSS to a file.
LAUNCHER = """
import json, os, sys, time
start = time.perf_counter()
pid = os.fork()
if pid == 0:
    try:
        os.execvp(sys.argv[2], sys.argv[2:])
    finally:
        os._exit(127)
_pid, status, usage = os.wait4(pid, 0)
seconds = time.perf_counter() - start
with open(sys.argv[1], "w") as out:
    json.dump({"seconds": seconds, "maxrss": usage.ru_maxrss,
               "code": os.waitstatus_to_exitcode(status)}, out)
"""


@dataclass(frozen=True, slots=True)
class Finished:
    seconds: float
    maxrss_mb: float
    stdout: bytes


def run_process(cmd: Sequence[str], env: dict[str, str], scratch: Path) -> Finished:
    """Run a whole process: its wall time and its own peak RSS, stdout captured."""
    err_path = scratch / "child-stderr.txt"
    result_path = scratch / "child-result.json"
    result_path.unlink(missing_ok=True)
    launcher = [sys.executable, "-c", LAUNCHER, str(result_path), *cmd]
    with err_path.open("w+b") as err:
        proc = subprocess.Popen(launcher, stdout=subprocess.PIPE, stderr=err, env=env)
        assert proc.stdout is not None
        with proc.stdout:
            out = proc.stdout.read()
        proc.wait()
        result = json.loads(result_path.read_text()) if result_path.exists() else {"code": -1}
        if proc.returncode != 0 or result["code"] != 0:
            err.seek(0)
            tail = err.read().decode(errors="replace").strip().splitlines()[-5:]
            shown = " ".join(cmd[:3]) if cmd[1:2] != ["-c"] else f"{cmd[0]} -c <script>"
            raise BenchError(f"{shown} exited {result['code']}: " + " | ".join(tail))
    per_mb = MB if sys.platform == "darwin" else 1024  # ru_maxrss: bytes on macOS, KiB else
    return Finished(result["seconds"], result["maxrss"] / per_mb, out)


def python_child(script: str, args: Any, env: dict[str, str], scratch: Path) -> Finished:
    return run_process([sys.executable, "-c", script, json.dumps(args)], env, scratch)


def child_env(scratch: Path, db: Path, now_iso: str) -> dict[str, str]:
    env = dict(os.environ)
    root = str(Path(__file__).resolve().parents[2])  # the checkout: flashcore and tools
    env["PYTHONPATH"] = os.pathsep.join(p for p in (root, env.get("PYTHONPATH", "")) if p)
    env["FLASHCORE_DB"] = str(db)
    env["FLASHCORE_NOW"] = now_iso
    env["FLASHCORE_HOME"] = str(scratch / "home")
    env.pop("FLASHCORE_PROFILE", None)
    return env


def flashcore_command() -> list[str]:
    """The installed `flashcore` script next to this Python, else `python -m flashcore.cli`."""
    script = Path(sys.executable).with_name("flashcore")
    if script.exists():
        return [str(script)]
    return [sys.executable, "-m", "flashcore.cli"]


# ---------------------------------------------------------------- statistics


def ms(seconds: float) -> float:
    return round(seconds * 1000, 3)


def percentile(values: Sequence[float], p: float) -> float:
    """Nearest-rank percentile."""
    ordered = sorted(values)
    return ordered[max(0, math.ceil(p / 100 * len(ordered)) - 1)]


def spread(values: Sequence[float]) -> dict[str, float]:
    return {
        "p50": ms(percentile(values, 50)),
        "p99": ms(percentile(values, 99)),
        "max": ms(max(values)),
    }


def median_of(runs: list[dict[str, float]]) -> dict[str, float]:
    """Per statistic, the median over runs."""
    return {k: round(statistics.median(r[k] for r in runs), 3) for k in runs[0]}


def answer_stats(runs: list[list[list[float]]]) -> dict[str, Any]:
    """Rows of (preview, answer, next) seconds per run -> medians over runs of p50/p99/max."""
    out: dict[str, Any] = {"answered": min(len(r) for r in runs)}
    parts: dict[str, Callable[[list[float]], float]] = {
        "preview_answer_next": lambda row: row[0] + row[1] + row[2],
        "answer_next": lambda row: row[1] + row[2],
        "preview": lambda row: row[0],
        "answer": lambda row: row[1],
        "next": lambda row: row[2],
        # with the deferred WAL work (flashcore's checkpoint every 10 answers, which the
        # reviewer runs in a worker while the student reads; Anki does its own inline)
        "answer_next_deferred": lambda row: row[1] + row[2] + (row[3] if len(row) > 3 else 0),
        "deferred": lambda row: row[3] if len(row) > 3 else 0.0,
    }
    for name, pick in parts.items():
        out[name] = median_of([spread([pick(row) for row in rows]) for rows in runs])
    return out


# ---------------------------------------------------------------- measuring


def compile_package() -> None:
    """Byte-compile flashcore's sources first, as `pip install` does for an installed copy: an
    editable checkout under PYTHONDONTWRITEBYTECODE=1 would otherwise recompile every module in
    every measured process (~60 ms here), a cost no installed flashcore pays. Anki's Python
    package is compiled by its wheel install the same way."""
    import compileall

    import flashcore

    compileall.compile_dir(Path(flashcore.__file__).parent, quiet=1)


def measure(opts: Options, built: Built, work: Path) -> dict[str, Any]:
    """Every measurement, each in a fresh process, flashcore and Anki interleaved run by run.

    A run that fails (say, the code changed under a long benchmark) is reported and left out;
    only a measurement with no successful run at all stops the benchmark."""
    from flashcore.storage.db import url_for_path

    compile_package()
    now_iso = built.meta["now_iso"]
    fc_db = work / "flashcore.sqlite3"
    shutil.copyfile(built.fc_path, fc_db)
    anki_db = None
    if built.anki_path is not None:
        (work / "anki").mkdir()
        anki_db = work / "anki" / "collection.anki2"
        shutil.copyfile(built.anki_path, anki_db)
    env = child_env(work, fc_db, now_iso)
    fc_cmd = flashcore_command()
    errors: list[str] = []
    samples: dict[str, list[Any]] = {}

    def attempt(name: str, action: Callable[[], Any]) -> None:
        from tools.bench.safety import wait_background

        wait_background()  # a backup or check an earlier command started: not this run's
        try:
            samples.setdefault(name, []).append(action())
        except (BenchError, ValueError, KeyError) as exc:
            errors.append(f"{name}: {exc}")
            log(f"{name} run failed: {exc}")

    def fc_queue() -> tuple[Finished, dict[str, Any]]:
        args = {"url": url_for_path(fc_db), "now": now_iso, "warm": 5}
        done = python_child(FC_QUEUE, args, env, work)
        return done, json.loads(done.stdout)

    def anki_queue() -> tuple[Finished, dict[str, Any]]:
        done = python_child(ANKI_QUEUE, {"path": str(anki_db)}, env, work)
        return done, json.loads(done.stdout)

    def due_json() -> Finished:
        done = run_process([*fc_cmd, "due", "--json"], env, work)
        json.loads(done.stdout)  # a whole, valid document
        return done

    def anki_whole() -> Finished:
        return run_process([sys.executable, "-c", ANKI_WHOLE, str(anki_db)], env, work)

    def help_text() -> Finished:
        return run_process([*fc_cmd, "--help"], env, work)

    def python_startup() -> Finished:
        return run_process([sys.executable, "-c", "pass"], env, work)

    def fc_answers(run: int) -> tuple[Finished, list[list[float]]]:
        answer_db = work / "answers.sqlite3"
        _remove_sqlite(answer_db)
        shutil.copyfile(fc_db, answer_db)
        args = {"url": url_for_path(answer_db), "now": now_iso, "seed": opts.seed + run,
                "answers": opts.answers}  # fmt: skip
        try:
            done = python_child(FC_ANSWERS, args, env, work)
        finally:
            _remove_sqlite(answer_db)
        return done, json.loads(done.stdout)["rows"]

    def anki_answers(run: int) -> tuple[Finished, list[list[float]]]:
        anki_run = work / "anki-run"
        shutil.rmtree(anki_run, ignore_errors=True)
        anki_run.mkdir()
        assert anki_db is not None
        shutil.copyfile(anki_db, anki_run / "collection.anki2")
        args = {"path": str(anki_run / "collection.anki2"), "seed": opts.seed + run,
                "answers": opts.answers}  # fmt: skip
        try:
            done = python_child(ANKI_ANSWERS, args, env, work)
        finally:
            shutil.rmtree(anki_run, ignore_errors=True)
        return done, json.loads(done.stdout)["rows"]

    processes: list[tuple[str, Callable[[], Any]]] = [
        ("flashcore queue", fc_queue),
        ("anki queue", anki_queue),
        ("due --json", due_json),
        ("anki process", anki_whole),
        ("--help", help_text),
        ("python -c pass", python_startup),
    ]
    if anki_db is None:
        processes = [p for p in processes if not p[0].startswith("anki")]
    if opts.runs > 1:
        log("warming up (one untimed run of each process)")
        for name, action in processes:
            attempt(f"warm-up {name}", action)
    for run in range(opts.runs):
        log(f"process run {run + 1}/{opts.runs}")
        for name, action in processes:
            attempt(name, action)
    for run in range(opts.answer_runs):
        log(f"answering run {run + 1}/{opts.answer_runs} ({opts.answers} answers each)")
        attempt("flashcore answers", functools.partial(fc_answers, run))
        if anki_db is not None:
            attempt("anki answers", functools.partial(anki_answers, run))

    def got(name: str) -> list[Any]:
        found = [x for x in samples.get(name, []) if not isinstance(x, tuple) or x[1]]
        if not found:
            first = next((e for e in errors if e.startswith(name)), "no answers")
            raise BenchError(f"every {name} run failed ({first})")
        return found

    cold = got("flashcore queue")
    cold_data = [data for _done, data in cold]
    answered = got("flashcore answers")
    due_runs, help_runs = got("due --json"), got("--help")
    startup = got("python -c pass")
    flashcore = {
        "queue_cold_ms": ms(statistics.median(r["cold"] for r in cold_data)),
        "queue_warm_ms": ms(statistics.median(w for r in cold_data for w in r["warm1"])),
        "listing_first_ms": ms(statistics.median(r["full_first"] for r in cold_data)),
        "listing_warm_ms": ms(statistics.median(w for r in cold_data for w in r["warm"])),
        "open_ms": ms(statistics.median(r["open"] for r in cold_data)),
        "import_ms": ms(statistics.median(r["import"] for r in cold_data)),
        "queue_counts": {k: cold_data[0][k] for k in ("new", "learning", "review")},
        **answer_stats([rows for _done, rows in answered]),
        "due_json_process_ms": ms(statistics.median(d.seconds for d in due_runs)),
        "help_process_ms": ms(statistics.median(d.seconds for d in help_runs)),
        "python_startup_ms": ms(statistics.median(d.seconds for d in startup)),
        "rss_due_json_mb": round(statistics.median(d.maxrss_mb for d in due_runs), 1),
        "rss_in_process_mb": round(max(done.maxrss_mb for done, _rows in answered), 1),
        "rss_cold_queue_mb": round(statistics.median(done.maxrss_mb for done, _ in cold), 1),
        "runs": {"queue": len(cold), "due_json": len(due_runs), "help": len(help_runs),
                 "answering": len(answered)},
        "command": " ".join(Path(c).name for c in fc_cmd),
    }  # fmt: skip
    anki: dict[str, Any] | None = None
    if anki_db is not None:
        anki_cold = [data for _done, data in got("anki queue")]
        anki_answered = got("anki answers")
        anki_runs = got("anki process")
        anki = {
            "queue_cold_ms": ms(statistics.median(r["cold"] for r in anki_cold)),
            "open_ms": ms(statistics.median(r["open"] for r in anki_cold)),
            "import_ms": ms(statistics.median(r["import"] for r in anki_cold)),
            "queue_counts": {k: anki_cold[0][k] for k in ("new", "learning", "review")},
            **answer_stats([rows for _done, rows in anki_answered]),
            "whole_process_ms": ms(statistics.median(d.seconds for d in anki_runs)),
            "rss_whole_process_mb": round(statistics.median(d.maxrss_mb for d in anki_runs), 1),
            "rss_in_process_mb": round(max(done.maxrss_mb for done, _ in anki_answered), 1),
            "runs": {"queue": len(anki_cold), "process": len(anki_runs),
                     "answering": len(anki_answered)},
        }  # fmt: skip
    return {"flashcore": flashcore, "anki": anki, "errors": errors}


def evaluate(fc: dict[str, Any], anki: dict[str, Any] | None) -> dict[str, Any]:
    """Ratios flashcore / Anki and the issue's targets, each met, missed or n/a."""

    def ratio(a: float, b: float | None) -> float | None:
        return None if not b else round(a / b, 2)

    ratios: dict[str, float | None] = {}
    if anki is not None:
        ratios = {
            "file_size": ratio(fc["file_mb"], anki.get("file_mb")) if "file_mb" in fc else None,
            "queue_cold": ratio(fc["queue_cold_ms"], anki["queue_cold_ms"]),
            "preview_answer_next_p50": ratio(
                fc["preview_answer_next"]["p50"], anki["preview_answer_next"]["p50"]
            ),
            "preview_answer_next_p99": ratio(
                fc["preview_answer_next"]["p99"], anki["preview_answer_next"]["p99"]
            ),
            "answer_next_p50": ratio(fc["answer_next"]["p50"], anki["answer_next"]["p50"]),
            "answer_next_p99": ratio(fc["answer_next"]["p99"], anki["answer_next"]["p99"]),
            "answer_next_max": ratio(fc["answer_next"]["max"], anki["answer_next"]["max"]),
            "due_json_process": ratio(fc["due_json_process_ms"], anki["whole_process_ms"]),
            "rss_process": ratio(fc["rss_due_json_mb"], anki["rss_whole_process_mb"]),
            "rss_in_process": ratio(fc["rss_in_process_mb"], anki["rss_in_process_mb"]),
        }

    def target(name: str, value: float, limit: float | None, unit: str) -> dict[str, Any]:
        met = None if limit is None else value <= limit
        return {"name": name, "text": TARGETS[name], "value": value, "limit": limit,
                "unit": unit, "met": met}  # fmt: skip

    targets = [
        target(
            "file_size",
            fc.get("file_mb", 0.0),
            round(1.5 * anki["file_mb"], 2) if anki and "file_mb" in anki else None,
            "MB",
        ),
        target("queue_cold", fc["queue_cold_ms"], anki["queue_cold_ms"] if anki else None, "ms"),
        target("answer_next_p50", fc["answer_next"]["p50"], 0.5, "ms"),
        target("answer_next_p99", fc["answer_next"]["p99"], 2.0, "ms"),
        target(
            "due_json_process",
            fc["due_json_process_ms"],
            round(1.5 * anki["whole_process_ms"], 3) if anki else None,
            "ms",
        ),
        target("help_process", fc["help_process_ms"], 60.0, "ms"),
        target("rss_due_json", fc["rss_due_json_mb"], 120.0, "MB"),
        target("rss_in_process", fc["rss_in_process_mb"], 120.0, "MB"),
    ]
    return {"ratios": ratios, "targets": targets}


# ---------------------------------------------------------------- report


def _fmt(value: float | None, digits: int = 2) -> str:
    return "-" if value is None else f"{value:,.{digits}f}"


def render(results: dict[str, Any]) -> str:
    """The results table: flashcore, Anki, the ratio, and the issue's target met or missed."""
    fc, anki = results["flashcore"], results["anki"]
    targets = {t["name"]: t for t in results["targets"]}
    a = anki or {}

    def pick(data: dict[str, Any], *path: str) -> float | None:
        value: Any = data
        for key in path:
            if not isinstance(value, dict) or key not in value:
                return None
            value = value[key]
        return float(value)

    rows: list[tuple[str, float | None, float | None, str | None]] = [
        ("queue build, cold (ms)", pick(fc, "queue_cold_ms"), pick(a, "queue_cold_ms"),
         "queue_cold"),
        ("queue build, warm (ms)", pick(fc, "queue_warm_ms"), None, None),
        ("full listing with details, first call (ms)", pick(fc, "listing_first_ms"),
         None, None),
        ("full listing with details, warm (ms)", pick(fc, "listing_warm_ms"), None, None),
        ("open collection (ms)", pick(fc, "open_ms"), pick(a, "open_ms"), None),
        ("preview+answer+next p50 (ms)", pick(fc, "preview_answer_next", "p50"),
         pick(a, "preview_answer_next", "p50"), None),
        ("preview+answer+next p99 (ms)", pick(fc, "preview_answer_next", "p99"),
         pick(a, "preview_answer_next", "p99"), None),
        ("preview+answer+next max (ms)", pick(fc, "preview_answer_next", "max"),
         pick(a, "preview_answer_next", "max"), None),
        ("answer+next p50 (ms)", pick(fc, "answer_next", "p50"), pick(a, "answer_next", "p50"),
         "answer_next_p50"),
        ("answer+next p99 (ms)", pick(fc, "answer_next", "p99"), pick(a, "answer_next", "p99"),
         "answer_next_p99"),
        ("answer+next max (ms)", pick(fc, "answer_next", "max"), pick(a, "answer_next", "max"),
         None),
        ("  preview p50 (ms)", pick(fc, "preview", "p50"), pick(a, "preview", "p50"), None),
        ("  answer p50 (ms)", pick(fc, "answer", "p50"), pick(a, "answer", "p50"), None),
        ("  next card p50 (ms)", pick(fc, "next", "p50"), pick(a, "next", "p50"), None),
        ("  answer p99 (ms)", pick(fc, "answer", "p99"), pick(a, "answer", "p99"), None),
        ("  next card p99 (ms)", pick(fc, "next", "p99"), pick(a, "next", "p99"), None),
        ("answer+next+deferred WAL work p50 (ms)", pick(fc, "answer_next_deferred", "p50"),
         pick(a, "answer_next_deferred", "p50"), None),
        ("answer+next+deferred WAL work p99 (ms)", pick(fc, "answer_next_deferred", "p99"),
         pick(a, "answer_next_deferred", "p99"), None),
        ("  deferred WAL checkpoint max (ms)", pick(fc, "deferred", "max"), None, None),
        ("process: due --json | Anki import+open+queue (ms)", pick(fc, "due_json_process_ms"),
         pick(a, "whole_process_ms"), "due_json_process"),
        ("process: --help (ms)", pick(fc, "help_process_ms"), None, "help_process"),
        ("process: python -c pass, the floor (ms)", pick(fc, "python_startup_ms"), None, None),
        ("peak RSS: due --json | Anki process (MB)", pick(fc, "rss_due_json_mb"),
         pick(a, "rss_whole_process_mb"), "rss_due_json"),
        ("peak RSS: answering process (MB)", pick(fc, "rss_in_process_mb"),
         pick(a, "rss_in_process_mb"), "rss_in_process"),
    ]  # fmt: skip
    rows.insert(0, ("database file (MB)", pick(fc, "file_mb"), pick(a, "file_mb"), "file_size"))
    header = ("metric", "flashcore", "Anki", "ratio", "target", "status")
    table = [header]
    for label, mine, theirs, name in rows:
        ratio = None if mine is None or not theirs else mine / theirs
        t = targets.get(name) if name else None
        status = "" if t is None else "n/a" if t["met"] is None else "met" if t["met"] else "MISSED"
        table.append((label, _fmt(mine), _fmt(theirs), _fmt(ratio), t["text"] if t else "",
                      status))  # fmt: skip
    widths = [max(len(r[i]) for r in table) for i in range(len(header))]
    lines = []
    for i, r in enumerate(table):
        cells = [r[0].ljust(widths[0])] + [
            c.rjust(w) for c, w in zip(r[1:4], widths[1:4], strict=True)
        ]
        cells += [r[4].ljust(widths[4]), r[5]]
        lines.append("  ".join(cells).rstrip())
        if i == 0:
            lines.append("  ".join("-" * w for w in widths))
    c = results["collection"]
    m = results["machine"]
    title = (
        f"flashcore vs Anki {results.get('anki_version') or '(not run)'}: {c['cards']:,} cards, "
        f"{c['review_logs']:,} review logs, {c['notes']:,} notes ({c['cloze_notes']:,} cloze), "
        f"{c['decks']} decks, {c['topics']} topics"
    )
    fq, aq = c["flashcore_queue"], c.get("anki_queue")
    queue_line = (
        f"today's queue: flashcore {fq['learning']} learning + {fq['review']} review + "
        f"{fq['new']} new"
        + (
            f"; Anki {aq['learning']} learning + {aq['review']} review + {aq['new']} new"
            if aq
            else ""
        )
    )
    notes = [
        title,
        queue_line,
        f"medians of {results['runs']} process runs; answering: {results['answer_runs']} runs "
        f"x {results['answers']} answers (p50/p99/max per run, median over runs)",
        f"machine: {m['cpus']} CPUs, load average {m['load_before']} before, "
        f"{m['load_after']} after; python {m['python']}; flashcore command: {fc['command']}",
        f"collection {'reused from cache' if results['reused_cache'] else 'built'} "
        f"(build {results['build_seconds']} s)",
        "",
    ]
    failed = [f"failed run (left out): {e}" for e in results.get("errors", [])]
    safety: list[str] = []
    if results.get("safety"):
        from tools.bench.safety import render_safety

        safety = ["", *render_safety(results["safety"])]
    return "\n".join(notes + lines + safety + (["", *failed] if failed else []))


# ---------------------------------------------------------------- main


def run(opts: Options) -> dict[str, Any]:
    with contextlib.ExitStack() as stack:
        if opts.keep is not None:
            opts.keep.mkdir(parents=True, exist_ok=True)
            cache = opts.keep
        else:
            cache = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="fc-bench-")))
        work = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="work-", dir=cache)))
        (work / "home").mkdir()
        built = ensure_built(opts, cache)
        load_before = [round(x, 2) for x in os.getloadavg()]
        measured = measure(opts, built, work)
        safety = None
        if opts.safety:
            from tools.bench.safety import measure_safety

            safety = measure_safety(built.fc_path, built.meta["now_iso"], work, runs=1)
        load_after = [round(x, 2) for x in os.getloadavg()]
    fc, anki = measured["flashcore"], measured["anki"]
    collection = dict(built.meta["stats"])
    collection["now"] = built.meta["now_iso"]
    collection["timezone"] = built.meta["timezone"]
    collection["flashcore_queue"] = fc.pop("queue_counts")
    collection["anki_queue"] = anki.pop("queue_counts") if anki else None
    collection["flashcore_bytes"] = built.meta["flashcore_bytes"]
    collection["anki_bytes"] = built.meta["anki_bytes"]
    # The files as built (the review log written in time order with its indexes in place).
    fc["file_mb"] = round(built.meta["flashcore_bytes"] / MB, 2)
    if anki is not None and built.meta["anki_bytes"]:
        anki["file_mb"] = round(built.meta["anki_bytes"] / MB, 2)
    anki_version = None
    if anki is not None:
        from importlib.metadata import version

        anki_version = version("anki")
    return {
        "machine": {
            "python": sys.version.split()[0],
            "platform": sys.platform,
            "cpus": os.cpu_count(),
            "load_before": load_before,
            "load_after": load_after,
        },
        "anki_version": anki_version,
        "collection": collection,
        "reused_cache": built.reused,
        "build_seconds": built.meta["build_seconds"],
        "runs": opts.runs,
        "answer_runs": opts.answer_runs,
        "answers": opts.answers,
        "reviews_per_day": opts.reviews_per_day,
        "flashcore": fc,
        "anki": anki,
        "safety": safety,
        "errors": measured["errors"],
        **evaluate(fc, anki),
    }


def main(argv: Sequence[str] | None = None) -> int:
    opts = parse_args(argv)
    try:
        results = run(opts)
    except BenchError as exc:
        log(f"error: {exc}")
        return 1
    if opts.json:
        print(json.dumps(results, indent=2))
    else:
        print(render(results))
    return 0


if __name__ == "__main__":
    sys.exit(main())
