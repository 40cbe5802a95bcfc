"""A key's frame in the reviewer (issue 19: key -> next card p95 <= 16 ms beside an import).

- Painted at once: Textual paints a screen on a grid of `1 / TEXTUAL_FPS` (60 a second), and
  after each frame its timer sleeps to the next point of that grid, 17-33 ms. A key that came
  just after another frame (the session's clock, each second; the last answer's counts) waited
  for it, up to 33 ms on the key's path. The reviewer's screen paints on a grid of `FRAME_S`.
- Alone on the processor: the session's rebuild after another process's commit (~80 ms of CPU
  at 50,000 cards, in the quiet worker while the student reads) stops at its next step
  (services.pacing) from the key's handler until its frame is handed to the terminal
  (`FlashcoreApp.after_frame`), instead of sharing the CPU and the GIL with it. At most
  `PACE_LIMIT_S` (a key that paints nothing); never while an answer waits for the rebuild."""

from __future__ import annotations

import threading
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from textual.timer import Timer

FRAME_S = 0.002  # the reviewer's frame grid: after a frame, the next one waits 2-4 ms at most
PACE_LIMIT_S = 0.5  # the longest a key holds the quiet work's rebuild back


class KeyFrames:
    """The reviewer screen's frames (mixed into it, before Textual's Screen)."""

    app: Any
    _no_key: threading.Event
    _writing: bool
    _frames: Timer | None = None

    @staticmethod
    def gate() -> threading.Event:
        """The screen's `_no_key`: set while no key waits for its frame."""
        event = threading.Event()
        event.set()
        return event

    @property
    def _update_timer(self) -> Timer:
        """Textual's frame timer (Screen's, on its 60-a-second grid), on a grid of FRAME_S."""
        if self._frames is None:
            screen: Any = self
            self._frames = screen.set_interval(
                FRAME_S, screen._on_timer_update, name="screen_update", pause=True
            )
        return self._frames

    def _key_came(self) -> None:
        """A key is handled: the quiet work's rebuild waits at its next step until the key's
        frame is out. Not while an answer is written behind the card: that answer waits for
        the rebuild (the session's lock), and so would the next key that answers."""
        if self._writing:
            return
        self._no_key.clear()
        self.app.after_frame(self._no_key.set)

    def _pace(self) -> None:
        self._no_key.wait(PACE_LIMIT_S)
