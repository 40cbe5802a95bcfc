"""Schema 0012, the compact review log, on a copy of a generated collection (the engine
benchmark's, written as answering writes it) and on the released 0008 fixture upgraded to
0011, on SQLite and PostgreSQL: a downgrade writes every before-state out and restores the
text times, an upgrade chains them again, and no row or value is lost either way."""

from __future__ import annotations

from pathlib import Path

import pytest
import sqlalchemy as sa

from flashcore.storage.db import make_engine
from flashcore.storage.migrate import downgrade, upgrade
from tests.migrations.fixtures import dump, released_database
from tools.bench import engine as bench


def _counts(engine: sa.Engine) -> tuple[int, int]:
    with engine.connect() as conn:
        total, chained = conn.exec_driver_sql(
            "SELECT COUNT(*), SUM(CASE WHEN chained THEN 1 ELSE 0 END) FROM review_logs"
        ).one()
    return int(total), int(chained or 0)


def _logical(engine: sa.Engine) -> dict:
    tables = dump(engine)
    tables.pop("alembic_version", None)
    log = tables["review_logs"]
    at = log["columns"].index("chained")
    log["columns"].pop(at)
    for row in log["rows"]:
        row.pop(at)
    return tables


def test_a_generated_collection_round_trips_through_0008_with_every_value_kept(tmp_path: Path):
    opts = bench.parse_args(["--cards", "300", "--reviews", "4000", "--no-anki"])
    path = tmp_path / "collection.sqlite3"
    plan = bench.plan_collection(opts, 1_796_400_000, 1_796_400_000 + 3600)
    bench.write_collections(plan, opts, path, None, "America/New_York")
    engine = make_engine(f"sqlite:///{path}")
    try:
        downgrade(engine, "0013")  # the bench writes the head's schema
        total, chained = _counts(engine)
        assert total == plan.stats["review_logs"] and chained > total // 2
        logical = _logical(engine)

        downgrade(engine, "0011")
        with engine.connect() as conn:
            kinds = conn.exec_driver_sql(
                "SELECT DISTINCT typeof(reviewed_at), typeof(due_before), typeof(due_after)"
                " FROM review_logs"
            ).all()
        assert kinds == [("text", "text", "text")]
        assert dump(engine)["review_logs"]["rows"] == logical["review_logs"]["rows"]

        upgrade(engine, "0013")
        assert _counts(engine) == (total, chained)
        assert _logical(engine) == logical
    finally:
        engine.dispose()


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def released(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    url, _fixture = released_database(request, tmp_path, "0008", then="0011")
    return url


def test_the_released_0008_fixture_at_0011_is_chained_and_comes_back_exactly(released: str):
    engine = make_engine(released)
    try:
        before = dump(engine)
        upgrade(engine, "0012")
        total, chained = _counts(engine)
        assert total == len(before["review_logs"]["rows"]) and chained > 0
        after = dump(engine, {name: t["columns"] for name, t in before.items()})
        for name, table in before.items():
            if name != "alembic_version":
                assert after[name] == table, name
        downgrade(engine, "0011")
        assert dump(engine) == before
    finally:
        engine.dispose()
