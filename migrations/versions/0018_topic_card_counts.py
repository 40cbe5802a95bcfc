"""Topic card counts

Revision ID: 0018
Revises: 0017
Create Date: 2026-12-06 04:30:00

`topic_cards`: each topic's cards (the cards of the notes linked to it), kept by triggers on
topics, cards and note_topics, so the weakness report reads ~1,000 counts instead of joining
every card to its topics (issue 19: ~0.15 s of a report at 200,000 cards). Filled from the
cards as they stand; downgrading drops the triggers and the table (nothing else changes).
The trigger text is a copy of `tables.TOPIC_CARDS_DDL` as it was at this revision.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0018"
down_revision: str | None = "0017"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TRIGGERS = ("tr_topic_cards_topic", "tr_topic_cards_card_in", "tr_topic_cards_card_out",
            "tr_topic_cards_card_moved", "tr_topic_cards_link_in", "tr_topic_cards_link_out",
            "tr_topic_cards_link_moved")  # fmt: skip
TABLE_OF = {"topic": "topics", "card": "cards", "link": "note_topics"}
FUNCTIONS = ("topic_cards_topic", "topic_cards_card", "topic_cards_link")

DDL: dict[str, list[str]] = {
    "sqlite": [
        "CREATE TRIGGER tr_topic_cards_topic AFTER INSERT ON topics BEGIN INSERT INTO topic_cards (topic_id, cards) VALUES (NEW.id, 0); END",
        "CREATE TRIGGER tr_topic_cards_card_in AFTER INSERT ON cards BEGIN UPDATE topic_cards SET cards = cards + 1 WHERE topic_id IN (SELECT topic_id FROM note_topics WHERE note_id = NEW.note_id); END",
        "CREATE TRIGGER tr_topic_cards_card_out BEFORE DELETE ON cards BEGIN UPDATE topic_cards SET cards = cards - 1 WHERE topic_id IN (SELECT topic_id FROM note_topics WHERE note_id = OLD.note_id); END",
        "CREATE TRIGGER tr_topic_cards_card_moved AFTER UPDATE OF note_id ON cards WHEN OLD.note_id <> NEW.note_id BEGIN UPDATE topic_cards SET cards = cards - 1 WHERE topic_id IN (SELECT topic_id FROM note_topics WHERE note_id = OLD.note_id); UPDATE topic_cards SET cards = cards + 1 WHERE topic_id IN (SELECT topic_id FROM note_topics WHERE note_id = NEW.note_id); END",
        "CREATE TRIGGER tr_topic_cards_link_in AFTER INSERT ON note_topics BEGIN UPDATE topic_cards SET cards = cards + (SELECT count(*) FROM cards WHERE note_id = NEW.note_id) WHERE topic_id = NEW.topic_id; END",
        "CREATE TRIGGER tr_topic_cards_link_out BEFORE DELETE ON note_topics BEGIN UPDATE topic_cards SET cards = cards - (SELECT count(*) FROM cards WHERE note_id = OLD.note_id) WHERE topic_id = OLD.topic_id; END",
        "CREATE TRIGGER tr_topic_cards_link_moved AFTER UPDATE ON note_topics BEGIN UPDATE topic_cards SET cards = cards - (SELECT count(*) FROM cards WHERE note_id = OLD.note_id) WHERE topic_id = OLD.topic_id; UPDATE topic_cards SET cards = cards + (SELECT count(*) FROM cards WHERE note_id = NEW.note_id) WHERE topic_id = NEW.topic_id; END",
    ],
    "postgresql": [
        "CREATE FUNCTION topic_cards_topic() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN INSERT INTO topic_cards (topic_id, cards) VALUES (NEW.id, 0); RETURN NULL; END $$",
        "CREATE FUNCTION topic_cards_card() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN IF TG_OP <> 'INSERT' THEN UPDATE topic_cards SET cards = cards - 1 WHERE topic_id IN (SELECT topic_id FROM note_topics WHERE note_id = OLD.note_id); END IF; IF TG_OP <> 'DELETE' THEN UPDATE topic_cards SET cards = cards + 1 WHERE topic_id IN (SELECT topic_id FROM note_topics WHERE note_id = NEW.note_id); RETURN NEW; END IF; RETURN OLD; END $$",
        "CREATE FUNCTION topic_cards_link() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN IF TG_OP <> 'INSERT' THEN UPDATE topic_cards SET cards = cards - (SELECT count(*) FROM cards WHERE note_id = OLD.note_id) WHERE topic_id = OLD.topic_id; END IF; IF TG_OP <> 'DELETE' THEN UPDATE topic_cards SET cards = cards + (SELECT count(*) FROM cards WHERE note_id = NEW.note_id) WHERE topic_id = NEW.topic_id; RETURN NEW; END IF; RETURN OLD; END $$",
        "CREATE TRIGGER tr_topic_cards_topic AFTER INSERT ON topics FOR EACH ROW EXECUTE FUNCTION topic_cards_topic()",
        "CREATE TRIGGER tr_topic_cards_card_in AFTER INSERT ON cards FOR EACH ROW EXECUTE FUNCTION topic_cards_card()",
        "CREATE TRIGGER tr_topic_cards_card_out BEFORE DELETE ON cards FOR EACH ROW EXECUTE FUNCTION topic_cards_card()",
        "CREATE TRIGGER tr_topic_cards_card_moved AFTER UPDATE OF note_id ON cards FOR EACH ROW WHEN (OLD.note_id IS DISTINCT FROM NEW.note_id) EXECUTE FUNCTION topic_cards_card()",
        "CREATE TRIGGER tr_topic_cards_link_in AFTER INSERT ON note_topics FOR EACH ROW EXECUTE FUNCTION topic_cards_link()",
        "CREATE TRIGGER tr_topic_cards_link_out BEFORE DELETE ON note_topics FOR EACH ROW EXECUTE FUNCTION topic_cards_link()",
        "CREATE TRIGGER tr_topic_cards_link_moved AFTER UPDATE ON note_topics FOR EACH ROW EXECUTE FUNCTION topic_cards_link()",
    ],
}


def upgrade() -> None:
    op.create_table(
        "topic_cards",
        sa.Column("topic_id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("cards", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["topic_id"],
            ["topics.id"],
            name=op.f("fk_topic_cards_topic_id_topics"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("topic_id", name=op.f("pk_topic_cards")),
    )
    op.execute(
        "INSERT INTO topic_cards (topic_id, cards) "
        "SELECT t.id, (SELECT count(*) FROM note_topics nt JOIN cards c ON c.note_id = nt.note_id "
        "WHERE nt.topic_id = t.id) FROM topics t"
    )
    for statement in DDL.get(op.get_bind().dialect.name, []):
        op.execute(statement)


def downgrade() -> None:
    name = op.get_bind().dialect.name
    for trigger in TRIGGERS:
        if name == "sqlite":
            op.execute(f"DROP TRIGGER IF EXISTS {trigger}")
        elif name == "postgresql":
            table = TABLE_OF[trigger.split("_")[3]]
            op.execute(f"DROP TRIGGER IF EXISTS {trigger} ON {table}")
    if name == "postgresql":
        for function in FUNCTIONS:
            op.execute(f"DROP FUNCTION IF EXISTS {function}()")
    op.drop_table("topic_cards")
