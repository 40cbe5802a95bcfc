"""Schema 0013 on a released 0012 database, on SQLite and PostgreSQL: every profile's new cards
are numbered in the interleaved order (the default `new_order`), the new-card index reads them in
that order, and a downgrade drops the column, restores 0004's index and keeps every other row."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import pytest
import sqlalchemy as sa

from flashcore.core.introduction import NewOrder, positions
from flashcore.storage.db import make_engine
from flashcore.storage.migrate import downgrade, read_revision, upgrade
from flashcore.storage.repos import new_card_places
from tests.migrations.fixtures import dump, released_database


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def released(request: pytest.FixtureRequest, tmp_path: Path) -> tuple[str, datetime, dict]:
    url, fixture = released_database(request, tmp_path, "0012")
    return url, datetime.fromisoformat(fixture["now"]), fixture


def new_queue_index(engine: sa.Engine) -> list[str | None]:
    (index,) = [
        i for i in sa.inspect(engine).get_indexes("cards") if i["name"] == "ix_cards_new_queue"
    ]
    return list(index["column_names"])


def test_upgrading_numbers_each_profiles_new_cards_in_the_interleaved_order(released):
    url, _now, _fixture = released
    engine = make_engine(url)
    try:
        upgrade(engine, "0013")
        with engine.connect() as conn:
            profiles = [r[0] for r in conn.exec_driver_sql("SELECT id FROM profiles")]
            numbered = 0
            for profile_id in profiles:
                places, stored = new_card_places(conn, profile_id)
                assert stored == positions(places, NewOrder.INTERLEAVED)
                numbered += len(stored)
            assert (
                numbered
                == conn.exec_driver_sql("SELECT count(*) FROM cards WHERE state = 0").scalar()
            )
            assert numbered > 5
        assert "new_position" in new_queue_index(engine)
    finally:
        engine.dispose()


def test_downgrading_0013_drops_the_column_and_restores_the_index(released):
    url, _now, fixture = released
    engine = make_engine(url)
    try:
        upgrade(engine, "0013")
        downgrade(engine, "0012")
        assert read_revision(engine) == "0012"
        columns = {c["name"] for c in sa.inspect(engine).get_columns("cards")}
        assert "new_position" not in columns
        assert "new_position" not in new_queue_index(engine)
        kept = dump(engine, {name: t["columns"] for name, t in fixture["tables"].items()})
        for name, table in fixture["tables"].items():
            assert kept[name] == table, name
        upgrade(engine, "0013")
        assert read_revision(engine) == "0013"
    finally:
        engine.dispose()
