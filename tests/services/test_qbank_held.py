"""A log held in memory (only its new rows go into a temporary table, in fingerprint order,
just before they are copied: storage.qbank_stage.HeldStage) is stored as the same log staged
in a temporary table: the attempts, the counts and the batch, on SQLite and PostgreSQL, with
texts cut to their columns (by characters) and the rows written in steps; a large one finds
the stored attempts by date or by look-up, and one of later days than every batch looks for
none."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from flashcore.services import qbank, qbank_import, write_steps
from tests.conftest import write_deck
from tests.services.test_qbank_import import DECK, MIXED, log, stored, temp_tables_left

LONG = log(
    [
        "1001,incorrect,2026-11-20,"
        + ",".join(["Immunologié " * 30, "Allergié " * 40, "Type I hypersensitivity"]),
        "1002,correct,2026-11-20,Hematology,"
        + ",".join(["Hémé " * 70, "Sickle cell disease " + "é" * 600]),
    ]
)


@pytest.fixture
def deck_fc(fc: Any, tmp_path: Path) -> Any:
    (report,) = fc.add_decks([write_deck(tmp_path / "d.toml", DECK)])
    assert report.ok, report.problems
    return fc


def small_steps(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(write_steps, "FIRST_ROWS", 2)
    monkeypatch.setattr(write_steps, "MIN_ROWS", 1)
    monkeypatch.setattr(write_steps, "MAX_ROWS", 2)


def test_a_held_log_is_stored_as_a_staged_one_in_steps(deck_fc, monkeypatch):
    small_steps(monkeypatch)
    held = qbank.import_log(deck_fc, MIXED, origin="mixed.csv")
    assert temp_tables_left(deck_fc) == 0
    rows = stored(deck_fc)
    qbank.remove_batch(deck_fc, held.batch_id)
    monkeypatch.setattr(qbank_import, "MEMORY_BYTES", 0)
    staged = qbank.import_log(deck_fc, MIXED, origin="mixed.csv", again=True)
    assert stored(deck_fc) == rows
    held_json, staged_json = held.to_json(), staged.to_json()
    held_json.pop("batch_id"), staged_json.pop("batch_id")
    assert held_json == staged_json
    assert (held.added, held.duplicates) == (5, 1)
    assert [b["added"] for b in qbank.list_batches(deck_fc)] == [5]


def test_texts_longer_than_their_columns_are_cut_by_characters_either_way(deck_fc, monkeypatch):
    held = qbank.import_log(deck_fc, LONG, origin="long.csv")
    rows = stored(deck_fc)
    assert held.added == 2
    by_qid = {r[1]: r for r in rows}
    subject, system, category, topic = by_qid["1001"][4:8]
    assert (subject, system, category) == (
        ("Immunologié " * 30)[:200],
        ("Allergié " * 40)[:200],
        "",
    )
    assert topic == "Type I hypersensitivity"
    assert by_qid["1002"][5] == ("Hémé " * 70)[:200]
    assert by_qid["1002"][7] == ("Sickle cell disease " + "é" * 600)[:500]
    qbank.remove_batch(deck_fc, held.batch_id)
    monkeypatch.setattr(qbank_import, "MEMORY_BYTES", 0)
    qbank.import_log(deck_fc, LONG, origin="long.csv", again=True)
    assert stored(deck_fc) == rows


def test_a_log_finds_the_stored_attempts_among_those_of_its_days(deck_fc):
    # Schema 0023: the stored attempts of the log's days are read by the (profile_id, on_date)
    # index (no fingerprint index to look each one up in), and compared in memory.
    qbank.import_log(deck_fc, MIXED, origin="mixed.csv")
    more = log(
        [
            "1002,incorrect,2026-11-20,Hematology,Heme,Sickle cell disease",  # stored
            "1006,incorrect,2026-11-23,Pathology,General,Another gap",
            "1005,incorrect,2026-11-22,Pathology,General,Gap topic",  # stored
            "1007,correct,2026-11-23,Pathology,General,Emphysema",
        ]
    )
    statements: list[str] = []

    def seen(_conn: Any, _cursor: Any, statement: str, *_rest: Any) -> None:
        statements.append(statement)

    sa.event.listen(deck_fc.engine, "before_cursor_execute", seen)
    try:
        report = qbank.import_log(deck_fc, more, origin="more.csv")
    finally:
        sa.event.remove(deck_fc.engine, "before_cursor_execute", seen)
    assert (report.added, report.duplicates, report.unmatched_qids) == (2, 2, ["uworld:1006"])
    assert len(stored(deck_fc)) == 7
    assert any("on_date IN" in s for s in statements)
    assert not any("fingerprint IN" in s for s in statements)


def statements_of(fc: Any, action: Any) -> tuple[Any, list[str]]:
    statements: list[str] = []

    def seen(_conn: Any, _cursor: Any, statement: str, *_rest: Any) -> None:
        statements.append(statement)

    sa.event.listen(fc.engine, "before_cursor_execute", seen)
    try:
        return action(), statements
    finally:
        sa.event.remove(fc.engine, "before_cursor_execute", seen)


def looks_for_stored(statements: list[str]) -> bool:
    """Whether the import read stored attempts of its log's days (held: their fingerprints;
    staged: into the temporary table of known ones)."""
    return any("FROM qbank_attempts" in s and "on_date IN" in s for s in statements)


@pytest.mark.parametrize("way", ["held", "staged"])
def test_a_log_of_later_days_than_every_batch_looks_for_no_duplicate(deck_fc, monkeypatch, way):
    if way == "staged":
        monkeypatch.setattr(qbank_import, "MEMORY_BYTES", 0)
    qbank.import_log(deck_fc, MIXED, origin="mixed.csv")  # days up to 2026-11-22
    later = log(["1001,incorrect,2026-11-23,Immunology,Allergy,Type I hypersensitivity"])
    report, statements = statements_of(
        deck_fc, lambda: qbank.import_log(deck_fc, later, origin="later.csv")
    )
    assert (report.added, report.duplicates) == (1, 0)
    assert not looks_for_stored(statements)
    # Reaching back to a stored day, the stored attempts are looked at (the duplicate is
    # found); so are they when a batch's latest day is not known (NULL: a batch whose
    # weights an import that died left unwritten).
    back = log(
        [
            "1002,incorrect,2026-11-20,Hematology,Heme,Sickle cell disease",  # stored
            "1008,incorrect,2026-11-24,Pathology,General,Emphysema",
        ]
    )
    report, statements = statements_of(
        deck_fc, lambda: qbank.import_log(deck_fc, back, origin="back.csv")
    )
    assert (report.added, report.duplicates) == (1, 1)
    assert looks_for_stored(statements)
    with deck_fc.engine.begin() as conn:
        conn.exec_driver_sql("UPDATE qbank_batches SET latest_on = NULL")
    unknown = log(["1009,incorrect,2026-11-25,Pathology,General,Emphysema"])
    report, statements = statements_of(
        deck_fc, lambda: qbank.import_log(deck_fc, unknown, origin="unknown.csv")
    )
    assert (report.added, report.duplicates) == (1, 0)
    assert looks_for_stored(statements)


TIMED = (
    b"question_id,result,date,subject,system,topic,time spent,% correct others\n"
    b"2001,incorrect,2026-11-20,Immunology,Allergy,Type I hypersensitivity,,\n"
    b"2002,incorrect,2026-11-20,Hematology,Heme,Sickle cell disease,95,62%\n"
    b"2003,correct,2026-11-21,Pathology,General,Emphysema,,\n"
)


@pytest.mark.parametrize("way", ["held", "staged"])
def test_times_and_shares_are_kept_where_a_row_gives_them_and_null_where_none_does(
    deck_fc, monkeypatch, way
):
    if way == "staged":
        monkeypatch.setattr(qbank_import, "MEMORY_BYTES", 0)
    assert qbank.import_log(deck_fc, TIMED, origin="timed.csv").added == 3
    assert qbank.import_log(deck_fc, MIXED, origin="bare.csv").added == 5
    with deck_fc.engine.connect() as conn:
        found = conn.execute(
            sa.text("SELECT qid, seconds, others FROM qbank_attempts ORDER BY qid")
        ).all()
    assert [tuple(r) for r in found] == [
        *((qid, None, None) for qid in ("1001", "1002", "1003", "1004", "1005")),
        ("2001", None, None),
        ("2002", 95, 62),
        ("2003", None, None),
    ]


def test_the_stage_binds_no_field_that_every_row_leaves_none():
    from flashcore.storage.qbank_stage import _carried

    bare = [("fp1", "uworld", "1", "correct", "2026-11-20", "S", "Y", "C", "T", None, 2, None)]
    columns, values = _carried(bare)
    assert "seconds" not in columns and "others" not in columns
    assert list(values) == [("fp1", "uworld", "1", "correct", "2026-11-20", "S", "Y", "C", "T", 2)]
    timed = [*bare, ("fp2", "uworld", "2", "correct", "2026-11-20", "S", "Y", "C", "T", 0, 3, None)]
    columns, values = _carried(timed)
    assert columns.split(", ")[9:] == ["seconds", "line"]
    assert list(values)[1] == (
        "fp2",
        "uworld",
        "2",
        "correct",
        "2026-11-20",
        "S",
        "Y",
        "C",
        "T",
        0,
        3,
    )
    shared = [("fp3", "uworld", "3", "incorrect", "2026-11-20", "S", "Y", "C", "T", 40, 4, 62)]
    assert _carried(shared) == (
        "fingerprint, source, qid, outcome, on_date, subject, system, category, topic, seconds, "
        "line, others",
        shared,
    )
