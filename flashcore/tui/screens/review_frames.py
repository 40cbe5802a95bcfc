"""A key's frame in the reviewer (issue 19: key -> next card p95 <= 16 ms beside an import).

Textual paints a screen on a grid of `1 / TEXTUAL_FPS` (60 a second): after each frame its
timer sleeps to the next point of that grid, 17-33 ms, and only then paints what changed
meanwhile. A key that came just after another frame (the session's clock, each second; the
header's counts once the last answer is in) waited for it, up to 33 ms on the key's path. The
reviewer's screen paints on a grid of `FRAME_S` instead: what a key changes is painted at once,
or 2-4 ms after another frame. It paints no more often for that: its frames come from keys and
the clock (a frame is only painted when something changed)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from textual.timer import Timer

FRAME_S = 0.002  # the reviewer's frame grid: after a frame, the next one waits 2-4 ms at most


class KeyFrames:
    """The reviewer screen's frame timer (mixed into it, before Textual's Screen)."""

    _frames: Timer | None = None

    @property
    def _update_timer(self) -> Timer:
        """Textual's frame timer (Screen's, on its 60-a-second grid), on a grid of FRAME_S.
        Should Textual's screen no longer paint through `_on_timer_update`, its own timer."""
        screen: Any = self
        paint = getattr(screen, "_on_timer_update", None)
        if paint is None:
            return super()._update_timer  # type: ignore[misc]
        if self._frames is None:
            self._frames = screen.set_interval(FRAME_S, paint, name="screen_update", pause=True)
        return self._frames
