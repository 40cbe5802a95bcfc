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

This score ranks the weakness report. What schedules is the topic's standing against the
student's own average (`relative_scores`, issue 21): its recent misses per card over what an
average topic of its size collected, shrunk toward 1 by RELATIVE_PRIOR_MISSES. A topic at or
below the average is not weak (weight 0: plain FSRS); above it, the retention target follows
`1 - r = (1 - base) / sqrt(ratio)` up to the cap (`score_for_ratio`). The simulated students of
`python -m tools.simulate` showed why: with a daily qbank block every topic collects misses, and
scoring each topic on its own misses raised most reviews to 0.93-0.95, a dearer uniform
retention.

The second signal is the flashcards themselves (`forgetting_ratios`): a topic whose reviews
lapse more often than FSRS predicted, against the student's own average, holds its cards
shorter than FSRS believes; dividing its forgetting by that ratio brings its true forgetting
back to the base (`divisor`). It needs no qbank at all, so it reaches the topics the qbank
rarely asks (few questions: no evidence, no weight) and those whose misses measure the
questions rather than the memory: the simulated students' weakest quarter of topics (lowest
hidden ability) lost against plain FSRS there while the misses spent the extra reviews
elsewhere.

The weight sets a card's retention target, from the profile's base up to the cap:
`retention = base + (cap - base) · weight`, and multiplies its review priority; new cards of
weighted topics are introduced first, the highest weight first.

A missed question id is stronger evidence than any topic: the card that lists it is the fact
the student just got wrong. While that miss is open (no correct answer to the same question on
a later day) and younger than MISSED_QUESTION_HALF_LIVES half-lives, the card's weight is
`1 + decay(age)`, in (1, 2]: above every topic score (< 1), so the card is pulled forward,
ranked first among due reviews and introduced first among new cards, the most recent miss first;
it is reviewed at the base retention (see `retention_for`).
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date
from typing import TYPE_CHECKING

from flashcore.core import difficulty, shrinkage
from flashcore.core.settings import Settings

if TYPE_CHECKING:
    from flashcore.core.sums import Sums

PRIOR_MISS_RATE = 0.5
PRIOR_WEIGHT = 20.0
HALF_SCORE_AT = 2.0
PARENT_WEIGHT = 0.5
MINUTES_PER_RECENT_MISS = 10
FRESH_DAYS = 2  # misses dated within this many days of today pull a topic's cards forward
MISSED_QUESTION = 1.0  # card weights from here up come from a missed question id
MISSED_QUESTION_HALF_LIVES = 4  # an open miss counts this long (56 days at a 14-day half-life)
# Scheduling compares a topic's misses with the student's own average (see `relative_scores`):
# a topic needs this many misses beyond its share before it counts as weak.
RELATIVE_PRIOR_MISSES = 3.0
# Flashcard reviews compare a topic's lapses with what FSRS predicted, against the student's own
# average (see `forgetting_ratios`): this many predicted lapses of benefit of the doubt.
FORGETTING_PRIOR_LAPSES = 5.0
# Memory changes slower than a qbank's misses: flashcard answers count with a half-life this many
# times the misses' (`weakness_half_life_days`), within MISSED_QUESTION_HALF_LIVES of those.
FORGETTING_HALF_LIFE_FACTOR = 1.0
# How the two signals combine into a retention target (see `divisor`); the simulator's arms
# switch it to measure each part: "misses" (qbank only), "both", "gated", "forgetting".
COMBINE = "both"
TOPIC_SCORE_MAX = 0.999  # a topic's weight stays below a missed question's (> 1)
# Which topics' fresh misses pull their cards forward: "forgetting", those whose flashcards (the
# topic's and its sub-topics') are forgotten more often than FSRS predicts, against the
# student's own average: the misses then say something about memory, not only about the
# questions; "weak", those whose scheduling weight (or an ancestor's) is above 0; "all", every
# missed topic (before issue 21's second round). The simulated hard-question students (misses
# measure the questions more than the memory) lost up to 1.9 points on their weakest quarter of
# topics pulling every missed topic; "weak" changed nothing there.
PULL_FORWARD_WHERE = "forgetting"
# Pull only the cards the topic's weight now makes due (retrievability at the day's start
# below its weight's `retention_for`). An ablation (issue 21, sixth round): it saved the
# hard-question students' pull-forwards (+0.3 points) but lost 0.4 on a base seed; not kept.
PULL_ONLY_DUE = False


