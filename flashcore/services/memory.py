"""Python's cycle collector paused around work that makes objects by the hundred thousand and
no cycles (an import keeping most of them, a report dropping them as it goes): the collector's
passes over a growing heap cost a fifth of an AnKing import's CPU and ~0.1 CPU-s of a weakness
report at 200,000 cards, and found next to nothing. Reference counting still frees everything
as it goes; cycles made meanwhile are collected after."""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager


@contextmanager
def no_cycle_collection() -> Iterator[None]:
    """The cycle collector paused while the block runs (as it was, after)."""
    was = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was:
            gc.enable()
