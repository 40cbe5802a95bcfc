"""Shown for the moment it takes to open the collection after the first paint."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.containers import Center, Middle
from textual.message import Message
from textual.screen import Screen
from textual.widgets import Static


class LoadingScreen(Screen[None]):
    DEFAULT_CSS = """
    LoadingScreen Static { width: auto; color: $text-muted; }
    """

    class Painted(Message):
        """The loading screen has been handed to the terminal: slow work may start now (a
        thread started earlier, importing SQLAlchemy, would hold the GIL against the paint)."""

    def compose(self) -> ComposeResult:
        with Middle(), Center():
            yield Static("flashcore · opening your collection…", markup=False)

    def on_mount(self) -> None:
        self.call_after_refresh(self.post_message, self.Painted())
