"""The four answer buttons, each with the interval it leads to (`Good · 4d`).

Attributes down, messages up: the screen calls `set_outcomes`; a click posts `AnswerBar.Chosen`.
The buttons never take focus, so Space and Enter stay with the screen.
"""

from __future__ import annotations

from collections.abc import Mapping

from rich.text import Text
from textual.app import ComposeResult
from textual.containers import Horizontal
from textual.message import Message
from textual.widgets import Button

from flashcore.core.model import Rating

VARIANTS = {
    Rating.AGAIN: "error",
    Rating.HARD: "warning",
    Rating.GOOD: "success",
    Rating.EASY: "primary",
}


def button_label(rating: Rating, interval: str | None) -> Text:
    label = Text(f"{int(rating)} ", style="dim")
    label.append(rating.label)
    if interval:
        label.append(f" · {interval}")
    return label


class AnswerBar(Horizontal):
    DEFAULT_CSS = """
    AnswerBar {
        height: 1;
        width: 1fr;
    }
    AnswerBar > Button {
        width: 1fr;
        min-width: 6;
        margin: 0 1 0 0;
    }
    """

    class Chosen(Message):
        """The student clicked a button."""

        def __init__(self, rating: Rating) -> None:
            self.rating = rating
            super().__init__()

    def __init__(self, *, id: str | None = None, classes: str | None = None) -> None:
        super().__init__(id=id, classes=classes)
        self._buttons: dict[Rating, Button] = {}  # kept at hand: a reveal queries nothing

    def compose(self) -> ComposeResult:
        for rating in Rating:
            button = Button(
                button_label(rating, None),
                variant=VARIANTS[rating],  # type: ignore[arg-type]
                id=f"rate-{int(rating)}",
                compact=True,
            )
            button.can_focus = False
            self._buttons[rating] = button
            yield button

    def set_outcomes(self, intervals: Mapping[Rating, str]) -> None:
        for rating, button in self._buttons.items():
            button.label = button_label(rating, intervals.get(rating))

    def on_button_pressed(self, event: Button.Pressed) -> None:
        event.stop()
        if event.button.id and event.button.id.startswith("rate-"):
            self.post_message(self.Chosen(Rating(int(event.button.id.removeprefix("rate-")))))
