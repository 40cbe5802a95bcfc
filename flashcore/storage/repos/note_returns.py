"""A note that leaves its deck file or Anki package, and comes back: its cards are suspended
while it is gone (kept, with their schedule and history) and return as they were before it
left. A card already suspended when its note left (by hand, as a leech, as the package ships
it: AnKing's cards waiting for a missed question) stays suspended when the note comes back; a
card its note's leaving suspended comes back unsuspended (a leech tagged and left in the
queue too), unless it became a suspended leech meanwhile. `cards.suspended_gone` (schema 0030) holds the difference; suspending or unsuspending a card
by hand while its note is gone clears it (the card is the student's: `by_hand`)."""

from __future__ import annotations

from collections.abc import Collection
from datetime import datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import and_, or_, update

from flashcore.storage.tables import cards, notes

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

# `cards.suspended_gone`
NOT_GONE = 0  # not suspended by its note's leaving (or suspended before it left)
SUSPENDED_GONE = 1  # suspended by its note's leaving: the return unsuspends it
SUSPENDED_GONE_BEFORE_0030 = 2  # suspended while gone before schema 0030: the rule then


def by_hand(values: dict[str, Any]) -> dict[str, Any]:
    """A card change made by hand (`values`, `repos.set_card_flags`): a suspension set so is
    the student's, its mark goes (the note's return leaves the card as set)."""
    return {**values, "suspended_gone": NOT_GONE} if "suspended" in values else values


def by_leech(values: dict[str, Any]) -> dict[str, Any]:
    """An answer that made its card a leech decides its suspension (`leech_action`): the mark
    goes as by hand, so the note's return leaves a card suspended as a leech suspended (a missed
    question can bring back a card while its note is gone: answered, it may become a leech)."""
    return by_hand(values)


def retire(session: Session, note_ids: list[int], now: datetime) -> None:
    """Notes newly gone from their file: marked removed, their cards not suspended yet
    suspended and marked so (`SUSPENDED_GONE`)."""
    session.execute(update(notes).where(notes.c.id.in_(note_ids)).values(removed=True))
    c = cards.c
    session.execute(
        update(cards)
        .where(c.note_id.in_(note_ids), c.suspended.is_(False))
        .values(suspended=True, suspended_gone=SUSPENDED_GONE, version=c.version + 1)
        .values(modified_at=now)
    )


def cards_come_back(
    session: Session, note_id: int, package_suspended: Collection[int], now: datetime
) -> None:
    """A note back in its file: the cards its leaving suspended return, a leech tagged before
    it left too (`leech_action` tag: it was in the queue); a card that became a suspended leech
    while gone lost its mark then (`by_leech`). A card suspended so before schema 0030 returns
    unless it is a leech or the file itself suspends it (`package_suspended`: ords; an Anki
    package's, AnKing's waiting cards), as it did then: which cards were suspended before was
    not kept. Every mark of the note's cards goes."""
    c = cards.c
    session.execute(
        update(cards)
        .where(
            c.note_id == note_id,
            or_(
                c.suspended_gone == SUSPENDED_GONE,
                and_(
                    c.suspended_gone == SUSPENDED_GONE_BEFORE_0030,
                    c.leech.is_(False),
                    c.ord.not_in(sorted(package_suspended)),
                ),
            ),
        )
        .values(suspended=False, suspended_gone=NOT_GONE, version=c.version + 1, modified_at=now)
    )
    session.execute(
        update(cards)
        .where(c.note_id == note_id, c.suspended_gone != NOT_GONE)
        .values(suspended_gone=NOT_GONE)
    )


def come_back(session: Session, note_ids: list[int], now: datetime) -> None:
    """Notes back in their package with an older copy than flashcore's (kept as they are): no
    longer removed, their cards back as `cards_come_back` says (the package's suspension not
    read: an older copy's)."""
    session.execute(
        update(notes).where(notes.c.id.in_(note_ids)).values(removed=False, modified_at=now)
    )
    for note_id in note_ids:
        cards_come_back(session, note_id, (), now)
