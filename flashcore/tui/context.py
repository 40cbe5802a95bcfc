"""What every screen is handed by the app: the collection and a monotonic clock.

The collection's own clock (`fc.clock`, frozen by FLASHCORE_NOW) schedules cards; `ticks` (by
default `time.monotonic`) measures answer durations and the session timer, so a frozen scheduling
clock never freezes them. Tests pass a still `ticks` to make timers stable in snapshots.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from flashcore.services.collection import Flashcore


@dataclass(frozen=True, slots=True)
class Context:
    fc: Flashcore
    ticks: Callable[[], float] = field(default=time.monotonic)
    # A session's length (`review --minutes M`): its queue is cut to fit. None: what is left
    # of the exam's daily budget, when an exam is set (else no cut).
    session_minutes: float | None = None
