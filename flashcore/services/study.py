"""The review session's use cases: today's queue, showing a card with its four outcomes,
answering (one transaction with its review-log row), undo, bury/suspend/flag."""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from sqlalchemy import and_, or_, select

from flashcore.core import cloze, fsrs_adapter, queue, studyday
from flashcore.core.errors import FlashcoreError, NotFoundError, StaleCardError
from flashcore.core.model import CardState, Rating, Schedule
from flashcore.core.weakness import retention_for
from flashcore.services.decks import card_scope
from flashcore.storage import repos
from flashcore.storage.models import Card
from flashcore.storage.uow import reading, run_write

if TYPE_CHECKING:
    from flashcore.services.collection import Flashcore

NEW_FETCH_FACTOR = 4
STUDIED = [
    int(CardState.LEARNING),
    int(CardState.REVIEW),
    int(CardState.RELEARNING),
]  # fetch extra new cards so sibling burying can skip some


@dataclass(frozen=True, slots=True)
class QueueItem:
    card_id: int
    note_key: str
    deck: str
    topics: tuple[str, ...]
    state: CardState
    due: datetime
    reps: int
    retrievability: float | None
    priority: float
    reason: str
    kind: str

    def to_json(self) -> dict[str, Any]:
        return {
            "card_id": self.card_id,
            "note_key": self.note_key,
            "deck": self.deck,
            "topics": list(self.topics),
            "state": self.state.label,
            "due": self.due.isoformat(),
            "reps": self.reps,
            "retrievability": None
            if self.retrievability is None
            else round(self.retrievability, 4),
            "priority": round(self.priority, 6),
            "reason": self.reason,
        }


@dataclass(frozen=True, slots=True)
class TodayQueue:
    items: tuple[QueueItem, ...]
    new: int
    learning: int
    review: int
    next_learning_due: datetime | None
    later_learning: tuple[tuple[int, datetime, int], ...] = ()  # (card, due, state) later today


