"""Schema 0017, the packed review log, on a copy of a generated collection (the engine
benchmark's, written as answering writes it) and on the released 0008 fixture upgraded to 0016,
on SQLite and PostgreSQL: every row and value comes through an upgrade and a downgrade, and
`check`, `stats`, `due` and undo give the same answers before and after."""

from __future__ import annotations

import shutil
import sqlite3
from contextlib import closing
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from flashcore.core.clock import FixedClock
from flashcore.services import Flashcore, answering, check, stats, study
from flashcore.storage.db import make_engine
from flashcore.storage.migrate import HEAD, downgrade, read_revision, upgrade
from tests.migrations.fixtures import dump, released_database
from tools.bench import engine as bench

NOW = datetime.fromisoformat("2026-11-18T12:00:00+00:00")


def _surfaces(url: str, now: datetime) -> dict[str, Any]:
    """What a student sees: check's findings, the stats, today's queue."""
    with Flashcore.open(url, clock=FixedClock(now)) as fc:
        found = check.check(fc)
        return {
            "check": (found.cards, found.reviews, found.problems),
            "stats": stats.stats(fc),
            "due": [(i.card_id, i.reason) for i in study.build_queue(fc, limit=None).items],
        }


def _undo(url: str, now: datetime, steps: int) -> list[Any]:
    """Undo the last `steps` answers; each undone answer and the card it restored."""
    with Flashcore.open(url, clock=FixedClock(now)) as fc:
        undone = answering.undo(fc, steps, earlier_days=True)
        cards = {c["card_id"]: c for c in fc.cards()}
        return [(u.card_id, u.rating, u.reviewed_at, cards[u.card_id]) for u in undone]


def _content(engine: sa.Engine, columns: dict[str, list[str]] | None = None) -> dict[str, Any]:
    tables = dump(engine, columns)
    tables.pop("alembic_version", None)
    return tables


def _without_topic_weights(content: dict[str, Any]) -> dict[str, Any]:
    cards = content["cards"]
    keep = [i for i, c in enumerate(cards["columns"]) if c not in ("weight", "weak_topic_id")]
    rows = [[row[i] for i in keep] for row in cards["rows"]]
    return content | {"cards": {"columns": [cards["columns"][i] for i in keep], "rows": rows}}


def _copy(engine: sa.Engine, target: Path) -> None:
    """A compact copy of the database, through SQLite (`VACUUM INTO`)."""
    raw = engine.raw_connection()
    try:
        driver: Any = raw.driver_connection
        if driver.in_transaction:
            driver.commit()
        driver.execute(f"VACUUM INTO '{target}'")
    finally:
        raw.close()


def _file_bytes(path: Path) -> int:
    with closing(sqlite3.connect(path)) as conn:
        (pages,) = conn.execute("PRAGMA page_count").fetchone()
        (size,) = conn.execute("PRAGMA page_size").fetchone()
    return int(pages * size)


def test_a_generated_collection_keeps_every_value_and_answer_through_0016(tmp_path: Path):
    opts = bench.parse_args(["--cards", "300", "--reviews", "4000", "--no-anki"])
    path = tmp_path / "collection.sqlite3"
    now = 1_796_400_000
    plan = bench.plan_collection(opts, now, now + 3600)
    bench.write_collections(plan, opts, path, None, "America/New_York")
    direct = tmp_path / "direct.sqlite3"
    shutil.copy(path, direct)  # written at the head's schema: the reference
    engine = make_engine(f"sqlite:///{path}")
    try:
        downgrade(engine, "0016")
        at_0016 = _content(engine)
        columns = {name: t["columns"] for name, t in at_0016.items()}
        with engine.connect() as conn:
            chained = conn.exec_driver_sql("SELECT COUNT(*) FROM review_logs WHERE chained")
            assert chained.scalar_one() > plan.stats["review_logs"] // 2
        _copy(engine, tmp_path / "at_0016.sqlite3")
        upgrade(engine, "0017")  # the packing's own saving (later revisions add tables, indexes)
        assert _file_bytes(path) < 0.95 * _file_bytes(tmp_path / "at_0016.sqlite3")
        upgrade(engine, "head")
        assert read_revision(engine) == HEAD
        # Schema 0019 moves the topics' weights off the cards: a card keeps only a missed
        # question's weight and points at the topic it takes its weight from (its weight as
        # read, tables.card_weight, is the same: tests/migrations/test_card_weights_revision.py).
        assert _without_topic_weights(_content(engine, columns)) == _without_topic_weights(at_0016)
        with engine.connect() as conn:
            kinds = conn.exec_driver_sql(
                "SELECT DISTINCT typeof(desired_retention), typeof(buried_siblings)"
                " FROM review_logs"
            ).all()
        assert kinds == [("real", "null")]
        downgrade(engine, "0016")
        assert _content(engine) == at_0016
        upgrade(engine, "head")
    finally:
        engine.dispose()
    clock = datetime.fromtimestamp(now, tz=UTC)
    assert _surfaces(f"sqlite:///{path}", clock) == _surfaces(f"sqlite:///{direct}", clock)
    undone = _undo(f"sqlite:///{path}", clock, 40)
    assert len(undone) == 40 and undone == _undo(f"sqlite:///{direct}", clock, 40)
    assert _surfaces(f"sqlite:///{path}", clock) == _surfaces(f"sqlite:///{direct}", clock)


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def released(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    url, _fixture = released_database(request, tmp_path, "0008", then="0016")
    return url


def test_the_released_fixture_at_0016_packs_and_comes_back_exactly(released: str):
    engine = make_engine(released)
    try:
        before = dump(engine)
        columns = {name: t["columns"] for name, t in before.items()}
        with engine.connect() as conn:
            total, chained, buried = conn.exec_driver_sql(
                "SELECT COUNT(*), SUM(CASE WHEN chained THEN 1 ELSE 0 END),"
                " SUM(CASE WHEN buried_until_before IS NOT NULL THEN 1 ELSE 0 END)"
                " FROM review_logs"
            ).one()
        assert total and chained and buried  # burials before, packed with the rest
        upgrade(engine, "0017")
        with engine.connect() as conn:
            kept, packed = conn.exec_driver_sql(
                "SELECT COUNT(*), SUM(CASE WHEN packed_before IS NOT NULL THEN 1 ELSE 0 END)"
                " FROM review_logs"
            ).one()
        assert kept == total and 0 < packed < total
        after = dump(engine, columns)
        for name, table in before.items():
            if name != "alembic_version":
                assert after[name] == table, name
        downgrade(engine, "0016")
        assert dump(engine, columns) == before  # PostgreSQL: the columns come back last
    finally:
        engine.dispose()


def test_the_released_fixture_answers_alike_before_and_after_packing(released: str):
    """check, stats and the queue on the fixture at head are the same after a round trip
    through the packing's inverse (down to 0016 and up again); then so is an undo."""
    engine = make_engine(released)
    try:
        upgrade(engine, "head")
        first = _surfaces(released, NOW)
        downgrade(engine, "0016")
        upgrade(engine, "head")
    finally:
        engine.dispose()
    assert _surfaces(released, NOW) == first
    undone = _undo(released, NOW, 3)
    assert len(undone) == 3
    cards, reviews, problems = first["check"]
    assert _surfaces(released, NOW)["check"] == (cards, reviews - 3, problems)
