"""Today's queue cut to a time budget (`flashcore due --minutes M`, the reviewer's session
length): the overflow is postponed, lowest exam points at risk first, each postponed card with
its reason (see core.budget). Nothing is written: a postponed card stays due, so tomorrow's
queue (and the plan's forecast) holds it."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import timedelta
from typing import TYPE_CHECKING

from flashcore.core import budget as rules
from flashcore.core import queue, studyday
from flashcore.storage import planning
from flashcore.storage.uow import reading

if TYPE_CHECKING:
    from flashcore.services.context import Collection
    from flashcore.services.queue import QueueItem, TodayQueue

TIMES_DAYS = 30
NEW_IN_BUFFER = 1.0  # a new card's value in the buffer: all of it at risk (a review: 1 - R)


@dataclass(frozen=True, slots=True)
class Budgeted:
    """Today's queue within the budget, and what it postpones."""

    kept: tuple[QueueItem, ...]
    postponed: tuple[QueueItem, ...]  # each with why it was postponed
    minutes: float  # the budget
    kept_seconds: float
    postponed_seconds: float
    seconds: dict[int, float]  # estimated seconds per card


def answer_times(fc: Collection) -> rules.AnswerSeconds:
    with reading(fc.engine) as session:
        return planning.answer_seconds(
            session, fc.profile_id, fc.now() - timedelta(days=TIMES_DAYS)
        )


def _new_value(fc: Collection) -> float | None:
    """In the exam's buffer new cards are kept before reviews (see core.budget.cut)."""
    exam = fc.exam
    if exam is None:
        return None
    s = fc.settings
    today = studyday.study_date(fc.now(), s.zone, s.day_start_hour)
    return NEW_IN_BUFFER if exam.buffer_start <= today <= exam.exam_date else None


def exam_seconds_left(fc: Collection) -> float | None:
    """What is left today of the exam's daily budget (None: no exam is set, or it is behind)."""
    exam = fc.exam
    if exam is None:
        return None
    s = fc.settings
    if exam.passed(studyday.study_date(fc.now(), s.zone, s.day_start_hour)):
        return None
    with reading(fc.engine) as session:
        _new, _reviews, spent = planning.done_since(session, fc.profile_id, fc.day_start())
    return exam.minutes_per_day * 60.0 - spent


def cut_items(
    fc: Collection, items: list[QueueItem], seconds: float
) -> tuple[list[QueueItem], list[QueueItem]]:
    """(kept, postponed) of queue items within `seconds` (as `cut_queue`)."""
    done = _cut(fc, items, seconds / 60.0, None)
    return list(done.kept), list(done.postponed)


def cut_queue(
    fc: Collection,
    today: TodayQueue,
    minutes: float,
    times: rules.AnswerSeconds | None = None,
) -> Budgeted:
    """Keep what fits in `minutes`, in queue order; postpone the rest by the budget's tiers."""
    return _cut(fc, list(today.items), minutes, times)


def _cut(
    fc: Collection, items: list[QueueItem], minutes: float, times: rules.AnswerSeconds | None
) -> Budgeted:
    times = times or answer_times(fc)
    ids = [i.card_id for i in items]
    with reading(fc.engine) as session:
        weights = planning.card_weights(session, fc.profile_id, ids)
    policy = fc.policy
    learning_steps, relearning_steps = len(policy.learning_steps), len(policy.relearning_steps)
    by_id = {i.card_id: i for i in items}
    entries = [
        queue.Entry(i.card_id, 0, int(i.state), i.due, i.retrievability, i.priority, i.why,
                    i.kind)
        for i in items
    ]  # fmt: skip
    seconds = {
        e.card_id: rules.card_seconds(e.kind, e.retrievability, times, learning_steps,
                                      relearning_steps)
        for e in entries
    }  # fmt: skip
    result = rules.cut(
        entries,
        lambda e: seconds[e.card_id],
        lambda e: weights.get(e.card_id, 0.0),
        minutes * 60.0,
        new_value=_new_value(fc),
    )
    kept = tuple(by_id[e.card_id] for e in result.kept)
    postponed = tuple(
        replace(by_id[p.card_id], why=replace(by_id[p.card_id].why, postponed=p.why(minutes)))
        for p in result.postponed
    )
    return Budgeted(kept, postponed, minutes, result.kept_seconds, result.postponed_seconds,
                    seconds)  # fmt: skip
