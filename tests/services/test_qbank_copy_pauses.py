"""The copy's pauses work instead of sleeping (issue 19q3): between the steps, outside any
transaction and with the write lock free, the import counts the tallies, lists the rows the
weights count and groups the batch for the fold from the held log, a slice at a time; what
is left runs after the last step. The same tallies, rows, sums and report as worked out
after the copy; a note that lists another question id meanwhile has the fold group again."""

from __future__ import annotations

import shutil
import time
from collections import Counter
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

import tests.qbank_logs as logs
from flashcore.services import qbank, qbank_import, write_steps
from flashcore.services.write_steps import Steps
from flashcore.storage import repos
from flashcore.storage.qbank_stage import HeldStage
from flashcore.storage.uow import run_write
from tests.conftest import DECKS, TYPE_I_CARD, write_deck

DECK = TYPE_I_CARD


def test_the_pauses_run_the_callers_slices_outside_any_transaction(fc, monkeypatch):
    """Each pause runs slices (no sleep while there are any); none runs inside a step's
    transaction; the lock is free meanwhile (another connection writes at once, SQLite);
    the slices left after the last step run before `run` returns."""
    slept: list[float] = []
    monkeypatch.setattr(write_steps.time, "sleep", slept.append)
    seen: list[tuple[bool, int]] = []
    steps_done = [0]

    with fc.engine.connect() as conn:

        def write(c: Any, start: int, stop: int) -> None:
            steps_done[0] += 1

        def slices() -> Any:
            for _ in range(40):
                seen.append((conn.in_transaction(), steps_done[0]))
                if fc.engine.dialect.name == "sqlite" and len(seen) == 1:
                    with fc.engine.connect() as other:  # BEGIN IMMEDIATE: the lock is free
                        other.execution_options(flashcore_write="now")
                        with other.begin():
                            other.exec_driver_sql("UPDATE profiles SET name = name")
                spin = time.perf_counter() + 0.0003  # a slice of work: 40 outlast two pauses
                while time.perf_counter() < spin:
                    pass
                yield

        monkeypatch.setattr(write_steps, "FIRST_ROWS", 1)
        monkeypatch.setattr(write_steps, "MAX_ROWS", 1)
        monkeypatch.setattr(write_steps, "MIN_ROWS", 1)
        Steps(conn).run(3, write, meanwhile=slices())
    assert len(seen) == 40 and not any(in_tx for in_tx, _ in seen)
    assert seen[0][1] == 1  # the first slice after the first step
    assert slept == []  # two pauses, both spent on slices


def test_a_pause_with_no_slices_left_sleeps(fc, monkeypatch):
    slept: list[float] = []
    monkeypatch.setattr(write_steps.time, "sleep", slept.append)
    monkeypatch.setattr(write_steps, "FIRST_ROWS", 1)
    monkeypatch.setattr(write_steps, "MAX_ROWS", 1)
    monkeypatch.setattr(write_steps, "MIN_ROWS", 1)
    with fc.engine.connect() as conn:
        Steps(conn).run(3, lambda c, a, b: None, meanwhile=iter([None]))
    assert len(slept) == 2 and 0 < slept[1] <= write_steps.PAUSE_S


def test_tallies_and_groups_in_slices_are_the_ones_made_at_once():
    rows = [
        (f"fp{i}", "uworld", str(i % 13), "incorrect" if i % 3 else "correct",
         f"2026-11-{10 + i % 5}", "Subj", f"Sys {i % 4}", f"Cat {i % 6}", f"Topic {i % 9}",
         None, i + 2, None)
        for i in range(257)
    ]  # fmt: skip
    stage = HeldStage.__new__(HeldStage)
    stage.new = rows
    held = [(r[1], r[2], r[3], r[4], r[8], r[7], r[6]) for r in rows]
    listed = frozenset({"1", "5", "7"})
    whole, days = stage.tallies(), repos.group_days(held, listed)
    for size in (1, 7, 100, 1000):
        sliced = stage.tallies_in_slices(size)
        assert _drained(sliced) == whole
        assert _drained(repos.group_days_in_slices(held, listed, size)) == days


def _drained(slices: Any) -> Any:
    while True:
        try:
            next(slices)
        except StopIteration as done:
            return done.value


def _history_fc(fc: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, clock: Any) -> Any:
    monkeypatch.setattr(logs, "QIDS", 120)
    (deck,) = fc.add_decks([write_deck(tmp_path / "d.toml", DECK)])
    assert deck.ok
    fc.paths = logs.starter_topic_paths(DECKS)[:40]
    fc.taken = set()
    today = clock.now().date()
    older = logs.make_history(1500, date(2026, 6, 1), today, fc.paths, seed=3, taken=fc.taken)
    qbank.import_log(fc, older, origin="older.csv")
    run_write(fc.engine, lambda s: repos.sync_sums(s, fc.profile_id, today, 14.0))  # kept
    return fc


