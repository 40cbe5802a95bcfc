"""The weakness report of a large history read through the kept sums' windows (schema 0020:
one row per group folded for a day, an import's fold adding its own, the days that moved since
read beside them) is the report summed from every attempt: the same topics, misses, rates,
"x your average", reasons and gaps, and the same topic weights and card reasons, after imports
folded into the sums, across day boundaries (the windows move with the clock) and a
settling, on SQLite and PostgreSQL."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta

from sqlalchemy import text

from flashcore.core.clock import FixedClock
from flashcore.services import Flashcore, kept_scores, matching, qbank, weakness
from flashcore.storage.repos import qbank_sums
from flashcore.storage.repos.qbank_sums_rows import _state
from flashcore.storage.uow import reading
from tests.services.test_summed_scores import history, weights
from tests.weak_week import load_deck

# (days the clock moves, rows imported then): a fold on the windows' day, a day boundary, a
# fold on a later day than the windows', more days, a settling of the sums (7 days later).
STEPS = [(0, 300), (1, 0), (0, 250), (3, 0), (2, 200), (8, 0), (0, 150)]


def _from_scratch(fc: Flashcore, monkeypatch) -> tuple[dict, tuple]:
    """The report and the weights with the kept sums set aside: every attempt summed."""
    with monkeypatch.context() as m:
        m.setattr(qbank_sums, "cached_groups", lambda *args, **kwargs: None)
        report = weakness.report(fc)
        weakness.refresh_weights(fc)
        return report, weights(fc)


def test_the_report_through_the_windows_is_the_report_summed_from_scratch(
    db_url, tmp_path, monkeypatch
):
    clock = FixedClock(datetime(2026, 11, 25, 15, tzinfo=UTC))
    monkeypatch.setattr(matching, "SUM_IN_DATABASE_FROM", 0)  # the sums kept from the start
    monkeypatch.setattr(weakness, "SUM_IN_DATABASE_FROM", 0)
    # the windows read each time, not the scores kept from them (tests/services/test_kept_scores)
    monkeypatch.setattr(kept_scores, "stamp", lambda *args, **kwargs: None)
    windowed, seen = [], []
    read = qbank_sums.read_windows

    def counted(conn, profile_id, state, today, half_life):
        windowed.append((state.window_day, today))
        return read(conn, profile_id, state, today, half_life)

    monkeypatch.setattr(qbank_sums, "read_windows", counted)
    with Flashcore.open(db_url, clock=clock, create=True, timezone="UTC") as fc:
        load_deck(fc, tmp_path)
        rng = random.Random(11)
        for n in range(3):
            qbank.import_log(fc, history(rng, clock.now().date(), 400), origin=f"h{n}.csv")
        weakness.report(fc)  # sums the history into the kept sums, windows for today
        for n, (days, rows) in enumerate(STEPS):
            clock.advance(timedelta(days=days))
            if rows:
                log = history(rng, clock.now().date(), rows)
                assert qbank.import_log(fc, log, origin=f"n{n}.csv").added
                with reading(fc.engine) as session:
                    state = _state(session, fc.profile_id)
                    top = session.execute(text("SELECT max(id) FROM qbank_attempts")).scalar()
                assert state.last_attempt_id == top  # folded: the report reads none of it
            del windowed[:]
            incremental = weakness.report(fc), weights(fc)
            assert windowed, "the report did not read the windows"
            assert incremental == _from_scratch(fc, monkeypatch), (n, windowed)
            seen.extend(windowed)
    assert any(then < today for then, today in seen)  # read on a later day than the windows'
    assert incremental[0]["topics"] and incremental[0]["gaps"]
