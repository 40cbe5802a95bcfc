"""Issue 21e's two ablations of the weakness weighting (off as shipped; the simulator's arms
`coverage` and `evidence`): a topic's probes reaching its share of the cards studied so far,
offered in round robin (core.introduction), and a topic's misses taken as evidence, the
posterior's lower quartile rather than its mean (core.shrinkage)."""

from __future__ import annotations

import random

import pytest

from flashcore.core import introduction, shrinkage
from flashcore.core.weakness import Standing


def test_off_the_probe_quota_is_the_first_cards_only():
    assert introduction.COVERAGE == 0.0
    assert introduction.probe_quota(25, 0.8) == 3
    assert introduction.probe_count_needed() == 24


def test_coverage_keeps_every_topic_at_its_share_of_the_studied_cards(monkeypatch):
    monkeypatch.setattr(introduction, "COVERAGE", 1.0)
    assert introduction.probe_quota(25, 0.0) == 3  # the first cards still
    assert introduction.probe_quota(25, 0.6) == 15  # 60% of the collection studied
    assert introduction.probe_quota(7, 0.5) == 3  # a small topic: half of its cards
    assert introduction.probe_count_needed() == introduction.COVERAGE_COUNT_UP_TO


def test_the_round_robin_gives_each_topic_its_next_card_before_any_topic_its_one_after():
    # (position, note, ord, card) of each topic's new cards; topic 2 has one card studied
    new = {1: [(5, 5, 0, 50), (1, 1, 0, 10), (9, 9, 0, 90)],
           2: [(2, 2, 0, 20), (3, 3, 0, 30)], 3: [(7, 7, 0, 70)]}  # fmt: skip
    order = introduction.round_robin(new, {1: 3, 2: 2, 3: 1}, {2: 1})
    assert order == [10, 70, 20, 50, 30, 90]
    assert introduction.round_robin(new, {1: 1, 2: 1, 3: 1}, {}) == [10, 20, 70]
    # a card of two topics once, at its earlier place
    both = {1: [(4, 4, 0, 40)], 2: [(1, 1, 0, 10), (4, 4, 0, 40)]}
    assert introduction.round_robin(both, {1: 1, 2: 2}, {}) == [10, 40]


def test_the_gamma_quantile_is_the_sampled_one():
    rng = random.Random(3)
    for shape in (1.0, 3.0, 7.0, 43.0):
        drawn = sorted(rng.gammavariate(shape, 1.0) for _ in range(40_000))
        assert shrinkage.gamma_quantile(shape, -0.674) == pytest.approx(drawn[10_000], rel=0.03)


def test_as_evidence_a_few_misses_say_little_and_many_keep_nearly_their_mean(monkeypatch):
    few, many = Standing(4.0, 1.0), Standing(40.0, 20.0)
    assert (few.ratio, many.ratio) == (1.75, 43 / 23)
    monkeypatch.setattr(shrinkage, "EVIDENCE_Z", -0.674)
    assert few.ratio == pytest.approx(1.27, abs=0.01)  # 4 misses where 1 was expected: ~1
    assert many.ratio == pytest.approx(1.67, abs=0.01)  # 40 where 20 were: still weak
    assert Standing(1.0, 1.0).ratio < 1.0  # the average is not weak
