"""`flashcore review`: run the app until the student quits."""

from __future__ import annotations

import contextlib
import sys
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING

from flashcore.tui.app import make_lazy_app

if TYPE_CHECKING:
    from flashcore.services.collection import Flashcore


# How long a thread may hold the GIL while another waits for it. A worker in pure Python (the
# session's queue rebuilt after another process's import, Home's numbers) otherwise keeps the
# screen's thread waiting up to Python's default 5 ms each time it wants the GIL back, several
# times per key (issue 19: the slowest keys beside an import waited tens of ms so).
KEY_SWITCH_S = 0.001


@contextlib.contextmanager
def responsive_keys() -> Iterator[None]:
    """While the app runs, threads take turns every KEY_SWITCH_S (restored after)."""
    previous = sys.getswitchinterval()
    sys.setswitchinterval(min(previous, KEY_SWITCH_S))
    try:
        yield
    finally:
        sys.setswitchinterval(previous)


def run_review_lazy(
    opener: Callable[[], Flashcore],
    *,
    deck: str | None = None,
    topic: str | None = None,
    minutes: float | None = None,
) -> int:
    """Run the review app; every answer is committed as it is given, so quitting at any moment
    (q, Ctrl+C) loses nothing. The first screen is painted before the collection is opened
    (`opener` runs in a worker thread); the collection is closed when the app ends. A deck or
    topic that does not exist is raised as FlashcoreError for the command line to print.
    Returns 0, or Textual's non-zero code after a crash (whose traceback Textual has printed)."""
    app = make_lazy_app(opener, deck=deck, topic=topic, minutes=minutes)
    try:
        with responsive_keys():
            app.run()
    finally:
        if app.opened is not None:
            app.opened.close()
    if app.error is not None:
        raise app.error
    return app.return_code or 0
