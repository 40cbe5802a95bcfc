"""FSRS fitted to the student: `flashcore optimize`, and the plan's retention solver. The only
module that touches fsrs-rs (`fsrs_rs_python`, Rust, no torch).

`optimize` turns the review log into fsrs-rs's training items (each answer given a study day or
more after the card's previous one, with the card's history up to it; elapsed time in study
days, as the scheduler counts it), evaluates the parameters in use (log loss, RMSE over bins),
fits new ones with `compute_parameters`, evaluates them on the same items, and stores them in
`fsrs_parameters` when they fit better (lower log loss); `config set fsrs_parameters` stays the
manual way. Below MIN_REVIEWS such answers it refuses: fsrs-rs itself keeps the default
parameters until several hundred, and fits only the first few from there.

`solve_retention` chooses the retention toward the exam with fsrs-rs's `optimal_retention`
and a custom target: the expected number of cards recalled on exam day (its simulator's
memorized count on the last day), within the student's daily budget (`max_cost_perday`) and
the plan's new cards a day, for horizons of 7, 14, 28 and 56 days (and the days left). With
the budget as a hard limit, a higher retention only wins where its extra reviews still leave
room for the new cards; and a step is kept only when it buys exam-day recall per minute: the
cards it adds on the last day, per second it adds, at least match what studying at the
profile's retention gives per second (`_pays_per_minute`). Each step is then used for answers
with that many days left or fewer (never below the profile's own retention, see core.exam).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import timedelta
from typing import TYPE_CHECKING, Any

from flashcore.core import exam as exam_rules
from flashcore.core import studyday
from flashcore.core.errors import FlashcoreError
from flashcore.core.fsrs_adapter import DEFAULT_FSRS_PARAMETERS, check_parameters
from flashcore.core.model import CardState
from flashcore.services.context import today_for
from flashcore.services.exam import require_exam
from flashcore.storage import planning
from flashcore.storage.uow import reading, run_write

if TYPE_CHECKING:
    from datetime import datetime

    from flashcore.core.forecast import SimCard
    from flashcore.services.context import Collection

MIN_REVIEWS = 1000
MAX_ITEMS = 150_000  # larger logs are fitted on an even sample of cards
HORIZONS = (7, 14, 28, 56)
SOLVER_CARDS = 800  # cards the retention solver simulates (an even sample, scaled)

Progress = Callable[[int, int], None]


def _quiet(_done: int, _total: int) -> None:
    return None


@dataclass(frozen=True, slots=True)
class Evaluation:
    log_loss: float
    rmse_bins: float

    def to_json(self) -> dict[str, float]:
        return {"log_loss": round(self.log_loss, 6), "rmse_bins": round(self.rmse_bins, 6)}


@dataclass(frozen=True, slots=True)
class Fitted:
    reviews: int  # training items: answers a study day or more after the previous one
    cards: int
    before: Evaluation
    after: Evaluation
    parameters: tuple[float, ...]
    previous: tuple[float, ...]
    better: bool
    applied: bool
    sampled: bool
    seconds: float

    def verdict(self) -> str:
        if self.applied:
            return ("the fitted parameters fit your reviews better and are now in use "
                    "(flashcore config get fsrs_parameters; the forecast and plan use them)")  # fmt: skip
        if self.better:
            return "the fitted parameters fit better; run without --dry-run to use them"
        return ("the fitted parameters do not fit your reviews better than the ones in use; "
                "nothing was changed")  # fmt: skip

    def to_json(self) -> dict[str, Any]:
        return {
            "reviews": self.reviews,
            "cards": self.cards,
            "before": self.before.to_json(),
            "after": self.after.to_json(),
            "parameters": [round(p, 4) for p in self.parameters],
            "previous": [round(p, 4) for p in self.previous],
            "better": self.better,
            "applied": self.applied,
            "sampled": self.sampled,
            "seconds": round(self.seconds, 2),
        }


def training_items(fc: Collection, progress: Progress = _quiet) -> tuple[list[Any], int, bool]:
    """fsrs-rs items from the review log; (items, cards, sampled)."""
    import fsrs_rs_python as rs

    s = fc.settings
    with reading(fc.engine) as session:
        logs = planning.review_log_items(session, fc.profile_id)
    progress(1, 4)
    cards = sorted(logs)
    total = sum(max(0, len(v) - 1) for v in logs.values())
    sampled = total > MAX_ITEMS
    if sampled:
        keep = max(1, round(len(cards) * MAX_ITEMS / total))
        step = len(cards) / keep
        cards = [cards[int(i * step)] for i in range(keep)]
    items = []
    for card_id in cards:
        history = []
        previous = None
        for at, rating in logs[card_id]:
            days = 0 if previous is None else studyday.days_between(
                previous, at, s.zone, s.day_start_hour
            )  # fmt: skip
            history.append(rs.FSRSReview(rating, days))
            previous = at
            if len(history) >= 2 and days > 0:
                items.append(rs.FSRSItem(list(history)))
    return items, len(cards), sampled


def optimize(fc: Collection, *, apply: bool = True, progress: Progress = _quiet) -> Fitted:
    """Fit, evaluate, and (with `apply`, when better) store the parameters. FlashcoreError
    below MIN_REVIEWS training items; nothing is changed then."""
    import fsrs_rs_python as rs

    started = time.monotonic()
    items, cards, sampled = training_items(fc, progress)
    if len(items) < MIN_REVIEWS:
        raise FlashcoreError(
            f"optimize needs at least {MIN_REVIEWS:,} reviews answered a day or more after "
            f"the card's previous answer; this profile has {len(items):,}. Keep reviewing (or "
            "set them by hand: flashcore config set fsrs_parameters ...); nothing was changed"
        )
    previous = tuple(fc.settings.fsrs_parameters or DEFAULT_FSRS_PARAMETERS)
    before = rs.FSRS(list(previous)).evaluate(items)
    progress(2, 4)
    fitted = tuple(float(p) for p in rs.FSRS(list(previous)).compute_parameters(items))
    progress(3, 4)
    after = rs.FSRS(list(fitted)).evaluate(items)
    progress(4, 4)
    check_parameters(fitted)
    better = after.log_loss < before.log_loss - 1e-9
    applied = False
    if apply and better:
        fc.config_set("fsrs_parameters", ", ".join(f"{p:.4f}" for p in fitted))
        applied = True
    return Fitted(
        reviews=len(items),
        cards=cards,
        before=Evaluation(before.log_loss, before.rmse_bins),
        after=Evaluation(after.log_loss, after.rmse_bins),
        parameters=fitted,
        previous=previous,
        better=better,
        applied=applied,
        sampled=sampled,
        seconds=time.monotonic() - started,
    )


# ---------------------------------------------------------------- retention toward the exam


def _rating_mix(fc: Collection) -> tuple[list[float], list[float]]:
    """(first answer's Again/Hard/Good/Easy shares, a passing review's Hard/Good/Easy shares)
    from the last 90 days; fsrs-rs's defaults where fewer than 50 answers say."""
    import fsrs_rs_python as rs

    config = rs.default_simulator_config()
    first, review = list(config.first_rating_prob), list(config.review_rating_prob)
    with reading(fc.engine) as session:
        counts = planning.rating_counts(session, fc.profile_id, fc.now() - timedelta(days=90))
    new = [counts.get((int(CardState.NEW), r), 0) for r in (1, 2, 3, 4)]
    if sum(new) >= 50:
        first = [n / sum(new) for n in new]
    passing = [counts.get((int(CardState.REVIEW), r), 0) for r in (2, 3, 4)]
    if sum(passing) >= 50:
        review = [n / sum(passing) for n in passing]
    return first, review


