"""A self-assessment's score report -> its areas (outline systems and disciplines), each with a
performance band or a percent correct. Two forms, documented in the README and in
`decks/samples/nbme-report.txt` / `.csv`:

Text: sections `[systems]` and `[disciplines]`, then one `Area: performance` line each::

    [systems]
    Cardiovascular System: lower
    Gastrointestinal System: 58%

CSV (comma, semicolon or tab), with a header naming `area` and `performance` (or `band` /
`percent`), and optionally `kind` (`system` or `discipline`; without it the area's name says)::

    kind,area,performance
    system,Cardiovascular System,lower

Performance is `lower`, `borderline` or `higher` (also `low`, `weak`, `same`, `high`, `strong`,
as reports word it), or a percent from 0 to 100 (`58%` or `58`). Lines starting with `#` and
blank lines are skipped. Text is UTF-8 (a BOM is fine) or Windows-1252. Every problem is
reported as `path:line: problem`; a report with any problem adds nothing.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Callable

from flashcore.core.assessment import AreaKind, AreaResult, Band
from flashcore.core.errors import Problem, ReportFormatError
from flashcore.core.outline import DISCIPLINES, SYSTEMS, find_discipline, find_system
from flashcore.core.text import control_problem, shown

MAX_BYTES = 1_000_000
MAX_AREAS = 200
FORMS = (
    "text (`[systems]` / `[disciplines]` sections of `Area: lower|borderline|higher|58%` "
    "lines) or CSV (a header with `area` and `performance`)"
)
_BANDS = {
    "lower": Band.LOWER, "low": Band.LOWER, "weak": Band.LOWER, "weaker": Band.LOWER,
    "below": Band.LOWER,
    "borderline": Band.BORDERLINE, "same": Band.BORDERLINE, "average": Band.BORDERLINE,
    "higher": Band.HIGHER, "high": Band.HIGHER, "strong": Band.HIGHER, "stronger": Band.HIGHER,
    "above": Band.HIGHER,
}  # fmt: skip
_SECTION = re.compile(r"^\[\s*(systems?|disciplines?)\s*\]$", re.IGNORECASE)
_PERCENT = re.compile(r"^(\d{1,3}(?:\.\d+)?)\s*%?$")


def _decode(data: bytes, path: str) -> str:
    if b"\x00" in data:
        raise ReportFormatError([Problem(path, None, "is a binary file, not a score report")])
    if data.startswith(b"\xef\xbb\xbf"):
        data = data[3:]
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        return data.decode("cp1252", errors="replace")


def looks_like_report(head: bytes) -> bool:
    """Whether a file's start (`head`) opens as a score report in either form: a missed-question
    log given one is told which command reads it."""
    if b"\x00" in head:
        return False
    for line in _decode(head, "").splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            return bool(_SECTION.match(line)) or _csv_header(line) is not None
    return False


def parse_report(data: bytes, path: str) -> tuple[AreaResult, ...]:
    """The report's areas; ReportFormatError listing every problem (with its line)."""
    if len(data) > MAX_BYTES:
        raise ReportFormatError(
            [Problem(path, None, f"is {len(data):,} bytes; a score report is under 1 MB")]
        )
    text = _decode(data, path)
    lines = text.splitlines()
    first = next(
        ((n, line.strip()) for n, line in enumerate(lines, 1)
         if line.strip() and not line.lstrip().startswith("#")),
        None,
    )  # fmt: skip
    if first is None:
        raise ReportFormatError([Problem(path, None, "is empty: no area in it")])
    n, head = first
    if _SECTION.match(head):
        parse: Callable[[list[str], str], tuple[list[AreaResult], list[Problem]]] = _parse_text
    elif _csv_header(head) is not None:
        parse = _parse_csv
    else:
        raise ReportFormatError(
            [Problem(path, n, f"unknown report form: {shown(head, 40)}; use {FORMS}")]
        )
    areas, problems = parse(lines, path)
    if not areas and not problems:
        problems.append(Problem(path, None, "names no area"))
    if len(areas) > MAX_AREAS:
        problems.append(Problem(path, None, f"names {len(areas)} areas; at most {MAX_AREAS}"))
    seen: dict[tuple[AreaKind, str], int | None] = {}
    for area in areas:
        key = (area.kind, area.area)
        if key in seen:
            problems.append(
                Problem(path, area.line, f"{area.area} is listed twice (first on line {seen[key]})")
            )
        seen.setdefault(key, area.line)
    if problems:
        raise ReportFormatError(problems)
    return tuple(areas)


class _Bad(str):
    """Why a value was refused (a band is a str too, so problems are told apart by type)."""


