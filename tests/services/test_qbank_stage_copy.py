"""A log's stage filled by COPY on PostgreSQL (issue 19q4): the rows streamed into the
temporary table in one statement instead of one statement each by executemany. The same
database, table by table, as the stage filled by executemany, on a corpus of logs (held in
memory and staged whole; texts COPY's text format escapes; times and shares; duplicates
within a log, against the stored attempts, and a log imported again); SQLite, which fills
its stage by executemany still, the same."""

from __future__ import annotations

import shutil
from collections.abc import Sequence
from datetime import date, timedelta
from pathlib import Path
from typing import Any, cast

import pytest
import sqlalchemy as sa

import tests.qbank_logs as logs
from flashcore.services import Flashcore, qbank, qbank_import
from flashcore.storage import qbank_stage
from tests.conftest import DECKS, TYPE_I_CARD, write_deck

# Cells COPY's text format must escape (tab, backslash, its NULL marker \N, a carriage
# return inside a quoted cell), quotes, commas, non-ASCII and an empty system.
ODD = (
    "question_id,result,date,subject,system,topic,time,% correct others\n"
    '901,incorrect,2026-11-20,Pathology,"Cardio\tvascular","Back\\slash \\N",75 sec,41%\n'
    '902,omitted,2026-11-20,"Path, ""quoted""",,Ödem – naïve,,\n'
    "903,correct,2026-11-21,Pharmacology,Renal,\\N,12,n/a\n"
    "901,incorrect,2026-11-20,Pathology,Cardio,Again in the same log,75 sec,41%\n"
    '904,incorrect,2026-11-22,Pathology,"Line\rbreak",Emphysema,3 min,99%\n'
)


def _by_executemany(self: Any, columns: str, values: Any) -> None:
    """The stage's insert as it was before COPY: the driver's executemany on any database."""
    marks = ", ".join([self.mark] * (columns.count(",") + 1))
    cursor = self.conn.connection.cursor()
    try:
        rows = cast("Sequence[Sequence[Any]]", values)
        cursor.executemany(f"INSERT INTO {self.table} ({columns}) VALUES ({marks})", rows)
    finally:
        cursor.close()


def _corpus(fc: Any, tmp_path: Path, clock: Any, monkeypatch: pytest.MonkeyPatch) -> list[Any]:
    """Import the corpus; the reports, as JSON."""
    monkeypatch.setattr(logs, "QIDS", 150)
    (deck,) = fc.add_decks([write_deck(tmp_path / "d.toml", TYPE_I_CARD)])
    assert deck.ok
    paths = logs.starter_topic_paths(DECKS)[:30]
    today = clock.now().date()
    taken: set[tuple[int, date]] = set()
    older = logs.make_history(600, date(2026, 9, 1), today, paths, seed=3, taken=taken)
    newer = logs.make_history(250, today - timedelta(days=10), today, paths, seed=5, taken=taken)
    back = b"\n".join(older.splitlines()[:301] + newer.splitlines()[1:]) + b"\n"  # both again
    reports = []
    for data, staged, again in (
        (older, False, False),  # held in memory
        (newer, True, False),  # staged whole
        (ODD.encode(), False, False),
        (ODD.encode(), True, True),  # every row a duplicate
        (back, True, True),
        (logs.make_log(300, seed=9), False, False),
    ):
        with monkeypatch.context() as m:
            if staged:
                m.setattr(qbank_import, "MEMORY_BYTES", 0)
            reports.append(qbank.import_log(fc, data, origin="log.csv", again=again).to_json())
    return reports


def _tables(fc: Any) -> dict[str, list[str]]:
    """Every table's rows in an order that depends on nothing else (the batches without
    their owner, a host, process and random token; the kept scores, stamped with them)."""
    with fc.engine.connect() as conn:
        names = sorted(sa.inspect(conn).get_table_names())
        out = {}
        for name in names:
            if name in ("topic_scores_kept", "alembic_version"):
                continue
            columns = [
                c["name"] for c in sa.inspect(conn).get_columns(name) if c["name"] != "owner"
            ]
            rows = conn.exec_driver_sql(f"SELECT {', '.join(columns)} FROM {name}").all()
            out[name] = sorted(map(repr, rows))
    return out


@pytest.mark.parametrize(
    "backend", ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)]
)
def test_the_same_database_as_the_stage_filled_by_executemany(
    backend, request, sqlite_template, clock, tmp_path, monkeypatch
):
    def imported(url: str, before: bool) -> tuple[list[Any], dict[str, list[str]]]:
        fc = Flashcore.open(url, clock=clock, create=True, timezone="UTC")
        try:
            with monkeypatch.context() as m:
                if before:
                    m.setattr(qbank_stage.Stage, "_insert", _by_executemany)
                reports = _corpus(fc, tmp_path, clock, m)
            return reports, _tables(fc)
        finally:
            fc.close()

    results = []
    for before in (True, False):
        if backend == "sqlite":
            target = tmp_path / f"{before}.sqlite3"
            shutil.copy(sqlite_template, target)
            results.append(imported(f"sqlite:///{target}", before))
        else:
            schemas = request.getfixturevalue("pg_head_schemas")
            url = request.getfixturevalue("pg_head_url") if before else schemas.checkout()
            results.append(imported(url, before))
            schemas.checkin()  # emptied, its sequences restarted, for the second run
    (reports, tables), (reports_after, tables_after) = results
    assert reports_after == reports
    assert [r["added"] for r in reports] == [600, 250, 4, 0, 0, 300]
    assert reports[3]["duplicates"] == 5 and reports[4]["duplicates"] == 550
    assert tables_after.keys() == tables.keys()
    for name, rows in tables.items():
        assert tables_after[name] == rows, name
    attempts = tables["qbank_attempts"]
    assert any("Back\\\\slash \\\\N" in row for row in attempts)  # kept as read
    assert any("Cardio\\tvascular" in row for row in attempts)


@pytest.mark.postgres
def test_postgresql_fills_the_stage_without_a_statement_a_row(pg_head_url, clock, monkeypatch):
    """On PostgreSQL neither a held nor a staged log's rows go into the stage by
    executemany."""
    import psycopg

    executemany = psycopg.Cursor.executemany

    def refused(self: Any, query: Any, *args: Any, **kwargs: Any) -> Any:
        assert "qbank_stage" not in str(query), "the stage filled a statement a row"
        return executemany(self, query, *args, **kwargs)

    monkeypatch.setattr(psycopg.Cursor, "executemany", refused)
    fc = Flashcore.open(pg_head_url, clock=clock, create=True, timezone="UTC")
    try:
        assert qbank.import_log(fc, logs.make_log(120), origin="held.csv").added == 120
        monkeypatch.setattr(qbank_import, "MEMORY_BYTES", 0)
        report = qbank.import_log(fc, logs.make_log(130, seed=2), origin="staged.csv")
        assert report.added + report.duplicates == 130 and report.added > 100
    finally:
        fc.close()
