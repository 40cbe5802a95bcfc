"""The memory floor (issue 21, seventh round; an ablation unless ENABLED): the extra reviews the
weighting spends are shared with the topics whose flashcards are forgotten more than the
student's average.

The weighting (core.weakness.relative_scores) raises the retention of the topics a student
misses more than average. Those raises cost reviews: as many as a uniform retention `r_eq`
over the studied topics would (a card's reviews grow about as `1 / (1 − r)`). Plain FSRS at
that workload would give every topic `r_eq`, the weakest memories included; the simulated
students whose misses measure the questions more than their memory (or who do few questions)
ended their weakest quarter of topics below plain FSRS at the same workload, because the raises
went to the missed topics and the weak memories stayed near the base.

With the floor a topic whose flashcards are forgotten `f > 1` times as often as predicted
(against the student's own average) keeps at least `1 − (1 − r_eq) / f`: what plain FSRS would
give it at the same workload, its forgetting brought back to that. `r_eq` counts the floors'
own cost too (a fixed point, found by iteration: it only grows and stays below the cap;
ITERATIONS = 1: from the weights alone).

Measured and not kept (README, The weakness model; 37 runs of `python -m tools.simulate`, arm
`floor1`): of the five seeds whose weakest quarter was below plain FSRS, one lifted above it and
three less short, but the unfinished deck lost 0.4 points and two weakest quarters went below
plain FSRS: a floor raises a half-introduced topic's weight, which also orders its new cards
ahead of the missed topics' (the exam-yield order). With ONLY_INTRODUCED (arm `floor-intro`)
every gap was kept, but the five shortfalls shrank only by 0.1-0.3 points, none above plain.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import replace

from flashcore.core import weakness as model
from flashcore.core.settings import Settings

ENABLED = False
# Floors only for topics whose every card has been introduced (an ablation, issue 21): the
# weight also orders new cards, so a floor on a half-introduced topic moves it ahead of the
# missed topics' new cards.
ONLY_INTRODUCED = False
ITERATIONS = 40
# Every topic with flashcard evidence keeps at least the workload's uniform equivalent `r_eq`,
# not only those forgotten more than average (an ablation, issue 21, eighth round): no topic's
# reviews below what plain FSRS at the weighting's workload would ask.
FLOOR_ALL = False


def equivalent(targets: Mapping[int, float], cards: Mapping[int, int], base: float) -> float:
    """The uniform retention whose reviews cost what `targets` (topic -> retention) cost over
    the topics' cards (`cards`: topic -> cards; a topic without cards does not count):
    reviews per card ~ 1 / (1 − r). No cards: `base`."""
    n = 0
    cost = 0.0
    for t, r in targets.items():
        k = cards.get(t, 0)
        if k <= 0:
            continue
        n += k
        cost += k / max(1e-9, 1.0 - r)
    if n == 0 or cost <= 0.0:
        return base
    return 1.0 - n / cost


def target(score: float, base: float, cap: float) -> float:
    """The retention a topic weight asks for (core.weakness.retention_for, unrounded)."""
    return base + (cap - base) * max(0.0, min(score, model.TOPIC_SCORE_MAX))


def floor_for(forgetting: float | None, r_eq: float) -> float | None:
    """The floor of a topic forgotten `forgetting` times as often as predicted (relative to the
    student's average) at the workload's uniform equivalent `r_eq`; None: no floor (its cards
    are forgotten at most as often as the average's)."""
    if forgetting is None or (forgetting <= 1.0 and not FLOOR_ALL):
        return None
    return 1.0 - (1.0 - r_eq) / max(1.0, forgetting)


def floored(
    scores: Mapping[int, model.TopicScore],
    forgetting: Mapping[int, float],
    cards: Mapping[int, int],
    settings: Settings,
    unfinished: Collection[int] = (),
) -> tuple[dict[int, model.TopicScore], float]:
    """The scheduling scores with the memory floor applied, and the uniform equivalent `r_eq`
    it used. `forgetting`: every topic with flashcard evidence (studied and reviewed: core.
    weakness.forgetting_ratios); only those count in `r_eq` (at their weight's retention, the
    base without one) and take a floor, except, with ONLY_INTRODUCED, the `unfinished` topics
    (new cards left). A weight never falls."""
    base = settings.desired_retention
    cap = max(base, settings.weakness_max_retention)
    if cap <= base or not forgetting:
        return dict(scores), base
    own = {t: target(scores[t].score, base, cap) if t in scores else base for t in forgetting}
    r_eq = equivalent(own, cards, base)
    now = dict(own)
    for _ in range(ITERATIONS):
        for t, f in forgetting.items():
            low = None if ONLY_INTRODUCED and t in unfinished else floor_for(f, r_eq)
            now[t] = own[t] if low is None else min(cap, max(own[t], low))
        nxt = equivalent(now, cards, base)
        if nxt - r_eq < 1e-7:
            break
        r_eq = nxt
    out = dict(scores)
    for t, f in forgetting.items():
        if now[t] <= own[t] + 1e-9:
            continue
        weight = round(min(model.TOPIC_SCORE_MAX, (now[t] - base) / (cap - base)), 6)
        s = scores.get(t, replace(model.NEUTRAL, forgetting=f))
        if weight > s.score:
            out[t] = replace(s, score=weight)
    return out, r_eq
