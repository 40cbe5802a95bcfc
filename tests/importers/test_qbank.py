"""Missed-question logs: golden files for each format and each kind of damage, detection,
fingerprints, arbitrary bytes, and a 10 MB file."""

from __future__ import annotations

import json
import re
import zipfile
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from flashcore.core.errors import Problem, QbankFormatError, UsageError
from flashcore.importers.qbank import (
    OUTCOMES,
    AttemptSpec,
    ParsedLog,
    fingerprint,
    parse_qbank,
)

DATA = Path(__file__).parent / "data" / "qbank"
DAY = date(2024, 3, 1)
CASES = sorted(DATA.glob("*.json"))


def parse(data: bytes, **options: Any) -> ParsedLog:
    return parse_qbank(data, path="log.csv", default_date=DAY, **options)


def problems_of(data: bytes, **options: Any) -> list[tuple[int | None, str]]:
    with pytest.raises(QbankFormatError) as info:
        parse(data, **options)
    return [(problem.line, problem.message) for problem in info.value.problems]


def as_plain(log: ParsedLog) -> dict[str, Any]:
    return {
        "format": log.format,
        "rows_read": log.rows_read,
        "attempts": [
            {
                "source": a.source,
                "qid": a.qid,
                "outcome": a.outcome,
                "on_date": a.on_date.isoformat(),
                "subject": a.subject,
                "system": a.system,
                "category": a.category,
                "topic": a.topic,
                "seconds": a.seconds,
                "line": a.line,
            }
            for a in log.attempts
        ],
        "skipped": [[p.line, p.message] for p in log.skipped],
    }


# --- golden files ----------------------------------------------------------------------------


@pytest.mark.parametrize("case", CASES, ids=[case.stem for case in CASES])
def test_golden_file_parses_to_its_expected_attempts_or_problems(case: Path) -> None:
    expected = json.loads(case.read_text(encoding="utf-8"))
    name = expected["input"]
    data = (DATA / name).read_bytes()
    options = expected["options"]
    if "problems" in expected:
        with pytest.raises(QbankFormatError) as info:
            parse_qbank(data, path=name, default_date=DAY, **options)
        got = [[p.line, p.message] for p in info.value.problems]
        assert got == expected["problems"]
        assert all(p.path == name for p in info.value.problems)
    else:
        log = parse_qbank(data, path=name, default_date=DAY, **options)
        want = {key: expected[key] for key in ("format", "rows_read", "attempts", "skipped")}
        assert as_plain(log) == want


def test_every_golden_input_is_used_by_a_case() -> None:
    inputs = {json.loads(case.read_text(encoding="utf-8"))["input"] for case in CASES}
    files = {path.name for path in DATA.iterdir() if path.suffix != ".json"}
    assert files == inputs


@pytest.mark.parametrize(
    "case",
    [case for case in CASES if "format" in json.loads(case.read_text(encoding="utf-8"))],
    ids=lambda case: case.stem,
)
def test_forcing_the_detected_format_gives_the_same_result(case: Path) -> None:
    expected = json.loads(case.read_text(encoding="utf-8"))
    data = (DATA / expected["input"]).read_bytes()
    options = {**expected["options"], "fmt": expected["format"]}
    log = parse_qbank(data, path=expected["input"], default_date=DAY, **options)
    assert as_plain(log)["attempts"] == expected["attempts"]


