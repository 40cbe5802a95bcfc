"""Empirical-Bayes shrinkage of a topic's misses toward the student's own average (issue 21,
eighth round; core.weakness.standings uses it when FITTED is on, an ablation: not kept).

A topic's misses per card against the average are shrunk by `k` misses of benefit of the doubt:
`(m + k) / (E + k)`. A fixed `k` shrinks a student whose topics differ only by chance as little
as one whose topics really differ; here `k` is fitted from the student's own topics.
"""

from __future__ import annotations

import math
from collections.abc import Mapping

# Misses shrunk toward the average by core.weakness.RELATIVE_PRIOR_MISSES (False) or by a
# prior fitted from the student's topics (True: `fitted_prior`; simulator arm `eb`).
FITTED = False
# A decayed miss count's variance per unit of its sum, for misses at a steady rate: Σw²/Σw of
# weights 0.5^(age/h) is about 1/2 (a sum of Poisson events weighted by w has variance Σw²).
DECAYED_VARIANCE = 0.5
FITTED_PRIOR_RANGE = (0.5, 1000.0)
# Misses as evidence (issue 21e, an ablation: 0 off): a topic's standing is not the posterior
# mean of its misses per card against the average but this normal quantile of it (-0.674: the
# lower quartile of a gamma of shape misses + prior, rate expected + prior), so a few misses
# above a small expected count (8 questions a day) say little, while a topic whose many misses
# leave no doubt keeps nearly its mean (core.weakness.Standing.ratio).
EVIDENCE_Z = 0.0


def evidence(shape: float) -> float:
    """The misses (prior included) a standing counts: `shape` itself (the posterior's mean),
    or with EVIDENCE_Z its gamma quantile there (`gamma_quantile`)."""
    return gamma_quantile(shape, EVIDENCE_Z) if EVIDENCE_Z else shape


def gamma_quantile(shape: float, z: float) -> float:
    """The quantile of a gamma of this shape (scale 1) at the standard normal's `z`
    (Wilson-Hilferty: within about 1% from shape 1 on)."""
    c = 1.0 / (9.0 * shape)
    return float(shape * max(0.0, 1.0 - c + z * math.sqrt(c)) ** 3)


def fitted_prior(misses: Mapping[int, float], expected: Mapping[int, float]) -> float:
    """Empirical Bayes: topics' true misses per card, relative to the average, as a gamma of
    mean 1 and shape `k`, each topic's misses Poisson around its expected count times that.
    Then the best guess of a topic's ratio is `(m + k) / (E + k)`, and by the method of moments
    `Σ (m − E)² − Σ var(m) = Σ E² / k`: `k` is large (strong shrinkage) where the topics differ
    no more than chance would make them, small where they really differ."""
    spread = sum((m - expected.get(t, 0.0)) ** 2 for t, m in misses.items())
    noise = DECAYED_VARIANCE * sum(misses.values())
    scale = sum(e * e for e in expected.values())
    low, high = FITTED_PRIOR_RANGE
    if scale <= 0.0 or spread - noise <= scale / high:
        return high
    return max(low, min(high, scale / (spread - noise)))


def prior(misses: Mapping[int, float], expected: Mapping[int, float], fixed: float) -> float:
    """The misses of benefit of the doubt a topic's standing is shrunk by: `fixed`, or with
    FITTED the prior fitted from the student's topics (`fitted_prior`)."""
    return fitted_prior(misses, expected) if FITTED else fixed
