"""Schema 0029 on a released 0028 database, on SQLite and PostgreSQL: the upgrade keeps every
row (SQLite: `qbank_batches` made again with `AUTOINCREMENT`); the downgrade keeps every row
(tests/cli/test_cli_qbank_remove.py: a removed batch's id is never given again)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from flashcore.storage.db import make_engine
from flashcore.storage.migrate import downgrade, read_revision, upgrade
from tests.migrations.fixtures import dump, released_database

REVISION, PREVIOUS = "0029", "0028"


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def released(request: pytest.FixtureRequest, tmp_path: Path) -> tuple[str, dict[str, Any]]:
    return released_database(request, tmp_path, PREVIOUS)


def _autoincrement(engine: sa.Engine) -> bool | None:
    if engine.dialect.name != "sqlite":
        return None
    with engine.connect() as conn:
        ddl = conn.exec_driver_sql(
            "SELECT sql FROM sqlite_master WHERE type = 'table' AND name = 'qbank_batches'"
        ).scalar_one()
    return "AUTOINCREMENT" in ddl


def test_the_batch_ids_are_kept_from_reuse_without_changing_a_row(released):
    url, fixture = released
    columns = {name: table["columns"] for name, table in fixture["tables"].items()}
    assert fixture["counts"]["qbank_batches"] > 0
    engine = make_engine(url)
    sqlite = engine.dialect.name == "sqlite"
    indexes = sa.inspect(engine).get_indexes("qbank_batches")
    try:
        assert _autoincrement(engine) is (False if sqlite else None)
        upgrade(engine, REVISION)
        assert read_revision(engine) == REVISION
        assert _autoincrement(engine) is (True if sqlite else None)
        assert dump(engine, columns) == fixture["tables"]
        assert sa.inspect(engine).get_indexes("qbank_batches") == indexes
        downgrade(engine, PREVIOUS)
        assert read_revision(engine) == PREVIOUS
        assert _autoincrement(engine) is (False if sqlite else None)
        assert dump(engine, columns) == fixture["tables"]
    finally:
        engine.dispose()
