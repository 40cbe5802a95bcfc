"""Schema 0022 on a released 0021 database, on SQLite and PostgreSQL: the review log's two
indexes by card become one unique (card, revlog id) index over every row, which still refuses a
card's revlog id twice and takes any number of answers without one; every row stays through the
upgrade and the downgrade, which builds the two indexes again."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from flashcore.storage.db import make_engine
from flashcore.storage.migrate import downgrade, read_revision, upgrade
from tests.migrations.fixtures import dump, released_database

REVISION, PREVIOUS = "0022", "0021"
UNIQUE = "ix_review_logs_card_id_anki_revlog_id"


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def released(request: pytest.FixtureRequest, tmp_path: Path) -> tuple[str, dict[str, Any]]:
    return released_database(request, tmp_path, PREVIOUS)


def _indexes(engine: sa.Engine) -> dict[str, tuple[tuple[str, ...], bool]]:
    return {
        str(ix["name"]): (tuple(str(c) for c in ix["column_names"]), bool(ix["unique"]))
        for ix in sa.inspect(engine).get_indexes("review_logs")
    }


def _copy_of_a_row(conn: sa.Connection, **changes: Any) -> None:
    """Insert a copy of the fixture's first review-log row with `changes` (a new id)."""
    columns = [c for c in sa.inspect(conn).get_columns("review_logs") if c["name"] != "id"]
    names = ", ".join(c["name"] for c in columns)
    row = conn.execute(sa.text(f"SELECT {names} FROM review_logs ORDER BY id LIMIT 1")).one()
    values = {**row._asdict(), **changes}
    marks = ", ".join(f":{c['name']}" for c in columns)
    conn.execute(sa.text(f"INSERT INTO review_logs ({names}) VALUES ({marks})"), values)


def test_one_unique_index_by_card_and_revlog_id_and_every_row_kept(released):
    url, fixture = released
    columns = {name: table["columns"] for name, table in fixture["tables"].items()}
    engine = make_engine(url)
    try:
        before = _indexes(engine)
        assert before["ix_review_logs_card_id"] == (("card_id",), False)

        upgrade(engine, REVISION)
        assert read_revision(engine) == REVISION
        after = _indexes(engine)
        assert "ix_review_logs_card_id" not in after
        assert after[UNIQUE] == (("card_id", "anki_revlog_id"), True)
        assert dump(engine, columns) == fixture["tables"]
        with engine.connect() as conn:
            card = conn.execute(sa.text("SELECT card_id FROM review_logs LIMIT 1")).scalar_one()
            for _ in range(2):  # answers without a revlog id: as many as given
                _copy_of_a_row(conn, card_id=card, anki_revlog_id=None)
            _copy_of_a_row(conn, card_id=card, anki_revlog_id=1_700_000_000_000)
            with pytest.raises(sa.exc.IntegrityError), conn.begin_nested():
                _copy_of_a_row(conn, card_id=card, anki_revlog_id=1_700_000_000_000)
            conn.rollback()

        downgrade(engine, PREVIOUS)
        assert read_revision(engine) == PREVIOUS
        assert _indexes(engine) == before
        assert dump(engine, columns) == fixture["tables"]
    finally:
        engine.dispose()