def build_queue(
    fc: Flashcore,
    *,
    deck: str | None = None,
    topic: str | None = None,
    limit: int | None = None,
    details: bool = True,
) -> TodayQueue:
    """Today's queue in order, each card with a reason. Ranks compact columns, not ORM objects."""
    from flashcore.services.weakness import ensure_fresh

    ensure_fresh(fc)
    s = fc.settings
    now = fc.now()
    day_start = studyday.day_start(now, s.zone, s.day_start_hour)
    rollover = studyday.next_rollover(now, s.zone, s.day_start_hour)
    ahead = timedelta(minutes=s.learn_ahead_minutes)
    horizon = max(rollover, now + ahead)
    curve = fsrs_adapter.curve(fc.policy)
    with reading(fc.engine) as session:
        scope = card_scope(fc, session, deck, topic)
        active = and_(
            scope,
            Card.suspended.is_(False),
            or_(Card.buried_until.is_(None), Card.buried_until <= now),
        )
        cols = (
            Card.id,
            Card.note_id,
            Card.state,
            Card.due,
            Card.stability,
            Card.last_review,
            Card.weight,
        )
        pulled = repos.pulled_forward(
            session, fc.profile_id, studyday.study_date(now, s.zone, s.day_start_hour)
        )
        due_rows = list(
            session.execute(
                select(*cols).where(active, Card.state.in_(STUDIED), Card.due < horizon)
            ).all()
        )
        if pulled:
            have = {r.id for r in due_rows}
            extra = [cid for cid in pulled if cid not in have]
            if extra:
                due_rows += session.execute(select(*cols).where(active, Card.id.in_(extra))).all()
        done = repos.review_counts_since(session, fc.profile_id, day_start)
        new_done = done.get(int(CardState.NEW), 0)
        reviews_done = done.get(int(CardState.REVIEW), 0)
        new_left = max(0, s.new_per_day - new_done)
        reviews_left = max(0, s.reviews_per_day - reviews_done)
        new_rows: list[Any] = []
        if new_left:
            new_rows = list(
                session.execute(
                    select(*cols)
                    .where(active, Card.state == int(CardState.NEW))
                    .order_by(Card.weight.desc(), Card.note_id, Card.ord)
                    .limit(new_left * NEW_FETCH_FACTOR + 50)
                ).all()
            )
        candidates = [
            queue.Candidate(r.id, r.note_id, r.state, r.due, r.stability, r.last_review, r.weight,
                            pulled.get(r.id))
            for r in due_rows
        ]  # fmt: skip
        weight_of = {r.id: r.weight for r in due_rows if r.weight > 0}
        weight_of.update({r.id: r.weight for r in new_rows if r.weight > 0})
        news = [
            queue.Candidate(r.id, r.note_id, r.state, r.due, None, None, r.weight) for r in new_rows
        ]
        built = queue.build(
            candidates,
            news,
            now=now,
            day_start=day_start,
            rollover=rollover,
            limits=queue.Limits(
                new_left=new_left,
                reviews_left=reviews_left,
                new_ignores_review_limit=s.new_ignores_review_limit,
                bury_siblings=s.bury_siblings,
                learn_ahead=ahead,
            ),
            retrievability=lambda stability, last: curve.retrievability(stability, last, now),
            limit=limit,
        )
        shown = {e.card_id for e in built.entries}
        later_rows = [
            (r.id, r.due, r.state)
            for r in due_rows
            if r.state in (int(CardState.LEARNING), int(CardState.RELEARNING))
            and r.due > now
            and r.id not in shown
        ]
        later = [due for _cid, due, _state in later_rows]
        entries = list(built.entries)
        weighted = [e.card_id for e in entries if weight_of.get(e.card_id, 0.0) > 0]
        if weighted:
            from flashcore.services.weakness import card_reasons

            reasons = card_reasons(fc, session, weighted)
            entries = [
                queue.with_weak_reason(e, reasons[e.card_id]) if e.card_id in reasons else e
                for e in entries
            ]
        info: dict[int, dict[str, Any]] = {}
        if details and entries:
            info = repos.queue_details(session, [e.card_id for e in entries])
    items = tuple(
        QueueItem(
            card_id=e.card_id,
            note_key=info.get(e.card_id, {}).get("note_key", ""),
            deck=info.get(e.card_id, {}).get("deck", ""),
            topics=tuple(info.get(e.card_id, {}).get("topics", ())),
            state=CardState(e.state),
            due=e.due,
            reps=info.get(e.card_id, {}).get("reps", 0),
            retrievability=e.retrievability,
            priority=e.priority,
            reason=e.reason,
            kind=e.kind,
        )
        for e in entries
    )
    return TodayQueue(
        items=items,
        new=built.counts.new,
        learning=built.counts.learning,
        review=built.counts.review,
        next_learning_due=min(later) if later else None,
        later_learning=tuple(later_rows),
    )


# ---------------------------------------------------------------- one card


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


def show(fc: Flashcore, card_id: int) -> CardView:
    now = fc.now()
    with reading(fc.engine) as session:
        rows = repos.card_details(
            session, and_(Card.id == card_id, Card.profile_id == fc.profile_id)
        )
    if not rows:
        raise NotFoundError(f"no card {card_id} in this profile")
    row = rows[0]
    schedule = repos.schedule_from(_Obj(row))
    retention = retention_for(fc.settings, row["weight"])
    outcomes = {
        rating: Outcome(rating, result.state, result.due, result.due - now,
                        format_interval(result.due - now))
        for rating, result in fsrs_adapter.preview(
            card_id, schedule, now, retention, fc.policy
        ).items()
    }  # fmt: skip
    fields = row["fields"]
    if row["kind"] == "cloze":
        front = cloze.render(fields["text"], row["ord"], reveal=False)
        back = cloze.render(fields["text"], row["ord"], reveal=True)
    else:
        front = [cloze.Segment(fields.get("front", ""))]
        back = [cloze.Segment(fields.get("back", ""), "answer")]
    return CardView(
        card_id=card_id,
        note_key=row["note_key"],
        deck=row["deck"],
        kind=row["kind"],
        ord=row["ord"],
        topics=tuple(row["topics"]),
        tags=tuple(row["tags"] or ()),
        html=row["html"],
        front=front,
        back=back,
        extra=fields.get("extra", ""),
        state=CardState(row["state"]),
        reps=row["reps"],
        lapses=row["lapses"],
        version=row["version"],
        retention=retention,
        outcomes=outcomes,
        flagged=row["flagged"],
    )


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
            "buried_siblings": list(self.buried_siblings),
        }


