"""What Anki did to a card after an answer given here, which keeps that answer from `undo`."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from flashcore.core.errors import FlashcoreError
from flashcore.storage import anki_sync, repos

if TYPE_CHECKING:
    from flashcore.services.context import Collection


def refuse_if_anki_followed(fc: Collection, session: Any, log: dict[str, Any]) -> None:
    """FlashcoreError (nothing changed) when the answer `log` was followed by a newer state
    from Anki (an import took the card's state after it), or by an answer given in Anki (a
    merged card, answered on the phone since: restoring the state before this answer would
    leave the phone's later answer in the log but not in the card's state)."""
    card_id, at = log["card_id"], log["reviewed_at"]
    minute = fc.settings.local_minute
    anchored = anki_sync.anchor_time(session, card_id)
    if anchored is not None and anchored >= at:
        raise FlashcoreError(
            f"card {card_id}: its answer of {minute(at)} "
            "was followed by a newer state from Anki (an import); not undone"
        )
    later = repos.answered_after(session, card_id, at)
    if later is not None:
        raise FlashcoreError(
            f"card {card_id}: its answer of {minute(at)} was followed by an answer "
            f"given in Anki at {minute(later)} (an import); not undone"
        )
