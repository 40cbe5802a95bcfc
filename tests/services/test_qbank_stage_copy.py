"""A log's stage filled by COPY on PostgreSQL (issue 19q4): the rows streamed into the
temporary table in one statement instead of one statement each by executemany. The same
database, table by table, as the stage filled by executemany, on a corpus of logs (held in
memory and staged whole; texts COPY's text format escapes; times and shares; duplicates
within a log, against the stored attempts, and a log imported again); SQLite, which fills
its stage by executemany still, the same. And a server's write steps sized by the time their
statements take, not the round trips around them."""

from __future__ import annotations

import shutil
from collections.abc import Sequence
from datetime import date, timedelta
from pathlib import Path
from types import SimpleNamespace
from typing import Any, cast

import pytest
import sqlalchemy as sa

import tests.qbank_logs as logs
from flashcore.services import Flashcore, qbank, qbank_import, write_steps
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


def _twice(backend, request, sqlite_template, clock, tmp_path, monkeypatch, patch):
    """The corpus imported into two empty databases of `backend`: first with `patch(m)` applied
    (the way before), then without; each run's reports and tables."""

    def imported(url: str, patched: bool) -> tuple[list[Any], dict[str, list[str]]]:
        fc = Flashcore.open(url, clock=clock, create=True, timezone="UTC")
        try:
            with monkeypatch.context() as m:
                if patched:
                    patch(m)
                reports = _corpus(fc, tmp_path, clock, m)
            return reports, _tables(fc)
        finally:
            fc.close()

    results = []
    for patched in (True, False):
        if backend == "sqlite":
            target = tmp_path / f"{patched}.sqlite3"
            shutil.copy(sqlite_template, target)
            results.append(imported(f"sqlite:///{target}", patched))
        else:
            schemas = request.getfixturevalue("pg_head_schemas")
            url = request.getfixturevalue("pg_head_url") if patched else schemas.checkout()
            results.append(imported(url, patched))
            schemas.checkin()  # emptied, its sequences restarted, for the second run
    return results


@pytest.mark.parametrize(
    "backend", ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)]
)
def test_the_same_database_as_the_stage_filled_by_executemany(
    backend, request, sqlite_template, clock, tmp_path, monkeypatch
):
    def patch(m: pytest.MonkeyPatch) -> None:
        m.setattr(qbank_stage.Stage, "_insert", _by_executemany)

    results = _twice(backend, request, sqlite_template, clock, tmp_path, monkeypatch, patch)
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


def test_a_servers_steps_are_sized_by_their_statements_not_their_round_trips(monkeypatch):
    """On PostgreSQL a step's size follows the time its statements took, not the round trips
    that begin and commit it: on a busy machine each of those waits milliseconds for the
    server's process to run (held in, every step looked too long and shrank to MIN_ROWS).
    Here BEGIN and COMMIT take 5 ms each, a row 1 us of the server's time (a clock of the
    test's own: nothing sleeps)."""
    now = [0.0]

    class Clock:
        @staticmethod
        def perf_counter() -> float:
            return now[0]

        @staticmethod
        def sleep(_seconds: float) -> None:
            return None

    def run_write_on(conn: Any, work: Any) -> Any:
        now[0] += 0.005  # BEGIN
        done = work(conn)
        now[0] += 0.005  # COMMIT
        return done

    def write(_c: Any, start: int, stop: int) -> None:
        now[0] += (stop - start) * 1e-6

    monkeypatch.setattr(write_steps, "time", Clock)
    monkeypatch.setattr(write_steps, "run_write_on", run_write_on)
    monkeypatch.setattr(write_steps, "unsynced_commit", lambda _c: None)
    server = SimpleNamespace(dialect=SimpleNamespace(name="postgresql"))
    steps = write_steps.Steps(server)
    steps.run(100_000, write)
    # ~4 ms of statements a step (HOLD_S): ~4,000 rows; held in, 50 rows a step (2,000 steps)
    assert 20 <= steps.transactions <= 40
    assert steps.size == pytest.approx(write_steps.HOLD_S / 1e-6, rel=0.05)


@pytest.mark.parametrize("listed", [frozenset(), frozenset({"1", "5", "7"}), None])
def test_the_tallies_counted_from_the_batch_groups_are_the_rows_tallies(listed):
    """The tallies a held log's publish takes from its (group, day) counts (the fold's, made
    in the copy's pauses) are those counted row by row, in the same order: texts cut to
    their columns, the same texts under several ids and days, misses and omissions."""
    from flashcore.storage import repos
    from flashcore.storage.qbank_stage import HeldStage

    long = "T" * 600
    rows = [
        (f"fp{i}", "uworld" if i % 5 else "amboss", str(i % 13),
         ("incorrect", "correct", "omitted")[i % 3], f"2026-11-{10 + i % 5}", "Subj",
         f"Sys {i % 4}", f"Cat {i % 6}" if i % 7 else "C" * 400, f"Topic {i % 9}" if i % 11 else long,
         None, i + 2, None)
        for i in range(389)
    ]  # fmt: skip
    stage = HeldStage.__new__(HeldStage)
    stage.new = rows
    held = list(stage.refresh_hint(1)["added"])
    ids = frozenset(r[2] for r in rows) if listed is None else listed
    slices = repos.tallies_of_days(repos.group_days(held, ids), 50)
    while True:
        try:
            next(slices)
        except StopIteration as done:
            assert done.value == stage.tallies()
            break


@pytest.mark.parametrize(
    "backend", ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)]
)
def test_rows_grouped_for_the_weights_in_the_pauses_give_the_same_database(
    backend, request, sqlite_template, clock, tmp_path, monkeypatch
):
    """A profile that keeps no sums (its weights count an import's rows from memory,
    matching.match_all): the rows grouped by the summary's index in the copy's pauses give
    the same report and tables as nothing worked out there (the refresh groups them)."""

    def patch(m: pytest.MonkeyPatch) -> None:  # nothing worked out in the pauses
        m.setattr(qbank_import._Ready, "work_out", lambda *a: iter(()))

    results = _twice(backend, request, sqlite_template, clock, tmp_path, monkeypatch, patch)
    (reports, tables), (reports_after, tables_after) = results
    assert reports_after == reports
    for name, rows in tables.items():
        assert tables_after[name] == rows, name


def test_a_held_logs_rows_are_grouped_for_the_weights_in_the_pauses(
    fc_sqlite, tmp_path, monkeypatch
):
    from flashcore.services import matching

    sizes: list[int | None] = []
    grouping = matching.group_added

    def spy(qid_notes: Any, added: Any, rows: int | None) -> Any:
        sizes.append(rows)
        return grouping(qid_notes, added, rows)

    monkeypatch.setattr(matching, "group_added", spy)
    (deck,) = fc_sqlite.add_decks([write_deck(tmp_path / "d.toml", TYPE_I_CARD)])
    assert deck.ok
    sizes.clear()  # the deck's refresh grouped no rows
    assert qbank.import_log(fc_sqlite, logs.make_log(500), origin="log.csv").added == 500
    assert sizes == [qbank_import.SLICE_ROWS]  # in the pauses; the refresh took them
