"""Python's cycle collector paused around work that makes objects by the hundred thousand and
no cycles (an import keeping most of them, a report dropping them as it goes): the collector's
passes over a growing heap cost a fifth of an AnKing import's CPU and ~0.1 CPU-s of a weakness
report at 200,000 cards, and found next to nothing. Reference counting still frees everything
as it goes; cycles made meanwhile are collected after.

Pauses are counted, across threads: the reviewer's hold on the collector (tui.collector) and a
worker thread's pause (a queue build, an import) may overlap, and the collector comes back on
only when the last of them ends. (Each kept "as it was" on its own before: a queue build still
running in a worker when a session started turned the collector back on under the session.)"""

from __future__ import annotations

import gc
import threading
from collections.abc import Iterator
from contextlib import contextmanager

_lock = threading.Lock()
_state = {"pauses": 0, "was_on": True}


def pause() -> None:
    """Turn the cycle collector off until the matching `resume` (counted)."""
    with _lock:
        if _state["pauses"] == 0:
            _state["was_on"] = gc.isenabled()
        _state["pauses"] += 1
        gc.disable()


def resume() -> None:
    """End one `pause`; the last one puts the collector back as it was before the first."""
    with _lock:
        _state["pauses"] = max(0, _state["pauses"] - 1)
        if _state["pauses"] == 0 and _state["was_on"]:
            gc.enable()


@contextmanager
def no_cycle_collection() -> Iterator[None]:
    """The cycle collector paused while the block runs (as it was, after the last pause)."""
    pause()
    try:
        yield
    finally:
        resume()
