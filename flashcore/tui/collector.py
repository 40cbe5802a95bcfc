"""The cyclic garbage collector, kept off the path from a key press to the next card.

A collection stops every thread (it holds the GIL): one that starts between a key and the next
card's paint adds its whole pause to that card. So:

- after the first load, `freeze_once()` moves everything loaded so far (the collection's
  engine, SQLAlchemy, Textual, the screens) out of the collector's reach for good;
- while a review session is on screen the automatic collector is off (`hold` / `release`,
  counted, so nested holds are fine), and the session calls `collect` while the student reads
  a card: the young generations every time; every `FULL_EVERY` cards everything, after which
  the survivors are frozen too, so the next full collection only looks at what is newer (a
  full collection over a whole session's objects took 14-30 ms at 50,000 cards; frozen, the
  session's queue is never scanned again and still freed by reference counting when rebuilt).

Only cyclic garbage waits for those collections; reference counting frees everything else at
once, as always. A screen left as it is (a card read for an hour, "All done" overnight) still
makes cyclic garbage every second (the session's clock is redrawn): `idle_tick` collects it every
`IDLE_EVERY` seconds, and every `IDLE_FULL_EVERY` of those everything, without freezing what
survives (a card on screen is not long-lived). With none of that, an open reviewer grew ~14 MB an
hour on a card.
"""

from __future__ import annotations

import gc

from flashcore.services import memory

FULL_EVERY = 10
IDLE_EVERY = 5  # seconds on a screen left as it is between two collections
IDLE_FULL_EVERY = 12  # of those, every twelfth (a minute) collects everything

_state = {"frozen": False, "holds": 0, "collections": 0, "idle": 0}


def freeze_once() -> None:
    """Move everything allocated so far out of the collector's way (once per process)."""
    if not _state["frozen"]:
        _state["frozen"] = True
        gc.freeze()


def hold() -> None:
    """Turn automatic collection off until the matching `release` (counted with the services'
    own pauses, which may be running in a worker thread meanwhile)."""
    _state["holds"] += 1
    memory.pause()


def release() -> None:
    if _state["holds"] > 0:
        _state["holds"] -= 1
        memory.resume()


def settle() -> None:
    """Everything alive now is long-lived (a session's queue after it is loaded): freeze it."""
    gc.freeze()


def collect() -> None:
    """A collection at a quiet moment: generations 0 and 1; every `FULL_EVERY` calls all of
    them, then `settle`."""
    _state["collections"] += 1
    _state["idle"] = 0  # a card was just shown: the screen is not left as it is
    if _state["collections"] % FULL_EVERY:
        gc.collect(1)
    else:
        gc.collect(2)
        settle()


def idle_tick() -> None:
    """A second has passed with nothing on its way to the screen (called while `hold` is on);
    counted from the last card shown (`collect`), so a student answering every few seconds
    meets no collection here."""
    _state["idle"] += 1
    if _state["idle"] % IDLE_EVERY:
        return
    gc.collect(1 if _state["idle"] % (IDLE_EVERY * IDLE_FULL_EVERY) else 2)
