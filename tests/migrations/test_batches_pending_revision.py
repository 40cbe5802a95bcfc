"""Schema 0015 on a released 0013 database (upgraded to 0014), on SQLite and PostgreSQL: every
existing batch is published (no `pending_from`, no `owner`) and no row changes; a downgrade
removes only the attempts of a batch still being written (never visible) with that batch, keeps
every other row, and drops both columns."""

from __future__ import annotations

from pathlib import Path

import pytest
import sqlalchemy as sa

from flashcore.storage.db import make_engine
from flashcore.storage.migrate import HEAD, downgrade, read_revision, upgrade
from tests.migrations.fixtures import dump, released_database


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def released(request: pytest.FixtureRequest, tmp_path: Path) -> tuple[str, dict]:
    url, fixture = released_database(request, tmp_path, "0013", then="0014")
    return url, fixture


def columns(engine: sa.Engine) -> set[str]:
    return {c["name"] for c in sa.inspect(engine).get_columns("qbank_batches")}


def counts(engine: sa.Engine) -> tuple[int, int]:
    with engine.connect() as conn:
        batches = conn.exec_driver_sql("SELECT count(*) FROM qbank_batches").scalar_one()
        attempts = conn.exec_driver_sql("SELECT count(*) FROM qbank_attempts").scalar_one()
    return int(batches), int(attempts)


def test_upgrading_publishes_every_batch_and_keeps_every_row(released):
    url, fixture = released
    engine = make_engine(url)
    try:
        upgrade(engine, "0015")
        assert {"pending_from", "owner"} <= columns(engine)
        with engine.connect() as conn:
            found = conn.exec_driver_sql(
                "SELECT count(*) FROM qbank_batches WHERE pending_from IS NOT NULL "
                "OR owner IS NOT NULL"
            ).scalar_one()
        assert found == 0
        kept = dump(engine, {name: t["columns"] for name, t in fixture["tables"].items()})
        for name, table in fixture["tables"].items():
            assert kept[name] == table, name
    finally:
        engine.dispose()


def test_downgrading_0015_removes_only_a_batch_being_written(released):
    url, fixture = released
    engine = make_engine(url)
    try:
        upgrade(engine, "0015")
        before = counts(engine)
        assert before[1] > 0, "the fixture holds attempts"
        with engine.begin() as conn:
            _profile, batch_id, top = conn.exec_driver_sql(
                "SELECT profile_id, max(id), (SELECT max(id) FROM qbank_attempts) "
                "FROM qbank_batches GROUP BY profile_id ORDER BY profile_id"
            ).first()
            pending = conn.exec_driver_sql(
                "INSERT INTO qbank_batches (profile_id, source, format, origin, content_hash, "
                "imported_at, rows_read, added, pending_from, owner) SELECT profile_id, source, "
                "format, 'half.csv', 'half', imported_at, 1, 0, "
                f"{top + 1}, 'host:1:x' FROM qbank_batches WHERE id = {batch_id} RETURNING id"
            ).scalar_one()
            conn.exec_driver_sql(
                "INSERT INTO qbank_attempts (profile_id, batch_id, source, qid, outcome, on_date, "
                "subject, system, category, topic, seconds, fingerprint) SELECT profile_id, "
                f"{pending}, source, qid, outcome, on_date, subject, system, category, topic, "
                "seconds, 'half-written' FROM qbank_attempts "
                f"WHERE id = {top}"
            )
        assert counts(engine) == (before[0] + 1, before[1] + 1)
        downgrade(engine, "0014")
        assert read_revision(engine) == "0014"
        assert not {"pending_from", "owner"} & columns(engine)
        assert counts(engine) == before
        kept = dump(engine, {name: t["columns"] for name, t in fixture["tables"].items()})
        for name, table in fixture["tables"].items():
            assert kept[name] == table, name
        upgrade(engine, "head")
        assert read_revision(engine) == HEAD
    finally:
        engine.dispose()
