"""`flashcore plan`: the plan to exam day and whether it fits the daily budget.

The forecast runs flashcore's own queue and scheduler forward (core.forecast) from the cards as
they are, with the student's own answer times, introducing `new_per_day_needed` new cards a day
so every card in scope is seen by the buffer; then readiness by system and discipline
(core.readiness), and warnings that say what to do when the plan does not fit.
"""

from __future__ import annotations

import math
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import TYPE_CHECKING, Any

from flashcore.core import exam as exam_rules
from flashcore.core import forecast as engine
from flashcore.core import outline, studyday
from flashcore.core.assessment import AreaKind, Assessment, project
from flashcore.core.budget import AnswerSeconds
from flashcore.core.fsrs_adapter import DEFAULT_FSRS_PARAMETERS
from flashcore.core.readiness import CardsOfArea, QbankDay, area_readiness
from flashcore.core.weakness import retention_for
from flashcore.services.exam import follow_plan, require_exam
from flashcore.services.matching import MISSED, load_index, match_attempt
from flashcore.storage import planning
from flashcore.storage.uow import reading

if TYPE_CHECKING:
    from flashcore.core.exam import Exam
    from flashcore.services.context import Collection

HORIZON_DAYS = 180  # the forecast's longest run; an exam further away is forecast that far
TIMES_DAYS = 30  # answer times: medians over this many days
MIN_FIT_REVIEWS = 1000  # as services.optimize.MIN_REVIEWS (kept apart: no fsrs-rs import here)


@dataclass(slots=True)
class Inputs:
    exam: Exam
    today: date
    now: datetime
    studied: list[engine.SimCard]  # the forecast's sample (see core.forecast.sample)
    fresh: list[engine.SimCard]
    scale: float
    new_left: int  # new cards in scope (all of them, not the sample)
    studied_count: int
    times: AnswerSeconds
    done: tuple[int, int, float]
    assessments: list[Assessment]
    qbank: dict[tuple[AreaKind, str], list[QbankDay]] = field(default_factory=dict)
    reviews_logged: int = 0
    qbank_misses_only: int = 0  # misses of days that logged no right answer (see _qbank_by_area)


def load_inputs(fc: Collection) -> Inputs:
    exam = require_exam(fc)
    s = fc.settings
    now = fc.now()
    today = studyday.study_date(now, s.zone, s.day_start_hour)
    day_start = studyday.day_start_of(today, s.zone, s.day_start_hour)
    with reading(fc.engine) as session:
        all_studied, all_fresh = planning.scope_ids(session, fc.profile_id)
        some_studied, some_fresh, scale = engine.sample(all_studied, all_fresh)
        studied = planning.sim_cards(session, fc.profile_id, some_studied)
        fresh = planning.sim_cards(session, fc.profile_id, some_fresh)
        times = planning.answer_seconds(session, fc.profile_id, now - timedelta(days=TIMES_DAYS))
        done = planning.done_since(session, fc.profile_id, day_start)
        assessments = planning.list_assessments(session, fc.profile_id)
        qbank, misses_only = _qbank_by_area(fc, session, today)
        reviews = planning.review_count(session, fc.profile_id, up_to=MIN_FIT_REVIEWS)
    return Inputs(exam, today, now, studied, fresh, scale, len(all_fresh), len(all_studied),
                  times, done, assessments, qbank, reviews, misses_only)  # fmt: skip


def _qbank_by_area(
    fc: Collection, session: Any, today: date
) -> tuple[dict[tuple[AreaKind, str], list[QbankDay]], int]:
    """The last four weeks' qbank questions by outline system and discipline: the system of a
    card or topic they match, else the system and subject the qbank names; and how many misses
    were left out. An import that logged no right answer is a paste of incorrects (the workflow
    the README teaches): its questions answered right were never logged, so its misses say
    nothing of a correct rate and are left out of it (they weigh in `weakness`)."""
    since = today - timedelta(days=28)
    rows = planning.recent_attempts(session, fc.profile_id, since, MISSED)
    whole = {row[9] for row in rows if not row[7]}  # the imports with a right answer logged
    misses_only = sum(row[8] for row in rows if row[9] not in whole)
    rows = [row for row in rows if row[9] in whole]
    if not rows:
        return {}, misses_only
    index = load_index(session, fc.profile_id)
    matcher = index.matcher()
    tally: dict[tuple[AreaKind, str, date], list[int]] = defaultdict(lambda: [0, 0])
    for source, qid, subject, system, category, topic, on_date, missed, count, _batch in rows:
        found = match_attempt(index, source, qid, (topic, category, system), matcher)
        paths = [index.paths[t] for t in found.topic_ids if t in index.paths]
        place_system, place_discipline = outline.first_placed(paths) if paths else (None, None)
        place_system = place_system or outline.find_system(system) or outline.find_system(category)
        place_discipline = place_discipline or outline.find_discipline(subject)
        for kind, area in ((AreaKind.SYSTEM, place_system),
                           (AreaKind.DISCIPLINE, place_discipline)):  # fmt: skip
            if area is None:
                continue
            counts = tally[(kind, area, on_date)]
            counts[0] += 0 if missed else count
            counts[1] += count
    out: dict[tuple[AreaKind, str], list[QbankDay]] = defaultdict(list)
    for (kind, area, on_date), (correct, total) in sorted(tally.items()):
        out[(kind, area)].append(QbankDay(on_date, correct, total))
    return dict(out), misses_only