# --- format detection ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "fmt"),
    [
        ("3 - 118154\tImmunology\tAllergy\tHyp\tType I\t62%\t75 sec\n", "uworld"),
        ("Q. ID\tSubjects\tSystems\n\n3 - 118154\tImmunology\tAllergy\n", "uworld"),
        ("qid\tsubject\n118154\tImmunology\n", "csv"),
        ("qid\n118154\n", "csv"),
        ("118154\n4471\n", "qids"),
        ("uworld:118154, amboss:12\n", "qids"),
        ("118154 4471\n9023 and more\n", "csv"),
        ("2-Jan\tImmunology\n", "csv"),
    ],
    ids=[
        "uworld",
        "uworld-after-header",
        "tsv",
        "one-column-csv",
        "qids",
        "prefixed-qids",
        "ids-then-words",
        "mangled-date-is-not-uworld",
    ],
)
def test_auto_detection_picks_the_format_from_the_first_lines(text: str, fmt: str) -> None:
    try:
        detected = parse(text.encode()).format
    except QbankFormatError as error:
        # only the CSV reader looks for a header, so this refusal shows it was chosen
        assert error.problems[0].message.startswith("no question id column")
        detected = "csv"
    assert detected == fmt


def test_a_forced_csv_list_of_ids_names_the_columns_it_found() -> None:
    assert problems_of(b"118154\n4471\n", fmt="csv") == [
        (
            1,
            "no question id column (looked for 'question id', 'qid', 'id' or 'question'); "
            "columns found: '118154'",
        )
    ]


def test_forced_qids_accepts_letter_ids_that_detection_would_not() -> None:
    log = parse(b"Kx7_a9 Lq2\n", fmt="qids", source="amboss")
    assert [(a.source, a.qid) for a in log.attempts] == [("amboss", "Kx7_a9"), ("amboss", "Lq2")]
    with pytest.raises(QbankFormatError, match="no question id column"):
        parse(b"Kx7_a9 Lq2\n")  # auto: letters make it no id list, so it is read as a CSV


def test_an_id_list_with_a_stray_word_says_why_it_was_read_as_csv() -> None:
    (problem,) = problems_of(b"118154\n4471\n9023 and more\n")
    assert problem[1].endswith("(not read as a list of ids: line 3 has 'and')")


# --- hazards not in the golden files ---------------------------------------------------------


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"SQLite format 3\x00rest", "not a text file: looks like a SQLite database"),
        (b"%PDF-1.7\n", "not a text file: looks like a PDF document"),
        (b"\x1f\x8b\x08\x00", "not a text file: looks like a gzip archive"),
    ],
    ids=["sqlite", "pdf", "gzip"],
)
def test_binary_files_are_refused_by_their_magic_bytes(data: bytes, message: str) -> None:
    assert problems_of(data) == [(1, message)]


def test_a_renamed_xlsx_is_refused_as_a_zip(tmp_path: Path) -> None:
    book = tmp_path / "log.csv"
    with zipfile.ZipFile(book, "w") as archive:
        archive.writestr("xl/workbook.xml", "<workbook/>")
    assert problems_of(book.read_bytes()) == [(1, "not a text file: looks like a ZIP archive")]


def test_utf8_mixed_with_other_bytes_is_refused_at_the_bad_line() -> None:
    data = "qid,topic\n1,Sjögren\n2,Crohn".encode() + b"\x92s\n"
    assert problems_of(data) == [
        (3, "byte 0x92 is not UTF-8 although the rest of the file is; save the file as UTF-8")
    ]


def test_a_cp1252_undefined_byte_is_a_control_character_on_its_line() -> None:
    data = b"qid,topic\n1,ok\n2,bad\x81byte\n"
    assert problems_of(data) == [(3, "control character U+0081 in a field (is this a text file?)")]


def test_old_mac_cr_line_ends_count_as_lines() -> None:
    log = parse(b"qid,result\r1,correct\r\r2,incorrect\r")
    assert [(a.qid, a.line) for a in log.attempts] == [("1", 2), ("2", 4)]


def test_uworld_dashes_mean_no_value_and_decimal_seconds_round() -> None:
    log = parse(b"7 - 118154\tImmunology\tAllergy\tHyp\tType I\t--\t75.6\n")
    assert (log.attempts[0].qid, log.attempts[0].seconds) == ("118154", 76)


