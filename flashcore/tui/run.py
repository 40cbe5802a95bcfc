"""`flashcore review`: run the app until the student quits."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from flashcore.tui.app import make_lazy_app

if TYPE_CHECKING:
    from flashcore.services.collection import Flashcore


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
        app.run()
    finally:
        if app.opened is not None:
            app.opened.close()
    if app.error is not None:
        raise app.error
    return app.return_code or 0
