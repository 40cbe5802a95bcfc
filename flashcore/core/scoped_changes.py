"""A change made to every card of a scope (`cards suspend --deck D`), remembered so that it can
be undone exactly (`cards unsuspend --last`): the cards it changed, not every card of the scope
that is suspended now (an Anki package brings AnKing's cards suspended, waiting for a missed
question; they were never part of the change and stay as they are).

The profile keeps its latest `KEPT` scoped changes (`Journal`). A card changed since is judged
card by card (`plan_undo`): a card the student set by hand since (`cards unsuspend 12`, the
reviewer's keys) or that a later scoped change of the same kind took is left as it is, and so
is a card that no longer holds what the change gave it (a missed question unsuspended it, an
Anki import flagged it, a burial ended); a card that holds it again by a way that restores the
change's own state (`qbank remove` suspends again what its miss unsuspended) is reversed."""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime
from enum import Enum
from typing import Any

KEPT = 10  # scoped changes a profile remembers (the oldest go first)
# Characters of card ids the kept changes may hold together (the newest is kept whatever its
# size): the record is read with the settings by every command (a 2 MB record, ten changes
# of 35,000 scattered cards, cost ~6 ms CPU a read; 200 KB ~0.6 ms).
BUDGET = 200_000

# Each verb, the column it sets and the verb that undoes it.
OPPOSITE = {
    "suspend": "unsuspend",
    "unsuspend": "suspend",
    "bury": "unbury",
    "unbury": "bury",
    "flag": "unflag",
    "unflag": "flag",
}
FIELD = {
    "suspend": "suspended",
    "unsuspend": "suspended",
    "bury": "buried_until",
    "unbury": "buried_until",
    "flag": "flagged",
    "unflag": "flagged",
}
# The columns each verb writes whose earlier values an undo puts back (a flag's earlier value
# is the opposite one). A suspend or unsuspend also writes the marks beside `suspended`, so
# its scope holds cards that were so already and differed only by a mark (an unsuspended card
# whose missed question had unsuspended it): their `suspended` is remembered too. A suspend
# remembers the leech mark: a leech tagged before it (`leech_action` tag) is no leech since.
RESTORED = {
    "suspend": ("suspended", "unsuspended_by", "leech", "suspended_gone"),
    "unsuspend": ("suspended", "leech", "unsuspended_by", "suspended_gone"),
    "bury": ("buried_until",),
    "unbury": ("buried_until",),
    "flag": (),
    "unflag": (),
}
# A column's value when nothing was remembered for a card (`suspended`: see `plain`).
# `suspended_gone`: 0, not suspended by its note's leaving (storage.repos.note_returns).
PLAIN: dict[str, Any] = {
    "unsuspended_by": None, "leech": False, "buried_until": None, "suspended_gone": 0,
}  # fmt: skip


def plain(action: str, column: str) -> Any:
    """The earlier value of `column` an undo of `action` puts back when the change remembered
    none for a card: for `suspended`, the opposite of what the change wrote; only the cards
    that held another value are remembered (`ScopedChange.before`)."""
    if column == "suspended":
        return action == "unsuspend"
    return PLAIN[column]


class Left(Enum):
    """Why an undo leaves a card of the change as it is."""

    GONE = "gone"  # the card was deleted since
    BY_HAND = "by_hand"  # set by hand since (`cards unsuspend 12`, the reviewer)
    LATER_CHANGE = "later_change"  # a later scoped change of the same kind took it
    MISSED_QUESTION = "missed_question"  # a missed question unsuspended it
    CHANGED = "changed"  # no longer as the change left it (an Anki import, a leech, ...)
    LEECH = "leech"  # suspended since as a leech
    NOTE_REMOVED = "note_removed"  # its note is no longer in its deck file
    ENDED = "ended"  # the burial is over (undoing an unbury: the one it had is over too)


