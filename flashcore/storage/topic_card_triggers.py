"""The triggers that keep `topic_cards` (schema 0018): each topic's cards, counted by the
database itself as topics, cards and note links are written (see `tables.topic_cards`).
`tables` registers `create_topic_cards_triggers` to run after `metadata.create_all`."""

from __future__ import annotations

from typing import Any

_TOPIC_OF_NOTE = "SELECT topic_id FROM note_topics WHERE note_id = {}.note_id"
_CARDS_OF_NOTE = "(SELECT count(*) FROM cards WHERE note_id = {}.note_id)"
_CARD_OUT = (
    f"UPDATE topic_cards SET cards = cards - 1 WHERE topic_id IN ({_TOPIC_OF_NOTE.format('OLD')})"
)
_CARD_IN = (
    f"UPDATE topic_cards SET cards = cards + 1 WHERE topic_id IN ({_TOPIC_OF_NOTE.format('NEW')})"
)
_LINK_OUT = f"UPDATE topic_cards SET cards = cards - {_CARDS_OF_NOTE.format('OLD')} WHERE topic_id = OLD.topic_id"
_LINK_IN = f"UPDATE topic_cards SET cards = cards + {_CARDS_OF_NOTE.format('NEW')} WHERE topic_id = NEW.topic_id"
_TOPIC_IN = "INSERT INTO topic_cards (topic_id, cards) VALUES (NEW.id, 0)"

# The triggers as each database spells them (the migration that made them holds a copy).
TOPIC_CARDS_DDL: dict[str, list[str]] = {
    "sqlite": [
        f"CREATE TRIGGER tr_topic_cards_topic AFTER INSERT ON topics BEGIN {_TOPIC_IN}; END",
        f"CREATE TRIGGER tr_topic_cards_card_in AFTER INSERT ON cards BEGIN {_CARD_IN}; END",
        f"CREATE TRIGGER tr_topic_cards_card_out BEFORE DELETE ON cards BEGIN {_CARD_OUT}; END",
        "CREATE TRIGGER tr_topic_cards_card_moved AFTER UPDATE OF note_id ON cards "
        f"WHEN OLD.note_id <> NEW.note_id BEGIN {_CARD_OUT}; {_CARD_IN}; END",
        f"CREATE TRIGGER tr_topic_cards_link_in AFTER INSERT ON note_topics BEGIN {_LINK_IN}; END",
        "CREATE TRIGGER tr_topic_cards_link_out BEFORE DELETE ON note_topics "
        f"BEGIN {_LINK_OUT}; END",
        "CREATE TRIGGER tr_topic_cards_link_moved AFTER UPDATE ON note_topics "
        f"BEGIN {_LINK_OUT}; {_LINK_IN}; END",
    ],
    "postgresql": [
        "CREATE FUNCTION topic_cards_topic() RETURNS trigger LANGUAGE plpgsql AS $$ "
        f"BEGIN {_TOPIC_IN}; RETURN NULL; END $$",
        "CREATE FUNCTION topic_cards_card() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN "
        f"IF TG_OP <> 'INSERT' THEN {_CARD_OUT}; END IF; "
        f"IF TG_OP <> 'DELETE' THEN {_CARD_IN}; RETURN NEW; END IF; RETURN OLD; END $$",
        "CREATE FUNCTION topic_cards_link() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN "
        f"IF TG_OP <> 'INSERT' THEN {_LINK_OUT}; END IF; "
        f"IF TG_OP <> 'DELETE' THEN {_LINK_IN}; RETURN NEW; END IF; RETURN OLD; END $$",
        "CREATE TRIGGER tr_topic_cards_topic AFTER INSERT ON topics "
        "FOR EACH ROW EXECUTE FUNCTION topic_cards_topic()",
        "CREATE TRIGGER tr_topic_cards_card_in AFTER INSERT ON cards "
        "FOR EACH ROW EXECUTE FUNCTION topic_cards_card()",
        "CREATE TRIGGER tr_topic_cards_card_out BEFORE DELETE ON cards "
        "FOR EACH ROW EXECUTE FUNCTION topic_cards_card()",
        "CREATE TRIGGER tr_topic_cards_card_moved AFTER UPDATE OF note_id ON cards FOR EACH ROW "
        "WHEN (OLD.note_id IS DISTINCT FROM NEW.note_id) EXECUTE FUNCTION topic_cards_card()",
        "CREATE TRIGGER tr_topic_cards_link_in AFTER INSERT ON note_topics "
        "FOR EACH ROW EXECUTE FUNCTION topic_cards_link()",
        "CREATE TRIGGER tr_topic_cards_link_out BEFORE DELETE ON note_topics "
        "FOR EACH ROW EXECUTE FUNCTION topic_cards_link()",
        "CREATE TRIGGER tr_topic_cards_link_moved AFTER UPDATE ON note_topics "
        "FOR EACH ROW EXECUTE FUNCTION topic_cards_link()",
    ],
}


def create_topic_cards_triggers(target: Any, connection: Any, **_: Any) -> None:
    for statement in TOPIC_CARDS_DDL.get(connection.dialect.name, []):
        connection.exec_driver_sql(statement)
