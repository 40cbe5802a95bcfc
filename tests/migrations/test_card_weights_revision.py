"""Schema 0019 on a released 0018 database, on SQLite and PostgreSQL: every card keeps its
weight and its weak topic, now read through one of its note's topics (the topic keeps the
weight its cards take); a missed question's weight stays on the card; a downgrade writes
every card's weight and weak topic back exactly."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from flashcore.storage.db import make_engine
from flashcore.storage.migrate import downgrade, upgrade
from flashcore.storage.tables import card_weight, cards, topics
from tests.migrations.fixtures import dump, released_database

REVISION, PREVIOUS = "0019", "0018"
COLUMNS = {
    "cards": ["id", "note_id", "weight", "weak_topic_id"],
    "topics": ["id", "parent_id", "weight"],
}


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def released(request: pytest.FixtureRequest, tmp_path: Path) -> tuple[str, dict[str, Any]]:
    url, fixture = released_database(request, tmp_path, PREVIOUS)
    engine = make_engine(url)
    try:
        with engine.begin() as conn:  # a card of a missed question beside its weak topic
            conn.exec_driver_sql(
                "UPDATE cards SET weight = 1.75 WHERE id = (SELECT MIN(id) FROM cards"
                " WHERE weak_topic_id IS NOT NULL)"
            )
    finally:
        engine.dispose()
    return url, fixture


def _old_weights(engine: sa.Engine) -> dict[int, tuple[float, int | None]]:
    with engine.connect() as conn:
        rows = conn.exec_driver_sql("SELECT id, weight, weak_topic_id FROM cards").all()
    return {card_id: (float(w), topic) for card_id, w, topic in rows}


def _new_weights(engine: sa.Engine) -> dict[int, tuple[float, int | None]]:
    """Each card's weight and weak topic as schema 0019 reads them."""
    through = topics.alias("through")
    with engine.connect() as conn:
        rows = conn.execute(
            sa.select(cards.c.id, card_weight(), through.c.card_topic_id).outerjoin(
                through, through.c.id == cards.c.weak_topic_id
            )
        ).all()
    return {card_id: (float(w), topic) for card_id, w, topic in rows}


def test_every_card_keeps_its_weight_and_weak_topic_read_through_its_notes_topic(released):
    url, _fixture = released
    engine = make_engine(url)
    try:
        before = _old_weights(engine)
        assert any(0 < w < 1 for w, _t in before.values())
        assert any(w > 1 for w, _t in before.values())
        upgrade(engine, REVISION)
        assert _new_weights(engine) == before
        with engine.connect() as conn:
            stored = conn.exec_driver_sql("SELECT weight FROM cards").scalars().all()
            assert {w for w in stored if w < 1} == {0.0}  # a topic's weight is the topic's
            assert sorted(w for w in stored if w >= 1) == [1.75]
            astray = conn.exec_driver_sql(
                "SELECT c.id FROM cards c WHERE c.weak_topic_id IS NOT NULL AND NOT EXISTS"
                " (SELECT 1 FROM note_topics nt WHERE nt.note_id = c.note_id"
                " AND nt.topic_id = c.weak_topic_id)"
            ).all()
            assert astray == []  # each card points at one of its note's topics
            untopical = conn.exec_driver_sql(
                "SELECT COUNT(*) FROM cards c WHERE c.weak_topic_id IS NULL AND EXISTS"
                " (SELECT 1 FROM note_topics nt WHERE nt.note_id = c.note_id)"
            ).scalar_one()
            assert untopical == 0  # every card of a note with topics points at one
    finally:
        engine.dispose()


def test_a_downgrade_writes_every_cards_weight_and_weak_topic_back(released):
    url, _fixture = released
    engine = make_engine(url)
    try:
        before = dump(engine, COLUMNS)
        upgrade(engine, REVISION)
        downgrade(engine, PREVIOUS)
        assert dump(engine, COLUMNS) == before
        names = {c["name"] for c in sa.inspect(engine).get_columns("topics")}
        assert not {"card_weight", "card_topic_id"} & names
    finally:
        engine.dispose()
