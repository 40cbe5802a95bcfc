"""Schema 0018 on a released 0017 database, on SQLite and PostgreSQL: `topic_cards` comes filled
with each topic's cards as the cards stand, its triggers keep it from then on, every row stays
through the upgrade and the downgrade, and the downgrade leaves no trigger behind."""

from __future__ import annotations

from pathlib import Path

import pytest
import sqlalchemy as sa

from flashcore.storage.db import make_engine
from flashcore.storage.migrate import downgrade, read_revision, upgrade
from tests.migrations.fixtures import dump, released_database, trigger_names

REVISION, PREVIOUS = "0018", "0017"

COUNTED = (
    "SELECT t.id, (SELECT count(*) FROM note_topics nt JOIN cards c ON c.note_id = nt.note_id "
    "WHERE nt.topic_id = t.id) FROM topics t ORDER BY t.id"
)


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def released(request: pytest.FixtureRequest, tmp_path: Path) -> tuple[str, dict]:
    return released_database(request, tmp_path, PREVIOUS)


def test_the_counts_come_filled_kept_and_go_with_every_row_kept(released):
    url, fixture = released
    columns = {name: table["columns"] for name, table in fixture["tables"].items()}
    engine = make_engine(url)
    try:
        upgrade(engine, REVISION)
        assert read_revision(engine) == REVISION
        with engine.connect() as conn:
            counted = [tuple(r) for r in conn.exec_driver_sql(COUNTED)]
            kept = [
                tuple(r) for r in conn.exec_driver_sql(
                    "SELECT topic_id, cards FROM topic_cards ORDER BY topic_id"
                )
            ]  # fmt: skip
            assert kept == counted and sum(n for _t, n in kept) > 0
            assert len(trigger_names(conn)) == 7
        assert dump(engine, columns) == fixture["tables"]
        with engine.begin() as conn:  # the triggers run: a note's cards leave with it
            note = conn.exec_driver_sql(
                "SELECT note_id FROM note_topics nt WHERE EXISTS "
                "(SELECT 1 FROM cards c WHERE c.note_id = nt.note_id) ORDER BY note_id LIMIT 1"
            ).scalar_one()
            conn.exec_driver_sql(f"DELETE FROM cards WHERE note_id = {int(note)}")
            after = [tuple(r) for r in conn.exec_driver_sql(COUNTED)]
            assert after != counted
            kept = [
                tuple(r) for r in conn.exec_driver_sql(
                    "SELECT topic_id, cards FROM topic_cards ORDER BY topic_id"
                )
            ]  # fmt: skip
            assert kept == after
            conn.rollback()

        downgrade(engine, PREVIOUS)
        assert read_revision(engine) == PREVIOUS
        assert "topic_cards" not in set(sa.inspect(engine).get_table_names())
        with engine.connect() as conn:
            assert not trigger_names(conn)
        assert dump(engine, columns) == fixture["tables"]
    finally:
        engine.dispose()
