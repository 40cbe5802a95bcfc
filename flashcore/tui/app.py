"""The review app: thin. It holds the context, opens Home (and a session when the command line
named a deck or topic) and turns a bad deck/topic into an error for the command line."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TYPE_CHECKING, ClassVar

from textual.app import App
from textual.binding import Binding, BindingType

from flashcore.core.errors import FlashcoreError
from flashcore.tui.context import Context
from flashcore.tui.screens.home import HomeScreen
from flashcore.tui.screens.review import ReviewScreen

if TYPE_CHECKING:
    from flashcore.services.collection import Flashcore


class FlashcoreApp(App[None]):
    CSS_PATH = "app.tcss"
    TITLE = "flashcore"
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("ctrl+c", "quit", "Quit", show=False, priority=True),
    ]
    ENABLE_COMMAND_PALETTE = False

    def __init__(self, ctx: Context, *, deck: str | None = None, topic: str | None = None) -> None:
        super().__init__()
        self.ctx = ctx
        self.scope = (deck, topic)
        self.error: FlashcoreError | None = None

    def on_mount(self) -> None:
        self.push_screen(HomeScreen(self.ctx))
        deck, topic = self.scope
        if deck is not None or topic is not None:
            self.push_screen(ReviewScreen(self.ctx, deck=deck, topic=topic))

    def on_review_screen_scope_failed(self, message: ReviewScreen.ScopeFailed) -> None:
        if (message.deck, message.topic) == self.scope:
            self.error = message.error
            self.exit(return_code=1)
            return
        self.notify(str(message.error), severity="error", markup=False)
        self.pop_screen()


def make_app(
    fc: Flashcore,
    *,
    deck: str | None = None,
    topic: str | None = None,
    ticks: Callable[[], float] = time.monotonic,
) -> FlashcoreApp:
    """The app for `fc`, shared by the command line and the tests. `ticks` times answers and
    the session (monotonic; scheduling uses `fc.clock`)."""
    return FlashcoreApp(Context(fc, ticks), deck=deck, topic=topic)
