"""Schema 0023 on a released 0022 database, on SQLite and PostgreSQL: the attempts are indexed
by (profile_id, on_date) instead of a unique (profile_id, fingerprint) index; every row stays
through the upgrade and the downgrade, which restores the unique index."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from flashcore.storage.db import make_engine
from flashcore.storage.migrate import downgrade, read_revision, upgrade
from tests.migrations.fixtures import dump, released_database

REVISION, PREVIOUS = "0023", "0022"
UNIQUE = "uq_qbank_attempts_profile_id_fingerprint"
BY_DAY = "ix_qbank_attempts_profile_id_on_date"


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def released(request: pytest.FixtureRequest, tmp_path: Path) -> tuple[str, dict[str, Any]]:
    return released_database(request, tmp_path, PREVIOUS)


def _indexes(engine: sa.Engine) -> tuple[set[str], set[str]]:
    """(unique constraints, indexes) of qbank_attempts, by name."""
    found = sa.inspect(engine)
    unique = {u["name"] or "" for u in found.get_unique_constraints("qbank_attempts")}
    indexes = {i["name"] or "" for i in found.get_indexes("qbank_attempts")}
    return unique, indexes


def test_the_attempts_are_indexed_by_day_and_keep_every_row(released):
    url, fixture = released
    columns = {name: table["columns"] for name, table in fixture["tables"].items()}
    assert len(fixture["tables"]["qbank_attempts"]["rows"]) >= 2
    engine = make_engine(url)
    try:
        assert UNIQUE in _indexes(engine)[0]
        upgrade(engine, REVISION)
        assert read_revision(engine) == REVISION
        unique, indexes = _indexes(engine)
        assert UNIQUE not in unique and UNIQUE not in indexes
        assert BY_DAY in indexes
        assert dump(engine, columns) == fixture["tables"]

        downgrade(engine, PREVIOUS)
        assert read_revision(engine) == PREVIOUS
        unique, indexes = _indexes(engine)
        assert UNIQUE in unique and BY_DAY not in indexes
        assert dump(engine, columns) == fixture["tables"]
    finally:
        engine.dispose()