def _setup(fc: Collection, inputs: Inputs, new_per_day: int, days: int) -> engine.Setup:
    s = fc.settings
    exam = inputs.exam
    steps = exam.retention_plan

    def retention(weight: float, days_left: int) -> float:
        return exam_rules.retention_toward(retention_for(s, weight), days_left, steps)

    new_done, reviews_done, seconds_done = inputs.done
    return engine.Setup(
        now=inputs.now,
        zone=s.zone,
        day_start_hour=s.day_start_hour,
        days=days,
        policy=fc.policy,
        retention=retention,
        new_per_day=new_per_day,
        reviews_per_day=s.reviews_per_day,
        new_ignores_review_limit=s.new_ignores_review_limit,
        bury_siblings=s.bury_siblings,
        learn_ahead=timedelta(minutes=s.learn_ahead_minutes),
        budget_seconds=exam.minutes_per_day * 60.0,
        times=inputs.times,
        window=exam_rules.window(exam, s.zone, s.day_start_hour),
        exam_date=exam.exam_date,
        buffer_start=exam.buffer_start,
        new_done_today=new_done,
        reviews_done_today=reviews_done,
        seconds_done_today=seconds_done,
    )


def run_forecast(fc: Collection, inputs: Inputs, new_per_day: int) -> engine.Forecast:
    days = max(1, min(HORIZON_DAYS, inputs.exam.days_left(inputs.today)))
    setup = _setup(fc, inputs, new_per_day, days)
    return engine.run(inputs.studied, inputs.fresh, setup, inputs.scale)


def readiness(fc: Collection, inputs: Inputs, result: engine.Forecast) -> dict[str, Any]:
    by_system: dict[str, CardsOfArea] = {}
    by_discipline: dict[str, CardsOfArea] = {}
    tallies: dict[tuple[str, str], list[float]] = defaultdict(lambda: [0.0, 0.0, 0.0, 0.0])
    scale = result.scale
    for card in result.cards:
        recall = result.exam_recall.get(card.card_id, 0.0)
        never_seen = card.card_id in result.unseen
        for dim, area in (("system", card.system), ("discipline", card.discipline)):
            if area is None:
                continue
            t = tallies[(dim, area)]
            t[0] += scale
            if never_seen:
                t[1] += scale
            else:
                t[2] += scale * recall
                t[3] += scale
    for (dim, area), (cards, unseen, recall_sum, seen) in tallies.items():
        target = by_system if dim == "system" else by_discipline
        target[area] = CardsOfArea(cards, unseen, recall_sum, seen)

    def qbank_of(kind: AreaKind) -> dict[str, list[QbankDay]]:
        return {area: days for (k, area), days in inputs.qbank.items() if k is kind}

    systems = area_readiness(AreaKind.SYSTEM, outline.SYSTEM_SHARES, outline.SHORT, by_system,
                             qbank_of(AreaKind.SYSTEM), inputs.assessments, inputs.today)  # fmt: skip
    disciplines = area_readiness(AreaKind.DISCIPLINE, outline.DISCIPLINE_SHARES, outline.SHORT,
                                 by_discipline, qbank_of(AreaKind.DISCIPLINE), inputs.assessments,
                                 inputs.today)  # fmt: skip
    return {
        "systems": [r.to_json() for r in systems],
        "disciplines": [r.to_json() for r in disciplines],
        "expected_points_at_risk": round(sum(r.points_at_risk for r in systems), 1),
        "performance": round(sum(r.share * r.performance for r in systems), 4),
        "qbank_misses_only": inputs.qbank_misses_only,
    }


@dataclass(frozen=True, slots=True)
class Warning:
    kind: str
    message: str

    def to_json(self) -> dict[str, str]:
        return {"kind": self.kind, "message": self.message}


