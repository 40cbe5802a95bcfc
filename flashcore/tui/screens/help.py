"""Help: every key, by screen. Any of Esc, q or ? closes it."""

from __future__ import annotations

from typing import ClassVar

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Static

KEYS: tuple[tuple[str, tuple[tuple[str, str], ...]], ...] = (
    (
        "Home",
        (
            ("↑ ↓ ← →", "move in the deck tree (space folds a branch)"),
            ("Enter", "study the selected deck (the root: all decks)"),
            ("w / s / p", "weak topics / statistics / the exam plan"),
            ("r", "reload the counts"),
        ),
    ),
    (
        "Review",
        (
            ("Space, Enter", "show the answer"),
            ("1 2 3 4", "answer Again / Hard / Good / Easy"),
            ("u", "undo the last answer (the card is shown again)"),
            ("b / ! / *", "bury until tomorrow / suspend / flag"),
            ("o", "open the card's images with the system viewer"),
            ("↑ ↓ PgUp PgDn", "scroll a long card"),
            ("e", "end the session and see the summary"),
            ("+", "a day's worth more new cards, when today's limit holds some back"),
            ("Esc", "back (every answer is already saved)"),
        ),
    ),
    (
        "Weak topics",
        (("Enter", "study the highlighted topic only"), ("Esc", "back")),
    ),
    (
        "Plan",
        (
            ("s", "choose retention targets toward the exam (runs in the background)"),
            ("r", "recompute the plan"),
            ("Esc", "back"),
        ),
    ),
    (
        "Everywhere",
        (("?", "this help"), ("q, Ctrl+C", "quit: nothing answered is lost")),
    ),
)


def help_text() -> Text:
    text = Text()
    for n, (screen, keys) in enumerate(KEYS):
        if n:
            text.append("\n")
        text.append(f"{screen}\n", style="bold underline")
        for key, what in keys:
            text.append(f"  {key:<14}", style="bold cyan")
            text.append(f"{what}\n")
    return text


class HelpScreen(ModalScreen[None]):
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape,q,question_mark", "close", "Close"),
    ]

    def compose(self) -> ComposeResult:
        with VerticalScroll(id="help-box"):
            yield Static(help_text(), id="help-text")

    def on_mount(self) -> None:
        self.query_one("#help-box").border_title = "Keys"

    def action_close(self) -> None:
        self.dismiss()
