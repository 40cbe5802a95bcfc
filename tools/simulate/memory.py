"""The simulated student's own memory of a card, kept apart from the scheduler's state.

The first student models (`Setting.memory == "scaled"`) read a card's true stability off the
scheduler: FSRS's stability × the topic's ability. FSRS's belief then cannot be wrong in kind,
only in scale, and every lapse FSRS records cuts the true memory to FSRS's post-lapse stability
× ability, however much of the memory was left. Here (`"own"`) each card has its own trace,
updated only from what happened to the student: when the card was answered, how much of it the
student truly recalled at that moment, and the grade. The scheduler never sees it and it never
reads the scheduler, so FSRS's estimates can be wrong about it in either direction.

The law: an average learner's memory as FSRS-6 describes it (the default parameters py-fsrs
6.3 publishes, fitted on many users' reviews, frozen here so that the truth does not move when
the product's parameters do), with the topic's hidden `ability` as a learning rate:

- first answer of a new card with grade g: stability `W[g - 1] × ability`, difficulty FSRS's
  initial difficulty for g;
- a success (Hard/Good/Easy) at true recall R, a day or more after the last answer: stability
  `S × (1 + ability × e^W8 × (11 − D) × S^−W9 × (e^(W10 (1 − R)) − 1) × (Hard W15, Easy W16))`
  — the spacing effect: an answer at high recall adds little, an effortful one much;
- a success on the same day: FSRS-6's short-term gain `e^(W17 (g − 3 + W18)) × S^−W19`, its
  increase above 1 scaled by ability (never below the stability it had);
- a lapse (Again): the student sees the answer, which re-studies the card: the stability is
  kept and its clock restarts (`"restudy"`, the law of the `own` models: a failed retrieval
  with feedback is at least a re-study, Kornell, Hays & Bjork 2009), at least a first failed
  answer's `W[0] × ability`. FSRS-6's post-lapse stability read as what a lapse leaves
  (`"relapse"`, the `own-relapse` models: `W11 × D^−W12 × ((S + 1)^W13 − 1) × e^(W14 (1 − R))`,
  never above the stability it had, never below the first failed answer's) is the harsher
  reading: that figure is fitted on cards FSRS had overrated, so it says how weak the memory
  already was as much as what the lapse took. Neither follows the scheduler: the scaled model's
  lapse is FSRS's own post-lapse stability × ability, whatever was left of the memory;
- difficulty moves as FSRS-6's (`−W6 (g − 3)`, damped towards 10, mean reversion W7) but from
  the true grades only.

Recall falls on FSRS-6's power curve with its default decay. All functions are pure.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace
from datetime import datetime

# FSRS-6's default parameters (py-fsrs 6.3.2, `fsrs.Scheduler().parameters`): the average learner.
W = (0.212, 1.2931, 2.3065, 8.2956, 6.4133, 0.8334, 3.0194, 0.001, 1.8722, 0.1666, 0.796,
     1.4835, 0.0614, 0.2629, 1.6483, 0.6014, 1.8729, 0.5425, 0.0912, 0.0658, 0.1542)  # fmt: skip
DECAY = W[20]
FACTOR = 0.9 ** (-1.0 / DECAY) - 1.0
MIN_STABILITY = 0.001  # days
AGAIN, HARD, GOOD, EASY = 1, 2, 3, 4
LAPSES = ("restudy", "relapse")


@dataclass(frozen=True, slots=True)
class Trace:
    """What the student truly holds of one card: days until recall falls to 90 %, the card's
    difficulty for this student (1-10) and when it was last answered."""

    stability: float
    difficulty: float
    last: datetime


def retrievability(stability: float, days: float) -> float:
    """Recall after `days` of a memory of `stability` (FSRS-6's curve, default decay)."""
    return (1.0 + FACTOR * max(0.0, days) / stability) ** -DECAY


def recall(trace: Trace | None, at: datetime) -> float:
    """The student's chance to recall the card at `at` (0 for a card never studied)."""
    if trace is None:
        return 0.0
    return retrievability(trace.stability, (at - trace.last).total_seconds() / 86400.0)


def _initial_difficulty(grade: int) -> float:
    return _clamp(W[4] - math.exp(W[5] * (grade - 1)) + 1.0)


def _clamp(difficulty: float) -> float:
    return min(10.0, max(1.0, difficulty))


def learn(grade: int, ability: float, at: datetime) -> Trace:
    """The trace a new card's first answer leaves."""
    stability = max(MIN_STABILITY, W[grade - 1] * ability)
    return Trace(stability, _initial_difficulty(grade), at)


def _next_difficulty(difficulty: float, grade: int) -> float:
    moved = difficulty + (-W[6] * (grade - 3)) * (10.0 - difficulty) / 9.0
    return _clamp(W[7] * _initial_difficulty(EASY) + (1.0 - W[7]) * moved)


def review(trace: Trace, grade: int, ability: float, at: datetime, lapse: str = "restudy") -> Trace:
    """The trace after an answer of `grade` at `at` (see the module's law; `lapse` one of
    LAPSES)."""
    days = (at - trace.last).total_seconds() / 86400.0
    s, d = trace.stability, trace.difficulty
    r = retrievability(s, days)
    if grade == AGAIN:
        floor = W[0] * ability
        if lapse == "restudy":
            stability = max(s, floor)
        elif lapse == "relapse":
            kept = W[11] * d ** -W[12] * ((s + 1.0) ** W[13] - 1.0) * math.exp(W[14] * (1.0 - r))
            stability = min(s, max(floor, kept))
        else:
            raise ValueError(f"unknown lapse rule {lapse!r}; known: {', '.join(LAPSES)}")
    elif days < 1.0:
        gain = math.exp(W[17] * (grade - 3 + W[18])) * s ** -W[19]
        stability = s * (1.0 + ability * max(0.0, gain - 1.0))
    else:
        bonus = W[15] if grade == HARD else W[16] if grade == EASY else 1.0
        growth = math.exp(W[8]) * (11.0 - d) * s ** -W[9] * (math.exp(W[10] * (1.0 - r)) - 1.0)
        stability = s * (1.0 + ability * growth * bonus)
    return replace(
        trace,
        stability=max(MIN_STABILITY, stability),
        difficulty=_next_difficulty(d, grade),
        last=at,
    )
