"""The reviewer's next card: today's queue and the card to show first, with why it is there,
and the card's texts as the screen draws them (fetched and built in a worker, off the screen's
thread: the screen only hands them to its widgets)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from rich.text import Text

from flashcore.core.leech import leech_note
from flashcore.tui.widgets.card_text import clean, render_plain, render_segments

if TYPE_CHECKING:
    from flashcore.services.study import CardView, StudySession, TodayQueue
    from flashcore.tui.context import Context

UNDO_REASON = "shown again after undo"


@dataclass(frozen=True, slots=True)
class CardTexts:
    """One card's texts as the reviewer shows them (never markup: see widgets.card_text)."""

    front: Text
    answer: Text  # a basic card's back; a cloze's whole text with its answers (replaces the front)
    extra: Text
    why: Text


def card_texts(view: CardView, reason: str) -> CardTexts:
    """The texts of `view`, built before the card is shown (in the fetching thread)."""
    why = Text("why: ", style="dim")
    if view.leech:
        why.append(leech_note(view.lapses) + "; ", style="bold yellow")
    why.append(clean(reason).replace("\n", " "), style="italic")
    return CardTexts(
        front=render_segments(view.front),
        answer=render_segments(view.back),
        extra=render_plain(view.extra or "", style="italic"),
        why=why,
    )


def meta_text(view: CardView) -> Text:
    """The line above a card: its deck, kind and state, and whether it is flagged."""
    meta = Text(clean(view.deck), style="dim")
    meta.append(f" · {view.kind} · {view.state.label}", style="dim")
    if view.flagged:
        meta.append("  ⚑ flagged", style="bold magenta")
    return meta


@dataclass(frozen=True, slots=True)
class NextCard:
    """What to show next: a card (with why it is here, and its texts), or why there is none."""

    queue: TodayQueue
    view: CardView | None
    reason: str
    tomorrow: TodayQueue | None  # tomorrow's first queue of this scope, when nothing is left
    weak_topic: str | None = None  # the weak topic that brought the card, if one did
    texts: CardTexts | None = None  # the card's texts (with view)


def fetch_next(
    ctx: Context,
    deck: str | None,
    topic: str | None,
    prefer: int | None = None,
    study: StudySession | None = None,
    *,
    outlook: bool = True,
) -> NextCard:
    """Today's queue and its first card (or `prefer`, the card just undone). With a session
    the ranked queue is kept between answers; without one it is rebuilt. When nothing is left,
    tomorrow's first queue comes with it, unless `outlook=False` (the answer's fetch: building
    it is a whole ranking, ~2 s at 200,000 new cards, and the screen reads it after the done
    notice is shown). Blocking: run it in a worker."""
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
    ahead = None
    if outlook and view is None and queue.next_learning_due is None:
        ahead = tomorrow(fc, deck=deck, topic=topic)
    texts = None if view is None else card_texts(view, reason)
    weak_topic = item.weak_topic if item is not None else None
    return NextCard(queue, view, reason, ahead, weak_topic, texts)
