"""Schema 0031 on a released 0030 database, on SQLite and PostgreSQL: `weak_candidates` is
filled with exactly the cards a weight refresh may change (as worked out from the cards and
their notes' topics), its triggers keep it so through a write after the upgrade, every other
row is kept; the downgrade drops the triggers (PostgreSQL: and their functions) and the table
and keeps every row."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from flashcore.storage.db import make_engine
from flashcore.storage.migrate import downgrade, read_revision, upgrade
from tests.migrations.fixtures import dump, released_database
from tests.storage.test_weak_candidates import kept_and_counted

REVISION, PREVIOUS = "0031", "0030"
TRIGGERS = {
    "tr_weak_candidates_card_in",
    "tr_weak_candidates_card_out",
    "tr_weak_candidates_card_moved",
    "tr_weak_candidates_link_in",
    "tr_weak_candidates_link_out",
    "tr_weak_candidates_link_moved",
}


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def released(request: pytest.FixtureRequest, tmp_path: Path) -> tuple[str, dict[str, Any]]:
    return released_database(request, tmp_path, PREVIOUS)


def _triggers(engine: sa.Engine) -> set[str]:
    with engine.connect() as conn:
        if engine.dialect.name == "sqlite":
            found = conn.exec_driver_sql("SELECT name FROM sqlite_master WHERE type = 'trigger'")
        else:
            found = conn.exec_driver_sql(
                "SELECT tgname FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid"
                " WHERE c.relnamespace = current_schema()::regnamespace AND NOT t.tgisinternal"
            )
        return {str(name) for name in found.scalars() if "weak_candidates" in str(name)}


def test_the_candidates_are_filled_kept_and_dropped_with_every_row_kept(released):
    url, fixture = released
    columns = {name: table["columns"] for name, table in fixture["tables"].items()}
    engine = make_engine(url)
    try:
        before = dump(engine, columns)
        upgrade(engine, REVISION)
        assert read_revision(engine) == REVISION
        kept, counted = kept_and_counted(engine)
        assert kept == counted
        assert kept  # the fixture's notes of several topics, its weighed cards
        assert _triggers(engine) == TRIGGERS
        assert dump(engine, columns) == before
        with engine.begin() as conn:  # a settled card weighed: the trigger takes it in
            settled = conn.exec_driver_sql(
                "SELECT profile_id, id FROM cards WHERE weight = 0 ORDER BY id"
            ).all()
            profile_id, card_id = next(tuple(c) for c in settled if tuple(c) not in kept)
            conn.exec_driver_sql(f"UPDATE cards SET weight = 1.5 WHERE id = {card_id}")
        now, counted = kept_and_counted(engine)
        assert now == counted and now - kept == {(profile_id, card_id)}
        with engine.begin() as conn:
            conn.exec_driver_sql(f"UPDATE cards SET weight = 0 WHERE id = {card_id}")
        assert kept_and_counted(engine)[0] == kept
        downgrade(engine, PREVIOUS)
        assert read_revision(engine) == PREVIOUS
        assert "weak_candidates" not in sa.inspect(engine).get_table_names()
        assert _triggers(engine) == set()
        if engine.dialect.name == "postgresql":
            with engine.connect() as conn:
                functions = conn.exec_driver_sql(
                    "SELECT count(*) FROM pg_proc WHERE proname IN"
                    " ('weak_candidates_card', 'weak_candidates_link')"
                    " AND pronamespace = current_schema()::regnamespace"
                ).scalar_one()
            assert functions == 0
        assert dump(engine, columns) == before
        upgrade(engine, "head")
        assert kept_and_counted(engine)[0] == kept
    finally:
        engine.dispose()