@dataclass(frozen=True, slots=True)
class CardSet:
    """Card ids as ascending runs of consecutive ids (a deck's cards mostly are: 35,000 of
    them can be one run), so that a record is read, asked and written without expanding it."""

    runs: tuple[tuple[int, int], ...] = ()

    @classmethod
    def of(cls, ids: Iterable[int]) -> CardSet:
        runs: list[tuple[int, int]] = []
        for card in sorted(set(ids)):
            if runs and card == runs[-1][1] + 1:
                runs[-1] = (runs[-1][0], card)
            else:
                runs.append((card, card))
        return cls(tuple(runs))

    @classmethod
    def parse(cls, text: str) -> CardSet:
        """The set `text` (as `text()` writes it: "1-3,7") holds; ValueError when it is not
        such a text (runs out of order or overlapping)."""
        runs = []
        last = -1
        for part in filter(None, text.split(",")):
            first, _, end = part.partition("-")
            a = int(first)
            b = int(end) if end else a
            if a <= last or b < a:
                raise ValueError("card runs out of order")
            runs.append((a, b))
            last = b
        return cls(tuple(runs))

    def text(self) -> str:
        return ",".join(str(a) if a == b else f"{a}-{b}" for a, b in self.runs)

    def __iter__(self) -> Iterator[int]:
        for first, last in self.runs:
            yield from range(first, last + 1)

    def __len__(self) -> int:
        return sum(last - first + 1 for first, last in self.runs)

    def __contains__(self, card: object) -> bool:
        if not isinstance(card, int):
            return False
        at = bisect_right(self.runs, (card, _MAX)) - 1
        return at >= 0 and self.runs[at][0] <= card <= self.runs[at][1]


_MAX = 1 << 62


@dataclass(frozen=True, slots=True)
class ScopedChange:
    """One remembered scoped change. `before`: the earlier values of the columns `RESTORED`
    names that were not plain, as column -> value -> cards; `value`: a burial's end."""

    change_id: int
    action: str
    deck: str | None
    topic: str | None
    new_only: bool
    at: datetime
    cards: CardSet
    by_hand: CardSet = CardSet()
    before: Mapping[str, Mapping[Any, tuple[int, ...]]] = field(default_factory=dict)
    value: datetime | None = None
    deleted: CardSet = CardSet()  # deleted since (`decks add --prune`): the id may be reused

    @property
    def field(self) -> str:
        return FIELD[self.action]

    def size(self) -> int:
        """The characters of card ids it holds in the record."""
        return len(self.cards.text()) + len(self.by_hand.text()) + len(self.deleted.text())

    def scope_text(self) -> str:
        parts = [f"{k} {v}" for k, v in (("deck", self.deck), ("topic", self.topic)) if v]
        return " and ".join(parts) + (" (new cards)" if self.new_only else "")

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.change_id,
            "action": self.action,
            "deck": self.deck,
            "topic": self.topic,
            "new": self.new_only,
            "at": self.at.isoformat(),
            "cards": self.cards.text(),
            "by_hand": self.by_hand.text(),
            "deleted": self.deleted.text(),
            "before": {
                column: [[_json_value(v), pack_ids(ids)] for v, ids in groups.items()]
                for column, groups in self.before.items()
            },
            "value": None if self.value is None else self.value.isoformat(),
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> ScopedChange:
        action = str(data["action"])
        if action not in OPPOSITE:
            raise ValueError(f"unknown action {action!r}")
        before = {
            str(column): {_stored_value(column, v): tuple(unpack_ids(ids)) for v, ids in groups}
            for column, groups in data["before"].items()
        }
        value = data.get("value")
        return cls(
            change_id=int(data["id"]),
            action=action,
            deck=None if data["deck"] is None else str(data["deck"]),
            topic=None if data["topic"] is None else str(data["topic"]),
            new_only=bool(data["new"]),
            at=_aware(str(data["at"])),
            cards=CardSet.parse(str(data["cards"])),
            by_hand=CardSet.parse(str(data["by_hand"])),
            deleted=CardSet.parse(str(data.get("deleted", ""))),
            before=before,
            value=None if value is None else _aware(str(value)),
        )


