"""Schema 0026 on a released 0024 database brought to 0025, on SQLite and PostgreSQL: the kept
topic scores' table comes empty (its scores are those of a study day, which the schema does
not know), a report made on the upgraded database fills it, every other row stays through the
upgrade and the downgrade, which drops the table with what it held."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from flashcore.core.clock import FixedClock
from flashcore.services import Flashcore, matching, weakness
from flashcore.storage.db import make_engine
from flashcore.storage.migrate import downgrade, read_revision, upgrade
from tests.migrations.fixtures import dump, released_database

REVISION, PREVIOUS, RELEASED = "0026", "0025", "0024"


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def released(request: pytest.FixtureRequest, tmp_path: Path) -> tuple[str, dict[str, Any]]:
    return released_database(request, tmp_path, RELEASED)


def _kept(engine: sa.Engine) -> list[Any]:
    with engine.connect() as conn:
        return conn.exec_driver_sql("SELECT profile_id, stamp FROM topic_scores_kept").all()


def test_the_kept_scores_come_empty_fill_on_a_report_and_go_with_every_row_kept(
    released, monkeypatch
):
    url, fixture = released
    columns = {name: table["columns"] for name, table in fixture["tables"].items()}
    assert fixture["tables"]["qbank_attempts"]["rows"]
    engine = make_engine(url)
    try:
        upgrade(engine, PREVIOUS)
        before = dump(engine, columns)
        upgrade(engine, REVISION)
        assert read_revision(engine) == REVISION
        assert not _kept(engine)
        assert dump(engine, columns) == before
        monkeypatch.setattr(matching, "SUM_IN_DATABASE_FROM", 0)  # kept for a small history
        monkeypatch.setattr(weakness, "SUM_IN_DATABASE_FROM", 0)
        clock = FixedClock(datetime.fromisoformat(fixture["now"]).astimezone(UTC))
        with Flashcore.open(url, clock=clock) as fc:
            made = weakness.report(fc)
            assert made["topics"]
            assert [row[0] for row in _kept(engine)] == [fc.profile_id]
            assert weakness.report(fc) == made  # read from the kept row
        after_report = dump(engine, columns)
        downgrade(engine, PREVIOUS)
        assert read_revision(engine) == PREVIOUS
        assert "topic_scores_kept" not in set(sa.inspect(engine).get_table_names())
        assert dump(engine, columns) == after_report
    finally:
        engine.dispose()
