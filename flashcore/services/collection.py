"""The Python API: `Flashcore.open(...)` gives one student's collection; the CLI's commands are
functions of the service modules, which take it as their first argument, and the commonest are
methods here too. Example::

    from flashcore.core.clock import SystemClock
    from flashcore.services import Flashcore, study

    fc = Flashcore.open("sqlite:///my.sqlite3", clock=SystemClock(), create=True)
    fc.add_decks(["decks/immunology.toml"])
    for item in study.build_queue(fc, limit=5).items:
        print(item.card_id, item.reason)
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from flashcore.services.context import Collection, resolve_url

if TYPE_CHECKING:
    from flashcore.services import decks

__all__ = ["Flashcore", "resolve_url"]


class Flashcore(Collection):
    """The collection (`services.context.Collection`) with the Python API's shortcuts."""

    def add_decks(
        self,
        paths: Sequence[str | Path],
        *,
        prune: bool = False,
        with_scheduling: bool = False,
        show_progress: bool = False,
    ) -> list[decks.FileReport]:
        from flashcore.services import decks

        return decks.add_decks(
            self, [Path(p) for p in paths], prune=prune, with_scheduling=with_scheduling,
            show_progress=show_progress,
        )  # fmt: skip

    def list_decks(self) -> list[decks.DeckSummary]:
        from flashcore.services import decks

        return decks.list_decks(self)

    def cards(self, *, deck: str | None = None, topic: str | None = None) -> list[dict[str, Any]]:
        from flashcore.services import decks

        return decks.list_cards(self, deck=deck, topic=topic)

    def ensure_starter_decks(self) -> list[decks.FileReport] | None:
        """Load the bundled decks into a profile that never held one (review start). The
        review-start backup is no longer taken here, before Home: the reviewer starts it in
        the background once Home is painted (`services.backup.schedule_backup`)."""
        from flashcore.services import decks

        return decks.ensure_starter_decks(self)