def _performance(raw: str) -> Band | float | _Bad:
    """A band, a percent, or why the value is neither."""
    value = raw.strip().lower()
    if value in _BANDS:
        return _BANDS[value]
    match = _PERCENT.match(value)
    if match is not None:
        percent = float(match.group(1))
        if percent > 100:
            return _Bad(f"percent {raw.strip()} is over 100")
        return percent
    return _Bad(
        f"performance {shown(raw.strip(), 30)} is not lower, borderline, higher or a percent"
    )


def _area(kind: AreaKind | None, raw: str) -> tuple[AreaKind, str] | _Bad:
    name = raw.strip()
    problem = control_problem(name)
    if problem is not None:
        return _Bad(f"area {problem}")
    system, discipline = find_system(name), find_discipline(name)
    if kind is AreaKind.SYSTEM or (kind is None and system is not None):
        if system is None:
            known = "; ".join(a.name for a in SYSTEMS)
            return _Bad(f"unknown system {shown(name, 50)} (systems: {known})")
        return AreaKind.SYSTEM, system
    if discipline is None:
        known = "; ".join(a.name for a in DISCIPLINES)
        what = "discipline" if kind is AreaKind.DISCIPLINE else "system or discipline"
        return _Bad(f"unknown {what} {shown(name, 50)} (disciplines: {known})")
    return AreaKind.DISCIPLINE, discipline


def _result(kind: AreaKind, area: str, given: str, perf: Band | float, line: int) -> AreaResult:
    if isinstance(perf, Band):
        return AreaResult(kind, area, band=perf, given=given, line=line)
    return AreaResult(kind, area, percent=perf, given=given, line=line)


def _parse_text(lines: list[str], path: str) -> tuple[list[AreaResult], list[Problem]]:
    areas: list[AreaResult] = []
    problems: list[Problem] = []
    kind: AreaKind | None = None
    for n, raw in enumerate(lines, 1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        section = _SECTION.match(line)
        if section is not None:
            word = section.group(1).lower()
            kind = AreaKind.SYSTEM if word.startswith("system") else AreaKind.DISCIPLINE
            continue
        name, sep, value = line.rpartition(":")
        if not sep or not name.strip():
            problems.append(
                Problem(path, n, f"expected `Area: performance`, got {shown(line, 40)}")
            )
            continue
        found = _area(kind, name)
        perf = _performance(value)
        for bad in (found, perf):
            if isinstance(bad, _Bad):
                problems.append(Problem(path, n, bad))
        if not isinstance(found, _Bad) and not isinstance(perf, _Bad):
            areas.append(_result(found[0], found[1], name.strip(), perf, n))
    return areas, problems


def _csv_header(line: str) -> tuple[str, list[str]] | None:
    for delimiter in (",", ";", "\t"):
        cells = [c.strip().lower() for c in line.split(delimiter)]
        if "area" in cells and {"performance", "band", "percent"} & set(cells):
            return delimiter, cells
    return None


def _parse_csv(lines: list[str], path: str) -> tuple[list[AreaResult], list[Problem]]:
    numbered = [(n, line) for n, line in enumerate(lines, 1)
                if line.strip() and not line.lstrip().startswith("#")]  # fmt: skip
    header = numbered[0][1]
    found = _csv_header(header.strip())
    assert found is not None
    delimiter, cells = found
    column = {name: i for i, name in enumerate(cells)}
    perf_at = next(column[c] for c in ("performance", "band", "percent") if c in column)
    kind_at = column.get("kind")
    areas: list[AreaResult] = []
    problems: list[Problem] = []
    body = io.StringIO("\n".join(line for _n, line in numbered[1:]))
    for (n, _line), row in zip(numbered[1:], csv.reader(body, delimiter=delimiter), strict=False):
        if len(row) < len(cells):
            problems.append(Problem(path, n, f"{len(row)} columns; the header has {len(cells)}"))
            continue
        kind: AreaKind | None = None
        if kind_at is not None:
            word = row[kind_at].strip().lower()
            if word.startswith("system"):
                kind = AreaKind.SYSTEM
            elif word.startswith("discipline"):
                kind = AreaKind.DISCIPLINE
            elif word:
                problems.append(
                    Problem(path, n, f"kind {shown(word, 20)}: use system or discipline")
                )
                continue
        area = _area(kind, row[column["area"]])
        perf = _performance(row[perf_at])
        for bad in (area, perf):
            if isinstance(bad, _Bad):
                problems.append(Problem(path, n, bad))
        if not isinstance(area, _Bad) and not isinstance(perf, _Bad):
            areas.append(_result(area[0], area[1], row[column["area"]].strip(), perf, n))
    return areas, problems
