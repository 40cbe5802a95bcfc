"""The cards a weight refresh may change, kept by the database (schema 0031; re-exported by
`storage.tables`): every card but those of weight 0 that point at their note's only topic, or
at none for a note without topics. No topic weight can move those (`repos.weights`:
`card_weights_and_topics`), and they are nearly all of a collection (200,000 cards of one
topic a note: ~3,500 left, the cards of open missed questions and of notes with two topics).
The refresh of every study day read them by scanning every card (~0.15 CPU-s at 200,000);
it reads this table's rows instead.

Kept exactly by triggers on `cards` (a card written, deleted, or its weight leaving or
reaching 0, its weak topic, note or profile changed) and on `note_topics` (a note's links
written: its cards looked at again), on both databases, as `topic_cards` is (schema 0018).
A bulk load that sets the triggers aside (`storage.bulk_cards`) fills the profile's rows
afterwards (`refill`); `check` compares them with the cards and `--repair` refills them."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from sqlalchemy import Column, ForeignKey, Integer, Table, delete, select
from sqlalchemy import text as sql_text

from flashcore.storage.columns import metadata

if TYPE_CHECKING:  # repos.common's Executor, spelled here: repos imports this module's table
    from sqlalchemy import Connection
    from sqlalchemy.orm import Session

    Executor = Session | Connection

weak_candidates = Table(
    "weak_candidates",
    metadata,
    Column(
        "profile_id",
        ForeignKey("profiles.id", ondelete="CASCADE"),
        primary_key=True,
        autoincrement=False,
    ),
    # No foreign key: a card's delete trigger takes its row (SQLite would look for it by a
    # second index at every card deleted).
    Column("card_id", Integer, primary_key=True, autoincrement=False),
    sqlite_with_rowid=False,
)


def settled(card: str) -> str:
    """SQL: whether the card `card` (a row alias: NEW, OLD, c) is one no refresh moves."""
    links = f"SELECT 1 FROM note_topics WHERE note_topics.note_id = {card}.note_id"
    return (
        f"({card}.weight = 0 AND NOT EXISTS ({links} AND ({card}.weak_topic_id IS NULL"
        f" OR note_topics.topic_id <> {card}.weak_topic_id)) AND ({card}.weak_topic_id IS NULL"
        f" OR EXISTS ({links} AND note_topics.topic_id = {card}.weak_topic_id)))"
    )


_IN = "INSERT INTO weak_candidates (profile_id, card_id) "
_CARD_OUT = "DELETE FROM weak_candidates WHERE profile_id = OLD.profile_id AND card_id = OLD.id"
_CARD_IN = f"{_IN}SELECT NEW.profile_id, NEW.id WHERE NOT {settled('NEW')} ON CONFLICT DO NOTHING"


def _note(row: str) -> str:
    """The cards of the note of link `row` looked at again."""
    of_note = f"SELECT c.profile_id, c.id FROM cards c WHERE c.note_id = {row}.note_id"
    return (
        f"DELETE FROM weak_candidates WHERE (profile_id, card_id) IN ({of_note}); "
        f"{_IN}{of_note} AND NOT {settled('c')} ON CONFLICT DO NOTHING"
    )


_MOVED = (
    "(OLD.weight = 0) <> (NEW.weight = 0) OR OLD.note_id <> NEW.note_id"
    " OR OLD.profile_id <> NEW.profile_id OR (OLD.weak_topic_id IS NULL) <> (NEW.weak_topic_id"
    " IS NULL) OR OLD.weak_topic_id <> NEW.weak_topic_id"
)
_COLUMNS = "weight, weak_topic_id, note_id, profile_id"

# The triggers as each database spells them (migration 0031 holds a copy).
WEAK_CANDIDATES_DDL: dict[str, list[str]] = {
    "sqlite": [
        f"CREATE TRIGGER tr_weak_candidates_card_in AFTER INSERT ON cards BEGIN {_CARD_IN}; END",
        f"CREATE TRIGGER tr_weak_candidates_card_out AFTER DELETE ON cards BEGIN {_CARD_OUT}; END",
        f"CREATE TRIGGER tr_weak_candidates_card_moved AFTER UPDATE OF {_COLUMNS} ON cards "
        f"WHEN {_MOVED} BEGIN {_CARD_OUT}; {_CARD_IN}; END",
        "CREATE TRIGGER tr_weak_candidates_link_in AFTER INSERT ON note_topics "
        f"BEGIN {_note('NEW')}; END",
        "CREATE TRIGGER tr_weak_candidates_link_out AFTER DELETE ON note_topics "
        f"BEGIN {_note('OLD')}; END",
        "CREATE TRIGGER tr_weak_candidates_link_moved AFTER UPDATE ON note_topics "
        f"BEGIN {_note('OLD')}; {_note('NEW')}; END",
    ],
    "postgresql": [
        "CREATE FUNCTION weak_candidates_card() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN "
        f"IF TG_OP <> 'INSERT' THEN {_CARD_OUT}; END IF; "
        f"IF TG_OP <> 'DELETE' THEN {_CARD_IN}; RETURN NEW; END IF; RETURN OLD; END $$",
        "CREATE FUNCTION weak_candidates_link() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN "
        f"IF TG_OP <> 'INSERT' THEN {_note('OLD')}; END IF; "
        f"IF TG_OP <> 'DELETE' THEN {_note('NEW')}; RETURN NEW; END IF; RETURN OLD; END $$",
        "CREATE TRIGGER tr_weak_candidates_card_in AFTER INSERT ON cards "
        "FOR EACH ROW EXECUTE FUNCTION weak_candidates_card()",
        "CREATE TRIGGER tr_weak_candidates_card_out AFTER DELETE ON cards "
        "FOR EACH ROW EXECUTE FUNCTION weak_candidates_card()",
        f"CREATE TRIGGER tr_weak_candidates_card_moved AFTER UPDATE OF {_COLUMNS} ON cards "
        f"FOR EACH ROW WHEN ({_MOVED}) EXECUTE FUNCTION weak_candidates_card()",
        "CREATE TRIGGER tr_weak_candidates_link_in AFTER INSERT ON note_topics "
        "FOR EACH ROW EXECUTE FUNCTION weak_candidates_link()",
        "CREATE TRIGGER tr_weak_candidates_link_out AFTER DELETE ON note_topics "
        "FOR EACH ROW EXECUTE FUNCTION weak_candidates_link()",
        "CREATE TRIGGER tr_weak_candidates_link_moved AFTER UPDATE ON note_topics "
        "FOR EACH ROW EXECUTE FUNCTION weak_candidates_link()",
    ],
}
TRIGGERS = tuple(s.split()[2] for s in WEAK_CANDIDATES_DDL["sqlite"])


def create_weak_candidates_triggers(target: Any, connection: Any, **_: Any) -> None:
    for statement in WEAK_CANDIDATES_DDL.get(connection.dialect.name, []):
        connection.exec_driver_sql(statement)


# Every card that is a candidate, counted from the cards (migration 0031 fills the table so).
COUNTED = f"SELECT c.profile_id, c.id FROM cards c WHERE NOT {settled('c')}"
FILL_ALL = f"INSERT INTO weak_candidates (profile_id, card_id) {COUNTED}"


def refill(conn: Executor, profile_id: int) -> None:
    """The profile's candidates counted afresh from its cards (after a bulk load that set
    the triggers aside; `check --repair`)."""
    conn.execute(delete(weak_candidates).where(weak_candidates.c.profile_id == profile_id))
    conn.execute(sql_text(f"{FILL_ALL} AND c.profile_id = :p").bindparams(p=profile_id))


def kept_and_counted(conn: Executor, profile_id: int) -> tuple[set[int], set[int]]:
    """The profile's candidates as kept and as counted from its cards (`check`)."""
    w = weak_candidates.c
    kept = {int(i) for i in conn.execute(select(w.card_id).where(w.profile_id == profile_id))
            .scalars()}  # fmt: skip
    of_profile = sql_text(f"{COUNTED} AND c.profile_id = :p").bindparams(p=profile_id)
    counted = {int(card_id) for _p, card_id in conn.execute(of_profile)}
    return kept, counted
