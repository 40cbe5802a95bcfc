"""One cell -> one value: outcome words, bank names, question ids, dates, time spent."""

from __future__ import annotations

import re
from collections.abc import Iterable
from datetime import date

MAX_SECONDS = 86_400  # time spent on one question: more than a day is not a time


OUTCOME_WORDS = {
    **dict.fromkeys(("correct", "right", "yes", "true", "1"), "correct"),
    **dict.fromkeys(("incorrect", "wrong", "no", "false", "0"), "incorrect"),
    **dict.fromkeys(("omitted", "omit", "skipped", "skip", "unanswered"), "omitted"),
}


_SOURCE = re.compile(r"[a-z0-9][a-z0-9 ._-]{0,39}")


_QID = re.compile(r"[A-Za-z0-9._-]{1,64}")


_PREFIXED = re.compile(r"([A-Za-z][A-Za-z0-9_-]{0,39})\s*:\s*(.*)", re.DOTALL)


_SCIENTIFIC = re.compile(r"[+-]?\d+(?:[.,]\d+)?[eE][+-]?\d+")


_MONTH = (
    r"(?:jan(?:uary)?|feb(?:ruary)?|mar(?:ch)?|apr(?:il)?|may|june?|july?|aug(?:ust)?"
    r"|sep(?:t(?:ember)?)?|oct(?:ober)?|nov(?:ember)?|dec(?:ember)?)"
)


DATE_LIKE = re.compile(rf"\d{{1,2}}[-/ ]{_MONTH}|{_MONTH}[-/ ]\d{{1,4}}", re.IGNORECASE)


_DECIMAL = re.compile(r"\d+[.,]0+")


def clean_source(raw: str) -> str | None:
    name = raw.strip().lower()
    return name if _SOURCE.fullmatch(name) else None


def show(text: str, limit: int = 40) -> str:
    return repr(text if len(text) <= limit else text[:limit] + "…")


def split_qid(raw: str) -> tuple[str, str, str]:
    """(bank prefix or "", bare id, error or "") for a question id cell or token."""
    if raw.isdigit() and raw.isascii() and len(raw) <= 64:
        return "", raw, ""
    prefix = ""
    qid = raw.strip()
    match = _PREFIXED.fullmatch(qid)
    if match:
        prefix, qid = match.group(1).lower(), match.group(2).strip()
    if not qid:
        return prefix, "", "empty question id"
    if _SCIENTIFIC.fullmatch(qid):
        why = "scientific notation; format the column as Text"
        return prefix, qid, f"question id looks mangled by a spreadsheet ({show(qid)} is {why})"
    if DATE_LIKE.fullmatch(qid):
        why = "looks like a date"
        return prefix, qid, f"question id looks mangled by a spreadsheet ({show(qid)} {why})"
    if _DECIMAL.fullmatch(qid):
        why = "is a whole number written as a decimal"
        return prefix, qid, f"question id looks mangled by a spreadsheet ({show(qid)} {why})"
    if not _QID.fullmatch(qid):
        return (
            prefix,
            qid,
            f"question id {show(qid)} is not an id "
            "(letters, digits, '-', '_' or '.'; at most 64 characters)",
        )
    return prefix, qid, ""


_MONTHS = {
    name: number
    for number, names in enumerate(
        (
            ("jan", "january"),
            ("feb", "february"),
            ("mar", "march"),
            ("apr", "april"),
            ("may",),
            ("jun", "june"),
            ("jul", "july"),
            ("aug", "august"),
            ("sep", "sept", "september"),
            ("oct", "october"),
            ("nov", "november"),
            ("dec", "december"),
        ),
        start=1,
    )
    for name in names
}


_TIME_OF_DAY = (
    r"(?:[T ]\s*\d{1,2}:\d{2}(?::\d{2}(?:[.,]\d+)?)?\s*(?:[AaPp]\.?[Mm]\.?)?"
    r"\s*(?:Z|UTC|GMT|[+-]\d{2}:?\d{2})?)?"
)


_YMD = re.compile(rf"(\d{{4}})[-/](\d{{1,2}})[-/](\d{{1,2}}){_TIME_OF_DAY}")


SLASHED = re.compile(rf"(\d{{1,2}})/(\d{{1,2}})/(\d{{4}}|\d{{2}}){_TIME_OF_DAY}")


_DAY_MONTH = re.compile(rf"(\d{{1,2}})[ -]([A-Za-z]{{3,9}})\.?,?[ -](\d{{4}}){_TIME_OF_DAY}")


_MONTH_DAY = re.compile(rf"([A-Za-z]{{3,9}})\.? (\d{{1,2}}),? (\d{{4}}){_TIME_OF_DAY}")


_FIRST_YEAR, _LAST_YEAR = 1970, 2099


def _slash_order(values: Iterable[str]) -> str:
    """The order the file's slashed dates show: "mdy", "dmy", "both" (they disagree) or ""."""
    month_first = day_first = False
    for value in values:
        match = SLASHED.fullmatch(value.strip())
        if match:
            first, second = int(match.group(1)), int(match.group(2))
            month_first |= second > 12 >= first
            day_first |= first > 12 >= second
    if month_first and day_first:
        return "both"
    return "mdy" if month_first else "dmy" if day_first else ""