def answer(
    fc: Flashcore,
    card_id: int,
    rating: Rating,
    *,
    duration_ms: int | None = None,
    expect_reps: int | None = None,
    expect_version: int | None = None,
    reason: str = "",
) -> AnswerResult:
    """Grade a card: new state and review-log row in one transaction. Refuses (StaleCardError)
    when the card changed since it was shown."""
    s = fc.settings
    now = fc.now()

    def work(session: Any) -> AnswerResult:
        card = repos.load_card(session, fc.profile_id, card_id, lock=True)
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
        retention = retention_for(s, card.weight)
        new = fsrs_adapter.answer(card_id, card.schedule, rating, now, retention, fc.policy)
        leech = _is_leech(card.schedule.lapses, new.lapses, s.leech_threshold)
        extra: dict[str, Any] = {"buried_until": None}
        if leech:
            extra.update(leech=True, suspended=True)
        if not repos.save_schedule(
            session, card_id, card.version, new, now, retention=retention, extra=extra
        ):
            raise StaleCardError(f"card {card_id} was answered elsewhere meanwhile")
        buried: list[int] = []
        if s.bury_siblings:
            buried = repos.bury_siblings(
                session,
                card.note_id,
                card_id,
                studyday.next_rollover(now, s.zone, s.day_start_hour),
                now,
            )
        memory = card.schedule.memory
        review_id = repos.insert_review(
            session,
            {
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
                "leeched": leech,
                "buried_siblings": buried,
            },
        )
        return AnswerResult(card_id, rating, review_id, new, retention, leech, tuple(buried))

    return run_write(fc.engine, work)