def test_uworld_header_may_name_a_date_column() -> None:
    text = "#\tSubject\tTopic\tDate\n1 - 5\tImmunology\tType I\t3/4/2024\n2 - 6\tX\tY\t4/13/2024\n"
    log = parse(text.encode())
    assert [(a.qid, a.subject, a.on_date) for a in log.attempts] == [
        ("5", "Immunology", date(2024, 3, 4)),
        ("6", "X", date(2024, 4, 13)),
    ]


def test_excel_sep_hint_line_sets_the_delimiter() -> None:
    log = parse(b"sep=;\nqid;topic\n1;Type I, IgE\n")
    assert [(a.qid, a.topic, a.line) for a in log.attempts] == [("1", "Type I, IgE", 3)]


def test_a_quote_closed_by_a_later_stray_quote_does_not_swallow_the_rows_between() -> None:
    data = b'qid,topic,result\n1,"abc,incorrect\n2,x,incorrect\n3,y",correct\n4,z,correct\n'
    assert problems_of(data) == [
        (2, "unterminated quote: the quoted cell opened on this line never closes")
    ]
    log = parse(data, skip_invalid=True)
    assert [a.qid for a in log.attempts] == ["2", "3", "4"]


def test_an_unterminated_quote_on_the_last_line_is_reported_there() -> None:
    data = b'qid,topic\n1,"a\nb"\n2,"never closed\n'
    assert problems_of(data) == [
        (4, "unterminated quote: the quoted cell opened on this line never closes")
    ]


def test_text_after_a_closing_quote_is_an_error_not_a_guess() -> None:
    assert problems_of(b'qid,topic\n1,"abc"def\n') == [
        (2, "unreadable row (a quoted cell must end right after its closing quote)")
    ]


def test_a_repeated_column_name_is_an_error() -> None:
    assert problems_of(b"qid,date,date\n1,2024-01-01,2024-01-02\n") == [
        (1, "column 'date' appears more than once (columns 2 and 3)")
    ]


def test_day_first_dates_are_read_day_first_when_the_file_shows_it() -> None:
    log = parse(b"qid,date\n1,3/4/2024\n2,25/12/2023\n3,04/05/24\n")
    assert [a.on_date for a in log.attempts] == [
        date(2024, 4, 3),
        date(2023, 12, 25),
        date(2024, 5, 4),
    ]


def test_a_file_with_both_date_orders_rejects_its_ambiguous_dates() -> None:
    problems = problems_of(b"qid,date\n1,13/1/2024\n2,1/13/2024\n3,2/3/2024\n")
    assert problems == [
        (
            4,
            "ambiguous date '2/3/2024' (day-first or month-first? the file has both); "
            "write it as YYYY-MM-DD",
        )
    ]


def test_a_result_column_wins_over_the_outcome_argument_and_blank_cells_take_it() -> None:
    log = parse(b"qid,result\n1,correct\n2,\n", outcome="omitted")
    assert [a.outcome for a in log.attempts] == ["correct", "omitted"]


def test_skip_invalid_with_no_good_rows_still_fails_and_says_why() -> None:
    assert problems_of(b"qid,result\n1,maybe\n", skip_invalid=True) == [
        (
            2,
            "unknown result 'maybe' (use correct, incorrect, omitted, yes/no, true/false, "
            "1/0 or right/wrong)",
        ),
        (None, "no question rows found"),
    ]


def test_ids_keep_leading_zeros_and_lose_surrounding_space() -> None:
    log = parse(b"qid,result\n 000123 ,correct\n")
    assert log.attempts[0].qid == "000123"


def test_an_id_longer_than_64_characters_is_an_error() -> None:
    (problem,) = problems_of(b"qid\n" + b"9" * 65 + b"\n")
    assert problem[0] == 2 and "is not an id" in problem[1]


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"fmt": "xlsx"}, "unknown log format 'xlsx': use auto, uworld, csv, qids"),
        ({"outcome": "meh"}, "unknown outcome 'meh': use correct, incorrect or omitted"),
        ({"source": "u|world"}, "bank name 'u|world': use letters and digits, e.g. uworld"),
    ],
    ids=["fmt", "outcome", "source"],
)
def test_bad_arguments_are_usage_errors(options: dict[str, str], message: str) -> None:
    with pytest.raises(UsageError, match=re.escape(message)):
        parse(b"1\n", **options)


