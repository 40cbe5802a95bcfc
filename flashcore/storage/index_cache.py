"""The light topic index kept between reports (schema 0024): what the weakness report reads
to match attempts to topics (topics, aliases, the notes that list a question id with their
topics, the notes counted per set of topics), stored once read, so that a report reads it in
one row instead of four queries over every note link (200,000 notes: ~0.08 CPU-s of a ~0.23 s
report). A qbank import writes none of what it holds, so the report after an import reads it.

Whether the stored index is current is kept by the database itself: SQLite triggers on topics,
topic_aliases, notes, note_qids and note_topics count a generation (`gen`) up, once a reader
has looked at it (`observed`), so a bulk write (a deck of 200,000 note links) adds one row
write and 200,000 cheap look-ups. A reader stores an index read at generation G only while
the generation is still G (`repos.keep_index`): a change committed after its read moved it.
A reader uses the stored one only while every trigger is in place (a later migration that
rebuilds a table drops its triggers: the index is then read as before, never stale).
PostgreSQL has the table but no triggers: its reports read the index each time."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Integer, Table, Text

from flashcore.storage.columns import metadata, profile_key
from flashcore.storage.columns import optional as _optional
from flashcore.storage.columns import required as _required
from flashcore.storage.index_codec import TOPIC_INDEX_TRIGGERS as TOPIC_INDEX_TRIGGERS

topic_index_cache = Table(
    "topic_index_cache",
    metadata,
    profile_key(),
    _required("gen", Integer),  # counted up by the triggers below
    _required("observed", Integer),  # the generation a reader last looked at
    _optional("built", Integer),  # the generation `payload` was read at
    _optional("payload", Text),  # the light index as JSON (repos.topic_index)
)

_BUMP = (
    "UPDATE topic_index_cache SET gen = gen + 1 WHERE gen = observed AND profile_id = "
    "coalesce(({}), profile_id)"  # no profile found (a cascade's parent gone): every one
)
_OF_TOPIC = "SELECT profile_id FROM topics WHERE id = {}.topic_id"
_OF_NOTE = "SELECT profile_id FROM notes WHERE id = {}.note_id"


def _on(name: str, event: str, table: str, *profiles: str) -> str:
    body = " ".join(_BUMP.format(p) + ";" for p in profiles)
    return f"CREATE TRIGGER {name} AFTER {event} ON {table} BEGIN {body} END"


def _sqlite_ddl() -> list[str]:
    out = []
    for short, table, of in (
        ("topic", "topics", "{}.profile_id"),
        ("alias", "topic_aliases", "{}.profile_id"),
        ("qid", "note_qids", _OF_NOTE),
        ("link", "note_topics", _OF_TOPIC),
    ):
        changed = "UPDATE OF path, parent_id, profile_id" if short == "topic" else "UPDATE"
        out.append(_on(f"tr_topic_index_{short}_in", "INSERT", table, of.format("NEW")))
        out.append(_on(f"tr_topic_index_{short}_out", "DELETE", table, of.format("OLD")))
        out.append(
            _on(f"tr_topic_index_{short}_moved", changed, table, of.format("OLD"), of.format("NEW"))
        )
    out.append(
        _on("tr_topic_index_note_moved", "UPDATE OF removed, profile_id", "notes",
            "OLD.profile_id", "NEW.profile_id")
    )  # fmt: skip
    return out


# The triggers as each database spells them (the migration that made them holds a copy).
TOPIC_INDEX_DDL: dict[str, list[str]] = {"sqlite": _sqlite_ddl()}


def create_topic_index_triggers(target: Any, connection: Any, **_: Any) -> None:
    for statement in TOPIC_INDEX_DDL.get(connection.dialect.name, []):
        connection.exec_driver_sql(statement)
