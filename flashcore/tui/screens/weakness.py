"""Weakness: topics ranked by how many exam points they put at risk, each with a score bar,
then the systems and subjects they roll up into; below, the gaps (misses that matched no card
or topic) with the alias that would count them. Enter on a topic starts a session on it alone,
with its unseen cards up to the suggested amount of study even when today's new-card limit is
spent."""

from __future__ import annotations

import asyncio
from typing import Any, ClassVar

from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.screen import Screen
from textual.widgets import DataTable, Footer, Static

from flashcore.core.errors import FlashcoreError
from flashcore.core.weakness import misses_text
from flashcore.tui.context import Context
from flashcore.tui.screens.help import HelpScreen
from flashcore.tui.screens.review import ReviewScreen
from flashcore.tui.widgets.bars import score_cell
from flashcore.tui.widgets.card_text import clean, shorten_topic
from flashcore.tui.widgets.paste_hint import paste_text

# Fixed widths (auto-sizing would depend on when the table measures); the topic takes the rest.
WIDTHS = {"rank": 2, "score": 15, "missed": 6, "due": 4, "cards": 5}
CELL_PADDING = 2


def load_rows(ctx: Context) -> dict[str, list[dict[str, Any]]]:
    """`topics` and `gaps`, as `flashcore weakness --json` prints them."""
    from flashcore.services.weakness import report

    return report(ctx.fc)


GAPS_SHOWN = 3


def gaps_text(gaps: list[dict[str, Any]]) -> Text:
    """The first gaps, each with the command that maps it to its closest topic."""
    text = Text()
    if not gaps:
        return text
    text.append("Gaps", style="bold")
    text.append(" — misses that matched no card or topic; an alias counts them:", style="dim")
    for gap in gaps[:GAPS_SHOWN]:
        plural = "miss" if gap["misses"] == 1 else "misses"
        text.append(f"\n{clean(gap['text'])}", style="bold")
        text.append(f" · {gap['misses']} {plural}, the last on {gap['last_miss']}")
        suggestion = gap["suggestion"]
        if suggestion is not None:
            text.append(f"\n  {clean(suggestion['command'])}", style="italic")
        else:
            text.append("\n  no topic is close: cards on it would fill the gap", style="dim")
    if len(gaps) > GAPS_SHOWN:
        text.append(f"\n… and {len(gaps) - GAPS_SHOWN} more: see `flashcore weakness`", style="dim")
    return text


def empty_text() -> Text:
    """What the screen says before any miss is imported: how to fill it."""
    text = Text("No missed questions imported yet", style="bold")
    text.append(": no topic is weak, and cards follow plain FSRS.\n")
    text.append("After a qbank block, paste its incorrect questions here, or in a terminal:")
    text.append_text(paste_text())
    text.append("\nTheir topics are then ranked here, the weakest first.", style="dim")
    return text


def topic_has_cards_today(ctx: Context, topic: str, suggested_minutes: int = 0) -> bool:
    """Make today's session on `topic` take its unseen cards up to the suggested amount of
    study (raising the topic's new-card limit for today when the daily limit is spent), then
    say whether it has anything to show today (now or later today)."""
    from flashcore.services.study import study_topic_now

    queue = study_topic_now(ctx.fc, topic, suggested_minutes)
    return bool(queue.total) or queue.next_learning_due is not None