# --- fingerprints ----------------------------------------------------------------------------

ATTEMPT = AttemptSpec("uworld", "118154", "incorrect", date(2024, 3, 5))


def test_fingerprint_is_the_sha256_of_source_qid_date_and_outcome() -> None:
    # sha256(b"uworld|118154|2024-03-05|incorrect"), its first 128 bits (schema 0005), written
    # out so that a change shows here; stored fingerprints are migrated to match
    assert fingerprint(ATTEMPT) == "cb488c7e408f58b243745d1571300744"


def test_fingerprint_ignores_details_but_not_date_outcome_bank_or_id() -> None:
    same = AttemptSpec(
        "uworld", "118154", "incorrect", date(2024, 3, 5), "Immunology", topic="x", seconds=9
    )
    assert fingerprint(same) == fingerprint(ATTEMPT)
    others = [
        AttemptSpec("uworld", "118154", "incorrect", date(2024, 3, 6)),
        AttemptSpec("uworld", "118154", "correct", date(2024, 3, 5)),
        AttemptSpec("amboss", "118154", "incorrect", date(2024, 3, 5)),
        AttemptSpec("uworld", "0118154", "incorrect", date(2024, 3, 5)),
    ]
    prints = {fingerprint(a) for a in [ATTEMPT, *others]}
    assert len(prints) == 5


# --- arbitrary input -------------------------------------------------------------------------

STRUCTURE = st.sampled_from(
    [b",", b";", b"\t", b"\n", b"\r\n", b"\r", b'"', b'""', b" ", b"-", b":", b"/", b"%"]
)
PIECES = st.one_of(
    STRUCTURE,
    st.sampled_from(
        [
            b"qid",
            b"Question ID",
            b"result",
            b"date",
            b"topic",
            b"time spent",
            b"source",
            b"3 - 118154",
            b"118154",
            b"uworld:",
            b"correct",
            b"omitted",
            b"2024-03-05",
            b"3/4/2024",
            b"14/3/2024",
            b"75 sec",
            b"1.23E+11",
            b"2-Jan",
            b"\xef\xbb\xbf",
            b"\xf6",
            b"\xc3\xb6",
            b"\x07",
            b"\x00",
        ]
    ),
    st.binary(max_size=4),
)
TEXTISH = st.lists(PIECES, max_size=40).map(b"".join)


SLOW_OK = [HealthCheck.too_slow]  # a loaded CI machine is no reason to fail


def check_parse(data: bytes, fmt: str, skip_invalid: bool) -> None:
    try:
        log = parse(data, fmt=fmt, skip_invalid=skip_invalid)
    except QbankFormatError as error:
        assert error.problems and all(isinstance(p, Problem) for p in error.problems)
        return
    lines = data.count(b"\n") + data.count(b"\r") - data.count(b"\r\n") + 1
    assert log.attempts and log.rows_read >= len(log.attempts)
    for attempt in log.attempts:
        assert attempt.outcome in OUTCOMES
        assert re.fullmatch(r"[A-Za-z0-9._-]{1,64}", attempt.qid)
        assert 1 <= attempt.line <= lines
    assert skip_invalid or not log.skipped


@settings(max_examples=100, deadline=None, database=None, suppress_health_check=SLOW_OK)
@given(
    data=st.binary(max_size=300),
    fmt=st.sampled_from(["auto", "uworld", "csv", "qids"]),
    skip_invalid=st.booleans(),
)
def test_arbitrary_bytes_raise_nothing_but_qbank_format_error(
    data: bytes, fmt: str, skip_invalid: bool
) -> None:
    check_parse(data, fmt, skip_invalid)


