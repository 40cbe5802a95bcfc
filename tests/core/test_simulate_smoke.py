"""A tiny, fast run of the simulation benchmark: structure and determinism, no thresholds."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import date

import pytest

from flashcore.core import weakness
from tools import simulate as sim

TINY = sim.SimConfig(
    topics=6, cards_per_topic=4, days=8, new_per_day=5, review_limit=15, qbank_per_day=8
)
TINY_ARGS = [
    "--topics=6",
    "--cards-per-topic=4",
    "--days=8",
    "--new-per-day=5",
    "--review-limit=15",
    "--qbank-per-day=8",
    "--seeds=2",
    "--retentions=0.85,0.95",
    "--jobs=1",
]


def test_the_json_report_has_every_policy_every_seed_and_the_frontier_gap(capsys):
    assert sim.main([*TINY_ARGS, "--json", "--variant=name=tuned,half_score=1.5"]) == 0
    data = json.loads(capsys.readouterr().out)

    assert data["seeds"] == [0, 1]
    assert data["frontier"] == ["fsrs r=0.85", "fsrs r=0.95"]
    names = [p["policy"] for p in data["policies"]]
    assert names[:2] == data["frontier"]
    assert "flashcore" in names and "tuned" in names
    assert len(data["runs"]) == len(names) * 2
    for p in data["policies"]:
        assert 0.0 <= p["exam_mean"] <= 100.0
        assert p["answers_mean"] > 0
        if p["policy"] in data["frontier"]:
            assert p["frontier_gap_mean"] is None
        else:
            assert isinstance(p["frontier_gap_mean"], float)
            assert 0 <= p["seeds_above_frontier"] <= 2
    for run in data["runs"]:
        assert 0 < run["introduced"] <= TINY.days * TINY.new_per_day
        assert run["reviews"] <= run["answers"]


def test_the_table_names_every_policy(capsys):
    assert sim.main([*TINY_ARGS, "--only-variants", "--variant=name=mine,cap=0.95"]) == 0
    out = capsys.readouterr().out
    for name in ("fsrs r=0.85", "fsrs r=0.95", "mine", "vs frontier"):
        assert name in out


def test_a_run_is_deterministic_for_a_seed_and_differs_between_seeds():
    spec = sim.PolicySpec(name="flashcore", weighting="flashcore")
    first = sim.simulate(TINY, spec, seed=3)
    assert sim.simulate(TINY, spec, seed=3) == first
    assert sim.simulate(TINY, spec, seed=4) != first


def test_without_qbank_attempts_the_weighting_is_exactly_plain_fsrs():
    quiet = replace(TINY, qbank_per_day=0)
    plain = sim.simulate(quiet, sim.PolicySpec(name="p", base=0.9), seed=1)
    weighted = sim.simulate(quiet, sim.PolicySpec(name="p", weighting="flashcore"), seed=1)
    assert weighted == plain


def test_the_tunable_score_matches_the_weakness_model_at_its_constants():
    today = date(2026, 3, 1)
    attempts = [
        weakness.Attempt(date(2026, 2, day), missed=day % 3 != 0) for day in range(1, 28, 2)
    ]
    expected = weakness.score_topic(attempts, today, 14.0).score
    got = sim.score_with(
        attempts,
        today,
        14.0,
        weakness.PRIOR_MISS_RATE,
        weakness.PRIOR_WEIGHT,
        weakness.HALF_SCORE_AT,
    )
    assert got == pytest.approx(expected, rel=1e-12)


def test_the_frontier_is_interpolated_on_its_upper_envelope():
    points = [(100.0, 50.0), (200.0, 60.0), (300.0, 58.0)]
    assert sim.interpolate(points, 150.0) == (55.0, True)
    assert sim.interpolate(points, 250.0) == (60.0, True)
    assert sim.interpolate(points, 400.0) == (60.0, False)


def test_a_bad_variant_is_a_one_line_error(capsys):
    assert sim.main([*TINY_ARGS, "--variant=colour=blue"]) == 1
    assert capsys.readouterr().err.startswith("error: ")
