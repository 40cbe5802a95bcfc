"""A student's month through the services, with the invariants of a real study week checked
after every day (see `student.py`): the queue empties in a bounded number of answers; no card is
answered twice in a study day unless it was in (re)learning; pulled-forward cards at most once;
"due tomorrow" equals the next day's first queue; every count on every surface agrees; `check`
replays every card; every answer is in the review log.

A failure names the seed and the day: `FLASHCORE_SCENARIO_SEED=7 FLASHCORE_SCENARIO_DAYS=12
python3 -m pytest tests/scenarios -k month` replays it. The long variant (three seeds, 75 days,
bigger decks) runs with `FLASHCORE_SLOW=1 python3 -m pytest tests/scenarios -m slow`."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from flashcore.core.clock import FixedClock
from flashcore.services import Flashcore
from tests.scenarios.student import SETTINGS_PLAN, Month, scenario_days, scenario_seed

SLOW = os.environ.get("FLASHCORE_SLOW") == "1"


def run_month(url: str, folder: Path, *, seed: int, days: int, notes_per_leaf: int = 5) -> Month:
    clock = FixedClock()
    with Flashcore.open(url, clock=clock, create=True, timezone="UTC") as fc:
        month = Month(fc, clock, folder, seed, days, notes_per_leaf)
        month.run()
    return month


def test_a_students_month_keeps_every_invariant_every_day(sqlite_url, tmp_path):
    month = run_month(sqlite_url, tmp_path / "decks", seed=scenario_seed(1), days=scenario_days(28))
    studied = [n for n in month.answered_per_day if n]
    # The month did what it says: most days studied, some skipped, every setting change seen.
    assert len(studied) >= 0.7 * len(month.answered_per_day)
    assert len(studied) < len(month.answered_per_day) or scenario_days(28) < 10
    assert max(SETTINGS_PLAN) < len(month.answered_per_day) or scenario_days(28) < 25
    # Bounded work: no day needs more than a few answers per card of a ~100-card collection.
    assert max(month.answered_per_day) < 200


@pytest.mark.postgres
def test_two_weeks_on_postgresql_keep_every_invariant(pg_head_url, tmp_path):
    run_month(pg_head_url, tmp_path / "decks", seed=scenario_seed(2), days=scenario_days(9))


@pytest.mark.slow
@pytest.mark.skipif(not SLOW, reason="long variant: set FLASHCORE_SLOW=1 to run it")
@pytest.mark.parametrize("seed", [11, 12, 13])
def test_long_months_with_bigger_decks_keep_every_invariant(sqlite_url, tmp_path, seed):
    run_month(sqlite_url, tmp_path / "decks", seed=seed, days=75, notes_per_leaf=12)
