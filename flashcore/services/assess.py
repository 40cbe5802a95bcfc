"""`flashcore assess add|list|remove`: self-assessment scores over time against the pass line,
projected to the exam day; a score report's weak systems and disciplines feed the weakness
model (see core.assessment)."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Any

from flashcore.core import assessment as model
from flashcore.core.assessment import Assessment
from flashcore.core.errors import FlashcoreError, NotFoundError, Problem, ReportFormatError
from flashcore.core.text import name_problem, shown
from flashcore.importers.score_report import parse_report
from flashcore.services.context import today_for
from flashcore.services.weights import refresh_in
from flashcore.storage import planning
from flashcore.storage.uow import run_write

if TYPE_CHECKING:
    from flashcore.services.context import Collection

NAME_CHARS = 200


def check_score(value: float, what: str) -> None:
    lo, hi = model.SCORE_RANGE
    if not lo <= value <= hi:
        raise FlashcoreError(f"{what} {value:g} is out of range (0 to 100); nothing was added")


def add(
    fc: Collection,
    name: str,
    score: float,
    *,
    taken_on: date | None = None,
    pass_line: float = model.DEFAULT_PASS_LINE,
    report: Path | None = None,
) -> Assessment:
    """Record a self-assessment (and its report's areas) in one transaction, then re-weight
    topics: a weak system raises its topics at once. Bad input: one error, nothing written."""
    today = today_for(fc)
    name = name.strip()
    problem = name_problem(name, NAME_CHARS) if name else "is empty"
    if problem is not None:
        raise FlashcoreError(f"assessment name {shown(name)} {problem}; nothing was added")
    check_score(score, "score")
    check_score(pass_line, "--pass-line")
    taken = taken_on or today
    if taken > today:
        raise FlashcoreError(
            f"--date {taken.isoformat()} is after today ({today.isoformat()}); "
            "record an assessment once it is taken; nothing was added"
        )
    areas: tuple[model.AreaResult, ...] = ()
    origin = ""
    if report is not None:
        origin = str(report)
        try:
            data = report.read_bytes()
        except OSError as exc:
            why = exc.strerror or type(exc).__name__
            raise ReportFormatError([Problem(origin, None, why.lower())]) from None
        areas = parse_report(data, origin)

    def work(session: Any) -> int:
        for known in planning.list_assessments(session, fc.profile_id):
            if known.taken_on == taken and _same_name(known.name, name):
                raise FlashcoreError(
                    f"{known.name} on {taken.isoformat()} is already recorded (assessment "
                    f"{known.assessment_id}, {known.score:g}); to change it, `flashcore assess "
                    f"remove {known.assessment_id}` first; nothing was added"
                )
        new_id = planning.add_assessment(
            session, fc.profile_id, name, taken, score, pass_line, origin[:500], areas, fc.now()
        )
        if areas:
            refresh_in(session, fc, today)  # the report's weak systems weigh from now on
        return new_id

    new_id = run_write(fc.engine, work)
    return Assessment(new_id, name, taken, score, pass_line, areas)


def _same_name(a: str, b: str) -> bool:
    """`NBME 31`, `nbme 31` and `NBME  31 `: one form (taken once a day)."""
    return " ".join(a.casefold().split()) == " ".join(b.casefold().split())


def list_all(fc: Collection) -> list[Assessment]:
    with fc.engine.connect() as conn:
        found = planning.list_assessments(conn, fc.profile_id)
        conn.rollback()
    return found


def remove(fc: Collection, assessment_id: int) -> None:
    today = today_for(fc)

    def work(session: Any) -> None:
        if not planning.delete_assessment(session, fc.profile_id, assessment_id):
            raise NotFoundError(f"no assessment {assessment_id} in this profile; nothing changed")
        refresh_in(session, fc, today)

    run_write(fc.engine, work)


def projection(fc: Collection, found: list[Assessment] | None = None) -> model.Projection | None:
    """The scores' trend to the exam day (or to today without an exam)."""
    found = list_all(fc) if found is None else found
    exam = fc.exam
    on = exam.exam_date if exam is not None else today_for(fc)
    return model.project(found, on)


def to_json(found: list[Assessment]) -> list[dict[str, Any]]:
    return [a.to_json() for a in reversed(found)]  # newest first, as listings are
