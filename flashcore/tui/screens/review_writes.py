"""How the reviewer writes: an answer, undo, bury, suspend or flag runs in a worker thread
while the screen shows it is saving; a busy database (another process holds the write lock,
a large `qbank import`) is retried until the write commits or, after `SAVE_LIMIT_S`, fails
with a message. After `SAVING_SHOWN_S` the screen says it is saving, and after
`SAVING_BUSY_S` why. An answer that committed fetches the next card in the same thread."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from rich.text import Text
from textual.worker import get_current_worker

from flashcore.core.errors import DatabaseBusyError

if TYPE_CHECKING:
    from textual.timer import Timer
    from textual.widgets import Static

    from flashcore.services.study import CardView
    from flashcore.tui.next_card import NextCard
    from flashcore.tui.widgets.answer_bar import AnswerBar

SAVING_SHOWN_S = 0.15  # a write taking longer says so on screen
SAVING_BUSY_S = 1.5  # ... and, past this, that another process holds the database
SAVE_LIMIT_S = 120.0  # a write still refused by a busy database after this gives up
SAVE_RETRY_S = 0.1  # between attempts (each already waits SQLite's busy timeout)
SAVING = Text("saving your answer…", style="bold yellow")
SAVING_BUSY = Text(
    "saving… another flashcore is writing (an import?); your answer waits for it and is kept",
    style="bold yellow",
)


class ReviewWrites:
    """The writes of ReviewScreen (mixed into it; the attributes below are the screen's)."""

    phase: str
    view: CardView | None
    app: Any
    _keys: AnswerBar
    _saving: Static
    _saving_timers: list[Timer]
    _fetched: NextCard | None
    _set_phase: Callable[..., None]
    _fetch_after_write: Callable[[], None]
    set_timer: Callable[..., Timer]
    run_worker: Callable[..., Any]

    def _start_saving(self) -> None:
        self._set_phase("saving")
        self._saving_timers = [
            self.set_timer(SAVING_SHOWN_S, lambda: self._show_saving(SAVING)),
            self.set_timer(SAVING_BUSY_S, lambda: self._show_saving(SAVING_BUSY)),
        ]

    def _back_to(self, phase: str) -> None:
        """The phase a write started from, as it was (nothing changed on screen)."""
        self._set_phase(phase)

    def _show_saving(self, text: Text) -> None:
        if self.phase != "saving":
            return
        if self._keys.buttons_shown:  # above the buttons (one layout, a slow save only)
            self._saving.update(text)
            self._saving.display = True
        else:
            self._keys.show_prompt(text)  # in place of the prompt

    def _stop_saving(self) -> None:
        for timer in self._saving_timers:
            timer.stop()
        self._saving_timers = []

    def _write(
        self,
        write: Callable[[], Any],
        then: Callable[[Any], None],
        *,
        retry: bool = True,
        fetch: bool = False,
    ) -> None:
        """Run `write` in a worker thread while the screen shows it is saving; `then(outcome)`
        runs on the screen with its result, or the exception that ended it. With `fetch`, a
        write that succeeded also fetches the next card there (`_next_card` shows it)."""
        self._start_saving()
        self._fetched = None
        self.run_worker(
            lambda: self._write_in_thread(write, then, retry, fetch),
            thread=True,
            group="review-write",
            exit_on_error=False,
        )

    def _write_in_thread(
        self, write: Callable[[], Any], then: Callable[[Any], None], retry: bool, fetch: bool
    ) -> None:
        worker = get_current_worker()
        give_up = time.monotonic() + SAVE_LIMIT_S
        while True:
            try:
                outcome = write()
            except DatabaseBusyError as exc:  # refused whole: nothing was written
                if retry and time.monotonic() < give_up and not worker.is_cancelled:
                    time.sleep(SAVE_RETRY_S)
                    continue
                outcome = exc
            except Exception as exc:  # noqa: BLE001 - handed to the screen, which says it
                outcome = exc
            break
        if fetch and not isinstance(outcome, BaseException) and not worker.is_cancelled:
            self._fetch_after_write()
        if not worker.is_cancelled:  # the app is still there (Ctrl+C does not wait for this)
            self.app.call_from_thread(then, outcome)
