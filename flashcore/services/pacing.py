"""Pauses inside work done while the student reads (issue 19): the review session's rebuild of
its ranking after another process's commit (~80 ms of CPU at 50,000 cards, in the reviewer's
quiet worker) stops between its steps while the reviewer shows a key's card, instead of
sharing the processor and the GIL with that key (`StudySession.pace`).

The pause is whatever the caller installs with `paced` (the reviewer: a wait for the key's
frame), for the thread that installs it only: a queue built on the key's own path (a card not
read ahead) is never paced."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar

_PACE: ContextVar[Callable[[], object] | None] = ContextVar("flashcore_pace", default=None)


@contextmanager
def paced(pace: Callable[[], object] | None) -> Iterator[None]:
    """While inside, `pause()` in this thread calls `pace` (None: nothing)."""
    token = _PACE.set(pace)
    try:
        yield
    finally:
        _PACE.reset(token)


def pause() -> None:
    """Between two steps of a long piece of work: wait as the caller of `paced` asked."""
    pace = _PACE.get()
    if pace is not None:
        pace()
