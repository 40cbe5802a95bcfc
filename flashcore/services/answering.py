"""One card: showing it with its four outcomes, answering it (one transaction with its
review-log row), undo, bury/suspend/flag."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from flashcore.core import cloze, fsrs_adapter, studyday
from flashcore.core.card_sides import card_sides
from flashcore.core.errors import (
    EarlierDayUndoError,
    FlashcoreError,
    NotFoundError,
    StaleCardError,
)
from flashcore.core.leech import LeechAction, Leeched, leech_after
from flashcore.core.model import CardState, Rating, Schedule
from flashcore.services.card_changes import ScopedResult, change_in_scope, note_set_by_hand
from flashcore.services.exam import card_retention
from flashcore.services.undo_guard import refuse_if_anki_followed
from flashcore.storage import repos
from flashcore.storage.repos.note_returns import NOT_GONE, by_leech
from flashcore.storage.uow import reading_core, run_write, run_write_on, transaction

if TYPE_CHECKING:
    from sqlalchemy import Connection

    from flashcore.services.context import Collection


@dataclass(frozen=True, slots=True)
class Outcome:
    rating: Rating
    state: CardState
    due: datetime
    interval: timedelta
    label: str  # "10m", "4d", "3.2mo"


@dataclass(frozen=True, slots=True)
class CardView:
    """Everything the reviewer shows for one card; `version` guards the answer."""

    card_id: int
    note_key: str
    deck: str
    kind: str
    ord: int
    topics: tuple[str, ...]
    tags: tuple[str, ...]
    html: bool
    front: list[cloze.Segment]
    back: list[cloze.Segment]
    extra: str
    state: CardState
    reps: int
    lapses: int
    version: int
    retention: float
    outcomes: dict[Rating, Outcome]
    flagged: bool
    images: tuple[str, ...] = ()  # media names the card shows (`o` in the reviewer opens them)
    leech: bool = False  # marked a leech (`leech_action` tag keeps such cards in the queue)


def format_interval(delta: timedelta) -> str:
    seconds = delta.total_seconds()
    if seconds < 60:
        return f"{max(1, round(seconds))}s"
    if seconds < 3600:
        return f"{round(seconds / 60)}m"
    if seconds < 86400:
        return f"{seconds / 3600:.1f}h".replace(".0h", "h")
    days = seconds / 86400
    if days < 30:
        return f"{round(days)}d"
    if days < 365:
        return f"{days / 30.4:.1f}mo".replace(".0mo", "mo")
    return f"{days / 365.25:.1f}y".replace(".0y", "y")


def show(fc: Collection, card_id: int) -> CardView:
    """The card with its four outcomes (nothing is written)."""
    with fc.engine.connect() as conn, transaction(conn, write=False):
        return show_on(conn, fc, card_id)[0]


def show_on(conn: Connection, fc: Collection, card_id: int) -> tuple[CardView, repos.CardRow]:
    now = fc.now()
    row = repos.card_view(conn, fc.profile_id, card_id)
    if row is None:
        raise NotFoundError(f"no card {card_id} in this profile")
    schedule = repos.schedule_from(_Obj(row))
    retention = card_retention(fc, row["weight"], now)
    outcomes = {
        rating: Outcome(rating, result.state, result.due, result.due - now,
                        format_interval(result.due - now))
        for rating, result in fsrs_adapter.preview(
            card_id, schedule, now, retention, fc.policy,
            elapsed_days=elapsed_days(fc, schedule, now),
        ).items()
    }  # fmt: skip
    sides = card_sides(row["kind"], row["fields"], row["ord"], html=bool(row["html"]))
    view = CardView(
        card_id=card_id,
        note_key=row["note_key"],
        deck=row["deck"],
        kind=row["kind"],
        ord=row["ord"],
        topics=tuple(row["topics"]),
        tags=tuple(row["tags"] or ()),
        html=row["html"],
        front=sides.front,
        back=sides.back,
        extra=sides.extra,
        state=CardState(row["state"]),
        reps=row["reps"],
        lapses=row["lapses"],
        version=row["version"],
        retention=retention,
        outcomes=outcomes,
        flagged=row["flagged"],
        images=sides.images,
        leech=row["leech"],
    )
    known = repos.CardRow(
        card_id=card_id,
        note_id=row["note_id"],
        schedule=schedule,
        version=row["version"],
        suspended=row["suspended"],
        weight=row["weight"],
        desired_retention=row["desired_retention"],
        leech=row["leech"],
        buried_until=row["buried_until"],
        siblings=row["siblings"],
    )
    return view, known


class _Obj:
    """Attribute access over a dict (so repos.schedule_from reads both rows and dicts)."""

    def __init__(self, data: dict[str, Any]) -> None:
        self.__dict__.update(data)


@dataclass(frozen=True, slots=True)
class AnswerResult:
    card_id: int
    rating: Rating
    review_id: int
    schedule: Schedule
    retention: float
    leech: bool
    buried_siblings: tuple[int, ...]
    reviewed_at: datetime | None = None  # its review-log row's time (`undo_answer` names it)
    leeched: Leeched | None = None  # the answer made the card a leech: what became of it

    @property
    def suspended(self) -> bool:
        """The answer suspended its card (a leech under `leech_action` suspend)."""
        return self.leeched is not None and self.leeched.suspended

    def to_json(self) -> dict[str, Any]:
        memory = self.schedule.memory
        return {
            "card_id": self.card_id,
            "rating": self.rating.name.lower(),
            "review_id": self.review_id,
            "state": self.schedule.state.label,
            "due": self.schedule.due.isoformat(),
            "stability": memory.stability if memory else None,
            "difficulty": memory.difficulty if memory else None,
            "reps": self.schedule.reps,
            "lapses": self.schedule.lapses,
            "desired_retention": self.retention,
            "leech": self.leech,
            "leech_action": self.leeched.action.value if self.leeched else None,
            "buried_siblings": list(self.buried_siblings),
        }


def answer(
    fc: Collection,
    card_id: int,
    rating: Rating,
    *,
    duration_ms: int | None = None,
    expect_reps: int | None = None,
    expect_version: int | None = None,
    reason: str = "",
) -> AnswerResult:
    """Grade a card: new state and review-log row in one transaction. Refuses (StaleCardError)
    when the card changed since it was shown. The time of the answer is read inside the
    transaction, once the card is locked: two answers to one card at once are recorded one
    after the other, never refused for a clock that seems to run backwards."""
    with fc.engine.connect() as conn:  # Core on a plain connection: no ORM on this path
        return run_write_on(
            conn,
            lambda c: answer_in(
                c, fc, card_id, rating, None, None,
                duration_ms=duration_ms, expect_reps=expect_reps, expect_version=expect_version,
                reason=reason,
            ),
        )  # fmt: skip


def answer_in(
    session: repos.Executor,
    fc: Collection,
    card_id: int,
    rating: Rating,
    now: datetime | None,
    known: repos.CardRow | None,
    *,
    duration_ms: int | None,
    expect_reps: int | None,
    expect_version: int | None,
    reason: str,
) -> AnswerResult:
    """The answer's transaction. `known` is the card as it was shown, at `expect_version`: the
    version-guarded UPDATE then proves it unchanged, so it need not be read again. `now` None:
    read the clock here, under the write lock and after the card's row lock."""
    s = fc.settings
    card = known or repos.load_card(session, fc.profile_id, card_id, lock=True)
    if now is None:
        now = fc.now()
    scheduler_id = fc.scheduler_id(session)
    if expect_version is not None and card.version != expect_version:
        raise StaleCardError(f"card {card_id} changed since it was shown; not answered twice")
    if expect_reps is not None and card.schedule.reps != expect_reps:
        raise StaleCardError(
            f"card {card_id} has {card.schedule.reps} reviews, expected {expect_reps}: "
            "it was answered meanwhile; not answered twice"
        )
    if card.suspended:
        raise FlashcoreError(f"card {card_id} is suspended; unsuspend it first")
    retention = card_retention(fc, card.weight, now)
    elapsed = elapsed_days(fc, card.schedule, now)
    new = fsrs_adapter.answer(
        card_id, card.schedule, rating, now, retention, fc.policy, elapsed_days=elapsed
    )
    leeched = leech_after(
        card.schedule.lapses, new.lapses, s.leech_threshold, LeechAction(s.leech_action)
    )
    extra: dict[str, Any] = {"buried_until": None}
    if leeched is not None:
        extra.update(by_leech({"leech": True, "suspended": leeched.suspended}))
    # what undo takes back: the mark and the suspension this answer gave (a tagged leech
    # tagged again changed nothing)
    marked = leeched is not None and (leeched.suspended or not card.leech)
    burial = None
    if s.bury_siblings and card.siblings != 0:
        until = studyday.next_rollover(now, s.zone, s.day_start_hour)
        burial = repos.Burial(card.note_id, until)
    memory = card.schedule.memory
    written = repos.write_answer(
        session, card_id, card.version, new, now,
        retention=retention, extra=extra, burial=burial,
        review={
            "profile_id": fc.profile_id,
            "card_id": card_id,
            "reviewed_at": now,
            "rating": int(rating),
            "scheduler_id": scheduler_id,
            "duration_ms": duration_ms,
            "desired_retention": retention,
            "reason": reason[:300],
            "state_before": int(card.schedule.state),
            "step_before": card.schedule.step,
            "stability_before": memory.stability if memory else None,
            "difficulty_before": memory.difficulty if memory else None,
            "due_before": card.schedule.due,
            "last_review_before": card.schedule.last_review,
            "lapses_before": card.schedule.lapses,
            "retention_before": card.desired_retention,
            "buried_until_before": card.buried_until,
            "state_after": int(new.state),
            "step_after": new.step,
            "stability_after": new.memory.stability if new.memory else 0.0,
            "difficulty_after": new.memory.difficulty if new.memory else 0.0,
            "due_after": new.due,
            "leeched": marked,
            "elapsed_days": elapsed,
        },
    )  # fmt: skip
    if written is None:
        raise StaleCardError(f"card {card_id} was answered or changed elsewhere meanwhile")
    review_id, buried = written
    return AnswerResult(
        card_id, rating, review_id, new, retention, leeched is not None, tuple(buried), now,
        leeched,
    )  # fmt: skip


