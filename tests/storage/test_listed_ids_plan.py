"""The question ids a profile's notes list are read from the listed ids to their notes by id
(SQLite): walking every note of the profile instead took an import's fold and the weights'
sums ~0.1 CPU-s each at 200,000 notes, 10,000 of them listing an id."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy.dialects import sqlite

from flashcore.storage.db import make_engine
from flashcore.storage.migrate import upgrade
from flashcore.storage.repos.qbank_sums import _listed_ids


def test_the_listed_ids_are_read_without_walking_the_profiles_notes(tmp_path: Path) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'plan.sqlite3'}", create=True)
    try:
        upgrade(engine)
        sql = str(
            _listed_ids(1).compile(dialect=sqlite.dialect(), compile_kwargs={"literal_binds": True})
        )
        with engine.connect() as conn:
            plan = [str(row[-1]) for row in conn.exec_driver_sql(f"EXPLAIN QUERY PLAN {sql}")]
        assert any(step.startswith("SCAN note_qids") for step in plan), plan
        assert not any("notes USING" in step and "profile_id" in step for step in plan), plan
    finally:
        engine.dispose()