def _pays_per_minute(
    rs: Any, parameters: list[float], config: Any, base: float, chosen: float
) -> bool:
    """Whether the higher retention buys exam-day recall per minute: the cards it adds on the
    last day, per second of the time it adds, are at least what studying at `base` gives per
    second (fsrs-rs's simulator, three seeds; a fresh deck of the same size and limits)."""

    def run(retention: float) -> tuple[float, float]:
        memorized = cost = 0.0
        for seed in (1, 2, 3):
            result = rs.simulate(parameters, retention, config, seed)
            memorized += float(result.memorized_cnt_per_day[-1])
            cost += float(sum(result.cost_per_day))
        return memorized, cost

    base_memorized, base_cost = run(base)
    memorized, cost = run(chosen)
    if memorized <= base_memorized or base_cost <= 0:
        return False
    if cost <= base_cost:
        return True
    return (memorized - base_memorized) / (cost - base_cost) >= base_memorized / base_cost


def _simulator_cards(rs: Any, studied: list[SimCard], now: datetime) -> list[Any]:
    """The studied cards as fsrs-rs's simulator takes them: days counted from `now` (the last
    review before it, negative; the due day after it)."""
    cards = []
    for n, card in enumerate(studied):
        memory, last = card.schedule.memory, card.schedule.last_review
        if memory is None or last is None:
            continue
        c = rs.Card()
        c.id = n
        c.stability = memory.stability
        c.difficulty = memory.difficulty
        c.last_date = -max(0.0, (now - last).total_seconds() / 86400.0)
        c.due = max(0.0, (card.schedule.due - now).total_seconds() / 86400.0)
        c.interval = max(1.0, c.due - c.last_date)
        c.lapses = card.schedule.lapses
        cards.append(c)
    return cards


