"""The decks with today's counts (`decks list`, Home's tree): each deck's queue as `due --deck`
holds it, every scope ranked from one read of the collection."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from flashcore.storage import repos
from flashcore.storage.uow import reading

if TYPE_CHECKING:
    from collections.abc import Callable, Iterable

    from flashcore.services.context import Collection
    from flashcore.services.queue import TodayQueue


@dataclass(frozen=True, slots=True)
class DeckSummary:
    deck_id: int
    key: str
    name: str
    description: str
    cards: int
    new: int
    learning: int
    due: int
    suspended: int

    def to_json(self) -> dict[str, Any]:
        return {
            "deck_id": self.deck_id,
            "key": self.key,
            "name": self.name,
            "description": self.description,
            "cards": self.cards,
            "new": self.new,
            "learning": self.learning,
            "due": self.due,
            "suspended": self.suspended,
        }


def list_decks(fc: Collection) -> list[DeckSummary]:
    """Decks with today's counts: new, learning and due are what `flashcore due --deck NAME`
    holds (sub-decks included, today's limits applied, pulled-forward cards in, siblings
    buried), so every screen shows the same numbers; `cards`, `suspended`: its own cards."""
    return decks_and_counts(fc)[0]


def decks_and_counts(
    fc: Collection, more: Callable[[list[str]], Iterable[str]] | None = None
) -> tuple[list[DeckSummary], dict[str, TodayQueue]]:
    """`list_decks`, and the queue counts of more scopes as `deck_counts` gives them (`more`:
    the deck names -> those scopes, e.g. Home's parent nodes), every scope ranked from one
    read of the collection (Home read it twice: ~0.6 s of its ~2.4 at 200,000 cards)."""
    from flashcore.services.counts import deck_counts

    now = fc.now()
    with reading(fc.engine) as session:
        decks = repos.deck_rows(session, fc.profile_id)
        counts = repos.deck_state_counts(session, fc.profile_id, now, fc.rollover(now))
    names = [name for _id, _key, name, _desc in decks]
    extra = [path for path in (more(names) if more is not None else ()) if path not in names]
    queues = deck_counts(fc, names + extra)
    out = []
    for deck_id, key, name, desc in decks:
        own = counts.get(deck_id, {})
        q = queues[name]
        out.append(
            DeckSummary(
                deck_id, key, name, desc, cards=own.get("cards", 0), new=q.new,
                learning=q.learning, due=q.review, suspended=own.get("suspended", 0),
            )
        )  # fmt: skip
    return out, {path: queues[path] for path in extra}
