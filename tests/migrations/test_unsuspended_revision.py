"""Schema 0011 on a released 0010 database, on SQLite and PostgreSQL: every card starts without
a miss's mark (nothing was recorded before); a miss after the upgrade marks the cards it
unsuspends; a downgrade drops the column and keeps every row, and the upgrade comes back."""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa

from flashcore.core.clock import FixedClock
from flashcore.services import Flashcore
from flashcore.services.qbank import import_log
from flashcore.services.study import set_cards
from flashcore.storage.db import make_engine
from flashcore.storage.migrate import HEAD, downgrade, read_revision, upgrade
from tests.migrations.fixtures import dump, released_database


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def released(request: pytest.FixtureRequest, tmp_path: Path) -> tuple[str, datetime, dict]:
    url, fixture = released_database(request, tmp_path, "0010")
    return url, datetime.fromisoformat(fixture["now"]), fixture


def _marks(url: str) -> list[tuple[int, int | None]]:
    engine = make_engine(url)
    try:
        with engine.connect() as conn:
            return [tuple(r) for r in conn.exec_driver_sql(
                "SELECT id, unsuspended_by FROM cards ORDER BY id")]  # fmt: skip
    finally:
        engine.dispose()


def _miss_a_listed_question(fc) -> tuple[int, int]:
    """Suspend a card whose note lists a question, then miss that question: (card, batch)."""
    engine = fc.engine
    with engine.connect() as conn:
        card_id, source, qid = conn.exec_driver_sql(
            "SELECT c.id, q.source, q.qid FROM cards c JOIN note_qids q ON q.note_id = c.note_id"
            " WHERE c.leech = false ORDER BY c.id LIMIT 1"
        ).one()
    set_cards(fc, "suspend", [card_id])
    report = import_log(fc, f"{qid}\n".encode(), origin="block.txt", fmt="qids", source=source)
    assert report.unsuspended >= 1
    return card_id, report.batch_id


def test_an_upgraded_0010_database_has_no_marks_and_a_miss_marks_the_cards_it_unsuspends(
    released,
):
    url, now, _fixture = released
    with Flashcore.open(url, clock=FixedClock(now + timedelta(hours=1)), profile="alice") as fc:
        assert read_revision(fc.engine) == HEAD  # opening upgrades to the head
        assert all(mark is None for _card, mark in _marks(url))
        card_id, batch_id = _miss_a_listed_question(fc)
    assert dict(_marks(url))[card_id] == batch_id


def test_downgrading_0011_drops_the_column_and_keeps_every_row(released):
    url, now, fixture = released
    with Flashcore.open(url, clock=FixedClock(now + timedelta(hours=1)), profile="alice") as fc:
        _miss_a_listed_question(fc)
    engine = make_engine(url)
    try:
        downgrade(engine, "0010")
        assert read_revision(engine) == "0010"
        names = {c["name"] for c in sa.inspect(engine).get_columns("cards")}
        assert "unsuspended_by" not in names
        kept = dump(engine, {name: t["columns"] for name, t in fixture["tables"].items()})
        for name in ("notes", "note_topics", "decks", "review_logs", "exams", "anki_cards"):
            assert kept[name] == fixture["tables"][name], name
        assert len(kept["cards"]["rows"]) == len(fixture["tables"]["cards"]["rows"])
        upgrade(engine, "head")
        assert "unsuspended_by" in {c["name"] for c in sa.inspect(engine).get_columns("cards")}
    finally:
        engine.dispose()