# No card has this version (a card's version counts up from 0): the rehearsal's guard.
NO_VERSION = -1
# How long the rehearsal may wait for a lock (a migration, a VACUUM FULL): it gives up instead.
REHEARSAL_LOCK_WAIT_MS = 50


def rehearse_answer(
    conn: Connection, fc: Collection, known: repos.CardRow, *, guarded: bool
) -> bool:
    """Rehearse the answer to a card as shown (`show_on`'s row), inside the caller's
    transaction, which must roll back: the answer's own code and statements run (the
    database parses and plans them and opens every table and index they touch, SQLAlchemy
    compiles them). The scheduler's id must be known (`Collection.learn_scheduler_id`):
    looking it up here could record it. True when it ran (False: the card cannot be
    answered, say suspended).

    `guarded` (PostgreSQL): the card's version guard is set to a version no card has, so no
    row matches: no row is locked and no id taken from a sequence (a sequence does not roll
    back), only the tables, as long as the statement runs, and no lock waited for longer than
    `REHEARSAL_LOCK_WAIT_MS` (the caller gets the error). Both shapes of the answer's one
    statement run, burying siblings or not: the next cards may be of the other, whose first
    answer would compile and plan it. Not guarded (SQLite, where a rollback undoes every
    write, ids included): the real answer, burying siblings where the settings do (its
    statements, run in turn, are those of either shape), under the write lock the caller
    took."""
    if not fc.knows_scheduler_id():
        raise FlashcoreError("rehearse_answer: look the scheduler's id up first")
    bury = fc.settings.bury_siblings
    if guarded:
        repos.limit_lock_waits(conn, REHEARSAL_LOCK_WAIT_MS)
        shapes = [replace(known, version=NO_VERSION)]
        if bury:  # siblings None: looked for (buried if any); 0: none
            shapes.append(replace(shapes[0], siblings=0 if known.siblings != 0 else None))
    else:
        shapes = [replace(known, siblings=None) if bury else known]
    for shape in shapes:
        try:
            answer_in(
                conn, fc, known.card_id, Rating.GOOD, None, shape,
                duration_ms=0, expect_reps=None, expect_version=None, reason="",
            )  # fmt: skip
        except StaleCardError:
            continue  # guarded: the guard matched no row, what a rehearsal ends with
        except FlashcoreError:
            return False
        if guarded:
            raise AssertionError(f"a rehearsed answer to card {known.card_id} matched a row")
    return True


