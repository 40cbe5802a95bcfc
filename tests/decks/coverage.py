"""How much of Step 1 the bundled decks cover: notes per content-outline system against the
outline's shares, and how many question-bank topic names a pasted miss would match.

Data: `data/step1_outline.toml` (the outline's systems, their ranges, the topic -> system
mapping) and `data/qbank_topics.toml` (qbank topic names, by system).
"""

from __future__ import annotations

import csv
import io
import math
import tomllib
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path

from flashcore.core import topics as topic_keys
from tests.decks.content import Deck

DATA = Path(__file__).resolve().parent / "data"

# The decks of issue 18 are written and second-read: the tests that measure the whole collection
# (1,500 notes, each system's floor and share, the match share) assert. Set it to False only
# while a new batch of decks is being written.
COVERAGE_COMPLETE = True
MIN_NOTES = 1500
MATCH_SHARE = 0.80  # "the large majority" of qbank topic names must meet a deck topic

# Systems whose share of ALL notes is still below the low end of their outline range, although
# each has more notes than that share of 1,500 (the floor, which the tests require). Their share
# test is then an expected failure; it is strict, so a system that reaches its share fails the run
# until it is taken off this list. The general-principles decks (biochemistry, genetics, cell
# biology, microbiology, general pharmacology and pathology) count as "Multisystem" (about 19%
# against an 8-12% range), which pushes the other systems toward the low end of their ranges. At
# 2,303 notes three systems were short (respiratory and renal, reproductive and endocrine,
# biostatistics); the closing session of issue 18 added 126 new notes (2,429 in all), so every
# system now reaches its share and the list is empty. Blood and immune sits exactly at its 9%
# (219 of 2,429): more than 4 notes outside it would take it below again.
KNOWN_SHORT_OF_SHARE: frozenset[str] = frozenset()


@dataclass(frozen=True, slots=True)
class Outline:
    source: str
    systems: dict[str, tuple[float, float]]  # name -> (low %, high %)
    pairs: dict[str, str]
    areas: dict[str, str]
    disciplines: dict[str, str]

    def system_of(self, topic: str) -> str | None:
        parts = topic_keys.split_path(topic)
        if len(parts) < 2:
            return None
        pair = f"{parts[0]}::{parts[1]}"
        return self.pairs.get(pair) or self.areas.get(parts[1]) or self.disciplines.get(parts[0])


def outline() -> Outline:
    raw = tomllib.loads((DATA / "step1_outline.toml").read_text(encoding="utf-8"))
    systems = {name: (float(lo), float(hi)) for name, (lo, hi) in raw["systems"].items()}
    return Outline(raw["source"], systems, raw["pairs"], raw["areas"], raw["disciplines"])


def notes_per_system(decks: Iterable[Deck], plan: Outline) -> tuple[Counter[str], list[str]]:
    """Notes counted once, for the system of their first topic; and the topics with no system."""
    counts: Counter[str] = Counter()
    unmapped: set[str] = set()
    for deck in decks:
        for note in deck.notes:
            for topic in note.topics:
                if plan.system_of(topic) is None:
                    unmapped.add(topic)
            system = plan.system_of(note.topics[0]) if note.topics else None
            counts[system or "(no system)"] += 1
    return counts, sorted(unmapped)


def short_systems(counts: Counter[str], plan: Outline) -> dict[str, tuple[float, float]]:
    """Systems whose share of the notes is below the low end of their outline range:
    name -> (share %, low %)."""
    total = sum(counts.values()) or 1
    out = {}
    for name, (low, _high) in plan.systems.items():
        share = 100.0 * counts[name] / total
        if share < low:
            out[name] = (share, low)
    return out


def floor_of(low_percent: float) -> int:
    """The notes a system needs in a collection of MIN_NOTES: the low end of its range."""
    return math.ceil(low_percent * MIN_NOTES / 100)


def qbank_topics() -> dict[str, list[str]]:
    raw = tomllib.loads((DATA / "qbank_topics.toml").read_text(encoding="utf-8"))
    return {system: list(names) for system, names in raw.items()}


@dataclass(frozen=True, slots=True)
class MatchResult:
    names: list[str]
    unmatched: list[str]

    @property
    def share(self) -> float:
        return 1.0 - len(self.unmatched) / len(self.names) if self.names else 0.0


def match_qbank_topics(deck_paths: list[Path], names: list[str], folder: Path) -> MatchResult:
    """Load the decks into a fresh collection and run every name through `flashcore qbank
    import` (dry run) as the topic of one missed question: the same matching a pasted log meets.
    A name matches when its miss would count against a deck topic."""
    from flashcore.core.clock import FixedClock
    from flashcore.services import Flashcore, qbank

    folder.mkdir(parents=True, exist_ok=True)
    url = f"sqlite:///{folder / 'coverage.sqlite3'}"
    clock = FixedClock(datetime(2026, 11, 25, 9, tzinfo=UTC))
    log = io.StringIO()
    writer = csv.writer(log, lineterminator="\n")
    writer.writerow(["question_id", "result", "date", "topic"])
    day = date(2026, 11, 24).isoformat()
    for i, name in enumerate(names):
        writer.writerow([f"{500_000 + i}", "incorrect", day, name])
    with Flashcore.open(url, clock=clock, create=True, timezone="UTC") as fc:
        fc.add_decks(deck_paths)  # a file that does not load adds nothing; the rest load
        report = qbank.import_log(fc, log.getvalue().encode(), origin="qbank.csv", dry_run=True)
    assert report.misses == len(names), "every name is one missed question"
    unmatched = set(report.unmatched_topics)
    return MatchResult(names, [n for n in names if n in unmatched])
