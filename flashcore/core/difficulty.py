"""How much a miss says about the student: weighed by how many other students answer the question.

UWorld's table gives each question's "% correct others". A miss on a question 80 % of others
answer right says more about the student's memory of the topic than one on a question most of
them miss: the second measures the question. Each miss that carries the share counts for its
topic's standing (core.weakness.standings) with a weight `surprise(share)`, normalised so that
the student's misses that carry it weigh 1 on average (recency-weighted): the total stays, only
its split among topics moves toward the topics missed on questions others get right. A miss
without the share (AMBOSS, NBME, a CSV or an older UWorld table without the column) weighs 1, and when every miss
that carries the share carries the same one nothing moves at all: a log without it schedules
exactly as before.

`surprise` is the weight of a miss on a question a share `p` of others answer right (MODE,
"inverse" since issue 21's twelfth round: the simulated hard-question students, whose misses
measure the questions more than their memory, gained on the weakest quarter of topics on every
seed, where "linear" moved them little; tools.simulate):
- "linear": `p`. Under a logistic model of the student against others (logit of a right answer
  = the question's logit − the topic's weakness), a miss adds `p` to the evidence of weakness
  (the score's derivative): 0.8 for a question 80 % of others get right, 0.3 for one 30 % do.
- "inverse": `1 / (1 − p)` (p within 5–95 %): each miss stands for the `1 / (1 − p)` attempts an
  average student would have needed to miss it once, so a topic's weighted misses estimate the
  questions asked × the student's miss rate over others'.
- "off": every miss weighs 1 (as before; the simulator's ablation).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

MODE = "inverse"
SHARE_MIN = 0.05  # "inverse": a share is read within these bounds (one question's 99 % is noise)
SHARE_MAX = 0.95
# Shares that differ by less than this are the same: nothing to weigh (the total is kept exactly)
SAME = 1e-9
# What the share does to a topic's pull-forwards (services.pullforward). "scale" (issue 21u): a
# topic whose recent misses with a share were, on average, on questions harder for others than
# the student's average miss (`relative_surprise` below 1) pulls that fraction of
# `pull_forward_per_topic` (rounded; none below half a card); "gate", it pulls none; "off", the
# share does not touch pull-forwards (before). The simulated hard-question students (topics of
# hard questions are missed every day, and their pull-forwards went mostly to them) gained on
# the gap to plain FSRS with "scale" where questions differ by topic and where they differ
# question by question too; "gate" gained more where they differ question by question and lost
# a little where they differ by topic (tools.simulate, README "thirteenth round").
PULL = "scale"


def surprise(share: float) -> float:
    """The weight of a miss on a question a `share` (0–1) of other students answer right."""
    p = min(1.0, max(0.0, share))
    if MODE == "inverse":
        return 1.0 / (1.0 - min(SHARE_MAX, max(SHARE_MIN, p)))
    return p


@dataclass(frozen=True, slots=True)
class Known:
    """A topic's misses that carry the others' share, recency-weighted: `misses` (Σ w), their
    `surprise` (Σ w · surprise(share)) and `share` (Σ w · share, for the reason's average)."""

    misses: float = 0.0
    surprise: float = 0.0
    share: float = 0.0

    def add(self, weight: float, share: float) -> Known:
        return Known(
            self.misses + weight, self.surprise + weight * surprise(share),
            self.share + weight * share,
        )  # fmt: skip

    @property
    def mean_share(self) -> float | None:
        """The others' share of right answers on these misses, on average (None: none)."""
        return self.share / self.misses if self.misses > 0 else None


def weighed_misses(misses: Mapping[int, float], known: Mapping[int, Known]) -> dict[int, float]:
    """Each topic's recency-weighted misses (`misses`) with those that carry the others' share
    (`known`, a part of them) counted by their surprise relative to the student's average miss
    that carries one. Unchanged when no miss carries a share or all carry the same surprise."""
    total = sum(k.misses for k in known.values())
    if total <= 0.0 or MODE == "off":
        return dict(misses)
    mean = sum(k.surprise for k in known.values()) / total
    spread = [k.surprise / k.misses for k in known.values() if k.misses > 0]
    if mean <= 0.0 or max(spread) - min(spread) <= SAME * max(1.0, mean):
        return dict(misses)
    out = dict(misses)
    for topic, k in known.items():
        if topic in out and k.misses > 0:
            out[topic] = max(0.0, out[topic] - k.misses + k.surprise / mean)
    return out


def relative_surprise(known: Mapping[int, Known]) -> dict[int, float]:
    """Each topic's misses with a share, their mean surprise against the student's average miss
    with one (1: as surprising as your average miss; below 1: on questions others miss more
    often). Empty when no miss carries a share or all carry the same surprise (nothing to
    tell apart)."""
    total = sum(k.misses for k in known.values())
    if total <= 0.0:
        return {}
    mean = sum(k.surprise for k in known.values()) / total
    spread = [k.surprise / k.misses for k in known.values() if k.misses > 0]
    if mean <= 0.0 or max(spread) - min(spread) <= SAME * max(1.0, mean):
        return {}
    return {t: k.surprise / k.misses / mean for t, k in known.items() if k.misses > 0}


def pulled_share(relative: float | None) -> float:
    """The share of a topic's pull-forwards its misses' relative surprise allows (PULL)."""
    if PULL == "off" or relative is None or relative >= 1.0:
        return 1.0
    return 0.0 if PULL == "gate" else relative