def pulls_forward(weight: float, forgetting: float | None) -> bool:
    """Whether fresh misses on a topic of this scheduling weight and flashcard forgetting ratio
    (`forgetting_ratio` of it and its sub-topics; None: no reviews to compare) pull its cards
    forward."""
    if PULL_FORWARD_WHERE == "all":
        return True
    if PULL_FORWARD_WHERE == "forgetting":
        return forgetting is not None and forgetting > 1.0
    return weight > 0.0


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
    # Misses per card against the student's average, once scheduling compared them (None: not
    # compared, as in reports' rollups).
    ratio: float | None = None
    # Flashcard lapses against what FSRS predicted, relative to the student's average (None:
    # not compared); its cards' first answers (failed, answered, ratio: core.first_answers).
    forgetting: float | None = None
    first: tuple[int, int, float] | None = None
    # The others' share of right answers (0-1) on its misses that gave one, recency-weighted
    # (core.difficulty; None: none did), once scheduling weighed them.
    others: float | None = None


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
    return score_totals(Totals(m, n, misses, total, recent_misses, recent_total, last_miss))


@dataclass(slots=True)
class Totals:
    """A topic's attempts summed as `score_topic` sums them (dated today or before): decayed
    misses and attempts, counts, recent counts (age <= half-life), the last miss."""

    decayed_misses: float = 0.0
    decayed_attempts: float = 0.0
    misses: int = 0
    attempts: int = 0
    recent_misses: int = 0
    recent_attempts: int = 0
    last_miss: date | None = None

    def add(self, other: Sums, weight: float = 1.0) -> None:
        """Add another's attempts, their decayed sums at `weight` (a sub-topic's for a
        report: PARENT_WEIGHT per level)."""
        self.decayed_misses += other.decayed_misses * weight
        self.decayed_attempts += other.decayed_attempts * weight
        self.misses += other.misses
        self.attempts += other.attempts
        self.recent_misses += other.recent_misses
        self.recent_attempts += other.recent_attempts
        if other.last_miss is not None and (
            self.last_miss is None or other.last_miss > self.last_miss
        ):
            self.last_miss = other.last_miss


def score_totals(t: Totals) -> TopicScore:
    """The score of a topic's summed attempts (see `score_topic`)."""
    m, n = t.decayed_misses, t.decayed_attempts
    counts = (t.misses, t.attempts, t.recent_misses, t.recent_attempts)
    if n == 0.0:
        return TopicScore(0.0, 0.0, *counts, 0.0, 0.0, t.last_miss)
    p = (m + PRIOR_WEIGHT * PRIOR_MISS_RATE) / (n + PRIOR_WEIGHT)
    raw = m * p
    score = raw / (raw + HALF_SCORE_AT)
    return TopicScore(score, raw, *counts, m, n, t.last_miss)


@dataclass(frozen=True, slots=True)
class MissedQuestion:
    """A question the student missed, which a card lists (`uworld:118154` missed on a day)."""

    source: str
    qid: str
    on_date: date
    unsuspended: bool = False  # the card was suspended until a missed question brought it back

    def text(self) -> str:
        missed = f"missed {self.source}:{self.qid} on {self.on_date.isoformat()}"
        return f"unsuspended: {missed}" if self.unsuspended else missed


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


@dataclass(frozen=True, slots=True)
class Standing:
    """A topic's misses against the student's own average: `expected` is what a topic with
    its number of cards would have collected had the student missed every topic alike."""

    misses: float  # recent (decayed) misses
    expected: float
    prior: float = RELATIVE_PRIOR_MISSES  # misses of benefit of the doubt

    @property
    def ratio(self) -> float:
        """Misses per card relative to the student's average, shrunk toward 1 (average)."""
        return shrinkage.evidence(self.misses + self.prior) / (self.expected + self.prior)