def parse_date(raw: str, order: str, latest: date | None = None) -> date | str:
    """The date, or an error message. A day after `latest` (tomorrow, for an import: a
    question bank's day may run ahead of the student's) is refused: it would count nowhere."""
    text = raw.strip()
    month_name = ""
    if match := _YMD.fullmatch(text):
        year, month, day = int(match.group(1)), int(match.group(2)), int(match.group(3))
    elif match := SLASHED.fullmatch(text):
        first, second, year = int(match.group(1)), int(match.group(2)), int(match.group(3))
        if len(match.group(3)) == 2:
            year += 2000
        if first == second or second > 12 >= first or (order == "mdy" and first <= 12):
            month, day = first, second
        elif first > 12 >= second or (order == "dmy" and second <= 12):
            month, day = second, first
        elif first > 12 and second > 12:
            return f"bad date {show(raw)}"
        else:
            why = "the file has both" if order == "both" else "nothing in the file tells"
            return (
                f"ambiguous date {show(raw)} (day-first or month-first? {why}); "
                "write it as YYYY-MM-DD"
            )
    elif match := _DAY_MONTH.fullmatch(text):
        day, month_name, year = int(match.group(1)), match.group(2), int(match.group(3))
        month = 0
    elif match := _MONTH_DAY.fullmatch(text):
        month_name, day, year = match.group(1), int(match.group(2)), int(match.group(3))
        month = 0
    else:
        return f"unrecognized date {show(raw)} (use YYYY-MM-DD)"
    if month_name:
        month = _MONTHS.get(month_name.lower(), 0)
        if not month:
            return f"unrecognized month in date {show(raw)}"
    if not _FIRST_YEAR <= year <= _LAST_YEAR:
        return f"date {show(raw)} is outside {_FIRST_YEAR}-{_LAST_YEAR}"
    if not _possible_time(text[match.end(3) :]):
        return f"impossible time of day in date {show(raw)}"
    try:
        found = date(year, month, day)
    except ValueError:
        return f"bad date {show(raw)}"
    if latest is not None and found > latest:
        return f"date {show(raw)} is in the future (the latest day accepted is {latest})"
    return found


_HOUR_MINUTE = re.compile(r"[T ]\s*(\d{1,2}):(\d{2})(?::(\d{2}))?(?:[.,]\d+)?\s*([AaPp])?")


_OFFSET = re.compile(r"([+-])(\d{2}):?(\d{2})\s*\Z")


def _possible_time(tail: str) -> bool:
    """Whether the time of day after a date (`T09:30`, ` 9:30 PM`, `+05:30`...) can exist."""
    if not tail.strip():
        return True
    clock = _HOUR_MINUTE.match(tail)
    if clock is None:
        return True  # the date patterns admit no other time of day
    hour, minute = int(clock.group(1)), int(clock.group(2))
    second = int(clock.group(3) or 0)
    if minute > 59 or second > 59:
        return False
    if not (1 <= hour <= 12 if clock.group(4) else hour <= 23):
        return False
    offset = _OFFSET.search(tail)
    return offset is None or (int(offset.group(2)) <= 14 and int(offset.group(3)) <= 59)


def date_problem(day: date, latest: date | None) -> str | None:
    """Why `day` (a `--date`, or the default day of rows without one) cannot be an attempt's
    day, with the words a date in a file gets; None when it can."""
    found = parse_date(day.isoformat(), "", latest)
    return found if isinstance(found, str) else None


_DURATION = re.compile(
    r"(?:(\d+)\s*h(?:ours?|rs?)?\s*)?"
    r"(?:(\d+)\s*m(?:in(?:ute)?s?)?\s*)?"
    r"(?:(\d+)\s*s(?:ec(?:ond)?s?)?)?",
    re.IGNORECASE,
)


_CLOCK = re.compile(r"(?:(\d+):)?(\d{1,2}):(\d{2})")


NO_TIME = frozenset(("", "-", "--", "n/a", "na"))


_FRACTION = re.compile(r"\d+[.,]\d+")


def parse_seconds(raw: str) -> int | str | None:
    """Seconds from `75`, `75.4`, `75 sec`, `1 min 5 sec`, `1:05`; None when blank (or `-`);
    else an error message (a time over MAX_SECONDS is one)."""
    text = raw.strip()
    if text.isdigit() and text.isascii():
        return int(text) if len(text) <= 6 and int(text) <= MAX_SECONDS else _too_long(raw)
    if text.lower() in NO_TIME:
        return None
    if _FRACTION.fullmatch(text):
        value = float(text.replace(",", "."))
        return round(value) if value <= MAX_SECONDS else _too_long(raw)
    match = _CLOCK.fullmatch(text) or _DURATION.fullmatch(text)
    if match and any(match.groups()):
        if any(g and len(g) > 6 for g in match.groups()):
            return _too_long(raw)
        hours, minutes, secs = (int(g) if g else 0 for g in match.groups())
        total = hours * 3600 + minutes * 60 + secs
        return total if total <= MAX_SECONDS else _too_long(raw)
    return f"unrecognized time spent {show(raw)} (use seconds, e.g. 75 or '1 min 15 sec')"


def _too_long(raw: str) -> str:
    return f"time spent {show(raw)} is more than a day (at most {MAX_SECONDS:,} seconds)"
