"""The weakness model: how many exam points a topic puts at risk, from the student's qbank log.

For one topic, each attempt counts with a recency weight `w = 0.5 ** (age_days / half_life)`:

    M = Σ w over misses (incorrect or omitted)        recent, decayed misses
    N = Σ w over all attempts                         recent, decayed attempts
    p = (M + α·p0) / (N + α)                          miss rate, shrunk toward p0 (α = 20, p0 = 0.5)
    raw = M · p                                       misses × how likely the next one is missed
    score = raw / (raw + K)                           in [0, 1); K = 2

M grows with how often the topic's questions come up *and* how often they are missed, so a topic
that is both frequent and missed ranks highest; the shrunk rate `p` makes one miss weak evidence
(6 misses in 8 outranks 1 in 1) and lets correct answers pull a topic back. No attempts -> 0,
which leaves the plain FSRS schedule untouched. Misses on a topic count for its parent topics at
half weight per level (reports only).

Constants tuned with a simulator that copied this policy (a strong prior keeps the score from
leaning on the miss *rate*); `python -m tools.simulate` now measures the product itself.

The score sets a card's retention target, from the profile's base up to the cap:
`retention = base + (cap - base) · score`, and multiplies its review priority.

A missed question id is stronger evidence than any topic: the card that lists it is the fact
the student just got wrong. While that miss is open (no correct answer to the same question on
a later day) and younger than MISSED_QUESTION_HALF_LIVES half-lives, the card's weight is
`1 + decay(age)`, in (1, 2]: above every topic score (< 1), so the card is reviewed at the cap,
ranked first among due reviews and introduced first among new cards, the most recent miss first.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date

from flashcore.core.settings import Settings

PRIOR_MISS_RATE = 0.5
PRIOR_WEIGHT = 20.0
HALF_SCORE_AT = 2.0
PARENT_WEIGHT = 0.5
MINUTES_PER_RECENT_MISS = 10
FRESH_DAYS = 2  # misses dated within this many days of today pull a topic's cards forward
MISSED_QUESTION = 1.0  # card weights from here up come from a missed question id
MISSED_QUESTION_HALF_LIVES = 4  # an open miss counts this long (56 days at a 14-day half-life)


@dataclass(frozen=True, slots=True)
class Attempt:
    on_date: date
    missed: bool
    weight: float = 1.0  # < 1 when a sub-topic's attempt counts for its parent (reports)
    count: int = 1  # identical attempts (same day, same outcome) counted together


@dataclass(frozen=True, slots=True)
class TopicScore:
    score: float
    raw: float
    misses: int
    attempts: int
    recent_misses: int
    recent_attempts: int
    decayed_misses: float
    decayed_attempts: float
    last_miss: date | None = None


NEUTRAL = TopicScore(0.0, 0.0, 0, 0, 0, 0, 0.0, 0.0)


def decay(age_days: float, half_life: float) -> float:
    return float(0.5 ** (max(0.0, age_days) / half_life))


def score_topic(attempts: Iterable[Attempt], today: date, half_life: float) -> TopicScore:
    """Score one topic's attempts as of `today`. Deterministic; no attempts -> NEUTRAL."""
    m = n = 0.0
    misses = total = recent_misses = recent_total = 0
    last_miss: date | None = None
    for a in attempts:
        age = (today - a.on_date).days
        if age < 0:
            continue  # an attempt dated in the future does not count yet
        w = decay(age, half_life) * a.weight * a.count
        n += w
        total += a.count
        recent = age <= half_life
        recent_total += a.count if recent else 0
        if a.missed:
            m += w
            misses += a.count
            recent_misses += a.count if recent else 0
            if last_miss is None or a.on_date > last_miss:
                last_miss = a.on_date
    if n == 0.0:
        return TopicScore(0.0, 0.0, misses, total, recent_misses, recent_total, 0.0, 0.0, last_miss)
    p = (m + PRIOR_WEIGHT * PRIOR_MISS_RATE) / (n + PRIOR_WEIGHT)
    raw = m * p
    score = raw / (raw + HALF_SCORE_AT)
    return TopicScore(score, raw, misses, total, recent_misses, recent_total, m, n, last_miss)


@dataclass(frozen=True, slots=True)
class MissedQuestion:
    """A question the student missed, which a card lists (`uworld:118154` missed on a day)."""

    source: str
    qid: str
    on_date: date

    def text(self) -> str:
        return f"missed {self.source}:{self.qid} on {self.on_date.isoformat()}"


