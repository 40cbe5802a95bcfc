"""Schema 0014 on a released 0013 database, on SQLite and PostgreSQL: each topic's weight
explanation is read from its text into data (a topic's own misses, a self-assessment's weak
area) that shows exactly the same text; a text it cannot read so is kept whole; a downgrade
writes every explanation back as the text an older version shows, and keeps every row."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from flashcore.core.assessment import AreaKind, Band
from flashcore.core.reasons import AssessedArea, TopicEvidence, WeakTopic
from flashcore.storage.db import make_engine
from flashcore.storage.explanations import from_json, to_json
from flashcore.storage.migrate import downgrade, read_revision, upgrade
from flashcore.storage.repos import weights as weights_repo
from tests.migrations.fixtures import dump, released_database

REVISION, PREVIOUS = "0014", "0013"
TYPE_I = "Immunology::Hypersensitivity::Type I"
COLUMNS = {"topics": ["id", "profile_id", "path", "weight", "reason"]}


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def released(request: pytest.FixtureRequest, tmp_path: Path) -> tuple[str, dict]:
    return released_database(request, tmp_path, PREVIOUS)


def stored(engine: sa.Engine) -> dict[str, tuple[str, Any]]:
    """Each topic's path -> (reason, explanation) as stored."""
    with engine.connect() as conn:
        rows = conn.exec_driver_sql("SELECT path, reason, explanation FROM topics").all()
    return {path: (reason, _json(why)) for path, reason, why in rows}


def _json(value: Any) -> Any:
    """A JSON column read with plain SQL: text on SQLite, parsed already on PostgreSQL."""
    return json.loads(value) if isinstance(value, str) else value


def test_upgrading_reads_every_explanation_into_data_that_shows_the_same_text(released):
    url, fixture = released
    engine = make_engine(url)
    try:
        upgrade(engine, REVISION)
        found = stored(engine)
    finally:
        engine.dispose()
    texts = {row[2]: row[-1] for row in fixture["tables"]["topics"]["rows"]}
    assert len(found) == len(texts)
    kinds = set()
    for path, (reason, data) in found.items():
        assert reason == texts[path]  # left as it was
        why = from_json(data)
        assert WeakTopic(path, why).explanation == texts[path]
        kinds.add(type(why).__name__ if why is not None else None)
    assert kinds == {"TopicEvidence", "AssessedArea", None}  # no text kept as text
    assert from_json(found[TYPE_I][1]) == TopicEvidence(
        misses=8, recent_misses=8, half_life_days=14.0, ratio=3.2, forgetting=1.2
    )
    assert from_json(found["Pharmacology::Cardiovascular"][1]) == AssessedArea(
        AreaKind.SYSTEM, "Cardiovascular System", Band.LOWER, "NBME 31", date(2026, 11, 17)
    )  # fmt: skip


@pytest.mark.parametrize(
    "text",
    [
        "weak topic: Immunology — something another version wrote",
        "weak topic: Immunology::Hypersensitivity::Type I — 8 misses in 14 d…",  # cut short
    ],
)
def test_a_text_the_revision_cannot_read_is_kept_whole_and_shown_as_before(released, text):
    url, _fixture = released
    engine = make_engine(url)
    try:
        with engine.begin() as conn:
            conn.execute(sa.text("UPDATE topics SET reason = :r WHERE path = :p"),
                         {"r": text, "p": TYPE_I})  # fmt: skip
        upgrade(engine, REVISION)
        _reason, data = stored(engine)[TYPE_I]
        assert data == {"kind": "text", "text": text}
        assert WeakTopic(TYPE_I, from_json(data)).explanation == text
        downgrade(engine, PREVIOUS)
        assert stored_reasons(engine)[TYPE_I] == text
    finally:
        engine.dispose()


def stored_reasons(engine: sa.Engine) -> dict[str, str]:
    with engine.connect() as conn:
        return dict(conn.exec_driver_sql("SELECT path, reason FROM topics").all())


def test_a_refresh_writes_the_text_beside_the_data_and_a_downgrade_writes_every_text_back(
    released,
):
    url, fixture = released
    engine = make_engine(url)
    try:
        # Up to the head: today's weight refresh runs on today's schema (schema 0019 added the
        # topics' card weights it writes), and the downgrade below crosses every later revision.
        upgrade(engine)
        # A weight refresh after the upgrade: the data, and its text beside it.
        evidence = TopicEvidence(3, 0, 14.0, last_miss_days=20, ratio=1.5)
        text = f"weak topic: {TYPE_I} — 3 older misses, the last 20 days ago (1.5× your average per card)"
        with engine.begin() as conn:
            (topic_id,) = conn.execute(
                sa.text("SELECT id FROM topics WHERE path = :p"), {"p": TYPE_I}
            ).one()
            weights_repo.update_topic_weights(
                conn, [weights_repo.TopicWeight(topic_id, 0.5, evidence, TYPE_I)]
            )
        assert stored(engine)[TYPE_I] == (text, to_json(evidence))
        with engine.begin() as conn:  # as a later version that no longer writes the text
            conn.exec_driver_sql("UPDATE topics SET reason = ''")
        downgrade(engine, PREVIOUS)
        assert read_revision(engine) == PREVIOUS
        assert "explanation" not in {c["name"] for c in sa.inspect(engine).get_columns("topics")}
        reasons = stored_reasons(engine)
        assert reasons[TYPE_I] == text
        rows = fixture["tables"]["topics"]["rows"]
        assert {path: r for path, r in reasons.items() if path != TYPE_I} == {
            row[2]: row[-1] for row in rows if row[2] != TYPE_I
        }
        assert len(dump(engine, COLUMNS)["topics"]["rows"]) == len(rows)
        upgrade(engine, REVISION)  # and up again: the written-back text reads as the same data
        assert from_json(stored(engine)[TYPE_I][1]) == evidence
    finally:
        engine.dispose()
