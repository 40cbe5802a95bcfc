"""Stats: reviews per day (last 30 days) and the due forecast (next 30 days) as bar charts,
true retention and cards by state."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from typing import Any, ClassVar

from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.screen import Screen
from textual.widgets import Footer, Static
from textual_plotext import PlotextPlot

from flashcore.tui.context import Context
from flashcore.tui.screens.help import HelpScreen
from flashcore.tui.session import plural

TICK_EVERY = 7


def load_stats(ctx: Context) -> dict[str, Any]:
    from flashcore.services.stats import stats

    return stats(ctx.fc)


def summary_text(data: dict[str, Any]) -> Text:
    """Three short lines, each fitting 80 columns (a label, then its numbers)."""
    t = data["today"]
    month = data["last_30_days"]
    cards = data["cards"]
    text = Text()
    text.append("Today ", style="bold")
    text.append(f"{plural(t['reviews'], 'answer')} · {t['again']} again · {t['minutes']:.0f} min\n")
    text.append("True retention ", style="bold")
    retention = month["true_retention"]
    text.append("-" if retention is None else f"{retention:.1%}")
    text.append(f" (last 30 days: {plural(month['reviews'], 'answer')})\n")
    text.append("Cards ", style="bold")
    text.append(" · ".join(f"{name} {count}" for name, count in cards.items()))
    return text


def draw_bars(
    plot: PlotextPlot,
    dates: Sequence[str],
    values: Sequence[int],
    title: str,
    *,
    label_last: bool = False,
) -> None:
    """A bar per day; x labels are `MM-DD` every TICK_EVERY days (counted from the last day when
    `label_last`, so today is always labelled), so they never collide."""
    plt = plot.plt
    plt.clear_figure()
    xs = list(range(len(values)))
    shown = [(x, v) for x, v in zip(xs, values, strict=True) if v > 0]  # no stub for a zero
    if shown:
        plt.bar([x for x, _ in shown], [v for _, v in shown], marker="hd", width=0.6)
    else:
        plt.scatter([0], [0], marker=" ")  # axes, ticks and title without a bar
    plt.xlim(-0.5, len(values) - 0.5)
    ticks = sorted(xs[::-TICK_EVERY]) if label_last else xs[::TICK_EVERY]
    plt.xticks([float(t) for t in ticks], [dates[i][5:] for i in ticks])
    plt.title(title)
    top = max(1, max(values, default=0))
    step = max(1, -(-top // 4))
    plt.ylim(0, top)
    plt.yticks(list(range(0, top + 1, step)))
    plot.refresh()


class StatsScreen(Screen[None]):
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "back", "Back"),
        Binding("question_mark", "help", "Help"),
        Binding("q", "quit", "Quit"),
    ]

    def __init__(self, ctx: Context) -> None:
        super().__init__()
        self.ctx = ctx
        self.data: dict[str, Any] | None = None

    def compose(self) -> ComposeResult:
        yield Static(Text("Statistics", style="bold"), id="stats-title", classes="titlebar")
        yield Static(Text("Loading…", style="dim"), id="stats-summary")
        yield PlotextPlot(id="reviews-plot", classes="chart")
        yield PlotextPlot(id="forecast-plot", classes="chart")
        yield Footer(compact=True)

    def on_mount(self) -> None:
        self.load()

    @work(exclusive=True, group="stats")
    async def load(self) -> None:
        data = await asyncio.to_thread(load_stats, self.ctx)
        self.show_data(data)

    def show_data(self, data: dict[str, Any]) -> None:
        self.data = data
        self.query_one("#stats-summary", Static).update(summary_text(data))
        per_day = data["last_30_days"]["per_day"]
        draw_bars(
            self.query_one("#reviews-plot", PlotextPlot),
            [d["date"] for d in per_day],
            [d["reviews"] for d in per_day],
            "Reviews per day, last 30 days",
            label_last=True,
        )
        forecast = data["forecast"]
        draw_bars(
            self.query_one("#forecast-plot", PlotextPlot),
            [d["date"] for d in forecast],
            [d["due"] for d in forecast],
            "Due per day, next 30 days",
        )

    def action_back(self) -> None:
        self.app.pop_screen()

    def action_help(self) -> None:
        self.app.push_screen(HelpScreen())

    def action_quit(self) -> None:
        self.app.exit()
