"""`flashcore exam set|show|clear`, and `plan_mode auto`: new_per_day follows the plan every
study day."""

from __future__ import annotations

from dataclasses import replace
from datetime import date, datetime
from typing import TYPE_CHECKING, Any

from flashcore.core import exam as exam_rules
from flashcore.core import studyday
from flashcore.core.errors import NotFoundError
from flashcore.core.exam import Exam
from flashcore.core.settings import Settings
from flashcore.core.weakness import retention_for
from flashcore.services.context import today_for
from flashcore.storage import planning, repos
from flashcore.storage.uow import run_write

if TYPE_CHECKING:
    from flashcore.services.context import Collection


def set_exam(
    fc: Collection,
    exam_date: date,
    *,
    minutes_per_day: int | None = None,
    buffer_days: int | None = None,
) -> Exam:
    """Set (or move) the exam. Options left out keep their current value (defaults: 120
    minutes, 7 buffer days). A date today or in the past, a budget of 0: UsageError, nothing
    changed. Moving the date forgets the solver's retention steps (they were for the old one)."""
    today = today_for(fc)
    current = fc.exam
    minutes = minutes_per_day if minutes_per_day is not None else (
        current.minutes_per_day if current else exam_rules.DEFAULT_MINUTES
    )  # fmt: skip
    buffer = buffer_days if buffer_days is not None else (
        current.buffer_days if current else exam_rules.DEFAULT_BUFFER
    )  # fmt: skip
    exam_rules.check_exam(exam_date, minutes, buffer, today)
    if current is not None and current.exam_date == exam_date and current.buffer_days == buffer:
        chosen = replace(current, minutes_per_day=minutes)
    else:
        chosen = Exam(exam_date, minutes, buffer)
    run_write(fc.engine, lambda s: planning.save_exam(s, fc.profile_id, chosen, fc.now()))
    fc.forget_exam()
    follow_plan(fc)  # plan_mode auto: new_per_day follows the moved exam today, not tomorrow
    return chosen


def clear_exam(fc: Collection) -> None:
    if not run_write(fc.engine, lambda s: planning.delete_exam(s, fc.profile_id)):
        raise NotFoundError("no exam is set; nothing was changed")
    fc.forget_exam()


def require_exam(fc: Collection) -> Exam:
    exam = fc.exam
    if exam is None:
        raise NotFoundError(
            "no exam date set: flashcore exam set YYYY-MM-DD --minutes-per-day MINUTES"
        )
    return exam


def show(fc: Collection) -> dict[str, Any]:
    exam = require_exam(fc)
    today = today_for(fc)
    with fc.engine.connect() as conn:
        new_left = planning.new_cards_left(conn, fc.profile_id)
        conn.rollback()
    return exam.to_json() | {
        "days_left": exam.days_left(today),
        "passed": exam.passed(today),
        "new_cards_left": new_left,
        "new_per_day_needed": exam_rules.new_per_day_needed(new_left, today, exam),
        "plan_mode": fc.settings.plan_mode,
    }


def follow_plan(fc: Collection) -> int | None:
    """`plan_mode auto`: once a study day, set new_per_day to the plan's new cards a day
    (every card in scope seen by the buffer; once the exam day is behind, the default
    new_per_day again: the buffer's 'every card left today' must not go on after the exam).
    Returns the value set, or None (manual mode, no exam, or already done today). Cheap when
    there is nothing to do: the exam is read once per process."""
    if fc.settings.plan_mode != "auto":
        return None
    found = fc._exam_row()
    if found is None:
        return None
    exam, plan_day = found
    today = today_for(fc)
    if plan_day == today:
        return None
    if exam.passed(today) and plan_day is not None and plan_day > exam.exam_date:
        return None  # set back to the default once after the exam: a value set since stays

    def work(session: Any) -> int:
        if exam.passed(today):
            needed = Settings().new_per_day
        else:
            new_left = planning.new_cards_left(session, fc.profile_id)
            needed = min(9999, exam_rules.new_per_day_needed(new_left, today, exam))
        found = repos.find_profile(session, fc.profile)  # the stored settings, as they are now
        stored = dict(found[1]) if found is not None else fc.settings.to_stored()
        stored["new_per_day"] = needed
        repos.save_settings(session, fc.profile_id, stored)
        planning.stamp_plan_day(session, fc.profile_id, today)
        return needed

    needed = run_write(fc.engine, work)
    fc.settings = replace(fc.settings, new_per_day=needed)
    fc._exam = (exam, today)
    return needed


def card_retention(fc: Collection, weight: float, now: datetime) -> float:
    """The retention a card is scheduled at: its weakness's (core.weakness.retention_for),
    raised toward the exam where the solver chose a step for the days left (core.exam)."""
    base = retention_for(fc.settings, weight)
    exam = fc.exam
    if exam is None or not exam.retention_plan:
        return base
    s = fc.settings
    days_left = exam.days_left(studyday.study_date(now, s.zone, s.day_start_hour))
    return exam_rules.retention_toward(base, days_left, exam.retention_plan)
