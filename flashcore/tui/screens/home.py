"""Home: the deck tree with today's counts, today's totals, streak and the weakest topics.

Paints at once and loads its numbers in a worker; reloads whenever it comes back to the front
(after a session), and by itself when another process commits (an import from a second
terminal): every `WATCH_S` a worker asks `ChangeWatch` (SQLite's `data_version`, microseconds;
PostgreSQL: a few MAX queries every 5 s), so the counts always match the database.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, ClassVar

from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.message import Message
from textual.screen import Screen
from textual.widgets import Footer, Static

from flashcore.core.errors import FlashcoreError
from flashcore.core.weakness import misses_text
from flashcore.services.changes import ChangeWatch
from flashcore.tui import collector
from flashcore.tui.context import Context
from flashcore.tui.screens.help import HelpScreen
from flashcore.tui.screens.review import ReviewScreen
from flashcore.tui.screens.weakness import WeaknessScreen
from flashcore.tui.session import plural
from flashcore.tui.widgets.bars import score_bar
from flashcore.tui.widgets.card_text import clean, shorten_topic
from flashcore.tui.widgets.deck_tree import DeckTree, node_paths
from flashcore.tui.widgets.paste_hint import paste_text

TOP_WEAK = 5
WATCH_S = 1.0  # seconds between looks for another process's commits
WEAK_WIDTH = 34  # the Today panel's text width at 80 columns


@dataclass(frozen=True, slots=True)
class HomeData:
    decks: Sequence[Any]
    tree: dict[str | None, tuple[int, int, int]]  # each deck-tree node's queue counts
    new: int
    learning: int
    review: int
    today: dict[str, Any]
    streak: int
    streak_capped: bool
    weak: list[dict[str, Any]]
    date: str
    first_run: bool = False  # no question-bank attempt imported yet: Home says where to start


def streak(per_day: Sequence[dict[str, Any]]) -> int:
    """Consecutive days with reviews, ending today (or yesterday, while today is still open)."""
    counts = [int(d["reviews"]) for d in per_day]
    if counts and counts[-1] == 0:
        counts.pop()
    days = 0
    for count in reversed(counts):
        if count <= 0:
            break
        days += 1
    return days


def load_home(ctx: Context) -> HomeData:
    """Everything Home shows (blocking: run it in a worker)."""
    from flashcore.services.decks import decks_and_counts
    from flashcore.services.qbank import has_attempts
    from flashcore.services.stats import stats
    from flashcore.services.study import build_queue
    from flashcore.services.weakness import report_rows

    fc = ctx.fc
    queue = build_queue(fc, details=False)
    # Every node shows its own queue's counts (the root: the collection's, as the Today panel):
    # the decks' and their parent nodes', ranked from one read of the collection.
    decks, parents = decks_and_counts(fc, node_paths)
    tree: dict[str | None, tuple[int, int, int]] = {None: (queue.new, queue.learning, queue.review)}
    tree.update({d.name: (d.new, d.learning, d.due) for d in decks})
    for path, q in parents.items():
        tree[path] = (q.new, q.learning, q.review)
    numbers = stats(fc, queues=False)
    per_day = numbers["last_30_days"]["per_day"]
    days = streak(per_day)
    weak = [r for r in report_rows(fc) if r["score"] > 0][:TOP_WEAK]
    now = fc.now().astimezone(fc.settings.zone)
    return HomeData(
        decks=decks,
        tree=tree,
        new=queue.new,
        learning=queue.learning,
        review=queue.review,
        today=numbers["today"],
        streak=days,
        streak_capped=days >= len(per_day) - 1 and len(per_day) > 0,
        weak=weak,
        date=now.strftime("%A %d %B %Y"),
        first_run=not has_attempts(fc),
    )


def load_failed_text(exc: BaseException) -> str:
    """One line for Home's numbers that could not be loaded: a FlashcoreError says it itself;
    anything else by its type and its first line (Home stays usable: `r` tries again)."""
    if isinstance(exc, FlashcoreError):
        return str(exc)
    lines = str(exc).strip().splitlines()
    first = lines[0] if lines else ""
    return f"Home could not load: {type(exc).__name__}: {first} (r tries again)"


def today_text(data: HomeData) -> Text:
    text = Text()
    text.append("Due now\n", style="bold")
    text.append(f"  {data.new} new", style="blue")
    text.append(" · ")
    text.append(f"{data.learning} learning", style="red")
    text.append(" · ")
    text.append(f"{data.review} review", style="green")
    t = data.today
    text.append("\nDone today\n", style="bold")
    text.append(f"  {plural(t['reviews'], 'answer')} · {t['again']} again · {t['minutes']:.0f} min")
    text.append("\nStreak  ", style="bold")
    text.append(f"{data.streak}+ days" if data.streak_capped else plural(data.streak, "day"))
    return text


def weak_text(rows: Sequence[dict[str, Any]], width: int = WEAK_WIDTH) -> Text:
    text = Text()
    text.append("Weakest topics", style="bold")
    if not rows:
        text.append("\nNo missed questions imported yet.", style="dim")
        return text
    for n, row in enumerate(rows, 1):
        text.append(f"\n{n} ")
        text.append(score_bar(row["score"], 5), style="red" if row["score"] >= 0.5 else "yellow")
        # A system or subject rollup says so, as on the weakness screen.
        level = row.get("level", "topic")
        suffix = "" if level == "topic" else f" ({level})"
        text.append(" " + shorten_topic(row["topic"], width - 8 - len(suffix)))
        if suffix:
            text.append(suffix, style="dim italic")
        missed = misses_text(row["recent_misses"], row["recent_attempts"])
        text.append(f"\n        {missed} missed · {row['due']} due", style="dim")
    return text


def first_run_text() -> Text:
    """What to do first: log the questions you miss (Home shows it until something is
    imported)."""
    text = Text()
    text.append("Log the questions you miss", style="bold")
    text.append(": their topics come first, and cards say why.\n")
    text.append("After a qbank block, paste its incorrect questions here, or in a terminal:")
    text.append_text(paste_text())
    text.append(
        "\nEnter studies your decks meanwhile; this note goes after an import.", style="dim"
    )
    return text


class HomeScreen(Screen[None]):
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("enter", "study", "Study deck", priority=True),
        Binding("w", "weakness", "Weakness"),
        Binding("s", "stats", "Stats"),
        Binding("p", "plan", "Plan"),
        Binding("r", "refresh", "Refresh", show=False),
        Binding("question_mark", "help", "Help"),
        Binding("q", "quit", "Quit"),
    ]
    AUTO_FOCUS = "#decks"

    class Loaded(Message):
        """Home shows its numbers: slow background work may start now."""

    def __init__(self, ctx: Context) -> None:
        super().__init__()
        self.ctx = ctx
        self.data: HomeData | None = None
        self.watch = ChangeWatch(ctx.fc)
        self._watching = False
        self._loading = False  # a load's read runs in a thread (`load`)
        self._again = False  # asked to load again while it ran

    def compose(self) -> ComposeResult:
        yield Static(Text("flashcore", style="bold"), id="home-title", classes="titlebar")
        with Horizontal(id="home-body"):
            with Vertical(id="decks-panel", classes="panel"):
                yield DeckTree(id="decks")
            with Vertical(id="today-panel", classes="panel"):
                yield Static(Text("Loading…", style="dim"), id="today")
                yield Static(Text(), id="weak")
        first = Static(first_run_text(), id="first-run", classes="panel")
        first.display = False
        yield first
        yield Footer(compact=True)

    def on_mount(self) -> None:
        self.query_one("#decks-panel").border_title = self.query_one(DeckTree).header()
        self.query_one("#today-panel").border_title = "Today"
        self.query_one("#first-run").border_title = "Start here"
        self.set_interval(WATCH_S, self._look_for_changes)

    def on_unmount(self) -> None:
        self.watch.close()

    def _mark_and_load(self) -> HomeData:
        self.watch.mark()  # first: a commit while loading is seen by the next look
        return load_home(self.ctx)

    def _look_for_changes(self) -> None:
        # Only while Home is on top: under a review session every answer is a commit by
        # another connection, and reloading Home (~1-4 s of queries at 200,000 cards) in the
        # background would slow every key of the session.
        if self.is_active and not self._watching:
            self._watching = True
            self._changed_elsewhere()

    @work(thread=True, exclusive=True, group="home-watch", exit_on_error=False)
    def _changed_elsewhere(self) -> None:
        try:
            changed = self.watch.changed()
        finally:
            self._watching = False
        if changed:
            self.app.call_from_thread(self.load)

    def on_screen_resume(self) -> None:
        if self.is_active:  # not when a session opened on top at once (`review --deck`)
            self.load()

    @work(group="home")
    async def load(self) -> None:
        """Home's numbers, read in a thread, one read at a time: asked again while one runs
        (another process's commits, seen every second while an import writes), it reads once
        more when that read ends, taking what changed meanwhile. (Each look started a read
        of its own, cancelling the worker but not its thread: beside an import, reads that
        outlast a second piled up, six at once seen at 50,000 cards, all sharing the GIL, and
        Home showed no numbers for over a minute; issue 19r.)"""
        if self._loading:
            self._again = True
            return
        self._loading = True
        try:
            while True:
                self._again = False
                try:
                    data = await asyncio.to_thread(self._mark_and_load)
                except Exception as exc:  # noqa: BLE001 - shown in one line where the numbers go
                    text = Text(load_failed_text(exc), style="red")
                    self.query_one("#today", Static).update(text)
                    return
                collector.freeze_once()
                self.show_data(data)
                self.post_message(self.Loaded())
                if not (self._again and self.is_active):  # under a session: on its return
                    return
        finally:
            self._loading = False

    def show_data(self, data: HomeData) -> None:
        self.data = data
        title = Text("flashcore", style="bold")
        title.append(f"  ·  {data.date}  ·  profile {clean(self.ctx.fc.profile)}", style="")
        self.query_one("#home-title", Static).update(title)
        tree = self.query_one(DeckTree)
        selected = tree.cursor_node.data if tree.cursor_node is not None else None
        tree.show_decks(data.decks, counts=data.tree)
        self._restore_cursor(tree, selected)
        self.query_one("#today", Static).update(today_text(data))
        self.query_one("#first-run").display = data.first_run
        width = self.query_one("#weak").content_region.width or WEAK_WIDTH
        self.query_one("#weak", Static).update(weak_text(data.weak, width))

    def on_deck_tree_columns_moved(self, message: DeckTree.ColumnsMoved) -> None:
        self.query_one("#decks-panel").border_title = message.header

    def on_resize(self) -> None:
        if self.data is not None:  # the topic names take the Today panel's new width
            self.call_after_refresh(self._rewrap_weak)

    def _rewrap_weak(self) -> None:
        if self.data is not None:
            width = self.query_one("#weak").content_region.width or WEAK_WIDTH
            self.query_one("#weak", Static).update(weak_text(self.data.weak, width))

    @staticmethod
    def _restore_cursor(tree: DeckTree, path: str | None) -> None:
        if path is None:
            tree.move_cursor(tree.root)
            return
        stack = [tree.root]
        while stack:
            node = stack.pop()
            if node.data == path:
                tree.move_cursor(node)
                return
            stack.extend(node.children)

    # ------------------------------------------------------------ actions

    def action_study(self) -> None:
        tree = self.query_one(DeckTree)
        node = tree.cursor_node
        deck = node.data if node is not None else None
        self.app.push_screen(ReviewScreen(self.ctx, deck=deck))

    def action_weakness(self) -> None:
        self.app.push_screen(WeaknessScreen(self.ctx))

    def action_stats(self) -> None:
        from flashcore.tui.screens.stats import StatsScreen  # plotext loads on first use

        self.app.push_screen(StatsScreen(self.ctx))

    def action_plan(self) -> None:
        from flashcore.tui.screens.plan import PlanScreen  # plotext loads on first use

        self.app.push_screen(PlanScreen(self.ctx))

    def action_refresh(self) -> None:
        self.load()

    def action_help(self) -> None:
        self.app.push_screen(HelpScreen())

    async def action_quit(self) -> None:
        self.app.exit()
