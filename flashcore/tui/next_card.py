"""The reviewer's next card: today's queue and the card to show first, with why it is there
(fetched in a worker, off the screen's thread)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from flashcore.services.study import CardView, StudySession, TodayQueue
    from flashcore.tui.context import Context

UNDO_REASON = "shown again after undo"


@dataclass(frozen=True, slots=True)
class NextCard:
    """What to show next: a card (with why it is here), or why there is none."""

    queue: TodayQueue
    view: CardView | None
    reason: str
    tomorrow: TodayQueue | None  # tomorrow's first queue of this scope, when nothing is left
    weak_topic: str | None = None  # the weak topic that brought the card, if one did


def fetch_next(
    ctx: Context,
    deck: str | None,
    topic: str | None,
    prefer: int | None = None,
    study: StudySession | None = None,
) -> NextCard:
    """Today's queue and its first card (or `prefer`, the card just undone). With a session
    the ranked queue is kept between answers; without one it is rebuilt. Blocking: run it in
    a worker."""
    from flashcore.services.study import build_queue, show, tomorrow

    fc = ctx.fc
    if prefer is not None or study is None:
        if study is not None:
            study.invalidate()
        # Only the first card is shown: limit=1 keeps the counts but skips the rest's details.
        queue = build_queue(fc, deck=deck, topic=topic, limit=None if prefer is not None else 1)
    else:
        queue = study.queue(details=False)  # the card's details come with show()
    view = None
    reason = ""
    look = study.show if study is not None else (lambda card_id: show(fc, card_id))
    item = None
    if prefer is not None:
        item = next((i for i in queue.items if i.card_id == prefer), None)
        view = look(prefer)
        reason = item.reason if item is not None else UNDO_REASON
    elif queue.items:
        item = queue.items[0]
        view = look(item.card_id)
        reason = item.reason
    outlook = None
    if view is None and queue.next_learning_due is None:
        outlook = tomorrow(fc, deck=deck, topic=topic)
    return NextCard(queue, view, reason, outlook, item.weak_topic if item is not None else None)