def _over_budget(
    inputs: Inputs, days: list[dict[str, Any]], result: engine.Forecast
) -> Warning | None:
    """The days over the time budget, and what would bring them within it: more minutes a day,
    fewer new cards in scope (at what a new card costs), or a later exam."""
    exam = inputs.exam
    budget = exam.minutes_per_day
    over = [d for d in days if d["over_budget"]]
    if not over:
        return None
    new_left = inputs.new_left
    worst = max(over, key=lambda d: d["minutes"])
    minutes = int(5 * math.ceil(worst["minutes"] / 5))
    extra = sum(max(0.0, d["minutes"] - budget) for d in days)
    message = (
        f"{len(over)} of {len(days)} days need more than the {budget}-minute budget (up to "
        f"{worst['minutes']:.0f} min on {worst['date']}). Give {minutes} minutes a day "
        f"(`flashcore exam set {exam.exam_date.isoformat()} --minutes-per-day {minutes}`)"
    )
    if result.introduced:
        per_card = result.new_seconds / 60.0 / result.introduced  # minutes a new card costs
        if per_card > 0:
            cut = min(new_left, math.ceil(extra / per_card))
            message += (
                f", take about {cut:,} new cards out of scope (suspend a low-yield deck or "
                "topic: `flashcore cards suspend --deck D --new` or `--topic T --new`)"
            )
        reviews_only = (sum(d.seconds for d in result.days) - result.new_seconds) / 60.0
        room = budget - reviews_only / max(1, len(result.days))
        if room > 0 and per_card > 0:
            spread = math.ceil(new_left * per_card / room)
            later = inputs.today + timedelta(days=spread + exam.buffer_days)
            if later > exam.exam_date:
                message += f", or move the exam to about {later.isoformat()}"
    return Warning("over_budget", message + ".")


def _review_limit(fc: Collection, days: list[dict[str, Any]]) -> Warning | None:
    """The days whose due reviews `reviews_per_day` cuts: the backlog today and by the last
    day, the new cards it leaves no room for, and how many fall due a day after today (what
    the forecast answered after today plus what it left waiting, spread over those days)."""
    waiting = sum(1 for d in days if d["held_reviews"])  # each kind counted on its own days
    squeezed = sum(1 for d in days if d["held_new"])
    if not waiting and not squeezed:
        return None
    s = fc.settings
    first, last = days[0], days[-1]
    message = f"reviews_per_day {s.reviews_per_day} leaves "
    if waiting:
        message += (
            f"due reviews waiting on {waiting} of {len(days)} days ({first['held_reviews']:,} "
            f"today, about {last['held_reviews']:,} on {last['date']})"
        )
        if squeezed:
            message += f", and no room for new cards on {squeezed} (they count against it)"
    else:
        message += (
            f"no room for new cards on {squeezed} of {len(days)} days (they count against it)"
        )
    if len(days) > 1:
        later = sum(d["reviews"] for d in days[1:]) + last["held_reviews"] - first["held_reviews"]
        message += f"; about {max(0, later) / (len(days) - 1):,.0f} a day fall due after today"
    message += ". Raise it (`flashcore config set reviews_per_day N`)"
    if squeezed:
        message += (
            " or let new cards pass it (`flashcore config set new_ignores_review_limit true`)"
        )
    return Warning("review_limit", message + ".")


def _passed(exam: Exam, today: date) -> Warning:
    ago = (today - exam.exam_date).days
    return Warning(
        "exam_passed",
        f"the exam day {exam.exam_date.isoformat()} is behind ({ago} day{'' if ago == 1 else 's'}"
        " ago) and changes nothing now: set the next one (`flashcore exam set YYYY-MM-DD "
        "--minutes-per-day M`) or clear it (`flashcore exam clear`).",
    )


