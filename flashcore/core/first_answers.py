"""A topic's first answers (issue 21, ninth round): before its reviews can show a topic weak,
the first answers of its new cards can. Pure: counts in, weights out.

A new card's first answer fails more often the weaker the student's memory of its topic (the
simulated students: `0.25 / ability`, from 5% to 60%, against about 24% on average). The
reviews' lapses (core.weakness.forgetting_ratios) need weeks of reviews to say so, and the
probe cards (core.introduction) of a topic that is rarely asked, so rarely missed, give three
cards' reviews at most: the simulated unfinished deck's weakest topic (ability 0.18, 1% of the
exam) lapsed once in 14 reviews at one luck, got no weight and no more cards than its three
probes, and its quarter of topics ended 13.5 points below plain FSRS. Its first answers had
failed 2 of 3.

While a topic has new cards left, its first answers' failures against the student's own
average (`ratio`: shrunk toward 1 by PRIOR_FAILURES) count as its flashcard forgetting where
they say more than the lapses do (`divisor` with the larger of the two): its weight rises, so
its new cards are introduced earlier (weak topics' new cards come first) and its studied cards
are reviewed at the raised retention. Once every card of the topic is introduced, the lapses
alone speak (its first answers are then all in its reviews' history).

ENABLED False: off, an ablation (README, The weakness model, ninth round; 220 runs of
`python -m tools.simulate`, arms `first`, `first-share`, `first-after`): on the unfinished deck
it lifted the weakest quarter of topics by about 4 points (that seed at that luck: −13.5 → −1.9
ranked, −4.8 shared) but cost about 0.9 exam points overall: the weak topics it introduces are
rarely asked and dear to learn, in place of topics asked more often. "after" changed nothing
there (the weighted topics take every new-card place the probes leave).
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import dataclass, replace

from flashcore.core import weakness as model
from flashcore.core.settings import Settings

ENABLED = False
# How the first answers weigh a topic (see `weighed`): "rank" among the topics misses and lapses
# weight, as flashcard forgetting; "after" below all of them, ahead of the unweighted only;
# "share" as "after", and its new cards take every SHARE_SLOT-th new card of the day, half-way
# between the probes' places (core.introduction.with_probes; services.first_share).
MODE = "rank"
SHARE_SLOT = 4
TOPIC_TIER = 0.05  # "after": the weights stay below this (a retention at most 0.9035)
# Failures of benefit of the doubt: three first answers of which two failed, against an
# average of one in four, give (2 + 1) / (0.75 + 1) = 1.7 times the average.
PRIOR_FAILURES = 1.0


@dataclass(frozen=True, slots=True)
class FirstAnswers:
    """A topic's studied cards' first answers: how many, and how many failed (Again)."""

    answered: int
    failed: int


def average(first: Mapping[int, FirstAnswers]) -> float | None:
    """The student's share of failed first answers over all topics (None: none failed or
    none answered: nothing to compare against)."""
    answered = sum(x.answered for x in first.values())
    failed = sum(x.failed for x in first.values())
    if answered <= 0 or failed <= 0:
        return None
    return failed / answered


def ratio(x: FirstAnswers, mean: float) -> float:
    """One topic's failed first answers against the student's `mean` rate, shrunk toward 1."""
    k = PRIOR_FAILURES
    return (x.failed + k) / (x.answered * mean + k)


def ratios(first: Mapping[int, FirstAnswers]) -> dict[int, float]:
    """Each topic's `ratio` (1 for every topic when there is no average)."""
    mean = average(first)
    if mean is None:
        return {t: 1.0 for t in first}
    return {t: ratio(x, mean) for t, x in first.items()}


def weighed(
    scores: Mapping[int, model.TopicScore],
    first: Mapping[int, FirstAnswers],
    unfinished: Collection[int],
    settings: Settings,
) -> dict[int, model.TopicScore]:
    """The scheduling scores with the first answers counted: a topic with new cards left
    (`unfinished`) whose first answers fail more than the student's average (ratio `g`) is
    weighted by them, with the evidence (`first`: failed, answered, ratio) its reason shows.
    Every other topic as it was. MODE "rank": the weight of `divisor(misses ratio,
    max(forgetting, g))` where that is higher than its own. MODE "after": only a topic its
    misses and lapses do not weight, and below every topic they do (`after`), so its new cards
    come after theirs and before the unweighted topics', the most failed first; MODE "share":
    the same weight, and a share of each day's new cards (`shares`)."""
    out = dict(scores)
    found = ratios(first)
    base = settings.desired_retention
    cap = max(base, settings.weakness_max_retention)
    below = min((s.score for s in scores.values() if s.score > 0.0), default=TOPIC_TIER)
    for t in unfinished:
        g = found.get(t)
        if g is None or g <= 1.0:
            continue
        s = scores.get(t, model.NEUTRAL)
        if MODE in ("after", "share"):
            if s.score > 0.0:
                continue
            score = after(g, min(below, TOPIC_TIER))
        else:
            f = max(g, s.forgetting if s.forgetting is not None else 1.0)
            score = model.score_for_divisor(model.divisor(s.ratio, f), base, cap)
        if score > s.score:
            x = first[t]
            out[t] = replace(s, score=score, first=(x.failed, x.answered, round(g, 4)))
    return out


def after(g: float, below: float) -> float:
    """A weight under `below` (the lightest topic weighted otherwise) that grows with the
    first-answer ratio `g` > 1: `below · (1 − 1/g)`, rounded as weights are (never 0)."""
    return max(1e-6, round(below * (1.0 - 1.0 / g), 6))


def shares() -> bool:
    """Whether topics weighted by their first answers take a share of each day's new cards."""
    return ENABLED and MODE == "share"
