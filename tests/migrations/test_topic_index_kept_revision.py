"""Schema 0024 on a released 0022 database brought to 0023, on SQLite and PostgreSQL: the kept
topic index's table comes empty, with its triggers on SQLite (none on PostgreSQL), every row
stays through the upgrade and the downgrade, and the downgrade leaves no trigger of it."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from flashcore.storage.db import make_engine
from flashcore.storage.index_cache import TOPIC_INDEX_DDL, TOPIC_INDEX_TRIGGERS
from flashcore.storage.migrate import downgrade, read_revision, upgrade
from tests.migrations.fixtures import dump, released_database, trigger_names

REVISION, PREVIOUS, RELEASED = "0024", "0023", "0022"


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def released(request: pytest.FixtureRequest, tmp_path: Path) -> tuple[str, dict[str, Any]]:
    return released_database(request, tmp_path, RELEASED)


def test_the_kept_index_comes_empty_with_its_triggers_and_goes_with_every_row_kept(released):
    url, fixture = released
    columns = {name: table["columns"] for name, table in fixture["tables"].items()}
    engine = make_engine(url)
    try:
        upgrade(engine, PREVIOUS)
        before = dump(engine, columns)
        upgrade(engine, REVISION)
        assert read_revision(engine) == REVISION
        sqlite = engine.dialect.name == "sqlite"
        with engine.connect() as conn:
            assert not conn.exec_driver_sql("SELECT * FROM topic_index_cache").all()
            assert len(trigger_names(conn, "topic_index")) == (
                TOPIC_INDEX_TRIGGERS if sqlite else 0
            )
        if sqlite:  # the migration's copy of the triggers is the schema's
            with engine.connect() as conn:
                made = conn.exec_driver_sql(
                    "SELECT sql FROM sqlite_master WHERE type = 'trigger' AND name GLOB "
                    "'tr_topic_index_*' ORDER BY name"
                ).scalars()
                assert sorted(made) == sorted(TOPIC_INDEX_DDL["sqlite"])
        assert dump(engine, columns) == before
        downgrade(engine, PREVIOUS)
        assert read_revision(engine) == PREVIOUS
        assert "topic_index_cache" not in set(sa.inspect(engine).get_table_names())
        with engine.connect() as conn:
            assert not trigger_names(conn, "topic_index")
        assert dump(engine, columns) == before
    finally:
        engine.dispose()
