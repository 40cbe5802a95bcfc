"""The qbank import's two ways of holding a log before it is saved (in memory for small logs, a
temporary table for large ones) give the same results on both backends: duplicates within the
log and against stored attempts, --again, --skip-invalid, the summary, a file with bad rows
changing nothing; and the import takes a path or a stream, reports progress and can be
cancelled without leaving anything behind."""

from __future__ import annotations

import io
import threading
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from flashcore.core.errors import FlashcoreError, QbankFormatError
from flashcore.services import qbank, qbank_import, write_steps
from flashcore.storage import qbank_stage
from tests.conftest import TYPE_I_CARD, write_deck

DECK = (
    TYPE_I_CARD
    + """
[[cards]]
id = "anemia"
front = "Sickle cell fact"
back = "HbS"
topics = ["Hematology::Anemia::Sickle cell disease"]
"""
)

HEADER = "question_id,result,date,subject,system,topic\n"


def log(rows: list[str]) -> bytes:
    return (HEADER + "".join(row + "\n" for row in rows)).encode()


MIXED = log(
    [
        "1001,incorrect,2026-11-20,Immunology,Allergy,Type I hypersensitivity",
        "1002,incorrect,2026-11-20,Hematology,Heme,Sickle cell disease",
        "1003,omitted,2026-11-21,Pathology,General,Nothing we cover",
        "1001,incorrect,2026-11-20,Immunology,Allergy,Repeated row with another topic",
        "1004,correct,2026-11-21,Pathology,General,Emphysema",
        "1005,incorrect,2026-11-22,Pathology,General,Gap topic",
    ]
)


