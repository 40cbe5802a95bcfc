"""Schema 0021 on a released 0020 database, on SQLite and PostgreSQL: every published batch
keeps the latest day of its attempts, derived from them; every row stays through the upgrade
and the downgrade."""

from __future__ import annotations

from collections import defaultdict
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from flashcore.storage.db import make_engine
from flashcore.storage.migrate import downgrade, read_revision, upgrade
from tests.migrations.fixtures import dump, released_database

REVISION, PREVIOUS = "0021", "0020"


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def released(request: pytest.FixtureRequest, tmp_path: Path) -> tuple[str, dict[str, Any]]:
    return released_database(request, tmp_path, PREVIOUS)


def test_every_batch_keeps_the_latest_day_of_its_attempts(released):
    url, fixture = released
    columns = {name: table["columns"] for name, table in fixture["tables"].items()}
    attempts = fixture["tables"]["qbank_attempts"]
    at = {name: i for i, name in enumerate(attempts["columns"])}
    latest: dict[int, str] = defaultdict(str)
    for row in attempts["rows"]:
        latest[row[at["batch_id"]]] = max(latest[row[at["batch_id"]]], row[at["on_date"]])
    assert len(latest) >= 2
    engine = make_engine(url)
    try:
        upgrade(engine, REVISION)
        assert read_revision(engine) == REVISION
        with engine.connect() as conn:
            found = conn.exec_driver_sql("SELECT id, latest_on FROM qbank_batches").all()
        assert {b: str(d) for b, d in found} == dict(latest)
        assert dump(engine, columns) == fixture["tables"]

        downgrade(engine, PREVIOUS)
        assert read_revision(engine) == PREVIOUS
        names = {c["name"] for c in sa.inspect(engine).get_columns("qbank_batches")}
        assert "latest_on" not in names
        assert dump(engine, columns) == fixture["tables"]
    finally:
        engine.dispose()
