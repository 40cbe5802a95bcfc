"""Shown for the moment it takes to open the collection after the first paint."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.containers import Center, Middle
from textual.screen import Screen
from textual.widgets import Static


class LoadingScreen(Screen[None]):
    DEFAULT_CSS = """
    LoadingScreen Static { width: auto; color: $text-muted; }
    """

    def compose(self) -> ComposeResult:
        with Middle(), Center():
            yield Static("flashcore · opening your collection…", markup=False)
