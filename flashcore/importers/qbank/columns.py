"""Column names -> roles (question id, result, date, ...) and the row reader they give."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from operator import itemgetter
from typing import Any

_ROLES: dict[str, tuple[str, ...]] = {
    "qid": ("questionid", "qid", "id", "question"),
    "result": ("result", "outcome", "status", "correct", "iscorrect"),
    "date": (
        "date",
        "answered",
        "timestamp",
        "attempted",
        "dateanswered",
        "answeredon",
        "answeredat",
        "attemptedon",
        "attemptedat",
        "datetime",
    ),
    "subject": ("subject", "subjects"),
    "system": ("system", "systems"),
    "category": ("category", "categories"),
    "topic": ("topic", "topics", "title"),
    "source": ("source", "bank", "qbank"),
    "seconds": ("timespent", "time", "seconds", "timespentsec", "timesec", "timeseconds"),
    "others": (
        "correctothers",
        "percentcorrectothers",
        "otherscorrect",
        "percentcorrect",  # `% Correct`: a share of students, never this student's result
    ),
}


_OPTIONAL = (
    "result", "date", "source", "subject", "system", "category", "topic", "seconds", "others",
)  # fmt: skip


def _normal(name: str) -> str:
    """`Question ID`, `question_id` and `QUESTION-ID` all become `questionid`; a `%` is the
    word `percent` (`% Correct` is `percentcorrect`, not the result column `correct`)."""
    return "".join(ch for ch in name.lower().replace("%", "percent") if ch.isalnum())


def column_roles(header: Sequence[str]) -> tuple[dict[str, int], list[str]]:
    """The column of each role the header names, and complaints about repeated names."""
    names = [_normal(cell) for cell in header]
    found: dict[str, int] = {}
    complaints = []
    for role, aliases in _ROLES.items():
        for alias in aliases:
            where = [i for i, name in enumerate(names) if name == alias]
            if where:
                found[role] = where[0]
                if len(where) > 1:
                    columns = " and ".join(str(i + 1) for i in where)
                    complaints.append(
                        f"column {header[where[0]].strip()!r} appears more than once "
                        f"(columns {columns})"
                    )
                break
    return found, complaints


ABSENT = (None, "")  # appended to a row: cell `width` is an absent key, `width + 1` an absent text


_KEYS = ("result", "date", "source", "seconds", "others")


def row_reader(roles: dict[str, int], width: int) -> Callable[[list[Any]], tuple[Any, ...]]:
    """Picks (qid, result, date, source, subject, system, category, topic, time, others) from a
    row with `ABSENT` appended: None for an absent result/date/source/time/others column, ""
    for absent text."""
    return itemgetter(
        *(roles.get(role, width if role in _KEYS else width + 1) for role in ("qid", *_OPTIONAL))
    )
