"""Plan: the road to exam day as charts, readable at 80×24. The load forecast against the daily
budget (minutes a day, the budget as a line; textual-plotext), readiness by system (exam points
at risk, a text bar chart), and the self-assessment scores with the pass line (textual-plotext). `s` chooses the retention targets toward the exam in
a worker (fsrs-rs's solver, seconds per step) with its progress on the summary line."""

from __future__ import annotations

import asyncio
from typing import Any, ClassVar

from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal
from textual.screen import Screen
from textual.widgets import Footer, Static
from textual_plotext import PlotextPlot

from flashcore.core.errors import FlashcoreError
from flashcore.tui.context import Context
from flashcore.tui.screens.help import HelpScreen
from flashcore.tui.widgets.bars import score_bar

NO_EXAM = "No exam date yet: flashcore exam set YYYY-MM-DD --minutes-per-day 120"
READINESS_ROWS = 5


def load_plan(ctx: Context) -> dict[str, Any]:
    from flashcore.services.plan import plan

    return plan(ctx.fc)


# The summary's room (#plan-summary in app.tcss: at most 6 lines; 78 columns at 80x24).
SUMMARY_LINES, SUMMARY_WIDTH = 6, 78


def fitted(text: Text, width: int, lines: int = SUMMARY_LINES) -> Text:
    """`text` as it wraps at `width`, cut to `lines` with an ellipsis where it is cut (a
    warning cut mid-sentence read as if it ended there; `flashcore plan` prints it whole)."""
    from rich.console import Console

    wrapped = text.wrap(Console(width=width), width)
    if len(wrapped) <= lines:
        return text
    kept = list(wrapped)[:lines]
    last = kept[-1]
    last.rstrip()
    if last.cell_len >= width:
        last.truncate(width - 1)
    last.append("…", style="yellow")
    return Text("\n").join(kept)


def summary_text(data: dict[str, Any]) -> Text:
    text = Text()
    text.append("New ", style="bold")
    text.append(f"{data['new_cards_left']:,} left · {data['new_per_day_needed']} a day")
    text.append("   At risk ", style="bold")
    text.append(f"~{data['readiness']['expected_points_at_risk']:.0f} exam points")
    over = sum(1 for d in data["days"] if d["over_budget"])
    text.append("   Over budget ", style="bold")
    text.append(f"{over} of {len(data['days'])} days", style="red" if over else "green")
    waiting = max((d.get("held_reviews", 0) for d in data["days"]), default=0)
    if waiting:  # the review limit's backlog at its largest
        text.append("   Waiting ", style="bold")
        text.append(f"up to {waiting:,} reviews", style="red")
    warnings = data["warnings"]
    if warnings:  # the first, as much of it as the screen has room for; how many there are
        text.append("\n! ", style="bold yellow")
        if len(warnings) > 1:
            text.append(f"1 of {len(warnings)} (all: flashcore plan): ", style="bold yellow")
        text.append(warnings[0]["message"], style="yellow")
    return text