def elapsed_days(fc: Collection, schedule: Schedule, now: datetime) -> int:
    """Study days since the card's last answer (0 for a new card), as Anki counts them: what
    the scheduler is given, and what the review log records."""
    if schedule.last_review is None:
        return 0
    s = fc.settings
    return max(0, studyday.days_between(schedule.last_review, now, s.zone, s.day_start_hour))


@dataclass(frozen=True, slots=True)
class Undone:
    card_id: int
    rating: Rating
    reviewed_at: datetime


def undo(fc: Collection, steps: int = 1, *, earlier_days: bool = False) -> list[Undone]:
    """Undo the last `steps` answers of this profile: card state restored exactly, rows removed.
    An answer given on an earlier study day is undone only with `earlier_days` (otherwise
    `EarlierDayUndoError`, nothing changed): the reviewer and `flashcore undo` alike."""
    if steps < 1:
        raise FlashcoreError("--steps must be at least 1")
    now = fc.now()

    def work(session: Any) -> list[Undone]:
        logs = repos.last_reviews(session, fc.profile_id, steps)
        if not logs:
            raise FlashcoreError("nothing to undo: no answers recorded")
        return _undo_logs(fc, session, logs, now, earlier_days)

    return run_write(fc.engine, work)


def undo_answer(
    fc: Collection, review_id: int, card_id: int, reviewed_at: datetime | None = None
) -> Undone:
    """Undo one answer, by its review-log row and card: the reviewer's `u` takes back its own
    latest answer, not one another reviewer or terminal gave since (the latest of the profile).
    Only while it is its card's latest answer and was given today, as `undo`; otherwise
    FlashcoreError, nothing changed. (The card and the answer's time too: SQLite gives an
    undone last row's id to the next answer, which may be another terminal's, to another card
    or to the same card answered again there.)"""
    now = fc.now()

    def work(session: Any) -> Undone:
        log = repos.review_to_undo(session, fc.profile_id, review_id, card_id, reviewed_at)
        if log is None:
            raise FlashcoreError("nothing to undo: that answer is gone (undone elsewhere?)")
        if log["answered_since"]:
            raise FlashcoreError(
                f"not undone: card {log['card_id']} was answered again since (elsewhere)"
            )
        return _undo_logs(fc, session, [log], now, False)[0]

    return run_write(fc.engine, work)


