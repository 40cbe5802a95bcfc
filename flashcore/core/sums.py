"""What a topic's totals add up (`core.weakness.Totals.add`): another topic's totals, or a
group of attempts summed the same way (storage's per-group sums, added to their topics without
a Totals made for each)."""

from __future__ import annotations

from datetime import date
from typing import Protocol


class Sums(Protocol):
    """A topic's attempts summed as `core.weakness.Totals` sums them."""

    @property
    def decayed_misses(self) -> float: ...
    @property
    def decayed_attempts(self) -> float: ...
    @property
    def misses(self) -> int: ...
    @property
    def attempts(self) -> int: ...
    @property
    def recent_misses(self) -> int: ...
    @property
    def recent_attempts(self) -> int: ...
    @property
    def last_miss(self) -> date | None: ...
