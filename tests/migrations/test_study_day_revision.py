"""Schema 0006 on a released 0005 database, on SQLite and PostgreSQL: the answers written before
it keep replaying as they were answered (fsrs's 24-hour days), answers after it record the
study days they were given, today's raised new-card limits are kept; downgrading drops both and
keeps every other row."""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa

from flashcore.core.clock import FixedClock
from flashcore.core.model import Rating
from flashcore.core.studyday import days_between
from flashcore.services import Flashcore, study
from flashcore.services.check import check
from flashcore.storage.db import make_engine
from flashcore.storage.migrate import downgrade, read_revision, upgrade
from tests.migrations.fixtures import released_database


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def released(request: pytest.FixtureRequest, tmp_path: Path) -> tuple[str, datetime]:
    """A database at 0005 holding the 0005 fixture; and the fixture's clock."""
    url, fixture = released_database(request, tmp_path, "0005")
    return url, datetime.fromisoformat(fixture["now"])


def elapsed_column(url: str) -> list[int | None]:
    engine = make_engine(url)
    try:
        with engine.connect() as conn:
            return list(
                conn.exec_driver_sql("SELECT elapsed_days FROM review_logs ORDER BY id").scalars()
            )
    finally:
        engine.dispose()


def test_answers_before_0006_replay_as_written_and_later_ones_record_their_study_days(released):
    url, now = released
    clock = FixedClock(now + timedelta(days=1))
    with Flashcore.open(url, clock=clock) as fc:
        assert set(elapsed_column(url)) == {None}
        assert check(fc).problems == []
        studied = [c for c in fc.cards() if c["state"] == "review" and not c["suspended"]]
        card = min(studied, key=lambda c: c["card_id"])
        study.answer(fc, card["card_id"], Rating.GOOD)
        assert study.raise_new_limit(fc, extra=2) == fc.settings.new_per_day + 2
        assert check(fc).problems == []
        s = fc.settings
        last = datetime.fromisoformat(card["last_review"])
        expected = days_between(last, clock.now(), s.zone, s.day_start_hour)
    assert expected >= 1 and elapsed_column(url)[-1] == expected


def test_downgrading_0006_drops_the_column_and_the_raises_and_keeps_the_rest(released):
    url, now = released
    with Flashcore.open(url, clock=FixedClock(now + timedelta(hours=1))) as fc:
        study.raise_new_limit(fc, extra=2)
        reviews = len(elapsed_column(url))
    engine = make_engine(url)
    try:
        downgrade(engine, "0005")
        assert read_revision(engine) == "0005"
        inspector = sa.inspect(engine)
        assert "new_limit_raises" not in inspector.get_table_names()
        assert "elapsed_days" not in {c["name"] for c in inspector.get_columns("review_logs")}
        with engine.connect() as conn:
            assert conn.exec_driver_sql("SELECT count(*) FROM review_logs").scalar() == reviews
        upgrade(engine, "head")
    finally:
        engine.dispose()