@dataclass(frozen=True, slots=True)
class QuestionOutcomes:
    """One question's answers as far as they matter: its last miss and last correct answer."""

    last_miss: date | None = None
    last_correct: date | None = None

    def add(self, on_date: date, missed: bool, today: date) -> QuestionOutcomes:
        if on_date > today:
            return self  # dated in the future: does not count yet
        if missed:
            if self.last_miss is None or on_date > self.last_miss:
                return QuestionOutcomes(on_date, self.last_correct)
        elif self.last_correct is None or on_date > self.last_correct:
            return QuestionOutcomes(self.last_miss, on_date)
        return self


def open_miss(outcomes: QuestionOutcomes, today: date, half_life: float) -> date | None:
    """The day of the question's miss that still counts, or None: a correct answer on a later
    day closes it (the same day does not: the order within a day is unknown), and it lapses
    after MISSED_QUESTION_HALF_LIVES half-lives."""
    miss = outcomes.last_miss
    if miss is None or miss > today:
        return None
    if outcomes.last_correct is not None and outcomes.last_correct > miss:
        return None
    if (today - miss).days > MISSED_QUESTION_HALF_LIVES * half_life:
        return None
    return miss


def question_weight(miss: date, today: date, half_life: float) -> float:
    """A card's weight from an open miss of a question it lists: `1 + decay(age)`, in (1, 2]."""
    return round(MISSED_QUESTION + decay((today - miss).days, half_life), 6)


def strongest_miss(
    questions: Iterable[tuple[str, str, QuestionOutcomes]], today: date, half_life: float
) -> MissedQuestion | None:
    """Among a card's questions, the open miss that weighs most (the most recent; ties by id)."""
    best: MissedQuestion | None = None
    for source, qid, outcomes in sorted(questions, key=lambda q: (q[0], q[1])):
        day = open_miss(outcomes, today, half_life)
        if day is not None and (best is None or day > best.on_date):
            best = MissedQuestion(source, qid, day)
    return best


def retention_for(settings: Settings, weight: float) -> float:
    """The desired retention for a card whose topics' weakness is `weight` (0 = base)."""
    base = settings.desired_retention
    if weight <= 0.0:
        return base
    cap = max(base, settings.weakness_max_retention)
    # A missed question's weight (> 1) reviews at the cap.
    return round(base + (cap - base) * min(1.0, weight), 4)


def suggested_minutes(recent_misses: int) -> int:
    """About ten minutes per recent miss, in steps of five: six recent misses -> an hour."""
    minutes = recent_misses * MINUTES_PER_RECENT_MISS
    return int(5 * round(minutes / 5))


def reason_text(topic: str, s: TopicScore, half_life: float, today: date) -> str:
    """`weak topic: X — 6 misses in 14 days`, or, once they have aged, when the last one was."""
    if s.recent_misses:
        plural = "miss" if s.recent_misses == 1 else "misses"
        return f"weak topic: {topic} — {s.recent_misses} {plural} in {round(half_life)} days"
    plural = "miss" if s.misses == 1 else "misses"
    ago = f", the last {(today - s.last_miss).days} days ago" if s.last_miss else ""
    return f"weak topic: {topic} — {s.misses} older {plural}{ago}"


Level = str  # "topic" (a leaf), "system" (a topic with sub-topics), "subject" (a root)


def topic_level(depth: int, has_children: bool) -> Level:
    """Where a topic sits: `Immunology` a subject, `Immunology::Hypersensitivity` a system,
    `Immunology::Hypersensitivity::Type I` (any node without sub-topics) a topic."""
    if depth <= 1:
        return "subject"
    return "system" if has_children else "topic"


def misses_text(misses: int, attempts: int) -> str:
    """`6 of 8` when correct answers were imported too, else just `6` (a paste of incorrects
    says nothing about how many were answered right)."""
    return f"{misses} of {attempts}" if attempts > misses else str(misses)


def report_reason(s: TopicScore, half_life: float, minutes: int, level: Level) -> str:
    """Why a topic is on the weakness report: `6 misses in the last 14 days; about 60 min of
    study suggested`, `2 of 5 recent questions missed (last 14 days)` when correct answers were
    imported too, or for a rollup `… across its topics`."""
    days = round(half_life)
    if s.recent_attempts > s.recent_misses:
        text = (
            f"{s.recent_misses} of {s.recent_attempts} recent questions missed (last {days} days)"
        )
    elif s.recent_misses:
        plural = "miss" if s.recent_misses == 1 else "misses"
        text = f"{s.recent_misses} {plural} in the last {days} days"
    else:
        older = s.attempts - s.recent_attempts
        plural = "miss" if s.misses == 1 else "misses"
        text = f"none in the last {days} days; " + (
            f"{s.misses} of {older} older questions missed"
            if older > s.misses
            else f"{s.misses} older {plural}"
        )
    if level != "topic":
        text += " across its topics"
        if minutes:
            text += f"; about {minutes} min for the questions matched to it directly"
    elif minutes:
        text += f"; about {minutes} min of study suggested"
    return text
