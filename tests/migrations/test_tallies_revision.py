"""Schema 0009 on a released 0008 database, on SQLite and PostgreSQL: the upgrade counts every
stored attempt into the tallies by text (so `check` finds them in agreement and the weakness
report is what it was), later imports and removals keep them so, and a downgrade drops the
table and keeps every other row."""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa

from flashcore.core.clock import FixedClock
from flashcore.services import Flashcore, qbank, weakness
from flashcore.services.check import check
from flashcore.storage import repos
from flashcore.storage.db import make_engine
from flashcore.storage.migrate import HEAD, downgrade, read_revision, upgrade
from flashcore.storage.uow import reading
from tests.migrations.fixtures import dump, released_database

LOG = b"question_id,result,date,subject,system,topic\n" + b"".join(
    f"{950000 + i},{'incorrect' if i % 3 else 'correct'},2026-11-16,Pathology,General,"
    f"{('Hemochromatosis', 'Wilson disease', 'Obscure thing')[i % 3]}\n".encode()
    for i in range(12)
)


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def released(request: pytest.FixtureRequest, tmp_path: Path) -> tuple[str, datetime, dict]:
    url, fixture = released_database(request, tmp_path, "0008")
    return url, datetime.fromisoformat(fixture["now"]), fixture


def tallies_agree(fc: Flashcore) -> bool:
    with reading(fc.engine) as session:
        kept = repos.text_tallies(session, fc.profile_id)
        counted = repos.attempt_tallies(session, fc.profile_id)
    return kept == counted and check(fc).tally_problems == []


def test_the_upgrade_tallies_every_stored_attempt_and_imports_and_removals_keep_them(released):
    url, now, fixture = released
    clock = FixedClock(now + timedelta(hours=1))
    with Flashcore.open(url, clock=clock) as fc:
        assert read_revision(fc.engine) == HEAD  # opening upgrades to the newest
        with reading(fc.engine) as session:
            kept = repos.text_tallies(session, fc.profile_id)
        stored = [r for r in fixture["tables"]["qbank_attempts"]["rows"] if r[1] == fc.profile_id]
        assert sum(t.attempts for t in kept) == len(stored) > 0
        assert tallies_agree(fc)
        before = weakness.report(fc)
        batch = qbank.import_log(fc, LOG, origin="more.csv").batch_id
        assert batch is not None and tallies_agree(fc)
        qbank.remove_batch(fc, batch)
        assert tallies_agree(fc)
        assert weakness.report(fc) == before


def test_downgrading_0009_drops_the_tallies_and_keeps_every_other_row(released):
    url, now, fixture = released
    with Flashcore.open(url, clock=FixedClock(now + timedelta(hours=1))) as fc:
        qbank.import_log(fc, LOG, origin="more.csv")
    engine = make_engine(url)
    try:
        downgrade(engine, "0008")
        assert read_revision(engine) == "0008"
        assert "qbank_tallies" not in sa.inspect(engine).get_table_names()
        kept = dump(engine, {name: t["columns"] for name, t in fixture["tables"].items()})
        for name in ("notes", "note_topics", "decks", "review_logs", "topic_aliases"):
            assert kept[name] == fixture["tables"][name], name
        old = fixture["tables"]["qbank_attempts"]["rows"]
        assert kept["qbank_attempts"]["rows"][: len(old)] == old
        assert len(kept["qbank_attempts"]["rows"]) == len(old) + 12
        upgrade(engine, "head")
    finally:
        engine.dispose()
    with Flashcore.open(url, clock=FixedClock(now + timedelta(hours=1))) as fc:
        assert tallies_agree(fc)  # built again from every attempt, the 12 new ones included
