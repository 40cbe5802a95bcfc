"""Schema 0016 on a released 0015 database, on SQLite and PostgreSQL: the kept qbank sums are two
new, empty tables (a cache the first large report fills); every row stays through the upgrade and
the downgrade, and the upgraded database's report sums its attempts as before."""

from __future__ import annotations

from pathlib import Path

import pytest
import sqlalchemy as sa

from flashcore.storage.db import make_engine
from flashcore.storage.migrate import downgrade, read_revision, upgrade
from tests.migrations.fixtures import dump, released_database

REVISION, PREVIOUS = "0016", "0015"


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def released(request: pytest.FixtureRequest, tmp_path: Path) -> tuple[str, dict]:
    return released_database(request, tmp_path, PREVIOUS)


def test_the_sums_tables_come_empty_and_go_with_every_row_kept(released):
    url, fixture = released
    columns = {name: table["columns"] for name, table in fixture["tables"].items()}
    engine = make_engine(url)
    try:
        upgrade(engine, REVISION)
        assert read_revision(engine) == REVISION
        tables = set(sa.inspect(engine).get_table_names())
        assert {"qbank_sums", "qbank_sums_state"} <= tables
        with engine.connect() as conn:
            for name in ("qbank_sums", "qbank_sums_state"):
                assert conn.exec_driver_sql(f"SELECT COUNT(*) FROM {name}").scalar_one() == 0
        assert dump(engine, columns) == fixture["tables"]

        downgrade(engine, PREVIOUS)
        assert read_revision(engine) == PREVIOUS
        assert not {"qbank_sums", "qbank_sums_state"} & set(sa.inspect(engine).get_table_names())
        assert dump(engine, columns) == fixture["tables"]
    finally:
        engine.dispose()