@dataclass(frozen=True, slots=True)
class Journal:
    """A profile's remembered scoped changes, oldest first, and the next change's id."""

    changes: tuple[ScopedChange, ...] = ()
    next_id: int = 1

    def to_json(self) -> dict[str, Any]:
        return {"next": self.next_id, "changes": [c.to_json() for c in self.changes]}

    @classmethod
    def from_json(cls, data: object) -> Journal:
        """The journal stored as `data`; an empty one when it is missing or damaged (a
        damaged record can only cost an undo, never do a wrong one)."""
        if not isinstance(data, Mapping):
            return cls()
        try:
            changes = tuple(ScopedChange.from_json(c) for c in data["changes"])
            return cls(changes, max(int(data["next"]), *(c.change_id + 1 for c in changes), 1))
        except (KeyError, TypeError, ValueError, AttributeError):
            return cls()

    def add(self, change: ScopedChange) -> Journal:
        """With `change` (its id is the journal's next) as the newest, the oldest past `KEPT`
        or `BUDGET` dropped."""
        kept = [*self.changes[-(KEPT - 1) :], change] if KEPT > 1 else [change]
        sizes = [c.size() for c in kept]
        while len(kept) > 1 and sum(sizes) > BUDGET:
            del kept[0], sizes[0]
        return Journal(tuple(kept), change.change_id + 1)

    def find(self, change_id: int) -> ScopedChange | None:
        return next((c for c in self.changes if c.change_id == change_id), None)

    def latest(self, action: str) -> ScopedChange | None:
        """The newest remembered change made with `action`."""
        return next((c for c in reversed(self.changes) if c.action == action), None)

    def without(self, change_id: int) -> Journal:
        return replace(self, changes=tuple(c for c in self.changes if c.change_id != change_id))

    def after_undo(self, change: ScopedChange, plan: UndoPlan) -> Journal:
        """The journal once `plan` undid `change`: the change keeps the cards a later change
        took (they come free when that one is undone), and is forgotten when it has none."""
        waiting = plan.left.get(Left.LATER_CHANGE, ())
        if not waiting:
            return self.without(change.change_id)
        mine = [card for card in change.by_hand if card in set(waiting)]
        kept = replace(change, cards=CardSet.of(waiting), by_hand=CardSet.of(mine),
                       deleted=CardSet())  # fmt: skip
        return replace(
            self,
            changes=tuple(kept if c.change_id == change.change_id else c for c in self.changes),
        )

    def set_by_hand(self, action: str, card_ids: Iterable[int]) -> Journal:
        """The cards set by hand with `action` marked in every change of the same field that
        holds them (an undo leaves them as the student set them); the same journal when none
        does."""
        wanted = set(card_ids)
        changes = []
        for change in self.changes:
            if change.field == FIELD[action]:
                taken = [
                    c
                    for c in wanted
                    if c in change.cards and c not in change.by_hand and c not in change.deleted
                ]
                if taken:
                    change = replace(change, by_hand=CardSet.of([*change.by_hand, *taken]))
            changes.append(change)
        return replace(self, changes=tuple(changes))

    def forget(self, card_ids: Iterable[int]) -> Journal:
        """The journal once these cards are deleted: a change that holds one marks it deleted
        (an undo leaves it as gone, and never touches a card made later under its id, as
        SQLite may give it); the same journal when none holds one."""
        gone = set(card_ids)
        changes = []
        for change in self.changes:
            held = [c for c in gone if c in change.cards and c not in change.deleted]
            if held:
                change = replace(change, deleted=CardSet.of([*change.deleted, *held]))
            changes.append(change)
        return replace(self, changes=tuple(changes))

    def taken_later(self, change: ScopedChange) -> frozenset[int]:
        """The cards of `change` that a later remembered change of the same field changed."""
        later = [
            c for c in self.changes if c.change_id > change.change_id and c.field == change.field
        ]
        return frozenset(card for c in later for card in c.cards)  # fmt: skip


@dataclass(frozen=True, slots=True)
class CardMarks:
    """What an undo looks at on a card now."""

    suspended: bool
    leech: bool
    unsuspended_by: int | None
    buried_until: datetime | None
    flagged: bool
    note_removed: bool
    suspended_gone: int = 0  # `cards.suspended_gone` (0: not suspended by its note's leaving)


@dataclass(frozen=True, slots=True)
class UndoPlan:
    """The writes that undo a change (values -> cards) and the cards left, by why."""

    writes: tuple[tuple[tuple[tuple[str, Any], ...], tuple[int, ...]], ...]
    left: Mapping[Left, tuple[int, ...]]

    @property
    def reversed(self) -> list[int]:
        return sorted(card for _, cards in self.writes for card in cards)