class WeaknessScreen(Screen[None]):
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("enter", "study", "Study topic", priority=True),
        Binding("escape", "back", "Back"),
        Binding("question_mark", "help", "Help"),
        Binding("q", "quit", "Quit"),
    ]
    AUTO_FOCUS = "#weak-table"

    def __init__(self, ctx: Context) -> None:
        super().__init__()
        self.ctx = ctx
        self.rows: list[dict[str, Any]] = []
        self.gaps: list[dict[str, Any]] = []

    def compose(self) -> ComposeResult:
        yield Static(Text("Weak topics", style="bold"), id="weak-title", classes="titlebar")
        table: DataTable[Any] = DataTable(id="weak-table", cursor_type="row", zebra_stripes=True)
        yield table
        yield Static(Text("Loading…", style="dim"), id="weak-detail")
        yield Static(Text(), id="weak-gaps")
        yield Footer(compact=True)

    def on_screen_resume(self) -> None:
        self.load()

    @work(exclusive=True, group="weakness")
    async def load(self) -> None:
        found = await asyncio.to_thread(load_rows, self.ctx)
        self.gaps = found["gaps"]
        gaps = self.query_one("#weak-gaps", Static)
        gaps.update(gaps_text(self.gaps))
        gaps.display = bool(self.gaps)
        self.show_rows(found["topics"])

    def show_rows(self, rows: list[dict[str, Any]]) -> None:
        self.rows = rows
        table = self.query_one(DataTable)
        cursor = table.cursor_row
        table.clear(columns=True)
        fixed = sum(WIDTHS.values()) + CELL_PADDING * (len(WIDTHS) + 1)
        topic_width = max(12, self.app.size.width - fixed - 1)
        table.add_column("#", width=WIDTHS["rank"], key="rank")
        table.add_column("Topic", width=topic_width, key="topic")
        table.add_column("Score", width=WIDTHS["score"], key="score")
        table.add_column("Missed", width=WIDTHS["missed"], key="missed")
        table.add_column("Due", width=WIDTHS["due"], key="due")
        table.add_column("Cards", width=WIDTHS["cards"], key="cards")
        for n, row in enumerate(rows, 1):
            # The end of the path is what tells topics apart: `…::Hypersensitivity::Type I`.
            rollup = row["level"] != "topic"
            suffix = f" ({row['level']})" if rollup else ""
            path = shorten_topic(row["topic"], topic_width - len(suffix))
            topic = Text(path, overflow="ellipsis", no_wrap=True)
            if rollup:  # after the ranked topics, marked as such
                topic.stylize("dim")
                topic.append(suffix, style="dim italic")
            table.add_row(
                Text(str(n), style="dim"),
                topic,
                score_cell(row["score"]),
                Text(misses_text(row["recent_misses"], row["recent_attempts"])),
                Text(str(row["due"])),
                Text(str(row["cards"])),
                key=str(n - 1),
            )
        detail = self.query_one("#weak-detail", Static)
        detail.set_class(not rows and not self.gaps, "empty")
        if rows:
            table.move_cursor(row=min(cursor, len(rows) - 1))
            self._describe(table.cursor_row)
        elif self.gaps:
            detail.update(
                Text("No topic is weak yet: every miss so far matched nothing.", style="dim")
            )
        else:
            detail.update(empty_text())

    def on_resize(self) -> None:
        if self.rows:
            self.show_rows(self.rows)

    def on_data_table_row_highlighted(self, event: DataTable.RowHighlighted) -> None:
        self._describe(event.cursor_row)

    def _describe(self, index: int) -> None:
        if not 0 <= index < len(self.rows):
            return
        row = self.rows[index]
        text = Text(clean(row["topic"]), style="bold")
        text.append(f"\n{clean(row['reason'])}; retention target ")
        text.append(f"{row['desired_retention']:.0%}")
        self.query_one("#weak-detail", Static).update(text)

    def action_study(self) -> None:
        table = self.query_one(DataTable)
        if not self.rows or not 0 <= table.cursor_row < len(self.rows):
            return
        row = self.rows[table.cursor_row]
        self.start_topic(row["topic"], int(row.get("suggested_minutes") or 0))

    @work(exclusive=True, group="weakness-start")
    async def start_topic(self, topic: str, suggested_minutes: int = 0) -> None:
        try:
            has_cards = await asyncio.to_thread(
                topic_has_cards_today, self.ctx, topic, suggested_minutes
            )
        except FlashcoreError as exc:
            self.notify(str(exc), severity="error", markup=False)
            return
        if not has_cards:
            self.notify(f"Nothing is due for {clean(topic)} today", markup=False)
            return
        self.app.push_screen(ReviewScreen(self.ctx, topic=topic))

    def action_back(self) -> None:
        self.app.pop_screen()

    def action_help(self) -> None:
        self.app.push_screen(HelpScreen())

    def action_quit(self) -> None:
        self.app.exit()
