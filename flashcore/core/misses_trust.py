"""How far a topic's misses count as evidence about its memory, given its flashcards (issue 21,
tenth round; an ablation unless ENABLED).

The misses' ratio (core.weakness.Standing) raises a topic's retention as if its misses measured
the student's memory. Where a qbank's questions differ in difficulty more than the student's
topics differ in memory, they measure the questions: the simulated hard-question students spent
the raise on topics of hard questions whose memory was average, and their weakest memories
ended below plain FSRS at the same workload. The flashcards measure the memory itself: a topic
whose cards lapse fewer times than FSRS predicted (at the student's own average calibration)
has shown, over its answers, that its memory is not what its misses suggest.

So the misses' ratio counts to the power `trust` in [0, 1]: 1 while the topic's cards lapse at
least as often as predicted (or have no reviews yet), shrinking with how many standard
deviations fewer lapses than predicted they show, `z = (E − L) / √(E + k)` (E the lapses
expected at the student's average, L those seen, k the flashcard signal's prior lapses):
`trust = max(0, 1 − z / SD)`. Few answers: z small, the misses count; many answers recalled at
or above the prediction: the misses give no raise. With ONLY_INTRODUCED the trust applies only
to topics whose every card has been introduced (a topic with new cards left keeps its misses,
which may be about the cards not yet seen, and its place in the new-card order).
"""

from __future__ import annotations

import math

from flashcore.core import weakness as model

ENABLED = False
SD = 1.0
ONLY_INTRODUCED = False
# "evidence": the trust above; "none": the misses never raise a topic the trust applies to (with
# ONLY_INTRODUCED: once every card of a topic is introduced, only its flashcards raise it; its
# misses ordered its new cards)
MODE = "evidence"


def trust(lapses: model.Lapses | None, average: float | None) -> float:
    """The share (as a power of the ratio) the misses count for one topic: 1 without flashcard
    evidence or where its cards lapse at least as often as predicted."""
    if MODE == "none":
        return 0.0
    if lapses is None or average is None:
        return 1.0
    expected = lapses.predicted * average
    short = expected - lapses.seen
    if short <= 0.0:
        return 1.0
    z = short / math.sqrt(expected + model.FORGETTING_PRIOR_LAPSES)
    return max(0.0, 1.0 - z / SD)


def counted(ratio: float | None, share: float) -> float | None:
    """The misses' ratio as it counts: above 1 raised to `share` (1: as it is; 0: average)."""
    if ratio is None or ratio <= 1.0:
        return ratio
    return float(ratio**share)
