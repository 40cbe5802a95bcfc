"""Schema 0020 on a database whose kept qbank sums were synced and folded into (SQLite and
PostgreSQL): the upgrade derives each profile's windows from its kept sums, for the day of
their last sync, and the sums read through them answer what every attempt summed answers, on
that day and days later; the downgrade removes the rows a fold left unseen and the windows,
and keeps every attempt and every sum readers read."""

from __future__ import annotations

from datetime import date, timedelta

import sqlalchemy as sa

import tests.qbank_logs as logs
from flashcore.services import qbank
from flashcore.storage import repos
from flashcore.storage.db import make_engine
from flashcore.storage.migrate import downgrade, read_revision, upgrade
from flashcore.storage.repos.qbank_sums import cached_groups
from flashcore.storage.repos.qbank_sums_rows import _state
from flashcore.storage.uow import run_write
from tests.storage.test_qbank_sums import HALF_LIFE, TODAY, _same, with_history  # noqa: F401

REVISION, PREVIOUS = "0020", "0019"
SUMS = "SELECT profile_id, source, qid, topic, category, system, on_date, attempts, misses, "
SUMS += "decayed_attempts, decayed_misses, last_miss, last_correct FROM qbank_sums ORDER BY id"
STATE = "SELECT profile_id, half_life, settled_before, last_attempt_id, attempts, listed "
STATE += "FROM qbank_sums_state"


def _rows(engine: sa.Engine, query: str) -> list[tuple]:
    with engine.connect() as conn:
        return [tuple(r) for r in conn.exec_driver_sql(query).all()]


def _answers(engine: sa.Engine, profile_id: int, day: date) -> tuple:
    with engine.connect() as conn:
        return (
            cached_groups(conn, profile_id, day, HALF_LIFE),
            repos.summed_groups(conn, profile_id, day, HALF_LIFE),
        )


def test_windows_derived_from_the_kept_sums_and_gone_with_what_a_fold_left(
    with_history,  # noqa: F811 (the fixture, imported above)
    db_url,
):
    fc = with_history
    run_write(fc.engine, lambda s: repos.sync_sums(s, fc.profile_id, TODAY, HALF_LIFE))
    newer = logs.make_history(
        200, TODAY - timedelta(days=20), TODAY + timedelta(days=1), fc.paths, seed=7,
        taken=fc.taken,
    )  # fmt: skip
    qbank.import_log(fc, newer, origin="newer.csv")  # folded: its rows and windows beside
    profile_id = fc.profile_id
    fc.close()
    engine = make_engine(db_url)
    try:
        sums, state = _rows(engine, SUMS), _rows(engine, STATE)
        with engine.begin() as conn:  # a fold that died: a row above the ids readers read
            conn.exec_driver_sql(
                "INSERT INTO qbank_sums (profile_id, source, qid, topic, category, system,"
                " on_date, attempts, misses, decayed_attempts, decayed_misses) VALUES"
                f" ({profile_id}, '', '', 'Lost', '', '', '2026-11-20', 5, 5, 0.0, 0.0)"
            )
        downgrade(engine, PREVIOUS)
        assert read_revision(engine) == PREVIOUS
        assert "qbank_windows" not in sa.inspect(engine).get_table_names()
        assert _rows(engine, SUMS) == sums and _rows(engine, STATE) == state

        upgrade(engine, REVISION)
        with engine.connect() as conn:
            derived = _state(conn, profile_id)
            windows = conn.exec_driver_sql("SELECT COUNT(*) FROM qbank_windows").scalar_one()
        assert derived is not None and derived.window_day == TODAY  # the last sync's day
        assert windows > 0 and derived.windows_upto and derived.sums_upto
        assert _rows(engine, SUMS) == sums and _rows(engine, STATE) == state
        for day in (TODAY, TODAY + timedelta(days=1), TODAY + timedelta(days=6)):
            got, expected = _answers(engine, profile_id, day)
            _same(got, expected)
    finally:
        engine.dispose()
