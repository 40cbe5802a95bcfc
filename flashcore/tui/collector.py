"""The cyclic garbage collector, kept off the path from a key press to the next card.

A collection stops every thread (it holds the GIL): one that starts between a key and the next
card's paint adds its whole pause to that card. So:

- after the first load, `freeze_once()` moves everything loaded so far (the collection's
  engine, SQLAlchemy, Textual, the screens) out of the collector's reach for good;
- while a review session is on screen the automatic collector is off (`hold` / `release`,
  counted, so nested holds are fine), and the session calls `collect` while the student reads
  a card: the young generations every time, everything every `FULL_EVERY` cards.

Only cyclic garbage waits for those collections; reference counting frees everything else at
once, as always.
"""

from __future__ import annotations

import gc

FULL_EVERY = 50

_state = {"frozen": False, "holds": 0, "collections": 0}


def freeze_once() -> None:
    """Move everything allocated so far out of the collector's way (once per process)."""
    if not _state["frozen"]:
        _state["frozen"] = True
        gc.freeze()


def hold() -> None:
    """Turn automatic collection off until the matching `release`."""
    _state["holds"] += 1
    gc.disable()


def release() -> None:
    _state["holds"] = max(0, _state["holds"] - 1)
    if _state["holds"] == 0:
        gc.enable()


def collect() -> None:
    """A collection at a quiet moment: generations 0 and 1, and every `FULL_EVERY` calls all."""
    _state["collections"] += 1
    gc.collect(2 if _state["collections"] % FULL_EVERY == 0 else 1)