def _is_leech(lapses_before: int, lapses_after: int, threshold: int) -> bool:
    """Anki's rule: a leech at the threshold, and again every half-threshold lapses after it."""
    if lapses_after <= lapses_before or lapses_after < threshold:
        return False
    step = max(1, threshold // 2)
    return (lapses_after - threshold) % step == 0


@dataclass(frozen=True, slots=True)
class Undone:
    card_id: int
    rating: Rating
    reviewed_at: datetime


def undo(fc: Flashcore, steps: int = 1) -> list[Undone]:
    """Undo the last `steps` answers of this profile: card state restored exactly, rows removed."""
    if steps < 1:
        raise FlashcoreError("--steps must be at least 1")
    now = fc.now()

    def work(session: Any) -> list[Undone]:
        logs = repos.last_reviews(session, fc.profile_id, steps)
        if not logs:
            raise FlashcoreError("nothing to undo: no answers recorded")
        done = []
        for log in logs:
            repos.undo_review(session, log, now)
            done.append(Undone(log["card_id"], Rating(log["rating"]), log["reviewed_at"]))
        return done

    return run_write(fc.engine, work)


CARD_ACTIONS: dict[str, Any] = {
    "suspend": {"suspended": True},
    "unsuspend": {"suspended": False, "leech": False},
    "unbury": {"buried_until": None},
    "flag": {"flagged": True},
    "unflag": {"flagged": False},
}


def set_cards(fc: Flashcore, action: str, card_ids: list[int]) -> int:
    """suspend | unsuspend | unbury | flag | unflag | bury the listed cards."""
    now = fc.now()
    if action == "bury":
        values: dict[str, Any] = {"buried_until": fc.rollover(now)}
    elif action in CARD_ACTIONS:
        values = dict(CARD_ACTIONS[action])
    else:
        raise FlashcoreError(f"unknown card action {action!r}")
    values["modified_at"] = now

    def work(session: Any) -> None:
        missing = repos.set_card_flags(session, fc.profile_id, card_ids, values)
        if missing:
            raise NotFoundError(f"no card {missing[0]} in this profile; nothing was changed")

    run_write(fc.engine, work)
    return len(card_ids)


def monotonic_ms(start: float) -> int:
    """Answer durations use a real monotonic clock, even when scheduling time is frozen."""
    return int((time.monotonic() - start) * 1000)


class StudySession:
    """Today's queue for one review session, kept in memory between answers (as Anki does):
    after an answer the card and its buried siblings leave the ranked list, and a card still in
    learning waits for its step. The full ranking is rebuilt at the study-day rollover, after
    undo/bury/suspend (`invalidate`), when the list runs out, and every `REBUILD_EVERY` answers
    (to pick up changes from elsewhere, e.g. a qbank import)."""

    REBUILD_EVERY = 25

    def __init__(self, fc: Flashcore, *, deck: str | None = None, topic: str | None = None) -> None:
        self.fc = fc
        self.deck = deck
        self.topic = topic
        self._pending: list[QueueItem] | None = None
        self._waiting: list[QueueItem] = []
        self._rollover: datetime | None = None
        self._answers = 0

    def invalidate(self) -> None:
        self._pending = None

    def _rebuild(self, now: datetime) -> None:
        built = build_queue(self.fc, deck=self.deck, topic=self.topic, details=False)
        self._pending = [i for i in built.items if i.kind != "ahead"]
        self._waiting = [i for i in built.items if i.kind == "ahead"]
        self._rollover = self.fc.rollover(now)
        self._answers = 0
        for card_id, due, state in built.later_learning:
            label = "relearning after a lapse" if state == CardState.RELEARNING else "learning step"
            self._waiting.append(
                QueueItem(card_id, "", "", (), CardState(state), due, 0, None, 0.0, label,
                          "learning")
            )  # fmt: skip

    def queue(self) -> TodayQueue:
        """The queue with its next card first (only that one carries details)."""
        now = self.fc.now()
        stale = self._rollover is None or now >= self._rollover
        if (
            self._pending is None
            or stale
            or self._answers >= self.REBUILD_EVERY
            or (not self._pending and not self._waiting)
        ):
            self._rebuild(now)
        assert self._pending is not None
        self._waiting.sort(key=lambda i: (i.due, i.card_id))
        ahead = now + timedelta(minutes=self.fc.settings.learn_ahead_minutes)
        first: QueueItem | None = None
        if self._waiting and self._waiting[0].due <= now:
            first = self._waiting[0]
        elif self._pending:
            first = self._pending[0]
        elif self._waiting and self._waiting[0].due <= ahead:
            first = self._waiting[0]
        items: tuple[QueueItem, ...] = ()
        if first is not None:
            with reading(self.fc.engine) as session:
                info = repos.queue_details(session, [first.card_id]).get(first.card_id, {})
            items = (
                QueueItem(
                    first.card_id, info.get("note_key", ""), info.get("deck", ""),
                    tuple(info.get("topics", ())), first.state, first.due,
                    info.get("reps", first.reps), first.retrievability, first.priority,
                    first.reason, first.kind,
                ),
            )  # fmt: skip
        pending = self._pending
        waiting_due = [i for i in self._waiting if i.due <= now]
        later = [i.due for i in self._waiting if i.due > now]
        return TodayQueue(
            items=items,
            new=sum(i.kind == "new" for i in pending),
            learning=sum(i.kind == "learning" for i in pending) + len(waiting_due),
            review=sum(i.kind == "review" for i in pending),
            next_learning_due=min(later) if later else None,
        )

    def answered(self, result: AnswerResult, reason: str = "") -> None:
        """Take an answered card (and its buried siblings) out; a card still in (re)learning
        today waits for its step."""
        gone = {result.card_id, *result.buried_siblings}
        if self._pending is not None:
            self._pending = [i for i in self._pending if i.card_id not in gone]
        self._waiting = [i for i in self._waiting if i.card_id not in gone]
        self._answers += 1
        schedule = result.schedule
        if (
            schedule.state in (CardState.LEARNING, CardState.RELEARNING)
            and self._rollover is not None
            and schedule.due < self._rollover
            and not result.leech
        ):
            label = (
                "relearning after a lapse"
                if schedule.state is CardState.RELEARNING
                else "learning step"
            )
            self._waiting.append(
                QueueItem(result.card_id, "", "", (), schedule.state, schedule.due,
                          schedule.reps, None, 0.0, label, "learning")
            )  # fmt: skip
