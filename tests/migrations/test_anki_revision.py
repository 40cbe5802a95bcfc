"""Schema 0008 on a released 0007 database, on SQLite and PostgreSQL: every answer written
before it counts as given in flashcore (not imported, no revlog id); an Anki card's history is
imported after the upgrade and `check` replays it from its anchor; a downgrade drops the table
and the two columns and keeps every other row."""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa

from flashcore.core.clock import FixedClock
from flashcore.services import Flashcore
from flashcore.services.check import check
from flashcore.storage.db import make_engine
from flashcore.storage.migrate import downgrade, read_revision, upgrade
from tests.migrations.fixtures import _import_anki_history, dump, released_database


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def released(request: pytest.FixtureRequest, tmp_path: Path) -> tuple[str, datetime, dict]:
    url, fixture = released_database(request, tmp_path, "0007")
    return url, datetime.fromisoformat(fixture["now"]), fixture


def columns(url: str, table: str) -> set[str]:
    engine = make_engine(url)
    try:
        return {c["name"] for c in sa.inspect(engine).get_columns(table)}
    finally:
        engine.dispose()


def test_an_upgraded_0007_database_imports_anki_history_and_check_replays_it(released):
    url, now, _fixture = released
    clock = FixedClock(now + timedelta(hours=1))
    with Flashcore.open(url, clock=clock, profile="alice") as fc:
        engine = fc.engine
        with engine.connect() as conn:
            kinds = conn.exec_driver_sql("SELECT imported, anki_revlog_id FROM review_logs").all()
        assert kinds and all(not imported and rid is None for imported, rid in kinds)
        card_id = fc.cards()[1]["card_id"]
        _import_anki_history(fc, card_id)
        card = next(c for c in fc.cards() if c["card_id"] == card_id)
        assert card["state"] == "review" and card["stability"] == pytest.approx(9.5)
        assert check(fc).problems == []


def test_downgrading_0008_drops_its_table_and_columns_and_keeps_every_other_row(released):
    url, now, fixture = released
    with Flashcore.open(url, clock=FixedClock(now + timedelta(hours=1)), profile="alice") as fc:
        _import_anki_history(fc, fc.cards()[1]["card_id"])
    engine = make_engine(url)
    try:
        downgrade(engine, "0007")
        assert read_revision(engine) == "0007"
        assert "anki_cards" not in sa.inspect(engine).get_table_names()
        assert not {"anki_revlog_id", "imported"} & columns(url, "review_logs")
        kept = dump(engine, {name: t["columns"] for name, t in fixture["tables"].items()})
        for name in ("notes", "note_topics", "decks", "qbank_attempts", "exams", "assessments"):
            assert kept[name] == fixture["tables"][name], name
        old = fixture["tables"]["review_logs"]["rows"]
        assert kept["review_logs"]["rows"][: len(old)] == old  # and the two imported answers
        assert len(kept["review_logs"]["rows"]) == len(old) + 2
        upgrade(engine, "head")
        assert "anki_cards" in sa.inspect(engine).get_table_names()
    finally:
        engine.dispose()
