"""Missed-question logs -> attempts: UWorld result pastes, CSV/TSV exports, id lists.

Pure: bytes in, values out; no database, no clock. Every problem is collected with its line
before anything fails, and a damaged input ends in a `QbankFormatError`, never in wrong data:

- binary files (ZIP, SQLite, PDF, gzip, .xls, NUL bytes) are refused before decoding;
- text is UTF-8 (BOM stripped) or UTF-16 with a BOM, else cp1252; a file that mixes UTF-8 with
  other bytes is refused rather than decoded into mojibake;
- line ends are universal (CRLF, LF, CR); line numbers are the physical lines a row starts on;
- a quote that never closes is reported where it opened and does not swallow the rows after it;
- ids that a spreadsheet mangled (`1.23457E+11`, `2-Jan`, `118154.0`) are row errors;
- dates written `3/4/2024` are read day- or month-first only when the file itself shows which
  (a `3/14/2024` somewhere in it); otherwise they are ambiguous and a row error.

Logs are read as a stream, so memory does not grow with the file: a first pass over the bytes
settles the encoding (and hashes them), a second decodes and parses in chunks of `Row` tuples
(`QbankReader.chunks`). Two things only the whole file shows restart the second pass: a list of
ids that turns out to hold a word (it is a CSV), and a slashed date whose order a later row
settles. `parse_qbank` collects the stream into `AttemptSpec` values.

The package: `reader` (the stream and `parse_qbank`), `text` (bytes -> lines), `detection`,
one module per format (`uworld`, `csvlog`, `qids`), and what they share: `columns`, `cells`
(one value per cell), `rows` (one pass's state), `attempts` (the values).
"""

from __future__ import annotations

from flashcore.importers.qbank.attempts import (
    FORMAT_WORDS,
    FORMATS,
    OUTCOMES,
    AttemptSpec,
    ParsedLog,
    Row,
    fingerprint,
)
from flashcore.importers.qbank.reader import QbankReader, parse_qbank
from flashcore.importers.qbank.rows import CHUNK_ROWS
from flashcore.importers.qbank.text import LogSource

__all__ = [
    "CHUNK_ROWS",
    "FORMATS",
    "FORMAT_WORDS",
    "OUTCOMES",
    "AttemptSpec",
    "LogSource",
    "ParsedLog",
    "QbankReader",
    "Row",
    "fingerprint",
    "parse_qbank",
]
