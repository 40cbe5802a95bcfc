"""Text bars for scores and counts, and the review session's progress line."""

from __future__ import annotations

from rich.text import Text
from textual.content import Content
from textual.widget import Widget

FULL, EMPTY = "█", "░"
LINE = "━"


def score_bar(score: float, width: int = 10) -> str:
    """`█████░░░░░` for 0.5: the share of `width` cells, rounded, clamped to [0, 1]."""
    filled = round(max(0.0, min(1.0, score)) * width)
    return FULL * filled + EMPTY * (width - filled)


def score_cell(score: float, width: int = 10) -> Text:
    text = Text()
    text.append(score_bar(score, width), style="red" if score >= 0.5 else "yellow")
    text.append(f" {score:.2f}")
    return text


class ProgressLine(Widget):
    """`━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━  12/40`: `done` out of `total`, one line.

    Lighter than Textual's `ProgressBar` (no child widgets, no ETA, no timer): it repaints only
    when its numbers change and never changes the layout, so it costs next to nothing per card.
    """

    DEFAULT_CSS = """
    ProgressLine {
        height: 1;
    }
    """

    def __init__(self, *, id: str | None = None, classes: str | None = None) -> None:
        super().__init__(id=id, classes=classes)
        self._done = 0
        self._total = 0

    @property
    def numbers(self) -> tuple[int, int]:
        return self._done, self._total

    def set_progress(self, done: int, total: int) -> None:
        if (done, total) != (self._done, self._total):
            self._done, self._total = done, total
            self.refresh()

    def render(self) -> Content:
        done, total = self._done, self._total
        label = f"  {done}/{total}" if total else ""
        width = max(0, self.size.width - len(label))
        filled = min(width, width * done // total) if total else 0
        return Content.assemble(
            (LINE * filled, "$success" if total and done >= total else "$primary"),
            (LINE * (width - filled), "$surface-lighten-1"),
            (label, "$text-muted"),
        )
