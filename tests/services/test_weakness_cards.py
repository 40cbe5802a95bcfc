"""The weakness report's `cards` (read from `topic_cards`, schema 0018) equal the cards counted
from the cards themselves, for every reported topic and rollup, on random decks and random
missed questions, as the decks change under it; SQLite and PostgreSQL."""

from __future__ import annotations

import random
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

from sqlalchemy import func, select

from flashcore.core import topics as topic_keys
from flashcore.core.clock import FixedClock
from flashcore.services import Flashcore, qbank, weakness
from flashcore.storage.tables import cards, note_topics, topics
from flashcore.storage.uow import reading
from tests.conftest import write_deck
from tests.storage.test_topic_cards import PATHS, _deck_body

TODAY = date(2026, 11, 25)


def _log(rng: random.Random, rows: int) -> bytes:
    lines = ["question_id,result,date,subject,system,topic"]
    for i in range(rows):
        path = rng.choice(PATHS).split("::")
        on = TODAY - timedelta(days=rng.choice([0, 1, 3, 9, 20, 45]))
        outcome = rng.choice(["correct", "incorrect", "incorrect"])
        lines.append(f"{1000 + i},{outcome},{on.isoformat()},Step 1,{path[0]},{path[-1]}")
    return ("\n".join(lines) + "\n").encode()


def _direct(fc: Flashcore, path: str) -> int:
    """The old count: every card joined to its note's topics, this topic and those below."""
    key = topic_keys.path_key(path)
    t = topics.c
    with reading(fc.engine) as s:
        return int(
            s.execute(
                select(func.count())
                .select_from(cards)
                .join(note_topics, note_topics.c.note_id == cards.c.note_id)
                .join(topics, t.id == note_topics.c.topic_id)
                .where(t.profile_id == fc.profile_id, (t.key == key) | t.key.like(key + "::%"))
            ).scalar_one()
        )


def test_the_reported_cards_are_the_cards_counted(db_url, tmp_path: Path):
    rng = random.Random(21)
    clock = FixedClock(datetime(2026, 11, 25, 15, tzinfo=UTC))
    with Flashcore.open(db_url, clock=clock, create=True, timezone="UTC") as fc:
        keys = [f"n{i}" for i in range(30)]
        deck = write_deck(tmp_path / "d.toml", _deck_body(rng, keys), key="d")
        fc.add_decks([deck])
        qbank.import_log(fc, _log(rng, 300), origin="log.csv")
        for round_ in range(3):
            rows = weakness.report(fc)["topics"]
            assert rows and any(r["cards"] for r in rows)
            for row in rows:
                assert row["cards"] == _direct(fc, row["topic"]), row["topic"]
            kept = [k for k in keys if rng.random() < 0.7] + [f"new{round_}"]
            write_deck(deck, _deck_body(rng, kept), key="d")
            fc.add_decks([deck], prune=round_ == 1)
