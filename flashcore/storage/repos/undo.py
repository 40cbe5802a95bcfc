"""Undoing answers: the last answers given in flashcore with their before-states, and a card
restored to its state before one (its log row deleted, the next row unchained)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import delete, select, update

from flashcore.core.clock import to_utc
from flashcore.core.errors import NotFoundError
from flashcore.storage.repos.answering import before_state, unchain_successor
from flashcore.storage.tables import cards, imported_answers, review_logs

if TYPE_CHECKING:
    from sqlalchemy.orm import Session


def last_reviews(session: Session, profile_id: int, count: int) -> list[dict[str, Any]]:
    """The last `count` answers given in flashcore (answers imported from Anki are history,
    not something to undo), each with its before-state."""
    rows = session.execute(
        select(review_logs)
        .where(review_logs.c.profile_id == profile_id, review_logs.c.imported.is_(False))
        .order_by(review_logs.c.id.desc())
        .limit(count)
    )
    return [before_state(session, dict(r._mapping)) for r in rows]


def review_to_undo(
    session: Session,
    profile_id: int,
    review_id: int,
    card_id: int,
    reviewed_at: datetime | None = None,
) -> dict[str, Any] | None:
    """The answer `review_id` to `card_id` (given at `reviewed_at`, when known) in flashcore by
    this profile, with its before-state and `answered_since`: whether its card has a later
    answer; None when there is no such row (a row id SQLite gave again to another answer, to
    another card or to the same card at another time, is not it)."""
    r = review_logs.c
    row = session.execute(
        select(review_logs).where(
            r.id == review_id,
            r.card_id == card_id,
            r.profile_id == profile_id,
            r.imported.is_(False),
        )
    ).first()
    if row is None or (reviewed_at is not None and to_utc(row.reviewed_at) != to_utc(reviewed_at)):
        return None
    later = session.execute(
        select(r.id).where(r.card_id == row.card_id, r.id > review_id).limit(1)
    ).first()
    return {**before_state(session, dict(row._mapping)), "answered_since": later is not None}


def answered_after(session: Session, card_id: int, at: datetime) -> datetime | None:
    """When the card was first answered after `at` (in Anki or here; None: not since)."""
    r = review_logs.c
    later = session.execute(
        select(r.reviewed_at)
        .where(r.card_id == card_id, r.reviewed_at > at)
        .order_by(r.reviewed_at)
        .limit(1)
    ).scalar()
    i = imported_answers.c
    after_ms = int(to_utc(at).timestamp() * 1000)
    narrow = session.execute(
        select(i.anki_revlog_id)
        .where(i.card_id == card_id, i.anki_revlog_id > after_ms)
        .order_by(i.anki_revlog_id)
        .limit(1)
    ).scalar()
    if narrow is not None:
        when = datetime.fromtimestamp(narrow / 1000, tz=UTC)
        later = when if later is None else min(to_utc(later), when)
    return later


def undo_review(session: Session, log: dict[str, Any], now: datetime) -> None:
    """Restore the card to its state before `log` and delete the log row."""
    card = session.execute(
        select(cards.c.version, cards.c.reps).where(cards.c.id == log["card_id"])
    ).first()
    if card is None:
        raise NotFoundError(f"card {log['card_id']} no longer exists")
    log = before_state(session, log)
    values: dict[str, Any] = {
        "state": log["state_before"],
        "step": log["step_before"],
        "stability": log["stability_before"],
        "difficulty": log["difficulty_before"],
        "due": log["due_before"],
        "last_review": log["last_review_before"],
        "reps": card.reps - 1,
        "lapses": log["lapses_before"],
        "desired_retention": log["retention_before"],
        "buried_until": log.get("buried_until_before"),
        "version": card.version + 1,
        "modified_at": now,
    }
    if log["leeched"]:
        values.update(suspended=False, leech=False)
    session.execute(update(cards).where(cards.c.id == log["card_id"]).values(**values))
    siblings = log.get("buried_siblings") or []
    if siblings:
        session.execute(
            update(cards)
            .where(cards.c.id.in_(siblings))
            .values(buried_until=None, version=cards.c.version + 1)
        )
    unchain_successor(session, log["card_id"], log["id"])
    session.execute(delete(review_logs).where(review_logs.c.id == log["id"]))