def draw_load(plot: PlotextPlot, data: dict[str, Any]) -> None:
    """Minutes a day as bars, the budget as a line; x labels every week from today."""
    plt = plot.plt
    plt.clear_figure()
    days = data["days"]
    xs = list(range(len(days)))
    minutes = [d["minutes"] for d in days]
    budget = data["minutes_per_day"]
    if xs:
        plt.bar(xs, minutes, marker="hd", width=0.6)
        plt.plot(xs, [budget] * len(xs), marker="braille", color="red")
        ticks = xs[:: max(7, len(xs) // 6)]
        plt.xticks([float(t) for t in ticks], [days[t]["date"][5:] for t in ticks])
        plt.xlim(-0.5, len(xs) - 0.5)
    top = max([budget, *minutes]) * 1.1
    plt.ylim(0, top)
    plt.title(f"Minutes a day to {data['exam_date']} (line: the {budget}-minute budget)")
    plot.refresh()


def readiness_text(data: dict[str, Any], width: int = 36) -> Text:
    """The systems with the most exam points at risk, one bar a line (a text chart: a plotted
    horizontal bar cannot keep beside its label at this height)."""
    rows = data["readiness"]["systems"][:READINESS_ROWS]
    text = Text()
    text.append("Points at risk by system", style="bold")
    top = max([r["points_at_risk"] for r in rows] or [1.0]) or 1.0
    cells = max(4, width - 22)
    for r in rows:
        text.append(f"\n{r['short'][:14]:<14} ")
        share = r["points_at_risk"] / top
        text.append(score_bar(share, cells), style="red" if share >= 0.5 else "yellow")
        text.append(f" {r['points_at_risk']:4.1f}")
    unseen = [r for r in data["readiness"]["systems"] if r["cards"] == 0]
    if unseen:
        text.append(f"\nno cards yet: {', '.join(r['short'] for r in unseen)[:width]}", style="dim")
    return text


def draw_assessments(plot: PlotextPlot, data: dict[str, Any], scores: list[dict[str, Any]]) -> None:
    """Self-assessment scores in order, with the pass line."""
    plt = plot.plt
    plt.clear_figure()
    if scores:
        xs = list(range(len(scores)))
        plt.plot(xs, [s["pass_line"] for s in scores], marker="braille", color="red")
        plt.plot(xs, [s["score"] for s in scores], marker="braille", color="green")
        plt.scatter(xs, [s["score"] for s in scores], marker="●", color="green")
        plt.xticks([float(x) for x in xs], [s["date"][5:] for s in scores])
        plt.xlim(-0.5, len(xs) - 0.5)
        plt.ylim(max(0, min(s["score"] for s in scores) - 10), 100)
        projected = data["assessments"]["projected"]
        title = "Self-assessments (line: pass)"
        if projected is not None:
            title = f"Self-assessments → {projected['score']:.0f} on exam day"
        plt.title(title)
    else:  # no axes to read: what to do instead (they ran -1 to 1 around nothing)
        plt.scatter([0], [0], marker=" ")
        plt.frame(False)
        plt.xticks([])
        plt.yticks([])
        plt.xlim(-1, 1)
        plt.ylim(-1, 1)
        plt.title("No self-assessments yet")
        plt.text("after an NBME or UWSA:", 0, 0.3, alignment="center")
        plt.text('flashcore assess add "NBME 31" 68', 0, -0.3, alignment="center")
    plot.refresh()


class PlanScreen(Screen[None]):
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "back", "Back"),
        Binding("s", "solve", "Solve retention"),
        Binding("r", "refresh", "Refresh"),
        Binding("question_mark", "help", "Help"),
        Binding("q", "quit", "Quit"),
    ]

    def __init__(self, ctx: Context) -> None:
        super().__init__()
        self.ctx = ctx
        self.data: dict[str, Any] | None = None
        self.solving = False

    def compose(self) -> ComposeResult:
        yield Static(Text("Plan", style="bold"), id="plan-title", classes="titlebar")
        yield Static(Text("Loading…", style="dim"), id="plan-summary")
        yield PlotextPlot(id="load-plot", classes="chart")
        with Horizontal(id="plan-bottom"):
            yield Static(Text(), id="readiness")
            yield PlotextPlot(id="assess-plot", classes="chart")
        yield Footer(compact=True)

    def on_mount(self) -> None:
        self.load()

    @work(exclusive=True, group="plan")
    async def load(self) -> None:
        try:
            data = await asyncio.to_thread(load_plan, self.ctx)
        except FlashcoreError as exc:
            self.query_one("#plan-summary", Static).update(Text(str(exc), style="yellow"))
            return
        self.show_data(data)

    def show_data(self, data: dict[str, Any]) -> None:
        self.data = data
        title = Text("Plan", style="bold")
        ago, left = -data["days_left"], data["days_left"]
        left = (f"behind ({ago} day{'' if ago == 1 else 's'} ago)" if data["passed"]
                else f"{left} day{'' if left == 1 else 's'} left")  # fmt: skip
        title.append(f"  ·  exam {data['exam_date']}  ·  {left}  ·  "
                     f"{data['minutes_per_day']} min a day")  # fmt: skip
        self.query_one("#plan-title", Static).update(title)
        summary = self.query_one("#plan-summary", Static)
        width = summary.content_region.width or SUMMARY_WIDTH
        summary.update(fitted(summary_text(data), width))
        draw_load(self.query_one("#load-plot", PlotextPlot), data)
        width = self.query_one("#readiness").content_region.width or 36
        self.query_one("#readiness", Static).update(readiness_text(data, width))
        latest = data["assessments"]
        scores = self._scores() if latest["count"] else []
        draw_assessments(self.query_one("#assess-plot", PlotextPlot), data, scores)

    def _scores(self) -> list[dict[str, Any]]:
        from flashcore.services import assess

        return [a.to_json() for a in assess.list_all(self.ctx.fc)]

    # ------------------------------------------------------------ solving

    def action_solve(self) -> None:
        if self.solving or self.data is None:
            return
        self.solving = True
        self.query_one("#plan-summary", Static).update(
            Text("Choosing retention toward the exam…", style="dim")
        )
        self.run_worker(self._solve, thread=True, exit_on_error=False, group="solve")

    def _solve(self) -> None:
        from flashcore.services.optimize import solve_retention

        def progress(done: int, total: int) -> None:
            self.app.call_from_thread(self._show_progress, done, total)

        try:
            steps = solve_retention(self.ctx.fc, progress=progress)
        except FlashcoreError as exc:
            self.app.call_from_thread(self._solved, str(exc))
            return
        chosen = ", ".join(f"≤{d} d: {r:.2f}" for d, r in steps) or "none above your base"
        self.app.call_from_thread(self._solved, f"Retention toward the exam: {chosen}")

    def _show_progress(self, done: int, total: int) -> None:
        filled = int(20 * done / total) if total else 20
        bar = "█" * filled + "░" * (20 - filled)
        self.query_one("#plan-summary", Static).update(
            Text(f"Choosing retention toward the exam {bar} {done} of {total}")
        )

    def _solved(self, message: str) -> None:
        self.solving = False
        self.notify(message, markup=False)
        self.load()

    # ------------------------------------------------------------ keys

    def action_refresh(self) -> None:
        self.load()

    def action_back(self) -> None:
        self.app.pop_screen()

    def action_help(self) -> None:
        self.app.push_screen(HelpScreen())

    def action_quit(self) -> None:
        self.app.exit()
