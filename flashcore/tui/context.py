"""What every screen is handed by the app: the collection and a monotonic clock.

The collection's own clock (`fc.clock`, frozen by FLASHCORE_NOW) schedules cards; `ticks` (by
default `time.monotonic`) measures answer durations and the session timer, so a frozen scheduling
clock never freezes them. Tests pass a still `ticks` to make timers stable in snapshots.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from flashcore.services.collection import Flashcore


def open_with_system_viewer(paths: Sequence[Path]) -> None:
    """Open files with the system's viewer (xdg-open, macOS `open`, Windows `start`), not
    waiting for it; its output never reaches the terminal the reviewer draws on."""
    for path in paths:
        if sys.platform == "win32":
            os.startfile(path)  # type: ignore[attr-defined]
            continue
        command = ["open", str(path)] if sys.platform == "darwin" else ["xdg-open", str(path)]
        subprocess.Popen(
            command,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
        )


@dataclass(frozen=True, slots=True)
class Context:
    fc: Flashcore
    ticks: Callable[[], float] = field(default=time.monotonic)
    # A session's length (`review --minutes M`): its queue is cut to fit. None: what is left
    # of the exam's daily budget, when an exam is set (else no cut).
    session_minutes: float | None = None
    # How the reviewer's `o` opens a card's images (tests pass a recorder).
    open_files: Callable[[Sequence[Path]], None] = field(default=open_with_system_viewer)
