"""Empirical-Bayes shrinkage of a topic's misses toward the student's average (issue 21, eighth
round): how strongly is fitted from how much the student's topics differ beyond chance."""

from __future__ import annotations

import pytest

from flashcore.core import shrinkage, weakness
from flashcore.core.shrinkage import FITTED_PRIOR_RANGE, fitted_prior
from flashcore.core.weakness import standings


def test_topics_that_differ_only_by_chance_are_shrunk_hard_and_real_differences_little():
    expected = {t: 4.0 for t in range(40)}
    # decayed misses scattered no more than chance scatters them (variance ~ mean / 2)
    alike = {t: 4.0 + (1.0 if t % 2 else -1.0) for t in expected}
    # half the topics missed three times as often per card as the other half
    apart = {t: 2.0 if t % 2 else 6.0 for t in expected}
    far = {t: 1.0 if t % 2 else 7.0 for t in expected}
    assert fitted_prior(alike, expected) == FITTED_PRIOR_RANGE[1]  # all chance: no weights
    assert 3.0 < fitted_prior(apart, expected) < 10.0
    assert fitted_prior(far, expected) < fitted_prior(apart, expected)  # more apart, less shrunk


def test_no_spread_beyond_chance_gives_the_strongest_prior_and_no_data_too():
    expected = {1: 5.0, 2: 5.0}
    assert fitted_prior({1: 5.0, 2: 5.0}, expected) == FITTED_PRIOR_RANGE[1]
    assert fitted_prior({}, {}) == FITTED_PRIOR_RANGE[1]


def test_standings_use_the_fitted_prior_when_switched_on(monkeypatch):
    misses = {1: 12.0, 2: 2.0, 3: 2.0, 4: 0.5}
    cards = {1: 25, 2: 25, 3: 25, 4: 25}
    fixed = standings(misses, cards, 100)
    monkeypatch.setattr(shrinkage, "FITTED", True)
    fitted = standings(misses, cards, 100)
    k = fitted[1].prior
    assert k != fixed[1].prior == weakness.RELATIVE_PRIOR_MISSES
    assert fitted[1].ratio == pytest.approx((12.0 + k) / (fitted[1].expected + k))
    assert all(s.prior == k for s in fitted.values())
