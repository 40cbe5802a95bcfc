"""Test data builder: synthetic question-bank logs (also the qbank benchmark's input)."""

from __future__ import annotations

import random
import tomllib
from datetime import date, timedelta
from pathlib import Path

TOPICS = (
    "Type I hypersensitivity", "Sickle cell disease", "Emphysema", "Hemochromatosis",
    "Cardiac tamponade", "Wilson disease", "Sensitivity and specificity", "Digoxin",
)  # fmt: skip


def make_log(attempts: int, seed: int = 1) -> bytes:
    """A CSV log with unique question ids, mixed outcomes and dates in November 2026."""
    rng = random.Random(seed)
    lines = ["question_id,result,date,subject,system,topic"]
    outcomes = ("correct", "incorrect", "omitted")
    for i in range(attempts):
        lines.append(
            f"{100000 + i},{rng.choice(outcomes)},2026-11-{rng.randint(1, 24):02d},"
            f"Pathology,General,{rng.choice(TOPICS)}"
        )
    return ("\n".join(lines) + "\n").encode()


def starter_topic_paths(decks_dir: Path) -> list[str]:
    """Every topic path the bundled decks name, sorted."""
    found: set[str] = set()
    for path in sorted(decks_dir.glob("*.toml")):
        for card in tomllib.loads(path.read_text(encoding="utf-8")).get("cards", []):
            found.update(card.get("topics", []))
    return sorted(found)


def make_big_deck(cards: int, topic_paths: list[str], seed: int = 7) -> str:
    """A TOML deck of `cards` basic cards, one topic each; one note in 20 lists a question id
    (`uworld:1`..`uworld:20000`), as AnKing-style decks list UWorld questions."""
    rng = random.Random(seed)
    lines = ["[deck]", 'name = "Bench::Big"', 'key = "bench-big"', ""]
    for i in range(cards):
        lines += [
            "[[cards]]", f'id = "c{i}"', f'front = "Question {i}?"', f'back = "Answer {i}"',
            f'topics = ["{rng.choice(topic_paths)}"]',
        ]  # fmt: skip
        if rng.random() < 0.05:
            lines.append(f'qids = ["uworld:{rng.randint(1, QIDS // 2)}"]')
        lines.append("")
    return "\n".join(lines)


QIDS = 40_000  # question ids of the big history (a qbank's worth, each answered many times)


def make_history(
    attempts: int,
    first: date,
    last: date,
    topic_paths: list[str],
    *,
    seed: int,
    taken: set[tuple[int, date]] | None = None,
) -> bytes:
    """A CSV log of `attempts` distinct attempts (question id, day) between `first` and `last`:
    ids 1..QIDS, each id always under the same subject, system and topic (3 in 100 ids under a
    topic no deck names: the gaps), 65% correct, 30% incorrect, 5% omitted. `taken` holds the
    (id, day) pairs used so far, so later logs add only new attempts."""
    rng = random.Random(seed)
    taken = set() if taken is None else taken
    span = (last - first).days
    lines = ["question_id,result,date,subject,system,topic"]
    while len(lines) <= attempts:
        qid = rng.randint(1, QIDS)
        day = first + timedelta(days=rng.randint(0, span))
        if (qid, day) in taken:
            continue
        taken.add((qid, day))
        r = rng.random()
        outcome = "correct" if r < 0.65 else "incorrect" if r < 0.95 else "omitted"
        own = random.Random(qid)
        if own.random() < 0.03:
            subject, system, topic = "Pathology", "General", f"Obscure topic {qid % 300}"
        else:
            subject, system, topic = own.choice(topic_paths).split("::")[:3]
        lines.append(f"{qid},{outcome},{day.isoformat()},{subject},{system},{topic}")
    return ("\n".join(lines) + "\n").encode()
