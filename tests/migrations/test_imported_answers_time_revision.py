"""Schema 0028 on a released 0027 database (with a first import's answers in
`imported_answers`), on SQLite and PostgreSQL: the upgrade adds the index of the imported
answers' revlog ids and changes no row; the downgrade drops it and changes no row."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from flashcore.storage.db import make_engine
from flashcore.storage.migrate import downgrade, read_revision, upgrade
from tests.migrations.fixtures import dump, released_database

REVISION, PREVIOUS = "0028", "0027"
INDEX = "ix_imported_answers_anki_revlog_id"


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def released(request: pytest.FixtureRequest, tmp_path: Path) -> tuple[str, dict[str, Any]]:
    return released_database(request, tmp_path, PREVIOUS)


def _indexes(engine: sa.Engine) -> dict[str, list[str | None]]:
    return {
        str(ix["name"]): list(ix["column_names"])
        for ix in sa.inspect(engine).get_indexes("imported_answers")
    }


def test_the_imported_answers_time_index_comes_and_goes_without_changing_a_row(released):
    url, fixture = released
    columns = {name: table["columns"] for name, table in fixture["tables"].items()}
    assert fixture["counts"]["imported_answers"] > 0
    engine = make_engine(url)
    try:
        assert INDEX not in _indexes(engine)
        upgrade(engine, REVISION)
        assert read_revision(engine) == REVISION
        assert _indexes(engine)[INDEX] == ["anki_revlog_id"]
        assert dump(engine, columns) == fixture["tables"]
        downgrade(engine, PREVIOUS)
        assert read_revision(engine) == PREVIOUS
        assert INDEX not in _indexes(engine)
        assert dump(engine, columns) == fixture["tables"]
    finally:
        engine.dispose()
