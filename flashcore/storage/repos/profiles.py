"""Profiles and their settings."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import (
    func,
    insert,
    select,
    update,
)
from sqlalchemy.exc import IntegrityError

from flashcore.storage.tables import (
    decks,
    profiles,
    qbank_attempts,
)

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    from flashcore.storage.repos.common import Executor


def find_profile(session: Executor, name: str) -> tuple[int, dict[str, Any]] | None:
    row = session.execute(
        select(profiles.c.id, profiles.c.settings).where(profiles.c.name == name)
    ).first()
    return None if row is None else (row.id, dict(row.settings or {}))


def profile_settings(session: Executor, profile_id: int) -> dict[str, Any] | None:
    """A profile's stored settings, or None when there is no such profile."""
    raw = session.execute(
        select(profiles.c.settings).where(profiles.c.id == profile_id)
    ).scalar_one_or_none()
    return None if raw is None else dict(raw)


def create_profile(session: Session, name: str, settings: dict[str, Any], now: datetime) -> int:
    return int(
        session.execute(
            insert(profiles)
            .values(name=name, settings=settings, created_at=now)
            .returning(profiles.c.id)
        ).scalar_one()
    )


def find_or_create_profile(
    session: Session, name: str, settings: dict[str, Any], now: datetime
) -> tuple[int, dict[str, Any]]:
    """The profile `name`, created with `settings` if it does not exist. Two processes opening a
    new database at once may both miss it (PostgreSQL reads committed rows): the second one's
    insert fails on the unique name inside a savepoint, and it reads the first one's row."""
    found = find_profile(session, name)
    if found is not None:
        return found
    try:
        with session.begin_nested():
            return create_profile(session, name, settings, now), settings
    except IntegrityError:
        again = find_profile(session, name)
        if again is None:
            raise
        return again


def list_profiles(session: Session) -> list[tuple[str, datetime, int]]:
    rows = session.execute(
        select(profiles.c.name, profiles.c.created_at, func.count(decks.c.id))
        .outerjoin(decks, decks.c.profile_id == profiles.c.id)
        .group_by(profiles.c.id)
        .order_by(profiles.c.name)
    )
    return [(r[0], r[1], int(r[2])) for r in rows]


def save_settings(session: Session, profile_id: int, settings: dict[str, Any]) -> None:
    """Store the profile's settings; the scoped changes remembered in the same document
    (`repos.scoped_changes`) are kept."""
    from flashcore.storage.repos.scoped_changes import JOURNAL_KEY, kept_journal

    journal = kept_journal(session, profile_id)
    document = {k: v for k, v in settings.items() if k != JOURNAL_KEY}
    if journal is not None:
        document[JOURNAL_KEY] = journal
    session.execute(update(profiles).where(profiles.c.id == profile_id).values(settings=document))


def has_any_deck(session: Session, profile_id: int) -> bool:
    return (
        session.execute(select(decks.c.id).where(decks.c.profile_id == profile_id).limit(1)).first()
        is not None
    )


def has_qbank_attempts(session: Executor, profile_id: int) -> bool:
    """Whether any question-bank attempt was ever imported into the profile."""
    from flashcore.storage.repos.qbank import shown

    found = session.execute(
        select(qbank_attempts.c.id)
        .where(qbank_attempts.c.profile_id == profile_id, shown(profile_id))
        .limit(1)
    ).first()
    return found is not None
