"""Text bars for scores and counts."""

from __future__ import annotations

from rich.text import Text

FULL, EMPTY = "█", "░"


def score_bar(score: float, width: int = 10) -> str:
    """`█████░░░░░` for 0.5: the share of `width` cells, rounded, clamped to [0, 1]."""
    filled = round(max(0.0, min(1.0, score)) * width)
    return FULL * filled + EMPTY * (width - filled)


def score_cell(score: float, width: int = 10) -> Text:
    text = Text()
    text.append(score_bar(score, width), style="red" if score >= 0.5 else "yellow")
    text.append(f" {score:.2f}")
    return text
