"""How the reviewer words today's queue: its counts, what the limits hold back, the wait for
the next learning step."""

from __future__ import annotations

import shlex
from datetime import datetime
from typing import TYPE_CHECKING

from rich.text import Text

from flashcore.tui.session import plural
from flashcore.tui.widgets.card_text import shorten_topic

if TYPE_CHECKING:
    from flashcore.services.study import TodayQueue


def held_text(queue: TodayQueue, deck: str | None, topic: str | None) -> Text:
    """What today's limits keep out of this scope's queue, and how to see it."""
    text = Text()
    if queue.new_squeezed:
        text.append(
            f"{plural(queue.new_squeezed, 'new card')} of today's {queue.new_limit} "
            f"{'waits' if queue.new_squeezed == 1 else 'wait'}: new "
            "cards count against the review limit, which today's reviews and new cards fill",
            style="bold",
        )
        text.append("\n(flashcore config set new_ignores_review_limit true, or a larger "
                    "reviews_per_day).\n\n")  # fmt: skip
    elif queue.new_held:
        text.append(
            f"{plural(queue.new_held, 'more new card')} wait beyond today's limit of "
            f"{queue.new_limit} new. Press + to study them today",
            style="bold",
        )
        scope = "".join(
            f" --{flag} {shlex.quote(value)}" for flag, value in (("deck", deck), ("topic", topic))
            if value is not None
        )  # fmt: skip
        text.append(f"\n(or: flashcore review{scope} --extra-new {queue.extra_new_for_all}).\n\n")
    if queue.review_held:
        text.append(
            f"{plural(queue.review_held, 'more due review')} wait beyond today's review limit "
            "(flashcore config set reviews_per_day N).\n\n",
            style="bold",
        )
    return text


def counts_text(queue: TodayQueue | None) -> Text:
    text = Text()
    if queue is None:
        return text
    text.append(f"new {queue.new}", style="blue")
    text.append(" · ")
    text.append(f"learn {queue.learning}", style="red")
    text.append(" · ")
    text.append(f"due {queue.review}", style="green")
    return text


def wait_label(due: datetime, now: datetime) -> str:
    seconds = max(0, int((due - now).total_seconds()))
    if seconds < 60:
        return f"{seconds}s"
    return f"{(seconds + 59) // 60}m"


def scope_text(deck: str | None, topic: str | None, queue: TodayQueue | None, width: int) -> Text:
    """`Topic …::Hypersensitivity::Type I   new 5 · learn 0 · due 2`: the counts always fit in
    `width`; a long deck or topic keeps its end."""
    counts = Text()
    if queue is not None:
        counts.append("   ")
        counts.append_text(counts_text(queue))
    text = Text()
    if topic:
        text.append("Topic ", style="dim")
        name = topic
    else:
        name = deck or "All decks"
    room = max(8, width - len(text) - len(counts))
    text.append(shorten_topic(name, room), style="bold")
    text.append_text(counts)
    return text


def waiting_text(next_due: datetime | None, now: datetime) -> Text:
    """Only learning cards due later are left."""
    text = Text("Nothing to answer right now.\n\n", style="bold")
    if next_due is not None:
        text.append(f"Next card in {wait_label(next_due, now)}", "bold")
        text.append(" (a learning step). It appears here by itself when due.\n\n")
    text.append("e  end the session    esc  back", style="dim")
    return text


def done_text(
    queue: TodayQueue | None,
    deck: str | None,
    topic: str | None,
    outlook: str | None,
    *,
    answered: int,
) -> Text:
    """Nothing is left today: what the limits hold back, tomorrow's outlook, the keys."""
    text = Text("All done for today.\n\n", style="bold green")
    if queue is not None:
        text.append_text(held_text(queue, deck, topic))
    if outlook is not None:
        text.append(f"Due tomorrow: {outlook}.\n\n")
    keys = "esc  back    q  quit"
    if answered:
        keys = "e  session summary    " + keys
    if queue is not None and queue.new_held and not queue.new_squeezed:
        keys = "+  more new cards    " + keys
    text.append(keys, style="dim")
    return text
