"""The profile's remembered scoped changes (`core.scoped_changes.Journal`), kept in its row
beside its settings, under `JOURNAL_KEY` of the same JSON document: written in the
transaction of the change itself (never a side file that could disagree with the cards), and
no schema change. Every writer of the settings keeps it (`save_settings`); flashcore's
settings readers skip a key that is no setting."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import false, select, true, update

from flashcore.core.scoped_changes import RESTORED, CardMarks, Journal, plain
from flashcore.storage.repos.common import chunks
from flashcore.storage.tables import cards, notes, profiles

if TYPE_CHECKING:
    from flashcore.storage.repos.common import Executor

__all__ = [
    "JOURNAL_KEY",
    "card_marks",
    "earlier_values",
    "forget_deleted_cards",
    "load_journal",
    "save_journal",
    "write_undo",
]

JOURNAL_KEY = "scoped_changes"


def _stored(session: Executor, profile_id: int, *, lock: bool) -> dict[str, Any]:
    query = select(profiles.c.settings).where(profiles.c.id == profile_id)
    if lock:  # PostgreSQL: two writers of the document take turns (SQLite's write lock does)
        query = query.with_for_update()
    raw = session.execute(query).scalar()
    return dict(raw) if isinstance(raw, dict) else {}


def load_journal(session: Executor, profile_id: int, *, lock: bool = False) -> Journal:
    """The profile's journal; `lock`: its row held until the transaction ends (take it
    before the cards are written: every writer of the row takes it first)."""
    return Journal.from_json(_stored(session, profile_id, lock=lock).get(JOURNAL_KEY))


def save_journal(session: Executor, profile_id: int, journal: Journal) -> None:
    document = _stored(session, profile_id, lock=True)
    document[JOURNAL_KEY] = journal.to_json()
    session.execute(update(profiles).where(profiles.c.id == profile_id).values(settings=document))


def kept_journal(session: Executor, profile_id: int) -> Any:
    """The stored journal as it is (None: none), for a writer of the settings to keep."""
    return _stored(session, profile_id, lock=True).get(JOURNAL_KEY)


def card_marks(
    session: Executor, profile_id: int, ids: Sequence[int], *, lock: bool = False
) -> dict[int, CardMarks]:
    """What an undo looks at on each of these cards of the profile that still exists. `lock`:
    their rows held until the transaction ends (PostgreSQL: another process's write to one,
    such as an answer that makes it a leech, waits for the undo instead of being overwritten
    by it; SQLite's write lock already keeps every other writer out)."""
    c = cards.c
    out: dict[int, CardMarks] = {}
    for chunk in chunks(sorted(set(ids)), 900):
        query = (
            select(c.id, c.suspended, c.leech, c.unsuspended_by, c.buried_until, c.flagged,
                   notes.c.removed, c.suspended_gone)
            .join(notes, notes.c.id == c.note_id)
            .where(c.profile_id == profile_id, c.id.in_(chunk))
        )  # fmt: skip
        rows = session.execute(query.with_for_update(of=cards) if lock else query)
        for row in rows:
            out[row.id] = CardMarks(
                suspended=bool(row.suspended),
                leech=bool(row.leech),
                unsuspended_by=row.unsuspended_by,
                buried_until=row.buried_until,
                flagged=bool(row.flagged),
                note_removed=bool(row.removed),
                suspended_gone=int(row.suspended_gone),
            )
    return out


def earlier_values(
    session: Executor, ids: Sequence[int], action: str
) -> dict[str, dict[Any, tuple[int, ...]]]:
    """The values of the columns `action` writes (`RESTORED`) these cards hold that are not
    plain (`plain`), as column -> value -> cards: read before the change writes them, so that
    an undo puts them back. Only the rows that hold one are read (a 30,000-card deck: none, or
    a few)."""
    found: dict[str, dict[Any, list[int]]] = {}
    wanted = sorted(set(ids))
    for column in RESTORED[action]:
        col = cards.c[column]
        usual = plain(action, column)
        held = (
            col.is_(true()) if usual is False else col.is_(false()) if usual is True
            else col.is_not(None) if usual is None else col != usual
        )  # fmt: skip
        lo, hi = (wanted[0], wanted[-1]) if wanted else (0, -1)
        rows = session.execute(
            select(cards.c.id, col).where(cards.c.id.between(lo, hi), held)
        )  # a range of the primary key, the few that hold one kept below
        members = set(wanted)
        for card, value in rows:
            if card in members:
                found.setdefault(column, {}).setdefault(value, []).append(card)
    return {
        column: {value: tuple(ids) for value, ids in groups.items()}
        for column, groups in found.items()
    }


def write_undo(
    session: Executor,
    writes: Sequence[tuple[tuple[tuple[str, Any], ...], tuple[int, ...]]],
    now: datetime,
) -> None:
    """Apply an undo's writes (values -> cards); each card's version goes up."""
    for values, ids in writes:
        for chunk in chunks(list(ids), 900):
            session.execute(
                update(cards)
                .where(cards.c.id.in_(chunk))
                .values(version=cards.c.version + 1, modified_at=now, **dict(values))
            )


def forget_deleted_cards(session: Executor, profile_id: int, card_ids: Sequence[int]) -> None:
    """In the transaction that deletes these cards (`decks add --prune`): the remembered
    changes that hold one mark it deleted (`Journal.forget`), so that no undo touches a card
    made later under its id."""
    seen = load_journal(session, profile_id)
    if not card_ids or seen.forget(card_ids) == seen:
        return  # held by no remembered change: the profile's row is not written
    journal = load_journal(session, profile_id, lock=True)  # read again, the row held
    forgotten = journal.forget(card_ids)
    if forgotten != journal:
        save_journal(session, profile_id, forgotten)