def test_the_same_database_as_when_worked_out_after_the_copy(
    sqlite_template, clock, tmp_path, monkeypatch
):
    """An import into a profile keeping sums, its held log worked out in the pauses, and
    the same with nothing worked out there (the publish and the fold work it out as
    before): every table the same, and the same report."""
    from flashcore.services import Flashcore

    monkeypatch.setattr(write_steps, "FIRST_ROWS", 20)
    monkeypatch.setattr(write_steps, "MAX_ROWS", 20)

    def imported(in_pauses: bool) -> tuple[Any, ...]:
        folder = tmp_path / str(in_pauses)
        folder.mkdir()
        shutil.copy(sqlite_template, folder / "fc.sqlite3")
        fc = Flashcore.open(f"sqlite:///{folder / 'fc.sqlite3'}", clock=clock, timezone="UTC")
        try:
            with monkeypatch.context() as m:
                if not in_pauses:
                    m.setattr(qbank_import._Ready, "work_out", lambda *a: iter(()))
                _history_fc(fc, tmp_path, m, clock)  # the same deck file for both
                today = clock.now().date()
                newer = logs.make_history(300, today - timedelta(days=20), today, fc.paths,
                                          seed=5, taken=fc.taken)  # fmt: skip
                report = qbank.import_log(fc, newer, origin="newer.csv").to_json()
            with fc.engine.connect() as conn:
                names = [n for (n,) in conn.exec_driver_sql(
                    "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE "
                    "'sqlite_%' AND name NOT IN ('qbank_batches', 'topic_scores_kept') "
                    "ORDER BY name")]  # fmt: skip
                tables = {  # every row, in an order that depends on nothing else
                    n: sorted(map(repr, conn.exec_driver_sql(f"SELECT * FROM {n}").all()))
                    for n in names
                }
                batches = conn.exec_driver_sql(
                    "SELECT id, source, format, origin, rows_read, added, latest_on, "
                    "pending_from FROM qbank_batches ORDER BY id").all()  # fmt: skip
        finally:
            fc.close()
        return report, tables, batches

    worked, after = imported(True), imported(False)
    assert worked[0] == after[0]
    assert worked[2] == after[2]
    for name, rows in after[1].items():
        assert worked[1][name] == rows, name


def test_a_note_listing_another_id_during_the_copy_has_the_fold_group_again(
    fc, clock, tmp_path, monkeypatch
):
    _history_fc(fc, tmp_path, monkeypatch, clock)
    grouped: list[frozenset[str]] = []
    in_slices = repos.group_days_in_slices

    def grouping(held: Any, listed: frozenset[str], rows: int) -> Any:
        grouped.append(listed)
        return in_slices(held, listed, rows)

    group_days = repos.group_days

    def grouping_at_once(held: Any, listed: frozenset[str]) -> Any:
        grouped.append(listed)
        return group_days(held, listed)

    monkeypatch.setattr(repos, "group_days_in_slices", grouping)
    monkeypatch.setattr(repos, "group_days", grouping_at_once)  # the fold's, grouping again
    work_out = qbank_import._Ready.work_out

    def with_a_deck(self: Any, *args: Any) -> Any:
        yield from work_out(self, *args)
        extra = write_deck(tmp_path / "x.toml", '[[cards]]\nid = "x"\nfront = "X"\nback = "X"\n'
                           'qids = ["uworld:100"]\n', name="Extra", key="extra")  # fmt: skip
        fc.add_decks([extra])  # in a pause or after the last step: the lock is free

    monkeypatch.setattr(qbank_import._Ready, "work_out", with_a_deck)
    today = clock.now().date()
    newer = logs.make_history(300, today - timedelta(days=20), today, fc.paths, seed=5,
                              taken=fc.taken)  # fmt: skip
    assert qbank.import_log(fc, newer, origin="newer.csv").added == 300
    assert len(grouped) == 2 and "100" in grouped[1] and "100" not in grouped[0]
    with fc.engine.connect() as conn:
        stored = conn.execute(sa.text("SELECT count(*) FROM qbank_attempts")).scalar_one()
    assert stored == 1800
    assert Counter(grouped[0]) != Counter(grouped[1])


def test_windows_in_slices_are_the_ones_made_at_once():
    from flashcore.storage.repos import qbank_windows

    keys = [("uworld", str(i % 11), f"T{i % 5}", "C", "S") for i in range(300)]
    days = [
        (keys[i], date(2026, 10, 1) + timedelta(days=i % 40), 1 + i % 3, i % 2) for i in range(300)
    ]
    args = (date(2026, 9, 1), date(2026, 11, 5), 14.0)
    whole = qbank_windows.fold_windows(days, *args)
    for size in (1, 7, 299, 1000):
        sliced = _drained(qbank_windows.fold_windows_in_slices(days, *args, size))
        assert list(sliced.items()) == list(whole.items())


def test_the_fold_reads_the_listed_ids_again_only_after_another_connection_committed(
    fc, clock, tmp_path, monkeypatch
):
    """Read once before the copy (their groups are made in its pauses); the fold takes them
    while no other connection has committed since (SQLite's data_version), else reads them
    again (PostgreSQL: always)."""
    _history_fc(fc, tmp_path, monkeypatch, clock)
    reads: list[int] = []
    listed_qids = repos.listed_qids

    def reading(conn: Any, profile_id: int) -> Any:
        reads.append(profile_id)
        return listed_qids(conn, profile_id)

    monkeypatch.setattr(repos, "listed_qids", reading)
    today = clock.now().date()
    newer = logs.make_history(300, today - timedelta(days=20), today, fc.paths, seed=5,
                              taken=fc.taken)  # fmt: skip
    assert qbank.import_log(fc, newer, origin="newer.csv").added == 300
    assert len(reads) == (1 if fc.engine.dialect.name == "sqlite" else 2)
