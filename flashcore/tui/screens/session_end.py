"""Session end: cards done, again-rate, time spent, what is due tomorrow, weak topics worked."""

from __future__ import annotations

import asyncio
from typing import Any, ClassVar

from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import VerticalScroll
from textual.screen import Screen
from textual.widgets import Footer, Static

from flashcore.tui.context import Context
from flashcore.tui.session import SessionRecord, format_duration, plural
from flashcore.tui.widgets.card_text import clean


def load_outlook(
    ctx: Context, *, deck: str | None = None, topic: str | None = None, today: bool = False
) -> dict[str, Any]:
    """What tomorrow's first queue of this session's scope will hold, limits applied; with
    `today`, what today's queue holds now, as Home shows it (blocking: run it in a worker)."""
    from flashcore.services.study import build_queue, tomorrow

    if today:
        queue = build_queue(ctx.fc, deck=deck, topic=topic, limit=0, details=False)
        return {"tomorrow": queue}
    return {"tomorrow": tomorrow(ctx.fc, deck=deck, topic=topic)}


def outlook_text(q: Any) -> str:
    """`45 (20 new · 5 learning · 20 review)`."""
    if not q.total:
        return "0"
    return f"{q.total} ({q.new} new · {q.learning} learning · {q.review} review)"


def summary_text(
    record: SessionRecord, elapsed: float, outlook: dict[str, Any] | None, *, new_day: bool = False
) -> Text:
    text = Text()

    def row(label: str, value: str) -> None:
        text.append(f"{label:<16}", style="bold")
        text.append(value + "\n")

    row("Scope", clean(record.scope))
    row("Cards done", f"{record.cards} ({plural(record.count, 'answer')})")
    rate = record.again_rate
    row("Again rate", "-" if rate is None else f"{rate:.0%}")
    row("Time spent", format_duration(elapsed))
    # Left open overnight, the evening's "tomorrow" is the day that began (its first queue)
    label = "Due today" if new_day else "Due tomorrow"
    row(label, "…" if outlook is None else outlook_text(outlook["tomorrow"]))
    if record.postponed:
        first = "today" if new_day else "tomorrow"
        row("Postponed", f"{plural(record.postponed, 'card')} over the time budget, first {first}")
    label = "Leeches"  # the reviewer's notice goes with the next card: the last had none
    for card_id, leeched in record.leeches().items():
        for line in leeched.summary(card_id):
            row(label, line)
            label = ""
    topics = record.weak_topics()
    text.append("\nWeak topics worked\n", style="bold")
    if not topics:
        text.append("  none this session\n", style="dim")
    for topic in topics:
        text.append(f"  • {clean(topic)}\n")
    return text


ROLLOVER_LOOK_S = 5.0  # seconds between looks at the clock while "All done for today" shows


class SessionEndScreen(Screen[None]):
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("enter,escape", "home", "Back"),
        Binding("s", "stats", "Stats"),
        Binding("q", "quit", "Quit"),
    ]

    def __init__(self, ctx: Context, record: SessionRecord, *, finished: bool) -> None:
        super().__init__()
        self.ctx = ctx
        self.record = record
        self.finished = finished
        self.elapsed = ctx.ticks() - record.started
        self.outlook: dict[str, Any] | None = None
        self.rollover = ctx.fc.rollover()  # when "today" of the title ends
        self.new_day = False

    def compose(self) -> ComposeResult:
        title = "All done for today" if self.finished else "Session ended"
        yield Static(Text(title, style="bold green"), id="end-title", classes="titlebar")
        with VerticalScroll(id="end-body"):
            yield Static(self._text(), id="end-summary")
        yield Footer(compact=True)

    def _text(self) -> Text:
        return summary_text(self.record, self.elapsed, self.outlook, new_day=self.new_day)

    def on_mount(self) -> None:
        self.load()
        self.set_interval(ROLLOVER_LOOK_S, self._look_for_new_day)

    def _look_for_new_day(self) -> None:
        """Left open overnight, "All done for today" and "Due tomorrow" would be wrong the next
        morning: the title then says a new study day began (Enter goes Home to its cards) and
        the outlook is today's. A session ended early keeps its title ("Session ended"). Left
        open over a second rollover (a weekend away), the evening's projection is of a day that
        has passed: each later rollover loads today's queue again, the numbers Home shows."""
        now = self.ctx.fc.now()
        if now < self.rollover:
            return
        self.rollover = self.ctx.fc.rollover(now)
        if self.new_day:
            self.load(today=True)
            return
        self.new_day = True
        if self.finished:
            self.finished = False
            title = Text("A new study day began: Enter for today's cards", style="bold yellow")
            self.query_one("#end-title", Static).update(title)
        self.query_one("#end-summary", Static).update(self._text())

    @work(exclusive=True, group="end")
    async def load(self, *, today: bool = False) -> None:
        record = self.record
        self.outlook = await asyncio.to_thread(
            lambda: load_outlook(self.ctx, deck=record.deck, topic=record.topic, today=today)
        )
        self.query_one("#end-summary", Static).update(self._text())

    def action_home(self) -> None:
        self.app.pop_screen()

    def action_stats(self) -> None:
        from flashcore.tui.screens.stats import StatsScreen  # plotext loads on first use

        self.app.push_screen(StatsScreen(self.ctx))

    def action_quit(self) -> None:
        self.app.exit()