@pytest.fixture(params=["held", "staged"])
def way(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> str:
    """Each test runs with the log held in memory and with it staged in a temporary table."""
    if request.param == "staged":
        monkeypatch.setattr(qbank_import, "MEMORY_BYTES", 0)
        monkeypatch.setattr(write_steps, "FIRST_ROWS", 2)  # several copy transactions
        monkeypatch.setattr(write_steps, "MIN_ROWS", 1)
        monkeypatch.setattr(write_steps, "MAX_ROWS", 2)
    return str(request.param)


@pytest.fixture
def deck_fc(fc: Any, tmp_path: Path) -> Any:
    (report,) = fc.add_decks([write_deck(tmp_path / "d.toml", DECK)])
    assert report.ok, report.problems
    return fc


def stored(fc: Any) -> list[tuple[Any, ...]]:
    with fc.engine.connect() as conn:
        return [
            tuple(r)
            for r in conn.execute(
                sa.text(
                    "SELECT source, qid, outcome, on_date, subject, system, category, topic,"
                    " seconds, fingerprint FROM qbank_attempts ORDER BY fingerprint"
                )
            )
        ]


def temp_tables_left(fc: Any) -> int:
    """Staging tables left in this collection's sessions. On PostgreSQL a temporary table
    belongs to one session and pg_tables lists every session's (another test's import running
    in parallel would count): ask each pooled session about its own temporary schema."""
    if fc.engine.dialect.name == "sqlite":
        with fc.engine.connect() as conn:
            query = "SELECT count(*) FROM sqlite_temp_master WHERE name LIKE 'qbank_stage%'"
            return int(conn.execute(sa.text(query)).scalar_one())
    query = (
        "SELECT count(*) FROM pg_class WHERE relname = 'qbank_stage' "
        "AND relnamespace = pg_my_temp_schema()"
    )
    conns = [fc.engine.connect() for _ in range(max(1, fc.engine.pool.checkedin()))]
    try:
        return sum(int(c.execute(sa.text(query)).scalar_one()) for c in conns)
    finally:
        for c in conns:
            c.close()


def test_a_log_with_a_repeated_row_keeps_the_first_and_matches_the_rest(deck_fc, way):
    report = qbank.import_log(deck_fc, MIXED, origin="mixed.csv")
    assert (report.rows_read, report.added, report.duplicates) == (6, 5, 1)
    assert (report.misses, report.matched_card, report.matched_topic, report.matched_none) == (
        4,
        1,
        1,
        2,
    )
    assert report.unmatched_qids == ["uworld:1003", "uworld:1005"]
    assert report.unmatched_topics == ["Nothing we cover", "Gap topic"]
    rows = stored(deck_fc)
    assert len(rows) == 5
    first = next(r for r in rows if r[1] == "1001")
    assert first[7] == "Type I hypersensitivity"  # the first of the two rows is kept
    assert temp_tables_left(deck_fc) == 0


def test_both_ways_report_the_same_for_a_dry_run(deck_fc, monkeypatch):
    held = qbank.import_log(deck_fc, MIXED, origin="m.csv", dry_run=True)
    monkeypatch.setattr(qbank_import, "MEMORY_BYTES", 0)
    staged = qbank.import_log(deck_fc, MIXED, origin="m.csv", dry_run=True)
    assert held.to_json() == staged.to_json()
    assert stored(deck_fc) == []


def test_reimporting_adds_nothing_and_again_counts_every_row_a_duplicate(deck_fc, way):
    qbank.import_log(deck_fc, MIXED, origin="mixed.csv")
    before = stored(deck_fc)
    with pytest.raises(FlashcoreError, match="identical to batch"):
        qbank.import_log(deck_fc, MIXED, origin="mixed.csv")
    again = qbank.import_log(deck_fc, MIXED, origin="mixed.csv", again=True)
    assert (again.added, again.duplicates, again.misses, again.unmatched_qids) == (0, 6, 0, [])
    assert stored(deck_fc) == before
    # nothing new, no batch: none of 0 attempts to undo (before: `[0, 5]`, batch 2 printed)
    assert again.batch_id is None
    assert [b["added"] for b in qbank.list_batches(deck_fc)] == [5]


@pytest.fixture(params=["in one pass", "a day at a time"])
def known(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> str:
    """The stored attempts of a held log's days are read a number of days at a time (by the
    index on (profile_id, on_date)): all of them at once, or a day at a time."""
    if request.param == "a day at a time":
        monkeypatch.setattr(qbank_stage, "_DAYS_AT_ONCE", 1)
    return str(request.param)


def test_a_log_overlapping_stored_attempts_adds_only_the_new_ones(deck_fc, way, known):
    qbank.import_log(deck_fc, MIXED, origin="mixed.csv")
    more = log(
        [
            "1002,incorrect,2026-11-20,Hematology,Heme,Sickle cell disease",  # stored
            "1006,incorrect,2026-11-23,Pathology,General,Another gap",
            "1006,incorrect,2026-11-23,Pathology,General,Another gap",  # repeated
            "1007,correct,2026-11-23,Pathology,General,Emphysema",
        ]
    )
    report = qbank.import_log(deck_fc, more, origin="more.csv")
    assert (report.added, report.duplicates, report.misses, report.unmatched_qids) == (
        2,
        2,
        1,
        ["uworld:1006"],
    )
    assert len(stored(deck_fc)) == 7
    assert qbank.list_batches(deck_fc)[0]["attempts"] == 2


def test_a_log_with_bad_rows_changes_nothing_and_lists_them_all(deck_fc, way):
    bad = log(
        [
            "1001,incorrect,2026-11-20,Immunology,Allergy,Type I hypersensitivity",
            "1002,maybe,2026-11-20,Hematology,Heme,Sickle cell disease",
            "1003,incorrect,31/31/2026,Pathology,General,Emphysema",
        ]
    )
    with pytest.raises(QbankFormatError) as info:
        qbank.import_log(deck_fc, bad, origin="bad.csv")
    assert [p.line for p in info.value.problems] == [3, 4]
    assert stored(deck_fc) == [] and qbank.list_batches(deck_fc) == []
    assert temp_tables_left(deck_fc) == 0
    report = qbank.import_log(deck_fc, bad, origin="bad.csv", skip_invalid=True)
    assert report.added == 1 and len(report.skipped_invalid) == 2


def test_a_path_and_a_stream_import_like_bytes(deck_fc, way, tmp_path):
    path = tmp_path / "mixed.csv"
    path.write_bytes(MIXED)
    by_path = qbank.import_log(deck_fc, path, origin=str(path), dry_run=True)
    by_stream = qbank.import_log(deck_fc, io.BytesIO(MIXED), origin="<stdin>", dry_run=True)
    by_bytes = qbank.import_log(deck_fc, MIXED, origin="m", dry_run=True)
    assert by_path.to_json() == by_stream.to_json() == by_bytes.to_json()


def test_progress_is_reported_while_reading_and_saving(deck_fc, way):
    seen: list[tuple[str, int, int]] = []
    qbank.import_log(deck_fc, MIXED, origin="m.csv", progress=lambda *p: seen.append(p))
    phases = [phase for phase, _done, _total in seen]
    assert phases[0] == "reading" and phases[-1] == "saving"
    assert seen[-1][1] == seen[-1][2]
    reading = [p for p in seen if p[0] == "reading"]
    assert reading[-1][1] == reading[-1][2] == len(MIXED)


def test_a_cancelled_import_raises_keyboard_interrupt_and_saves_nothing(deck_fc, way):
    cancel = threading.Event()

    def stop_while_saving(phase: str, done: int, total: int) -> None:
        if phase == "saving":
            cancel.set()

    with pytest.raises(KeyboardInterrupt):
        qbank.import_log(deck_fc, MIXED, origin="m.csv", progress=stop_while_saving, cancel=cancel)
    assert stored(deck_fc) == [] and qbank.list_batches(deck_fc) == []
    assert temp_tables_left(deck_fc) == 0
    assert qbank.import_log(deck_fc, MIXED, origin="m.csv").added == 5


def test_a_long_topic_is_cut_to_its_column_but_matched_whole(deck_fc, way):
    long_topic = "Sickle cell" + " and more" * 100
    report = qbank.import_log(deck_fc, log([f"1009,incorrect,2026-11-20,Heme,Heme,{long_topic}"]),
                              origin="long.csv")  # fmt: skip
    assert report.matched_none == 1  # the whole text names no topic, nor a species of one
    (row,) = stored(deck_fc)
    assert row[7] == long_topic[:500]


def test_a_list_of_ids_that_turns_out_to_be_a_csv_starts_over(deck_fc, way, monkeypatch):
    from flashcore.importers import qbank as parser

    monkeypatch.setattr(parser, "CHUNK_ROWS", 1)
    monkeypatch.setitem(parser.QbankReader.__init__.__kwdefaults__, "chunk_rows", 1)
    data = b"1001\n1002\n1003 and more\n"
    with pytest.raises(QbankFormatError, match="not read as a list of ids"):
        qbank.import_log(deck_fc, data, origin="ids.txt")
    assert stored(deck_fc) == []


def _weights(fc: Any) -> tuple[list[tuple[Any, ...]], list[tuple[Any, ...]], list[tuple[Any, ...]]]:
    with fc.engine.connect() as conn:
        return (
            [tuple(r) for r in conn.exec_driver_sql("SELECT id, weight FROM topics ORDER BY id")],
            [tuple(r) for r in conn.exec_driver_sql("SELECT id, weight FROM cards ORDER BY id")],
            [
                tuple(r)
                for r in conn.exec_driver_sql(
                    "SELECT card_id, study_day, reason FROM pull_forwards ORDER BY card_id"
                )
            ],
        )


def test_the_import_counts_its_own_rows_as_a_full_refresh_would(deck_fc, way):
    # A held log's rows are counted from memory after they are saved (only earlier batches are
    # read back): topic weights, card weights and pull-forwards must equal a refresh that reads
    # every attempt back, with a card-matched qid, topic matches, a gap, an outcome mix and a
    # topic text longer than the stored 500 characters.
    from flashcore.services import weakness

    earlier = log(["1001,incorrect,2026-11-18,Immunology,Allergy,Type I hypersensitivity"])
    qbank.import_log(deck_fc, earlier, origin="earlier.csv")
    long_topic = "Sickle cell disease " + "x" * 600
    rows = [
        "1001,incorrect,2026-11-20,Immunology,Allergy,Type I hypersensitivity",
        "1002,incorrect,2026-11-20,Hematology,Heme,Sickle cell disease",
        "1003,omitted,2026-11-21,Pathology,General,Nothing we cover",
        "1004,correct,2026-11-21,Pathology,General,Type I hypersensitivity",
        f"1006,incorrect,2026-11-22,Hematology,Sickle cell disease,{long_topic}",
        "1007,incorrect,2026-11-23,Immunology,Type I hypersensitivity,",
    ]
    report = qbank.import_log(deck_fc, log(rows), origin="today.csv")
    assert report.added == len(rows)
    after_import = _weights(deck_fc)
    assert any(w > 0 for _id, w in after_import[0])
    weakness.refresh_weights(deck_fc, force=True)
    with deck_fc.engine.connect() as conn:
        from sqlalchemy.orm import Session

        with Session(bind=conn) as session:
            pulled = qbank.pull_forward(session, deck_fc, weakness.today_for(deck_fc))
            session.commit()
    assert pulled == len(after_import[2])
    assert _weights(deck_fc) == after_import


def test_matched_attempts_from_memory_equal_those_read_back(deck_fc):
    from sqlalchemy.orm import Session

    from flashcore.services import weakness

    qbank.import_log(deck_fc, MIXED, origin="mixed.csv")
    with Session(deck_fc.engine) as session:
        index = weakness.load_index(session, deck_fc.profile_id)
        full = weakness.matched_attempts(session, deck_fc.profile_id, index)
        rows = session.execute(
            sa.text(
                "SELECT batch_id, source, qid, outcome, on_date, topic, category, system "
                "FROM qbank_attempts"
            )
        ).all()
        batch = rows[0][0]
        added = [(r[1], r[2], r[3], str(r[4]), r[5], r[6], r[7]) for r in rows]
        split = weakness.matched_attempts(
            session, deck_fc.profile_id, index, skip_batch=batch, added=added
        )
    assert full and split == full