def plan_undo(
    change: ScopedChange,
    marks: Mapping[int, CardMarks],
    taken_later: frozenset[int],
    now: datetime,
) -> UndoPlan:
    """How to undo `change` now: each of its cards that still holds what it gave it goes back
    to its earlier values; the others are left, with why (see the module)."""
    earlier: dict[int, dict[str, Any]] = {}
    for column, groups in change.before.items():
        for value, cards in groups.items():
            for card in cards:
                earlier.setdefault(card, {})[column] = value
    writes: dict[tuple[tuple[str, Any], ...], list[int]] = {}
    left: dict[Left, list[int]] = {}
    for card in change.cards:
        mark = marks.get(card)
        why = _left(change, card, mark, taken_later, now, earlier.get(card, {}))
        if why is not None:
            left.setdefault(why, []).append(card)
            continue
        assert mark is not None
        values = _undo_values(change, earlier.get(card, {}), now)
        if values is None:
            left.setdefault(Left.ENDED, []).append(card)
            continue
        if "suspended_gone" in values and mark.note_removed:
            # A change made before 56728f8 neither cleared nor remembered the mark of the
            # note's leaving (a change since clears it): the mark the card holds is kept.
            values["suspended_gone"] = earlier.get(card, {}).get(
                "suspended_gone", mark.suspended_gone
            )
        if values.get("suspended_gone") and not mark.note_removed:
            # Suspended by its note's leaving, which has come back since: as the return left it.
            values.update(suspended=False, suspended_gone=PLAIN["suspended_gone"])
        writes.setdefault(tuple(sorted(values.items())), []).append(card)
    return UndoPlan(
        tuple((values, tuple(cards)) for values, cards in writes.items()),
        {why: tuple(cards) for why, cards in left.items()},
    )


def _left(
    change: ScopedChange,
    card: int,
    mark: CardMarks | None,
    taken_later: frozenset[int],
    now: datetime,
    earlier: Mapping[str, Any],
) -> Left | None:
    if mark is None or card in change.deleted:
        return Left.GONE
    if card in change.by_hand:
        return Left.BY_HAND
    if card in taken_later:
        return Left.LATER_CHANGE
    if change.action == "suspend":
        if not mark.suspended:
            return Left.MISSED_QUESTION if mark.unsuspended_by is not None else Left.CHANGED
        if mark.leech and not earlier.get("leech", False):  # a leech tagged before stays
            return Left.LEECH
        if mark.note_removed and not earlier.get("suspended_gone"):
            return Left.NOTE_REMOVED  # (one its leaving suspended gets that mark back)
    elif not _holds(change, mark):
        return Left.CHANGED
    elif change.action == "bury" and (change.value is None or change.value <= now):
        return Left.ENDED
    return None


def _holds(change: ScopedChange, mark: CardMarks) -> bool:
    """Whether the card still holds what `change` (not a suspend) gave it."""
    if change.action == "unsuspend":
        return not mark.suspended
    if change.action == "bury":
        return mark.buried_until == change.value
    if change.action == "unbury":
        return mark.buried_until is None
    return mark.flagged == (change.action == "flag")


def _undo_values(
    change: ScopedChange, earlier: Mapping[str, Any], now: datetime
) -> dict[str, Any] | None:
    """The values that put a card back as it was before `change`; None when there is nothing
    to put back (the burial an unbury ended would be over by now)."""
    values = {
        column: earlier.get(column, plain(change.action, column))
        for column in RESTORED[change.action]
    }
    if change.action in ("flag", "unflag"):
        values["flagged"] = change.action == "unflag"
    elif change.action in ("bury", "unbury"):
        until = values["buried_until"]
        if until is not None and until <= now:
            values["buried_until"] = None  # an earlier burial that is over: none
        if change.action == "unbury" and values["buried_until"] is None:
            return None
    return values


def pack_ids(ids: Iterable[int]) -> str:
    """Ids as ascending runs: [7, 1, 2, 3] -> "1-3,7"."""
    return CardSet.of(ids).text()


def unpack_ids(text: str) -> list[int]:
    return list(CardSet.parse(text))


def _json_value(value: Any) -> Any:
    return value.isoformat() if isinstance(value, datetime) else value


def _stored_value(column: str, value: Any) -> Any:
    if column == "buried_until":
        return _aware(str(value))
    if column in ("leech", "suspended"):
        return bool(value)
    return None if value is None else int(value)


def _aware(text: str) -> datetime:
    when = datetime.fromisoformat(text)
    if when.tzinfo is None:
        raise ValueError(f"naive time {text!r}")
    return when