def _undo_logs(
    fc: Collection, session: Any, logs: list[dict[str, Any]], now: datetime, earlier_days: bool
) -> list[Undone]:
    earlier = [log for log in logs if log["reviewed_at"] < fc.day_start(now)]
    if earlier and not earlier_days:
        zone, hour = fc.settings.zone, fc.settings.day_start_hour
        first = min(studyday.study_date(log["reviewed_at"], zone, hour) for log in earlier)
        n = len(earlier)
        which = "the last answer was" if len(logs) == 1 else f"{n} of the {len(logs)} answers were"
        raise EarlierDayUndoError(
            f"not undone: {which} given on an earlier study day ({first.isoformat()}); "
            "today's answers only, unless you confirm",
            answers=n,
            first_day=first.isoformat(),
        )
    done = []
    for log in logs:
        refuse_if_anki_followed(fc, session, log)
        repos.undo_review(session, log, now)
        done.append(Undone(log["card_id"], Rating(log["rating"]), log["reviewed_at"]))
    return done


_MINE = {"unsuspended_by": None, "suspended_gone": NOT_GONE}  # a miss's, a gone note's mark go
CARD_ACTIONS: dict[str, Any] = {  # by hand: a batch's removal, a note's return leave the card
    "suspend": {"suspended": True, **_MINE},
    "unsuspend": {"suspended": False, "leech": False, **_MINE},
    "unbury": {"buried_until": None},
    "flag": {"flagged": True},
    "unflag": {"flagged": False},
}


def _action_values(fc: Collection, action: str) -> dict[str, Any]:
    now = fc.now()
    if action == "bury":
        values: dict[str, Any] = {"buried_until": fc.rollover(now)}
    elif action in CARD_ACTIONS:
        values = dict(CARD_ACTIONS[action])
    else:
        raise FlashcoreError(f"unknown card action {action!r}")
    values["modified_at"] = now
    return values


def set_cards_in_scope(
    fc: Collection,
    action: str,
    *,
    deck: str | None = None,
    topic: str | None = None,
    new_only: bool = False,
) -> list[int]:
    """suspend | unsuspend | unbury | flag | unflag | bury every card of a deck and/or topic
    (with sub-decks and sub-topics; only cards never studied with `new_only`) that is not so
    already, in one transaction; returns the ids changed (e.g. a low-yield deck out of scope).
    The change is remembered for `undo_scoped` (`change_cards_in_scope` gives its number)."""
    return change_cards_in_scope(fc, action, deck=deck, topic=topic, new_only=new_only).cards


def change_cards_in_scope(
    fc: Collection,
    action: str,
    *,
    deck: str | None = None,
    topic: str | None = None,
    new_only: bool = False,
) -> ScopedResult:
    """`set_cards_in_scope`, with the number of the change remembered (None: none changed)."""
    if deck is None and topic is None:
        raise FlashcoreError("name a deck or a topic (--deck D, --topic T) or card ids")
    values = _action_values(fc, action)
    return change_in_scope(fc, action, values, deck=deck, topic=topic, new_only=new_only)


def set_cards(fc: Collection, action: str, card_ids: list[int]) -> int:
    """suspend | unsuspend | unbury | flag | unflag | bury the listed cards (a remembered
    scoped change leaves them as set here when it is undone)."""
    values = _action_values(fc, action)

    def work(session: Any) -> None:
        note_set_by_hand(session, fc, action, card_ids)  # the profile's row first
        missing = repos.set_card_flags(session, fc.profile_id, card_ids, values)
        if missing:
            raise NotFoundError(f"no card {missing[0]} in this profile; nothing was changed")

    run_write(fc.engine, work)
    return len(card_ids)


def kept_answers(fc: Collection, answers: set[tuple[int, int]]) -> set[tuple[int, int]]:
    """Those of `answers` ((review-log row, card) pairs: a reviewer's) still in the review
    log: a backup restored or an undo elsewhere takes answers away behind an open reviewer."""
    with reading_core(fc.engine) as conn:
        return repos.existing_reviews(conn, fc.profile_id, answers)