def solve_retention(
    fc: Collection, *, progress: Progress = _quiet
) -> tuple[tuple[int, float], ...]:
    """Choose and store the exam's retention steps (see the module's doc). Slow (seconds per
    horizon): the command line shows `progress`, the reviewer runs it in a worker."""
    import fsrs_rs_python as rs

    from flashcore.core import forecast as engine
    from flashcore.services.plan import load_inputs

    exam = require_exam(fc)
    today = today_for(fc)
    if exam.passed(today):
        raise FlashcoreError(
            f"the exam day {exam.exam_date.isoformat()} is behind: nothing to solve toward; "
            "set the next one first (`flashcore exam set YYYY-MM-DD --minutes-per-day M`)"
        )
    inputs = load_inputs(fc)
    days_left = exam.days_left(today)
    horizons = sorted({h for h in HORIZONS if h < days_left} | {days_left})
    studied, fresh, scale = engine.sample(inputs.studied, inputs.fresh, SOLVER_CARDS)
    scale *= inputs.scale
    first, review = _rating_mix(fc)
    times = inputs.times
    parameters = list(fc.policy.parameters)
    base = fc.settings.desired_retention
    cap = max(base, fc.settings.weakness_max_retention)
    cards = _simulator_cards(rs, studied, inputs.now)
    new_left = len(fresh)
    needed = exam_rules.new_per_day_needed(inputs.new_left, today, exam)
    steps: list[tuple[int, float]] = []
    total = len(horizons)
    progress(0, total)
    for k, horizon in enumerate(horizons, 1):
        config = rs.default_simulator_config()
        config.deck_size = len(cards) + new_left
        config.learn_span = max(1, horizon)
        config.learn_limit = max(0, round(needed / scale))
        config.max_cost_perday = exam.minutes_per_day * 60.0 / scale
        config.first_rating_prob = first
        config.review_rating_prob = review
        config.state_rating_costs = [
            [times.new] * 4,
            [times.review + times.relearning, times.review, times.review, times.review],
            [times.relearning] * 4,
        ]

        def recalled(result: Any, _params: Any) -> float:
            return -float(result.memorized_cnt_per_day[-1])  # minimized: most recalled wins

        chosen = round(min(cap, float(rs.optimal_retention(config, parameters, list(cards),
                                                            recalled))), 3)  # fmt: skip
        if chosen > base and not _pays_per_minute(rs, parameters, config, base, chosen):
            chosen = base
        steps.append((horizon, chosen))
        progress(k, total)
    useful = tuple((h, r) for h, r in steps if r > base)
    solved = replace(exam, retention_plan=useful, solved_on=today)
    run_write(fc.engine, lambda s: planning.save_exam(s, fc.profile_id, solved, fc.now()))
    fc.forget_exam()
    return useful
