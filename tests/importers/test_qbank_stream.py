"""The qbank reader as a stream: tiny read sizes and chunks give the same result as one piece
(line ends, multi-byte characters and quoted line breaks straddling reads), a stream is read
twice from its spool, the reader starts over when a late row changes its mind, and a line too
long for any log is refused with its number."""

from __future__ import annotations

import io
from datetime import date
from typing import Any

import pytest

from flashcore.core.errors import QbankFormatError
from flashcore.importers import qbank
from flashcore.importers.qbank import LogSource, QbankReader, parse_qbank
from flashcore.importers.qbank import text as qbank_text

DAY = date(2024, 3, 1)


def plain(data: bytes, **options: Any) -> Any:
    try:
        log = parse_qbank(data, path="log", default_date=DAY, **options)
    except QbankFormatError as error:
        return [(p.line, p.message) for p in error.problems]
    return log.format, log.attempts, log.rows_read, log.skipped


@pytest.fixture
def tiny(monkeypatch: pytest.MonkeyPatch) -> None:
    """Read 3 bytes at a time and hand over rows one at a time."""
    monkeypatch.setattr(qbank_text, "READ_BYTES", 3)
    monkeypatch.setitem(QbankReader.__init__.__kwdefaults__, "chunk_rows", 1)


LOGS = {
    "crlf-csv": b"qid,result,topic\r\n1,correct,Sj\xc3\xb6gren\r\n2,wrong,\xe2\x82\xac\r\n",
    "cr-only": b"qid,result\r1,correct\r\r2,incorrect\r",
    "quoted-line-break": b'qid,topic\n1,"two\nlines"\n2,"x"\n3,plain\n',
    "unterminated": b'qid,topic\n1,"never closes\n2,next\n3,"also\n',
    "utf16": "qid\tresult\n1\tcorrect\n2\twrong\n".encode("utf-16"),
    "cp1252": b"qid,topic\n1,Sj\xf6gren\n2,caf\xe9\n",
    "bom": b"\xef\xbb\xbfqid,result\n1,correct\n",
    "uworld": b"3 - 118154\tImmunology\tAllergy\tHyp\tType I\t62%\t75 sec\n4 - 2\ta\tb\tc\td\t5%\t9\n",
    "qids": b"1 2 3\n4,5\n",
    "late-day-first": b"qid,date\n1,3/4/2024\n2,5/6/2024\n3,25/4/2024\n",
    "late-both": b"qid,date\n1,3/4/2024\n2,3/14/2024\n3,25/4/2024\n",
}


@pytest.mark.parametrize("name", sorted(LOGS))
def test_tiny_reads_and_chunks_give_the_same_result(name: str, monkeypatch) -> None:
    whole = plain(LOGS[name]), plain(LOGS[name], skip_invalid=True)
    monkeypatch.setattr(qbank_text, "READ_BYTES", 3)
    monkeypatch.setitem(QbankReader.__init__.__kwdefaults__, "chunk_rows", 1)
    assert (plain(LOGS[name]), plain(LOGS[name], skip_invalid=True)) == whole


def test_day_first_dates_read_before_the_row_that_shows_it_are_read_again(tiny) -> None:
    log = parse_qbank(LOGS["late-day-first"], path="log", default_date=DAY)
    assert [a.on_date for a in log.attempts] == [
        date(2024, 4, 3),
        date(2024, 6, 5),
        date(2024, 4, 25),
    ]


def test_the_reader_says_start_over_when_an_id_list_turns_out_to_be_a_csv(tiny) -> None:
    reader = QbankReader(
        LogSource(b"1\n2\n3 and more\n"), path="log", default_date=DAY, skip_invalid=True
    )
    chunks = []
    with pytest.raises(QbankFormatError, match="not read as a list of ids"):
        chunks.extend(reader.chunks())
    restart = chunks.index(None)
    assert restart >= 2, "rows of the id list came first"
    assert [len(chunk) for chunk in chunks[:restart]] == [1, 1]


def test_a_stream_is_spooled_once_and_read_twice() -> None:
    data = b"qid,result\n" + b"".join(b"%d,correct\n" % i for i in range(50_000))
    with LogSource(io.BytesIO(data)) as source:
        reader = QbankReader(source, path="-", default_date=DAY)
        rows = [row for chunk in reader.chunks() if chunk for row in chunk]
    assert len(rows) == 50_000 and reader.rows_read == 50_000
    assert reader.position == reader.size == len(data)
    assert reader.content_hash == __import__("hashlib").sha256(data).hexdigest()


def test_rows_carry_the_fingerprint_of_their_attempt() -> None:
    reader = QbankReader(LogSource(b"qid,result\n7,correct\n"), path="log", default_date=DAY)
    ((fp, *_rest),) = next(c for c in reader.chunks() if c)
    (attempt,) = parse_qbank(b"qid,result\n7,correct\n", path="log", default_date=DAY).attempts
    assert fp == qbank.fingerprint(attempt)


def test_a_line_longer_than_any_log_has_is_refused_with_its_number(monkeypatch) -> None:
    monkeypatch.setattr(qbank_text, "MAX_LINE", 1000)
    monkeypatch.setattr(qbank_text, "READ_BYTES", 100)
    data = b"qid\n1\n" + b"9" * 5000 + b"\n"
    with pytest.raises(QbankFormatError) as info:
        parse_qbank(data, path="log", default_date=DAY)
    ((line, message),) = [(p.line, p.message) for p in info.value.problems]
    assert line == 3 and message.startswith("line longer than")


def test_non_utf8_after_a_read_boundary_is_found_at_its_line(tiny) -> None:
    data = "qid,topic\n1,Sjögren\n2,Crohn".encode() + b"\x92s\n"
    assert plain(data) == [
        (3, "byte 0x92 is not UTF-8 although the rest of the file is; save the file as UTF-8")
    ]


def test_a_nul_byte_is_refused_at_its_line_however_the_file_is_read(tiny) -> None:
    assert plain(b"qid\r\n1\r\n2\x00\r\n") == [(3, "not a text file: contains NUL bytes (line 3)")]
