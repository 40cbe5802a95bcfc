"""An import reads the topic index once: the weights after it use the index it matched its
log with while no other connection has committed since (SQLite's data_version; PostgreSQL
reads it again), and a note another connection adds meanwhile reaches the weights."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from flashcore.services import Flashcore, matching, qbank, weights
from tests.conftest import write_deck
from tests.services.test_qbank_import import MIXED, deck_fc

__all__ = ["deck_fc"]  # fixtures

LATE = """
[[cards]]
id = "gap"
front = "Gap fact"
back = "listed late"
topics = ["Pathology::General::Gap topic"]
qids = ["uworld:1005"]
"""


def _count_index_reads(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    reads: list[int] = []
    load = matching.load_index

    def counted(*args: Any, **kwargs: Any) -> Any:
        reads.append(1)
        return load(*args, **kwargs)

    monkeypatch.setattr(matching, "load_index", counted)
    monkeypatch.setattr(weights, "load_index", counted)
    return reads


def _weights(fc: Any) -> list[tuple[Any, ...]]:
    with fc.engine.connect() as conn:
        cards = conn.execute(sa.text("SELECT id, weight, weak_topic_id FROM cards ORDER BY id"))
        topics = conn.execute(
            sa.text("SELECT id, weight, card_weight, card_topic_id FROM topics ORDER BY id")
        )
        return [tuple(r) for r in cards] + [tuple(r) for r in topics]


def test_an_import_reads_the_topic_index_once_when_nothing_else_committed(
    deck_fc: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    reads = _count_index_reads(monkeypatch)
    qbank.import_log(deck_fc, MIXED, origin="mixed.csv")
    sqlite = deck_fc.engine.dialect.name == "sqlite"
    assert len(reads) == (1 if sqlite else 2)
    after = _weights(deck_fc)
    weights.refresh_weights(deck_fc)
    assert _weights(deck_fc) == after  # the same as a refresh that reads everything


def test_a_note_added_by_another_connection_during_an_import_reaches_its_weights(
    deck_fc: Any, db_url: str, clock: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    reads = _count_index_reads(monkeypatch)
    other = Flashcore.open(db_url, clock=clock, timezone="UTC")
    added: list[Any] = []

    def progress(phase: str, _done: int, _total: int) -> None:
        if phase == "saving" and not added:  # matched with the old index: read it again
            before = len(reads)
            added.extend(other.add_decks([write_deck(tmp_path / "late.toml", LATE, key="late")]))
            del reads[before:]  # the deck's own

    try:
        report = qbank.import_log(deck_fc, MIXED, origin="mixed.csv", progress=progress)
    finally:
        other.close()
    assert added and added[0].ok
    assert report.unmatched_qids == ["uworld:1003", "uworld:1005"]  # as matched
    assert len(reads) == 2
    after = _weights(deck_fc)
    late = [c for c in deck_fc.cards() if c["front"] == "Gap fact"]
    assert late and late[0]["weakness"].startswith("missed uworld:1005")  # weighs on it
    weights.refresh_weights(deck_fc)
    assert _weights(deck_fc) == after
