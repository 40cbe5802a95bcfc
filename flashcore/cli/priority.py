"""Bulk commands yield the CPU: `qbank import` and `decks add` lower their own scheduling
priority (`nice`) before their bulk work, so a reviewer open beside them (or any other
interactive program) gets the processor first on a busy machine. On an idle machine nice
changes nothing: the import runs as fast as before.

The level is `FLASHCORE_BULK_NICE` (default `BULK_NICE`, 0 keeps full priority; at most 19).
It is an increment to the process's niceness and, as for every unprivileged process, cannot be
undone: it is taken once the command has checked its arguments, and only by the command's
own process (the tests, which call `flashcore.cli.main` in-process, set 0).

A mild level, not 19: the import still holds SQLite's write lock for a few milliseconds at a
time (services.write_steps), and a process starved of the CPU inside such a transaction keeps
an answer waiting (priority inversion). Measured beside the reviewer on a loaded 2-core
machine (tools.bench.tui --import-nice 0,5,10): the answer's own time grows with the level
(p95 15-19 ms at 0, 16-20 at 5, 22-27 at 10) while the reviewer's screen work gets faster;
5 gave the best key -> next card (p50 21/31, p95 43/52 ms against 28/32, 45/56 at 0 and
25/32, 42/62 at 10). At 5 the import gets about a quarter of a core beside one busy normal
process. (Those runs had the import and the reviewer in two sessions of a kernel with autogroup
scheduling, where a process's nice does not reach another session: the differences were the
machine's noise. Since issue 19r the session's group is lowered too, `lower_session`.)
"""

from __future__ import annotations

import atexit
import contextlib
import errno
import os
import signal
import threading
import time
from typing import Any

from flashcore.cli.parser import CliUsageError

BULK_NICE = 5
ENV = "FLASHCORE_BULK_NICE"


def bulk_nice() -> int:
    """The niceness increment bulk work takes: FLASHCORE_BULK_NICE, else BULK_NICE."""
    raw = os.environ.get(ENV, "").strip()
    if not raw:
        return BULK_NICE
    try:
        level = int(raw)
    except ValueError:
        raise CliUsageError(f"{ENV}: {raw!r} is not a whole number (0 to 19)") from None
    if not 0 <= level <= 19:
        raise CliUsageError(f"{ENV}: {level} is out of range (0 to 19)")
    return level


def yield_cpu() -> int:
    """Lower this process's CPU priority for bulk work (once: later calls change nothing), and
    its session's where the kernel shares the CPUs between sessions (`lower_session`).
    Returns the process's niceness afterwards."""
    level = bulk_nice()
    nice = getattr(os, "nice", None)  # not on Windows: full priority there
    if nice is None:
        return 0
    if level and not _lowered[0]:
        _lowered[0] = True
        lower_session(level)
        with contextlib.suppress(OSError):
            return int(nice(level))
    with contextlib.suppress(OSError):
        return int(nice(0))
    return 0


_lowered = [False]

# Linux's autogroup scheduling (on by default in most distributions' kernels) shares the CPUs
# between sessions first: every terminal's processes weigh as one group, and a process's own
# nice only orders it against its own session's. A reviewer open in another terminal is
# another session, so the import's nice alone gave it nothing (tools.bench.tui, issue 19r).
# The group's nice is the session's: raised for the command's lifetime, set back at its exit
# (the shell that waits for the import is idle meanwhile; a session ended by a closed
# terminal takes its group with it).
AUTOGROUP = "/proc/self/autogroup"


def lower_session(level: int) -> bool:
    """Raise this session's autogroup nice to `level` until this process exits (True when
    raised). Nothing where there is no autogroup, or it is already at `level` or above."""
    try:
        with open(AUTOGROUP) as f:
            words = f.read().split()  # "/autogroup-42 nice 0"
        before = int(words[words.index("nice") + 1])
    except (OSError, ValueError, IndexError):
        return False
    if before >= level or not _set_session_nice(level):
        return False
    atexit.register(_set_session_nice, before, 3)
    _restore_on_signals(before)
    return True


# Signals that end Python without its atexit where nobody handles them (`timeout`, `kill`, a
# script's supervisor): the session stayed lowered for every later command in that terminal.
ENDING_SIGNALS = tuple(
    getattr(signal, name) for name in ("SIGTERM", "SIGHUP") if hasattr(signal, name)
)


def _restore_on_signals(before: int) -> None:
    """On a signal in `ENDING_SIGNALS` left at its default: set the session's nice back to
    `before`, then end as that signal ends a process (a handler someone else set, or an
    ignored signal (`nohup`), is left alone)."""
    if threading.current_thread() is not threading.main_thread():
        return  # only the main thread may set handlers

    def ending(signum: int, _frame: Any) -> None:
        _set_session_nice(before, 3)
        signal.signal(signum, signal.SIG_DFL)
        os.kill(os.getpid(), signum)

    for signum in ENDING_SIGNALS:
        if signal.getsignal(signum) is signal.SIG_DFL:
            signal.signal(signum, ending)


def _set_session_nice(level: int, tries: int = 1) -> bool:
    for _ in range(tries):
        try:
            with open(AUTOGROUP, "w") as f:
                f.write(str(level))
        except OSError as exc:
            if exc.errno != errno.EAGAIN:  # not allowed
                return False
            time.sleep(0.11)  # the kernel takes one change in 100 ms from a user
        else:
            return True
    return False
