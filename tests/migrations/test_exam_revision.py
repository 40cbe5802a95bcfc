"""Schema 0007 on a released 0005 database, on SQLite and PostgreSQL: the exam, self-assessments
and their report areas are stored after the upgrade, and a downgrade drops exactly those tables
and keeps every other row."""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa

from flashcore.core.assessment import AreaKind
from flashcore.core.clock import FixedClock
from flashcore.services import Flashcore, assess, exam
from flashcore.storage.db import make_engine
from flashcore.storage.migrate import downgrade, read_revision, upgrade
from tests.migrations.fixtures import dump, released_database

NEW_TABLES = {"exams", "assessments", "assessment_areas"}
REPORT = Path(__file__).resolve().parents[2] / "decks" / "samples" / "nbme-report.txt"


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def released(request: pytest.FixtureRequest, tmp_path: Path) -> tuple[str, datetime, dict]:
    """A database at 0005 holding the 0005 fixture; its clock; the fixture."""
    url, fixture = released_database(request, tmp_path, "0005")
    return url, datetime.fromisoformat(fixture["now"]), fixture


def test_an_upgraded_0005_database_stores_an_exam_and_assessments(released):
    url, now, _fixture = released
    with Flashcore.open(url, clock=FixedClock(now + timedelta(hours=1))) as fc:
        today = now.date()
        exam.set_exam(fc, today + timedelta(days=60), minutes_per_day=90)
        added = assess.add(fc, "NBME 31", 62, report=REPORT)
        assert fc.exam is not None and fc.exam.minutes_per_day == 90
        listed = assess.list_all(fc)
    assert [a.assessment_id for a in listed] == [added.assessment_id]
    assert {a.kind for a in listed[0].areas} == {AreaKind.SYSTEM, AreaKind.DISCIPLINE}


def test_downgrading_0007_drops_its_tables_and_keeps_every_other_row(released):
    url, now, fixture = released
    with Flashcore.open(url, clock=FixedClock(now + timedelta(hours=1))) as fc:
        exam.set_exam(fc, now.date() + timedelta(days=60), minutes_per_day=90)
        assess.add(fc, "NBME 31", 62, report=REPORT)
    engine = make_engine(url)
    try:
        assert set(sa.inspect(engine).get_table_names()) >= NEW_TABLES
        downgrade(engine, "0005")
        assert read_revision(engine) == "0005"
        assert not NEW_TABLES & set(sa.inspect(engine).get_table_names())
        columns = {name: t["columns"] for name, t in fixture["tables"].items()}
        kept = dump(engine, columns)
        # (the report re-weighed cards and topics: their weights are not compared)
        for name in ("review_logs", "notes", "note_topics", "decks", "qbank_attempts"):
            assert kept[name] == fixture["tables"][name], name
        assert len(kept["cards"]["rows"]) == len(fixture["tables"]["cards"]["rows"])
        upgrade(engine, "head")
        assert set(sa.inspect(engine).get_table_names()) >= NEW_TABLES
    finally:
        engine.dispose()
