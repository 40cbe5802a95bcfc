"""Test data builder: synthetic question-bank logs (also the qbank benchmark's input)."""

from __future__ import annotations

import random

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