def standings(
    misses: Mapping[int, float], cards: Mapping[int, int], total_cards: int
) -> dict[int, Standing]:
    """Each missed topic's standing. `misses`: decayed misses per topic; `cards`: cards per
    topic (its sub-topics' included); `total_cards`: the collection's cards with a topic."""
    total = sum(misses.values())
    share = {t: cards.get(t, 0) / total_cards if total_cards > 0 else 0.0 for t in misses}
    expected = {t: total * share[t] for t in misses}
    prior = shrinkage.prior(misses, expected, RELATIVE_PRIOR_MISSES)
    return {t: Standing(m, expected[t], prior) for t, m in misses.items()}


def score_for_ratio(ratio: float, base: float, cap: float) -> float:
    """A topic's weight from its standing: how far from `base` toward `cap` its retention goes.

    Misses per card measure exam points at risk per card (how often the topic is asked × how
    often it is missed). Spending reviews where the points at risk per review are equal gives
    `1 − r ∝ 1 / √ratio` (a card's reviews grow about as 1 / (1 − r), its points lost as
    ratio × (1 − r)): a topic at the average keeps `base`, four times the average halves the
    forgetting. A topic at or below the average is not weak: weight 0, plain FSRS."""
    if ratio <= 1.0 or cap <= base:
        return 0.0
    target = 1.0 - (1.0 - base) / math.sqrt(ratio)
    return round(min(TOPIC_SCORE_MAX, (target - base) / (cap - base)), 6)


@dataclass(frozen=True, slots=True)
class Lapses:
    """A topic's flashcard reviews (recency-weighted): lapses seen and lapses FSRS predicted
    (the sum of `1 - retrievability` at each review)."""

    seen: float
    predicted: float


def forgetting_ratios(lapses: Mapping[int, Lapses]) -> dict[int, float]:
    """Each topic's lapses against FSRS's prediction, relative to the student's own average
    (1 = forgets as the student's average topic does), shrunk toward 1 by
    FORGETTING_PRIOR_LAPSES predicted lapses: a few reviews say little."""
    average = forgetting_average(lapses)
    if average is None:
        return {t: 1.0 for t in lapses}
    return {t: forgetting_ratio(x, average) for t, x in lapses.items()}


def forgetting_average(lapses: Mapping[int, Lapses]) -> float | None:
    """The student's lapses per lapse FSRS predicted, over all topics (None: nothing to
    compare: no lapse seen or none predicted)."""
    seen = sum(x.seen for x in lapses.values())
    predicted = sum(x.predicted for x in lapses.values())
    if seen <= 0.0 or predicted <= 0.0:
        return None
    return seen / predicted


def forgetting_ratio(lapses: Lapses, average: float) -> float:
    """One topic's (or several topics' summed) lapses against the prediction, relative to the
    student's `average` (`forgetting_average`), shrunk toward 1."""
    k = FORGETTING_PRIOR_LAPSES
    return (lapses.seen + k) / (lapses.predicted * average + k)


def summed(lapses: Iterable[Lapses]) -> Lapses:
    """Several topics' lapses as one (a topic and its sub-topics)."""
    seen = predicted = 0.0
    for x in lapses:
        seen += x.seen
        predicted += x.predicted
    return Lapses(seen, predicted)


def divisor(misses_ratio: float | None, forgetting: float | None) -> float:
    """How much a topic's forgetting is divided from the base's: `1 - r = (1 - base) / d`.

    - Flashcards forgotten `f` times as often as FSRS predicts (relative to the student's
      average): `d = f` brings their true forgetting back to the base's (a topic whose cards
      hold `a` times shorter than FSRS believes is forgotten about `1/a` times as often).
    - Misses per card `q` times the average: `d = √q`, equal exam points per review.
    COMBINE "both" multiplies the two, "misses" and "forgetting" use one, "gated" counts the
    misses only where the flashcards are forgotten more than average too, "protect" lets a
    memory better than average (`f` below 1) take back what the misses give (ablations)."""
    q = max(1.0, misses_ratio) if misses_ratio is not None else 1.0
    f = max(1.0, forgetting) if forgetting is not None else 1.0
    if COMBINE == "misses":
        return math.sqrt(q)
    if COMBINE == "forgetting":
        return f
    if COMBINE == "protect":
        # the misses must outweigh a memory better than average: f unclipped below 1
        raw = forgetting if forgetting is not None else 1.0
        return raw * math.sqrt(q)
    if COMBINE == "gated":
        if forgetting is None:  # no flashcard reviews yet: the misses are all there is
            return math.sqrt(q)
        return f * math.sqrt(q) if f > 1.0 else 1.0
    return f * math.sqrt(q)


