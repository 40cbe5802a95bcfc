"""What a log holds: attempts, the stream's row tuples, their fingerprints."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import date

from flashcore.core.errors import Problem

OUTCOMES = ("correct", "incorrect", "omitted")


FORMATS = ("auto", "uworld", "csv", "qids")
# What each format is, in a sentence ("a missed-question log (a UWorld paste, 12 questions)").
FORMAT_WORDS = {"uworld": "a UWorld paste", "csv": "a table", "qids": "question ids"}


# One attempt as the stream carries it: (fingerprint, source, qid, outcome, ISO date, subject,
# system, category, topic, seconds, line, others: the "% correct others" as a whole percent or
# None). Plain tuples: a 1 GB log holds millions of them.
Row = tuple[str, str, str, str, str, str, str, str, str, int | None, int, int | None]


@dataclass(frozen=True, slots=True)
class AttemptSpec:
    """One attempt at a question-bank question, as read from a log."""

    source: str  # lower-case bank name: "uworld", "amboss", "nbme", or user-given
    qid: str  # bare id, leading zeros kept: "118154"
    outcome: str  # "correct" | "incorrect" | "omitted"
    on_date: date  # the day attempted
    subject: str = ""
    system: str = ""
    category: str = ""
    topic: str = ""
    seconds: int | None = None
    line: int = 0  # 1-based line in the input where the row starts
    # UWorld's "% correct others": the share of other students who answer the question right,
    # a whole percent (None: the log has no such column, or the cell held no percent)
    others: int | None = None


@dataclass(frozen=True, slots=True)
class ParsedLog:
    """What a log held: the attempts read, and (only with `skip_invalid`) the rows skipped."""

    format: str  # "uworld" | "csv" | "qids"
    attempts: tuple[AttemptSpec, ...]
    rows_read: int
    skipped: tuple[Problem, ...]


# A fingerprint is the first 128 bits of the sha256, in hex (schema 0005; 64 hex digits before):
# half the bytes in the attempts table and its unique index, which a 100,000-row import writes.
FINGERPRINT_CHARS = 32


def fingerprint(a: AttemptSpec) -> str:
    """A stable identity for an attempt: sha256 of `source|qid|date|outcome`, its first 128
    bits in hex."""
    return fingerprint_fields(a.source, a.qid, a.on_date.isoformat(), a.outcome)


def fingerprint_fields(source: str, qid: str, iso_day: str, outcome: str) -> str:
    digest = hashlib.sha256(f"{source}|{qid}|{iso_day}|{outcome}".encode()).hexdigest()
    return digest[:FINGERPRINT_CHARS]
