"""An Anki import's writes to cards and their Anki anchors, recorded card by card and made
in a few statements (storage.anki_sync re-exports these names)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import null

from flashcore.core.model import Schedule
from flashcore.storage import repos
from flashcore.storage.tables import anki_cards, cards

if TYPE_CHECKING:
    from flashcore.storage.repos import Executor


@dataclass(frozen=True, slots=True)
class Anchor:
    """The schedule a card had in Anki when flashcore last took its history over; the answers
    after `at` are replayed from it."""

    at: datetime
    schedule: Schedule


@dataclass(slots=True)
class CardWrites:
    """An import's writes to cards and their anchors, made at the end in a few statements."""

    new_links: list[dict[str, Any]] = field(default_factory=list)
    links: list[dict[str, Any]] = field(default_factory=list)
    schedules: list[dict[str, Any]] = field(default_factory=list)
    burials: list[dict[str, Any]] = field(default_factory=list)

    def anchor(
        self, profile_id: int, card_id: int, anki_card_id: int, anchor: Anchor | None, *,
        exists: bool,
    ) -> None:  # fmt: skip
        """Record a card's Anki id and anchor (None: keep the anchor it has)."""
        values: dict[str, Any] = {"b_card": card_id, "anki_card_id": anki_card_id}
        if anchor is not None:
            sched = anchor.schedule
            values.update(
                anchor_at=anchor.at, state=int(sched.state), step=sched.step, due=sched.due,
                stability=sched.memory.stability if sched.memory else None,
                difficulty=sched.memory.difficulty if sched.memory else None,
                last_review=sched.last_review, reps=sched.reps, lapses=sched.lapses,
            )  # fmt: skip
        if exists:
            self.links.append(values)
        else:
            values.setdefault("anchor_at", None)
            for key in ("state", "step", "due", "stability", "difficulty", "last_review",
                        "reps", "lapses"):  # fmt: skip
                values.setdefault(key, None)
            values["profile_id"] = profile_id
            values["card_id"] = values.pop("b_card")
            self.new_links.append(values)

    def schedule(
        self, card_id: int, schedule: Schedule, now: datetime, *, retention: float | None,
        flagged: bool | None,
    ) -> None:  # fmt: skip
        """Give a card the schedule an import settled on."""
        memory = schedule.memory
        self.schedules.append({
            "b_card": card_id, "state": int(schedule.state), "step": schedule.step,
            "due": schedule.due, "stability": memory.stability if memory else None,
            "difficulty": memory.difficulty if memory else None,
            "last_review": schedule.last_review, "reps": schedule.reps,
            "lapses": schedule.lapses, "desired_retention": retention, "modified_at": now,
            "b_flagged": flagged,
        })  # fmt: skip

    def __len__(self) -> int:
        return len(self.new_links) + len(self.links) + len(self.schedules) + len(self.burials)

    def bury(self, card_id: int, until: datetime) -> None:
        """Bury a card until `until` (after its schedule, which unburies it, is written)."""
        self.burials.append({"b_card": card_id, "buried_until": until})

    def write(self, session: Executor) -> None:
        """Write what is recorded, and forget it (an import writes every few thousand cards,
        so a 50,000-card package never holds all its rows at once)."""
        repos.insert_many(session, anki_cards, self.new_links)
        with_anchor = [v for v in self.links if "anchor_at" in v]
        id_only = [v for v in self.links if "anchor_at" not in v]
        repos.update_many(session, anki_cards, _keyed(with_anchor), key="card_id")
        repos.update_many(session, anki_cards, _keyed(id_only), key="card_id")
        flagged = [v for v in self.schedules if v["b_flagged"] is not None]
        kept = [v for v in self.schedules if v["b_flagged"] is None]
        bumped = {"version": cards.c.version + 1, "buried_until": null()}
        for group, with_flag in ((flagged, True), (kept, False)):
            rows = []
            for v in group:
                row = {"id": v["b_card"], **{name: v[name] for name in _CARD_COLUMNS}}
                if with_flag:
                    row["flagged"] = v["b_flagged"]
                rows.append(row)
            repos.update_many(session, cards, rows, key="id", also=bumped)
        burials = [{"id": v["b_card"], "buried_until": v["buried_until"]} for v in self.burials]
        repos.update_many(session, cards, burials, key="id",
                          also={"version": cards.c.version + 1})  # fmt: skip
        self.new_links.clear()
        self.links.clear()
        self.schedules.clear()
        self.burials.clear()


_CARD_COLUMNS = (
    "state", "step", "due", "stability", "difficulty", "last_review", "reps", "lapses",
    "desired_retention", "modified_at",
)  # fmt: skip


def _keyed(links: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Anchor rows keyed by `card_id` (recorded as `b_card`)."""
    return [{("card_id" if k == "b_card" else k): v for k, v in row.items()} for row in links]
