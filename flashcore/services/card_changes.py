"""Changes to every card of a deck or topic (`cards suspend --deck D`), remembered so that
the newest of each kind can be undone exactly (`cards unsuspend --last`): the cards that
change changed go back, not every card of the scope (core.scoped_changes says how a card
changed since is judged). The record is written in the change's own transaction."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from flashcore.core.errors import FlashcoreError, NotFoundError
from flashcore.core.scoped_changes import (
    OPPOSITE,
    CardSet,
    Left,
    ScopedChange,
    plan_undo,
)
from flashcore.storage import repos
from flashcore.storage.uow import run_write

if TYPE_CHECKING:
    from flashcore.services.context import Collection


@dataclass(frozen=True, slots=True)
class ScopedResult:
    """A scoped change: the ids it changed and its number (None: nothing changed, nothing
    remembered)."""

    cards: list[int]
    change_id: int | None
    # Of `cards`, those already suspended (unsuspended) that a suspend (unsuspend) changed only
    # for a mark: a missed question's, a leech's.
    marks_only: list[int] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class UndoReport:
    """An undone scoped change: the cards put back, and those left as they are, by why."""

    action: str  # the verb that undid it (the change's opposite)
    change: ScopedChange
    cards: list[int]
    left: dict[Left, list[int]]

    def to_json(self) -> dict[str, Any]:
        return {
            "action": self.action,
            "undone": self.change.change_id,
            "undone_action": self.change.action,
            "cards": self.cards,
            "left": {why.value: ids for why, ids in self.left.items()},
        }


def change_in_scope(
    fc: Collection,
    action: str,
    values: dict[str, Any],
    *,
    deck: str | None,
    topic: str | None,
    new_only: bool,
) -> ScopedResult:
    """Apply `values` (the verb `action`'s) to every card of the scope that differs, and
    remember the change with the earlier values it overwrote, in one transaction."""

    def work(session: Any) -> ScopedResult:
        journal = repos.load_journal(session, fc.profile_id, lock=True)  # the row first
        where = repos.card_scope(session, fc.profile_id, deck, topic)
        ids = repos.ids_to_change(session, where, values, new_only=new_only, lock=True)
        if not ids:
            return ScopedResult([], None)
        before = repos.earlier_values(session, ids, action)
        repos.update_cards(session, ids, values)
        change = ScopedChange(
            change_id=journal.next_id,
            action=action,
            deck=deck,
            topic=topic,
            new_only=new_only,
            at=values["modified_at"],
            cards=CardSet.of(ids),
            before=before,
            value=values["buried_until"] if action == "bury" else None,
        )
        repos.save_journal(session, fc.profile_id, journal.add(change))
        already = before.get("suspended", {}).get(values.get("suspended"), ())
        return ScopedResult(ids, change.change_id, sorted(already))

    return run_write(fc.engine, work)


def note_set_by_hand(session: Any, fc: Collection, action: str, card_ids: list[int]) -> None:
    """In the transaction that set these cards by hand: a remembered change of the same kind
    leaves them as the student set them."""
    journal = repos.load_journal(session, fc.profile_id, lock=True)
    marked = journal.set_by_hand(action, card_ids)
    if marked != journal:
        repos.save_journal(session, fc.profile_id, marked)


def undo_scoped(fc: Collection, action: str, change_id: int | None = None) -> UndoReport:
    """Undo with `action` the newest remembered scoped change it undoes (`unsuspend` undoes a
    `suspend`), or change `change_id`; the change is then forgotten, but for its cards a later
    change still remembered took (`Journal.after_undo`). FlashcoreError when there is none."""
    wanted = OPPOSITE.get(action)
    if wanted is None:
        raise FlashcoreError(f"unknown card action {action!r}")
    now = fc.now()

    def work(session: Any) -> UndoReport:
        journal = repos.load_journal(session, fc.profile_id, lock=True)
        change = journal.latest(wanted) if change_id is None else journal.find(change_id)
        if change is None and change_id is not None:
            kept = ", ".join(str(c.change_id) for c in journal.changes) or "none"
            raise NotFoundError(
                f"no scoped change {change_id} remembered (the {len(journal.changes)} newest "
                f"are: {kept})"
            )
        if change is None:
            raise NotFoundError(
                f"no `cards {wanted} --deck/--topic` remembered to undo (flashcore remembers "
                "the newest ten scoped changes)"
            )
        if change.action != wanted:
            raise FlashcoreError(
                f"change {change.change_id} was a {change.action}: undo it with "
                f"`flashcore cards {OPPOSITE[change.action]} --undo {change.change_id}`"
            )
        marks = repos.card_marks(session, fc.profile_id, list(change.cards), lock=True)
        plan = plan_undo(change, marks, journal.taken_later(change), now)
        repos.write_undo(session, plan.writes, now)
        repos.save_journal(session, fc.profile_id, journal.after_undo(change, plan))
        left = {why: list(ids) for why, ids in plan.left.items()}
        return UndoReport(action, change, plan.reversed, left)

    return run_write(fc.engine, work)
