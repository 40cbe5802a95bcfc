"""What loading one deck file did (`decks add`), for its summary line and `--json`."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from flashcore.services.anki_scheduling import SchedulingSummary


@dataclass(slots=True)
class FileReport:
    path: str
    ok: bool
    decks: list[str] = field(default_factory=list)
    added: int = 0
    updated: int = 0
    unchanged: int = 0
    removed: int = 0
    deleted: int = 0
    cards_added: int = 0
    removed_keys: list[str] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    # Anki packages: notes not imported (reason -> count), of kinds flashcore does not
    # support (image occlusion) or that make no card; media files written; notes' warnings.
    skipped: dict[str, int] = field(default_factory=dict)
    unsupported: dict[str, int] = field(default_factory=dict)
    media_added: int = 0
    suspended_cards: int = 0
    warnings: list[str] = field(default_factory=list)
    # `--with-scheduling`: what the package's scheduling did (None: not asked, or not a package)
    scheduling: SchedulingSummary | None = None
    # Anki packages: notes of flashcore's own decks, exported and coming back (not added again;
    # services.anki_identity)
    own_notes: int = 0
    # Anki packages: notes kept as flashcore holds them, the package's copy being older than
    # the one taken before (Anki's "update notes: if newer")
    kept_older: int = 0

    def to_json(self) -> dict[str, Any]:
        return {
            "path": self.path,
            "ok": self.ok,
            "decks": self.decks,
            "added": self.added,
            "updated": self.updated,
            "unchanged": self.unchanged,
            "suspended_removed": self.removed,
            "deleted": self.deleted,
            "cards_added": self.cards_added,
            "removed_keys": self.removed_keys,
            "problems": self.problems,
            "skipped": sum(self.skipped.values()) + sum(self.unsupported.values()),
            "skipped_reasons": self.skipped,
            "unsupported": self.unsupported,
            "media_added": self.media_added,
            "warnings": self.warnings,
            "scheduling": self.scheduling.to_json() if self.scheduling is not None else None,
            "own_notes": self.own_notes,
            "kept_older": self.kept_older,
        }
