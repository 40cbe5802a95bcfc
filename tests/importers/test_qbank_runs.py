"""A CSV body is read in runs of plain rows, added a column at a time (importers.qbank.table),
and one line at a time wherever a run holds anything else (a quote, a blank line, a row of
another width, a control character, a value not read before). Whatever the run size, and
whether or not any run is taken, a log gives the same attempts, problems and line numbers."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from flashcore.core.errors import QbankFormatError
from flashcore.importers.qbank import csvlog, parse_qbank, table
from flashcore.importers.qbank import text as qbank_text

DAY = date(2026, 11, 25)
HEADER = "question_id,result,date,subject,system,topic"

# Lines of every kind a run may meet (the plain ones repeated: runs need them).
PLAIN = [
    "101,incorrect,2026-11-20,Pathology,General,Emphysema",
    "102,correct,2026-11-21,Pathology,Renal,Digoxin",
    "103,omitted,2026-11-20, Immunology ,Allergy,Type I hypersensitivity ",
    "104,wrong,2026-11-22,Pharmacology,Renal,",
]
ODD = [
    "",  # blank
    ",,,,,",  # Excel's blank row
    '105,incorrect,2026-11-20,Pathology,General,"quoted, with a comma"',
    '106,incorrect,2026-11-20,Pathology,General,"two\nlines"',
    '107,incorrect,2026-11-20,Pathology,General,"never closes',
    "108,incorrect,2026-11-20,Pathology,General",  # a cell short
    "109,maybe,2026-11-20,Pathology,General,Emphysema",  # bad result
    "110,incorrect,3/4/2026,Pathology,General,Emphysema",  # ambiguous until a later row
    "111,incorrect,25/4/2026,Pathology,General,Emphysema",  # day-first
    "uworld:112,incorrect,2026-11-19,Pathology,General,Emphysema",  # a prefixed id
    "1.2E+5,incorrect,2026-11-19,Pathology,General,Emphysema",  # mangled id
    "113,correct,2026-11-18,Pathology,Gen\x07eral,Emphysema",  # control character
    "114,correct,2026-11-23 09:30,Pathology,General,Emphysema",  # a new date text
    "115,Correct,2026-11-17,Pathology,General,Emphysema",  # a new result text
]


def read(data: bytes, **options: Any) -> Any:
    try:
        log = parse_qbank(data, path="log", default_date=DAY, latest=DAY, **options)
    except QbankFormatError as error:
        return [(p.line, p.message) for p in error.problems]
    return log.format, log.attempts, log.rows_read, log.skipped


def one_line_at_a_time(monkeypatch: pytest.MonkeyPatch) -> None:
    """No run is taken, and each plain row is added on its own."""
    monkeypatch.setattr(csvlog._Records, "plain_run", lambda self, count: None)
    monkeypatch.setattr(csvlog, "_RUN_ROWS", 1)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    lines=st.lists(
        st.one_of(st.sampled_from(PLAIN), st.sampled_from(PLAIN), st.sampled_from(ODD)),
        max_size=40,
    ),
    run=st.integers(1, 7),
    read_bytes=st.sampled_from([1 << 20, 16]),
)
def test_runs_of_any_size_read_as_one_line_at_a_time(
    lines: list[str], run: int, read_bytes: int
) -> None:
    # Read 16 bytes at a time, a control character is found while a run's lines are read.
    data = ("\n".join([HEADER, *lines]) + "\n").encode()
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(csvlog, "_RUN_ROWS", run)
        patch.setattr(qbank_text, "READ_BYTES", read_bytes)
        in_runs = read(data), read(data, skip_invalid=True)
    with pytest.MonkeyPatch.context() as patch:
        one_line_at_a_time(patch)
        single = read(data), read(data, skip_invalid=True)
    assert in_runs == single


def test_a_run_of_values_read_before_is_added_a_column_at_a_time(monkeypatch) -> None:
    columns: list[bool] = []
    add_columns = table.SplitRows._add_columns

    def spy(self: table.SplitRows, *args: Any) -> bool:
        columns.append(add_columns(self, *args))
        return columns[-1]

    monkeypatch.setattr(table.SplitRows, "_add_columns", spy)
    monkeypatch.setattr(csvlog, "_RUN_ROWS", 4)
    data = ("\n".join([HEADER, *PLAIN * 3]) + "\n").encode()
    _format, attempts, rows_read, _skipped = read(data)
    assert columns == [False, True, True]  # the first run reads its values one by one
    assert rows_read == 12 and [a.line for a in attempts] == list(range(2, 14))
    assert attempts[2].subject == "Immunology" and attempts[2].topic == "Type I hypersensitivity"
    assert attempts[3].outcome == "incorrect" and attempts[3].topic == ""
    one_line_at_a_time(monkeypatch)
    assert read(data)[1] == attempts


@pytest.mark.parametrize("run", [1, 2, 1000])
def test_a_control_character_found_while_a_run_is_read_fails_its_row(monkeypatch, run) -> None:
    # Read 16 bytes at a time, the control character on line 4 is found only when the run
    # holding it is read: its row still fails (and with --skip-invalid, is left out).
    monkeypatch.setattr(csvlog, "_RUN_ROWS", run)
    monkeypatch.setattr(qbank_text, "READ_BYTES", 16)
    data = ("\n".join([HEADER, PLAIN[0], PLAIN[1], ODD[11], PLAIN[2]]) + "\n").encode()
    assert read(data) == [(4, "control character U+0007 in a field (is this a text file?)")]
    _format, attempts, rows_read, skipped = read(data, skip_invalid=True)
    assert [a.line for a in attempts] == [2, 3, 5] and rows_read == 4 and len(skipped) == 1
