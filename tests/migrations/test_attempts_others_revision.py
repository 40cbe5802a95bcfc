"""Schema 0025 on a released 0024 database, on SQLite and PostgreSQL: qbank attempts gain the
question's "% correct others" (NULL for every stored attempt: their pastes are gone), a new
attempt keeps it, and every row stays through the upgrade and the downgrade, which drops it
and keeps the attempts' index."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from flashcore.storage.db import make_engine
from flashcore.storage.migrate import downgrade, read_revision, upgrade
from tests.migrations.fixtures import dump, released_database

REVISION, PREVIOUS = "0025", "0024"


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def released(request: pytest.FixtureRequest, tmp_path: Path) -> tuple[str, dict[str, Any]]:
    return released_database(request, tmp_path, PREVIOUS)


def _columns(engine: sa.Engine) -> set[str]:
    return {c["name"] for c in sa.inspect(engine).get_columns("qbank_attempts")}


def _indexes(engine: sa.Engine) -> set[str]:
    return {str(ix["name"]) for ix in sa.inspect(engine).get_indexes("qbank_attempts")}


def test_attempts_gain_the_others_share_and_keep_every_row(released):
    url, fixture = released
    columns = {name: table["columns"] for name, table in fixture["tables"].items()}
    assert fixture["tables"]["qbank_attempts"]["rows"]
    engine = make_engine(url)
    try:
        indexes = _indexes(engine)
        upgrade(engine, REVISION)
        assert read_revision(engine) == REVISION
        assert "others" in _columns(engine)
        assert _indexes(engine) == indexes | {"ix_qbank_attempts_shares"}
        with engine.begin() as conn:
            assert (
                conn.execute(
                    sa.text("SELECT count(*) FROM qbank_attempts WHERE others IS NOT NULL")
                ).scalar_one()
                == 0
            )
        assert dump(engine, columns) == fixture["tables"]
        with engine.begin() as conn:  # a new attempt keeps its share
            conn.execute(sa.text("UPDATE qbank_attempts SET others = 62 WHERE id = "
                                 "(SELECT min(id) FROM qbank_attempts)"))  # fmt: skip

        downgrade(engine, PREVIOUS)
        assert read_revision(engine) == PREVIOUS
        assert "others" not in _columns(engine)
        assert _indexes(engine) == indexes
        assert dump(engine, columns) == fixture["tables"]
    finally:
        engine.dispose()