def score_for_divisor(d: float, base: float, cap: float) -> float:
    """The weight (from `base` toward `cap`) of the retention `1 - (1 - base) / d`."""
    if d <= 1.0 or cap <= base:
        return 0.0
    target = 1.0 - (1.0 - base) / d
    return round(min(TOPIC_SCORE_MAX, (target - base) / (cap - base)), 6)


def relative_scores(
    scores: Mapping[int, TopicScore],
    cards: Mapping[int, int],
    total_cards: int,
    settings: Settings,
    lapses: Mapping[int, Lapses] | None = None,
    known: Mapping[int, difficulty.Known] | None = None,
) -> dict[int, TopicScore]:
    """The scores that schedule: each topic's `score` replaced by its weight against the
    student's own average (`divisor`): its misses per card (`ratio`) and, given `lapses`, its
    flashcards' forgetting (`forgetting`); everything else (the counts the reasons show) kept.
    A student who misses and forgets every topic alike has no weak topic. `known`: the misses
    that gave the others' share of right answers, which weigh them (core.difficulty)."""
    misses = {t: s.decayed_misses for t, s in scores.items()}
    weighed = difficulty.weighed_misses(misses, known or {})
    found = standings(weighed, cards, total_cards)
    # The share is named only where it weighs: one topic alone with shares, or every topic's
    # misses as surprising as the average, leave the misses as they were
    shares = known if known and weighed != misses else {}
    forgetting = forgetting_ratios(lapses) if lapses else {}
    base = settings.desired_retention
    cap = max(base, settings.weakness_max_retention)
    out = {}
    for t in scores.keys() | forgetting.keys():
        s = scores.get(t, NEUTRAL)
        q = found[t].ratio if t in found else None
        f = forgetting.get(t)
        score = score_for_divisor(divisor(q, f), base, cap)
        if t not in scores and score <= 0.0:
            continue
        k = shares.get(t)
        others = k.mean_share if k is not None else None
        out[t] = TopicScore(  # dataclasses.replace's introspection: ~4 us a topic
            score, s.raw, s.misses, s.attempts, s.recent_misses, s.recent_attempts,
            s.decayed_misses, s.decayed_attempts, s.last_miss, q, f, s.first, others,
        )  # fmt: skip
    return out


def retention_for(settings: Settings, weight: float) -> float:
    """The desired retention for a card whose topics' weakness is `weight` (0 = base).

    A missed question's card (weight >= MISSED_QUESTION) keeps the base: it is pulled forward
    and reviewed first, and the lapse it most likely shows then tells FSRS what the miss meant.
    Reviewing it at the cap for the miss's 56 days took 23% of the simulated students' answers
    for less (question-id model, 3 seeds: -0.08 against +0.22 points at base; issue 21)."""
    base = settings.desired_retention
    if weight <= 0.0 or weight >= MISSED_QUESTION:
        return base
    cap = max(base, settings.weakness_max_retention)
    return round(base + (cap - base) * weight, 4)


def suggested_minutes(recent_misses: int) -> int:
    """About ten minutes per recent miss, in steps of five: six recent misses -> an hour."""
    minutes = recent_misses * MINUTES_PER_RECENT_MISS
    return int(5 * round(minutes / 5))


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


def report_reason(
    s: TopicScore, half_life: float, minutes: int, level: Level, others: float | None = None
) -> str:
    """Why a topic is on the weakness report: `6 misses in the last 14 days; about 60 min of
    study suggested`, `2 of 5 recent questions missed (last 14 days)` when correct answers were
    imported too, or for a rollup `… across its topics`. `others`: the others' share of right
    answers on its recent misses that gave one, which weighs them (core.difficulty): `6 misses
    in the last 14 days, on questions 64% of others get right; …` (a topic's row only)."""
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
    if others is not None and level == "topic" and s.recent_misses:
        text += f", on questions {round(100 * others)}% of others get right"
    if level != "topic":
        text += " across its topics"
        if minutes:
            text += f"; about {minutes} min for the questions matched to it directly"
    elif minutes:
        text += f"; about {minutes} min of study suggested"
    return text