@settings(max_examples=150, deadline=None, database=None, suppress_health_check=SLOW_OK)
@given(
    data=TEXTISH,
    fmt=st.sampled_from(["auto", "uworld", "csv", "qids"]),
    skip_invalid=st.booleans(),
)
def test_log_shaped_junk_gives_valid_attempts_or_qbank_format_error(
    data: bytes, fmt: str, skip_invalid: bool
) -> None:
    check_parse(data, fmt, skip_invalid)


# --- size ------------------------------------------------------------------------------------


def test_a_10_mb_file_parses(tmp_path: Path) -> None:
    row = (
        "{qid},{result},2024-03-{day:02d},Immunology,Allergy & Immunology,"
        '"Hypersensitivity reactions, immediate","Type I hypersensitivity: {pad}",{secs}\r\n'
    )
    pad = "anaphylaxis after peanut exposure in a child with atopic dermatitis " * 2
    header = "Question ID,Result,Date,Subject,System,Category,Topic,Time Spent\r\n"
    results = ("correct", "incorrect", "omitted")
    rows = [
        row.format(qid=100000 + i, result=results[i % 3], day=1 + i % 28, pad=pad, secs=i % 300)
        for i in range(50_000)
    ]
    big = tmp_path / "big.csv"
    big.write_text(header + "".join(rows), encoding="utf-8", newline="")
    data = big.read_bytes()
    assert len(data) >= 10_000_000

    log = parse(data)

    assert log.format == "csv" and log.rows_read == len(log.attempts) == 50_000
    last = log.attempts[-1]
    assert (last.qid, last.outcome, last.on_date, last.seconds, last.line) == (
        "149999",
        "incorrect",
        date(2024, 3, 20),
        199,
        50_001,
    )


def test_uworld_keeps_each_question_s_percent_correct_others() -> None:
    log = parse((DATA / "uworld_header.tsv").read_bytes())
    assert [a.others for a in log.attempts][:3] == [62, 55, 80]
    rows = [
        "1 - 1\tA\tB\tC\tD\t61.5 %\t1 min",
        "2 - 2\tA\tB\tC\tD\t61,4%\t1 min",
        "3 - 3\tA\tB\tC\tD\t--\t1 min",
        "4 - 4\tA\tB\tC\tD\t150%\t1 min",  # no share: read as none, as before
        "5 - 5\tA\tB\tC\tD",  # an older paste: no such column
    ]
    log = parse(("\n".join(rows) + "\n").encode())
    assert [a.others for a in log.attempts] == [62, 61, None, None, None]


def test_a_csv_may_name_the_percent_correct_others_and_other_logs_have_none() -> None:
    data = b"qid,result,% Correct Others\n1,incorrect,73%\n2,correct,n/a\n3,incorrect,\n"
    assert [a.others for a in parse(data).attempts] == [73, None, None]
    assert [a.others for a in parse(b"qid,result\n1,incorrect\n").attempts] == [None]
    assert [a.others for a in parse(b"118154 4471\n", fmt="qids").attempts] == [None, None]


def test_a_percent_correct_column_is_the_others_share_not_the_student_s_result() -> None:
    # A header "% Correct" (no "Others") read as the result column refused every row:
    # "unknown result '50'". A percentage is never one student's answer to one question.
    data = b"qid,topic,% Correct\n1,MI,50%\n2,Gout,71\n"
    log = parse(data)
    assert [(a.qid, a.outcome, a.others) for a in log.attempts] == [
        ("1", "incorrect", 50),
        ("2", "incorrect", 71),
    ]
    data = b"qid,result,Percent Correct\n1,correct,40%\n"
    assert [(a.outcome, a.others) for a in parse(data).attempts] == [("correct", 40)]


def test_a_long_csv_read_a_column_at_a_time_keeps_the_shares() -> None:
    rows = "".join(f"{n},incorrect,{(40, 73, 'n/a')[n % 3]}%\n" for n in range(3000))
    log = parse(("qid,result,% Correct Others\n" + rows).encode())
    assert [a.others for a in log.attempts] == [(40, 73, None)[n % 3] for n in range(3000)]
