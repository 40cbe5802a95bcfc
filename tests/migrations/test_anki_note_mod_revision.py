"""Schema 0030 on a released 0029 database, on SQLite and PostgreSQL: every note starts without
an Anki modification time (none was kept), the cards of a note gone from its file that were
suspended then (not leeches) are marked as suspended before 0030 (the return's rule then), the
others not; every other row is kept, and the downgrade drops both columns and keeps every row."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from flashcore.storage.db import make_engine
from flashcore.storage.migrate import downgrade, read_revision, upgrade
from tests.migrations.fixtures import dump, released_database

REVISION, PREVIOUS = "0030", "0029"


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def released(request: pytest.FixtureRequest, tmp_path: Path) -> tuple[str, dict[str, Any]]:
    return released_database(request, tmp_path, PREVIOUS)


def test_notes_start_without_a_mod_and_cards_of_gone_notes_keep_the_rule_before(released):
    url, fixture = released
    columns = {name: table["columns"] for name, table in fixture["tables"].items()}
    engine = make_engine(url)
    try:
        with engine.begin() as conn:
            note_id = (
                conn.exec_driver_sql(
                    "SELECT note_id FROM cards GROUP BY note_id HAVING count(*) >= 2 ORDER BY note_id"
                )
                .scalars()
                .first()
            )
            card_ids = (
                conn.exec_driver_sql(f"SELECT id FROM cards WHERE note_id = {note_id} ORDER BY id")
                .scalars()
                .all()
            )
            conn.exec_driver_sql(f"UPDATE notes SET removed = true WHERE id = {note_id}")
            conn.exec_driver_sql(
                f"UPDATE cards SET suspended = true WHERE id IN ({card_ids[0]}, {card_ids[1]})"
            )
            conn.exec_driver_sql(f"UPDATE cards SET leech = true WHERE id = {card_ids[1]}")
        before = dump(engine, columns)
        upgrade(engine, REVISION)
        assert read_revision(engine) == REVISION
        with engine.connect() as conn:
            assert (
                conn.exec_driver_sql(
                    "SELECT count(*) FROM notes WHERE anki_mod IS NOT NULL"
                ).scalar_one()
                == 0
            )
            marked = dict(
                conn.exec_driver_sql(
                    "SELECT id, suspended_gone FROM cards WHERE suspended_gone <> 0"
                ).all()
            )
        assert marked == {card_ids[0]: 2}  # the leech stays a leech: not marked
        assert dump(engine, columns) == before
        downgrade(engine, PREVIOUS)
        assert read_revision(engine) == PREVIOUS
        names = {c["name"] for c in sa.inspect(engine).get_columns("cards")}
        assert "suspended_gone" not in names
        assert "anki_mod" not in {c["name"] for c in sa.inspect(engine).get_columns("notes")}
        assert dump(engine, columns) == before
        upgrade(engine, "head")
    finally:
        engine.dispose()
