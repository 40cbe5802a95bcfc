"""The idle-memory benchmark (`python -m tools.bench.idle`): its fit, and one short real run of
the reviewer left on a card in a pseudo-terminal. Nothing is timed against a target."""

from __future__ import annotations

import sys

import pytest

from tools.bench import idle

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="needs a POSIX pseudo-terminal")


def test_growth_is_fitted_over_the_later_half_per_hour_on_screen():
    # 100 KB of first allocations, then 1 KB per wall second: 3,600 KB an hour at speed 1,
    # 120 KB an hour of screen time when the clock ran 30 times faster
    samples = [(0.0, 1000), (10.0, 1100)] + [(10.0 + s, 1100 + s) for s in (10, 20, 30, 40)]
    assert idle.growth_per_hour(samples, 1) == pytest.approx(3600)
    assert idle.growth_per_hour(samples, 30) == pytest.approx(120)
    assert idle.growth_per_hour(samples[:1], 1) == 0.0


def test_a_short_run_reads_the_reviewers_memory_on_a_card(capsys):
    assert idle.main(["--minutes", "0.1", "--every", "2", "--json"]) == 0
    import json

    result = json.loads(capsys.readouterr().out)
    assert result["rss_start_kb"] > 10_000  # the reviewer's, not a wrapper's
    assert result["wall_minutes"] >= 0.1
    assert result["bytes_drawn"] > 0  # its clock was redrawn while the card stayed