def _warnings(
    fc: Collection,
    inputs: Inputs,
    needed: int,
    days: list[dict[str, Any]],
    result: engine.Forecast,
    projection: dict[str, Any] | None,
) -> list[Warning]:
    exam = inputs.exam
    out: list[Warning] = []
    date_text = exam.exam_date.isoformat()
    new_left = inputs.new_left
    over = _over_budget(inputs, days, result)
    if over is not None:
        out.append(over)
    limited = _review_limit(fc, days)
    if limited is not None:
        out.append(limited)
    if exam.new_days_left(inputs.today) <= 0 and new_left:
        out.append(
            Warning(
                "buffer_started",
                f"the {exam.buffer_days}-day buffer has begun with {new_left:,} cards never "
                "seen: suspend the ones you will not learn, or shorten the buffer "
                f"(`flashcore exam set {date_text} --buffer-days N`).",
            )
        )
    unseen = round(len(result.unseen) * result.scale)
    if unseen and exam.days_left(inputs.today) <= HORIZON_DAYS:
        if over is None and limited is not None:  # the budget is not what holds them back
            why = "the review limit leaves them no room (above)"
        else:
            why = "give more minutes a day or take cards out of scope"
        out.append(
            Warning(
                "unseen_on_exam_day",
                f"about {unseen:,} cards would still be new on exam day at this budget: {why}.",
            )
        )
    s = fc.settings
    if s.plan_mode != "auto" and s.new_per_day < needed:
        out.append(
            Warning(
                "new_per_day_low",
                f"new_per_day is {s.new_per_day} but the plan needs {needed} a day to see every "
                f"card by {exam.buffer_start.isoformat()}: `flashcore config set plan_mode auto` "
                f"(or `flashcore config set new_per_day {needed}`).",
            )
        )
    if projection is not None and not projection["passes"]:
        out.append(
            Warning(
                "assessments_below_pass",
                f"self-assessments project {projection['score']:.0f} on exam day, under the "
                f"pass line {projection['pass_line']:g}: attack the weakest systems below, or "
                "consider a later date.",
            )
        )
    out.extend(_settings_warnings(fc, inputs))
    return out


def _settings_warnings(fc: Collection, inputs: Inputs) -> list[Warning]:
    """What the profile leaves undone for the exam: FSRS's default parameters where enough
    answers could fit them, retention targets not solved yet."""
    exam = inputs.exam
    out: list[Warning] = []
    s = fc.settings
    if (
        tuple(s.fsrs_parameters or DEFAULT_FSRS_PARAMETERS) == DEFAULT_FSRS_PARAMETERS
        and inputs.reviews_logged >= MIN_FIT_REVIEWS
    ):
        out.append(
            Warning(
                "default_parameters",
                f"the forecast uses FSRS's default parameters; with over {MIN_FIT_REVIEWS:,} "
                "answers a day or more apart logged, `flashcore optimize` can fit them to you.",
            )
        )
    if not exam.retention_plan:
        out.append(
            Warning(
                "retention_not_solved",
                "retention targets toward the exam are not chosen yet: `flashcore plan --solve` "
                "(a minute or so, with progress).",
            )
        )
    return out


def plan(fc: Collection) -> dict[str, Any]:
    """What `flashcore plan --json` prints."""
    follow_plan(fc)  # plan_mode auto: the new cards a day it shows are today's (the day's first)
    inputs = load_inputs(fc)
    exam = inputs.exam
    today = inputs.today
    new_left = inputs.new_left
    needed = exam_rules.new_per_day_needed(new_left, today, exam)
    result = run_forecast(fc, inputs, min(needed, 9999))
    budget = exam.minutes_per_day
    days = [
        {
            "date": d.on.isoformat(),
            "reviews": round(d.reviews),
            "new": round(d.new),
            "minutes": round(d.minutes, 1),
            "over_budget": d.minutes > budget + 0.05,
            "postponed": round(d.postponed),
            "held_reviews": round(d.held_reviews),
            "held_new": round(d.held_new),
        }
        for d in result.days
    ]
    passed = exam.passed(today)
    projected = None if passed else project(inputs.assessments, exam.exam_date)
    projection = projected.to_json() if projected else None
    if passed:  # nothing to plan toward: say so, and what to do
        days = []
        warnings = [_passed(exam, today)]
    else:
        warnings = _warnings(fc, inputs, needed, days, result, projection)
    parameters = "fitted" if fc.settings.fsrs_parameters else "default"
    return {
        "exam_date": exam.exam_date.isoformat(),
        "days_left": exam.days_left(today),
        "passed": passed,
        "minutes_per_day": budget,
        "buffer_days": exam.buffer_days,
        "new_cards_left": new_left,
        "new_per_day_needed": needed,
        "new_per_day": fc.settings.new_per_day,
        "plan_mode": fc.settings.plan_mode,
        "cards_in_scope": new_left + inputs.studied_count,
        "days": days,
        "readiness": readiness(fc, inputs, result),
        "assessments": {
            "count": len(inputs.assessments),
            "latest": inputs.assessments[-1].to_json() if inputs.assessments else None,
            "projected": projection,
        },
        "answer_seconds": inputs.times.to_json(),
        "retention_plan": [[d, r] for d, r in exam.retention_plan],
        "parameters": parameters,
        "forecast": {
            "days": len(result.days),
            "simulated_cards": len(result.cards),
            "scale": round(result.scale, 3),
            "fsrs_calls": result.fsrs_calls,
        },
        "warnings": [w.to_json() for w in warnings],
    }
