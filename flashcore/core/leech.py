"""Leeches: cards that keep lapsing. Anki's rule (a leech at the threshold, and again every
half-threshold lapses after it) and Anki's two actions (setting `leech_action`)."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class LeechAction(StrEnum):
    """What becomes of a leech: suspended (out of the queue until unsuspended, as Anki does by
    default) or tagged (marked a leech, it stays in the queue)."""

    SUSPEND = "suspend"
    TAG = "tag"


def is_leech(lapses_before: int, lapses_after: int, threshold: int) -> bool:
    """Anki's rule: a leech at the threshold, and again every half-threshold lapses after it."""
    if lapses_after <= lapses_before or lapses_after < threshold:
        return False
    step = max(1, threshold // 2)
    return (lapses_after - threshold) % step == 0


@dataclass(frozen=True, slots=True)
class Leeched:
    """An answer that made its card a leech (again): its lapses and what became of it."""

    lapses: int
    action: LeechAction

    @property
    def suspended(self) -> bool:
        return self.action is LeechAction.SUSPEND

    def text(self, card: str = "this card") -> str:
        """What happened, as the student reads it (the reviewer, `flashcore answer`)."""
        done = (
            "tagged leech and suspended (rewrite it, then unsuspend it)"
            if self.suspended
            else "tagged leech; it stays in your reviews (rewriting it helps)"
        )
        return f"Leech: {card} has lapsed {_times(self.lapses)}: {done}"

    def short_text(self, card: str = "this card") -> str:
        """The same in fewer words, for the reviewer's card border (at most 96 columns wide:
        `text` overflowed it and was cut): `The last card a leech (8 lapses): suspended;
        rewrite, then unsuspend`."""
        lapses = "1 lapse" if self.lapses == 1 else f"{self.lapses} lapses"
        done = (
            "suspended; rewrite, then unsuspend"
            if self.suspended
            else "tagged, stays in reviews; rewrite it"
        )
        return f"{card[:1].upper()}{card[1:]} a leech ({lapses}): {done}"

    def summary(self, card_id: int) -> tuple[str, ...]:
        """The session summary's lines: the card, and what to do about it."""
        card = f"card {card_id}: lapsed {_times(self.lapses)}"
        if self.suspended:
            return f"{card}, suspended", f"rewrite it, then `flashcore cards unsuspend {card_id}`"
        return (f"{card}, tagged leech (rewriting it helps)",)


def leech_note(lapses: int) -> str:
    """What the reviewer's why line says first of a card marked a leech."""
    return f"leech: lapsed {_times(lapses)} (rewriting it helps)"


def _times(n: int) -> str:
    return "once" if n == 1 else f"{n} times"


def leech_after(
    lapses_before: int, lapses_after: int, threshold: int, action: LeechAction
) -> Leeched | None:
    """The leech an answer makes (None: it makes none)."""
    if not is_leech(lapses_before, lapses_after, threshold):
        return None
    return Leeched(lapses_after, action)


def listed(card_id: int, lapses: int, suspended: bool) -> str:
    """A leech as the weakness report lists it under a weak topic: `card 12: lapsed 9 times,
    suspended` (out of the reviews until unsuspended) or `..., tagged leech, in your reviews`."""
    held = "suspended" if suspended else "tagged leech, in your reviews"
    return f"card {card_id}: lapsed {_times(lapses)}, {held}"
