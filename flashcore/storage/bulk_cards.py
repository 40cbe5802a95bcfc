"""A big load of cards into a profile that holds none (a first import of an AnKing package:
35,000 notes, 48,000 cards, 105,000 topic and question links), on SQLite: while it is written,
the `topic_cards` triggers of schema 0018 (one `UPDATE` per card and per link, ~0.5 s CPU), the
`weak_candidates` triggers of schema 0031 and,
of the cards' and their notes' links' tables that hold fewer rows than the load brings, the
secondary indexes (each card is written three times in a scheduling import: inserted, its
state, its new-card place; unique indexes stay, and the notes' deck index, which the load
reads by) are set aside, in the load's own transaction; after it, the indexes are built once
(~0.1 s CPU), the triggers made again and the profile's `topic_cards` counted once (`recount_topic_cards`: what `check` compares them
with), its `weak_candidates` filled once. The DDL is part of the transaction: a load that fails rolls it back with the rest.

So are the INSERT triggers of schema 0024 on the links (`tr_topic_index_link_in`,
`tr_topic_index_qid_in`: each link's row ran one `UPDATE` of `topic_index_cache`, ~7 us, 0.5-0.7
s CPU for AnKing's 105,000 links), of which only the first of a profile's changes anything (it
counts the profile's generation up once a reader has looked at it; the next ones find it
moved): after the load, one statement counts up the generation of each profile a link
written in the load belongs to (the links' rows past the greatest row id held before it),
as those triggers would have (`_bump_linked`).

Other databases keep their triggers and indexes (PostgreSQL would lock every table they
belong to, for every profile, for the whole load)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

from sqlalchemy import exists, func, select

from flashcore.storage import weak_candidates
from flashcore.storage.repos.common import dialect_of
from flashcore.storage.repos.topic_cards import recount_topic_cards
from flashcore.storage.tables import cards, note_qids, note_topics

if TYPE_CHECKING:
    from flashcore.storage.repos.common import Executor

BULK_LOAD_CARDS = 1_000  # smaller loads keep the triggers and indexes
# Schema 0024's triggers on link inserts, set aside too (see the module), with what each
# counts up after the load: the generation of the profile of each row written in it (the rows
# past the greatest row id held before), a link's profile its topic's, a question id's its
# note's (`storage.index_cache`; a profile not looked at since its last change stays).
INDEX_INSERT_TRIGGERS = {
    "tr_topic_index_link_in": (
        "note_topics",
        "SELECT t.profile_id FROM note_topics r JOIN topics t ON t.id = r.topic_id WHERE r.rowid > ?",
    ),
    "tr_topic_index_qid_in": (
        "note_qids",
        "SELECT n.profile_id FROM note_qids r JOIN notes n ON n.id = r.note_id WHERE r.rowid > ?",
    ),
}
_BUMP = "UPDATE topic_index_cache SET gen = gen + 1 WHERE gen = observed AND profile_id IN ({})"


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
    triggers = _schema_rows(
        driver, "trigger", "(name LIKE 'tr_topic_cards_%' OR name LIKE 'tr_weak_candidates_%')"
    )
    linked = _schema_rows(
        driver, "trigger", f"name IN ({', '.join(map(repr, INDEX_INSERT_TRIGGERS))})"
    )
    marks = [(name, _greatest_rowid(driver, INDEX_INSERT_TRIGGERS[name][0])) for name, _ in linked]
    indexes: list[tuple[str, str]] = []
    for table in (cards, note_topics, note_qids):
        held = session.execute(select(func.count()).select_from(table)).scalar_one()
        if held < incoming:  # built again over every profile's rows: only when few are others'
            indexes += _schema_rows(driver, "index", f"tbl_name = '{table.name}'")
    for name, _sql in triggers + linked:
        driver.execute(f'DROP TRIGGER main."{name}"')
    for name, _sql in indexes:
        driver.execute(f'DROP INDEX main."{name}"')
    yield True
    for _name, sql in indexes:
        driver.execute(sql)
    for _name, sql in triggers + linked:
        driver.execute(sql)
    _bump_linked(driver, marks)
    recount_topic_cards(session, profile_id)
    weak_candidates.refill(session, profile_id)


def _greatest_rowid(driver: Any, table: str) -> int:
    return int(driver.execute(f"SELECT IFNULL(MAX(rowid), 0) FROM main.{table}").fetchone()[0])


def _bump_linked(driver: Any, marks: list[tuple[str, int]]) -> None:
    """What the link-insert triggers set aside (name, the greatest row id before) would have
    done (see `INDEX_INSERT_TRIGGERS`)."""
    if marks:
        rows = " UNION ".join(INDEX_INSERT_TRIGGERS[name][1] for name, _ in marks)
        driver.execute(_BUMP.format(rows), [mark for _, mark in marks])
