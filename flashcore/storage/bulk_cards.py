"""A big load of cards into a profile that holds none (a first import of an AnKing package:
35,000 notes, 48,000 cards, 105,000 topic and question links), on SQLite: while it is written,
the `topic_cards` triggers of schema 0018 (one `UPDATE` per card and per link, ~0.5 s CPU) and,
of the cards' and their notes' links' tables that hold fewer rows than the load brings, the
secondary indexes (each card is written three times in a scheduling import: inserted, its
state, its new-card place; unique indexes stay, and the notes' deck index, which the load
reads by) are set aside, in the load's own transaction; after it, the indexes are built once
(~0.1 s CPU), the triggers made again and the profile's `topic_cards` counted once (`recount_topic_cards`: what `check` compares them
with). The DDL is part of the transaction: a load that fails rolls it back with the rest.

Other databases keep their triggers and indexes (PostgreSQL would lock every table they
belong to, for every profile, for the whole load)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

from sqlalchemy import exists, func, select

from flashcore.storage.repos.common import dialect_of
from flashcore.storage.repos.topic_cards import recount_topic_cards
from flashcore.storage.tables import cards, note_qids, note_topics

if TYPE_CHECKING:
    from flashcore.storage.repos.common import Executor

BULK_LOAD_CARDS = 1_000  # smaller loads keep the triggers and indexes


def _driver(session: Executor) -> Any:
    held: Any = session
    connection = held.connection() if callable(held.connection) else held
    return connection.connection.driver_connection


def _schema_rows(driver: Any, kind: str, where: str) -> list[tuple[str, str]]:
    return [
        (str(name), str(sql))
        for name, sql in driver.execute(
            f"SELECT name, sql FROM main.sqlite_master WHERE type = '{kind}' AND {where}"
            " AND sql IS NOT NULL ORDER BY name"
        )
    ]


def bulk_load_applies(session: Executor, profile_id: int, incoming: int) -> bool:
    """Whether `loading_cards` sets anything aside for a load of `incoming` cards."""
    if incoming < BULK_LOAD_CARDS or dialect_of(session).name != "sqlite":
        return False
    held = session.execute(select(exists().where(cards.c.profile_id == profile_id))).scalar()
    return not held


@contextmanager
def loading_cards(session: Executor, profile_id: int, incoming: int) -> Iterator[bool]:
    """The block writes about `incoming` cards (and their notes and links) into the profile;
    yields whether the triggers (and maybe indexes) are set aside during it (see the module).
    On an exception nothing is made again here: the caller's rollback restores the schema."""
    if not bulk_load_applies(session, profile_id, incoming):
        yield False
        return
    driver = _driver(session)
    triggers = _schema_rows(driver, "trigger", "name LIKE 'tr_topic_cards_%'")
    indexes: list[tuple[str, str]] = []
    for table in (cards, note_topics, note_qids):
        held = session.execute(select(func.count()).select_from(table)).scalar_one()
        if held < incoming:  # built again over every profile's rows: only when few are others'
            indexes += _schema_rows(driver, "index", f"tbl_name = '{table.name}'")
    for name, _sql in triggers:
        driver.execute(f'DROP TRIGGER main."{name}"')
    for name, _sql in indexes:
        driver.execute(f'DROP INDEX main."{name}"')
    yield True
    for _name, sql in indexes:
        driver.execute(sql)
    for _name, sql in triggers:
        driver.execute(sql)
    recount_topic_cards(session, profile_id)
