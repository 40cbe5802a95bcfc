"""A bulk load of cards (`storage.bulk_cards.loading_cards`) sets schema 0024's link-insert
triggers aside and counts the topic index's generation up once after, as they would have:
the kept index's row is the same as with the triggers in place, whatever links the load
writes (topic links, question ids, both, none) and whether a reader had looked at it."""

from __future__ import annotations

import random
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from flashcore.core.clock import FixedClock
from flashcore.services import Flashcore
from flashcore.storage import bulk_cards
from flashcore.storage.repos import topic_index as topics_repo
from flashcore.storage.uow import run_write, write_now
from tests.conftest import write_deck
from tests.storage.test_topic_index_kept import _deck

CLOCK = FixedClock(datetime(2026, 11, 25, 15, tzinfo=UTC))


def _loaded(url: str, deck: Path, *, bulk: bool, write: tuple[str, ...], observed: bool) -> Any:
    """A profile with notes and topics but no cards and no links, then one write transaction
    inside `loading_cards` that puts back the links of the tables `write` names: the
    topic index's row and whether the load set the triggers aside."""
    with Flashcore.open(url, clock=CLOCK, create=True, timezone="UTC") as fc:
        fc.add_decks([deck])
        pid = fc.profile_id
        with fc.engine.begin() as conn:
            held = {
                table: conn.exec_driver_sql(f"SELECT * FROM {table}").fetchall()
                for table in ("note_topics", "note_qids")
            }
            for table in ("cards", "note_topics", "note_qids"):
                conn.exec_driver_sql(f"DELETE FROM {table}")
        if observed:
            write_now(fc.engine, lambda w: topics_repo.observe_index(w, pid))

        def work(session: Any) -> bool:
            incoming = 10**6 if bulk else 0
            with bulk_cards.loading_cards(session, pid, incoming) as aside:
                driver = session.connection().connection.driver_connection
                for table in write:
                    marks = ", ".join("?" for _ in held[table][0])
                    driver.executemany(f"INSERT INTO {table} VALUES ({marks})", held[table])
            return aside

        aside = run_write(fc.engine, work)
        with fc.engine.connect() as conn:
            row = conn.exec_driver_sql(
                f"SELECT gen, observed, built FROM topic_index_cache WHERE profile_id = {pid}"
            ).fetchall()
            triggers = conn.exec_driver_sql(
                "SELECT count(*) FROM sqlite_master WHERE type = 'trigger'"
                " AND name GLOB 'tr_topic_index_*'"
            ).scalar_one()
    return row, aside, triggers


@pytest.mark.parametrize("observed", [True, False])
@pytest.mark.parametrize(
    "write", [("note_topics",), ("note_qids",), ("note_topics", "note_qids"), ()]
)
def test_a_bulk_load_counts_the_topic_index_generation_as_its_link_triggers_would(
    tmp_path: Path, write: tuple[str, ...], observed: bool
) -> None:
    keys = [f"n{i}" for i in range(30)]
    deck = write_deck(tmp_path / "d.toml", _deck(random.Random(3), keys), key="d")
    bulk, aside, triggers = _loaded(
        f"sqlite:///{tmp_path / 'bulk.sqlite3'}", deck, bulk=True, write=write, observed=observed
    )
    kept, kept_aside, _ = _loaded(
        f"sqlite:///{tmp_path / 'kept.sqlite3'}", deck, bulk=False, write=write, observed=observed
    )
    assert (aside, kept_aside) == (True, False)
    assert triggers == 13  # every trigger made again
    assert bulk == kept
    if observed:
        gen, seen, _built = bulk[0]
        assert gen == seen + (1 if write else 0)
