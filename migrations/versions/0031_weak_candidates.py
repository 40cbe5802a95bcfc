"""weakness candidates: the cards a weight refresh may change, kept by triggers

Revision ID: 0031
Revises: 0030
Create Date: 2026-12-07 18:30:00

`weak_candidates`: one row (profile, card) for every card but those of weight 0 that point at
their note's only topic, or at none for a note without topics (no topic weight moves those:
`repos.weights.card_weights_and_topics`). Kept by triggers on `cards` and `note_topics` on
both databases (`storage.weak_candidates`), so that the weight refresh of a study day reads
these rows instead of scanning every card (issue 19: 200,000 cards, ~0.15 CPU-s of the day's
first command). Filled here from the cards. Downgrading drops the triggers (and PostgreSQL's
functions) and the table; nothing else changes. The trigger text is a copy of
`storage.weak_candidates.WEAK_CANDIDATES_DDL` as it is at this revision.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0031"
down_revision: str | None = "0030"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TRIGGERS = (
    "tr_weak_candidates_card_in",
    "tr_weak_candidates_card_out",
    "tr_weak_candidates_card_moved",
    "tr_weak_candidates_link_in",
    "tr_weak_candidates_link_out",
    "tr_weak_candidates_link_moved",
)
FILL = "INSERT INTO weak_candidates (profile_id, card_id) SELECT c.profile_id, c.id FROM cards c WHERE NOT (c.weight = 0 AND NOT EXISTS (SELECT 1 FROM note_topics WHERE note_topics.note_id = c.note_id AND (c.weak_topic_id IS NULL OR note_topics.topic_id <> c.weak_topic_id)) AND (c.weak_topic_id IS NULL OR EXISTS (SELECT 1 FROM note_topics WHERE note_topics.note_id = c.note_id AND note_topics.topic_id = c.weak_topic_id)))"
DDL = {
    "postgresql": [
        "CREATE FUNCTION weak_candidates_card() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN IF TG_OP <> 'INSERT' THEN DELETE FROM weak_candidates WHERE profile_id = OLD.profile_id AND card_id = OLD.id; END IF; IF TG_OP <> 'DELETE' THEN INSERT INTO weak_candidates (profile_id, card_id) SELECT NEW.profile_id, NEW.id WHERE NOT (NEW.weight = 0 AND NOT EXISTS (SELECT 1 FROM note_topics WHERE note_topics.note_id = NEW.note_id AND (NEW.weak_topic_id IS NULL OR note_topics.topic_id <> NEW.weak_topic_id)) AND (NEW.weak_topic_id IS NULL OR EXISTS (SELECT 1 FROM note_topics WHERE note_topics.note_id = NEW.note_id AND note_topics.topic_id = NEW.weak_topic_id))) ON CONFLICT DO NOTHING; RETURN NEW; END IF; RETURN OLD; END $$",
        "CREATE FUNCTION weak_candidates_link() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN IF TG_OP <> 'INSERT' THEN DELETE FROM weak_candidates WHERE (profile_id, card_id) IN (SELECT c.profile_id, c.id FROM cards c WHERE c.note_id = OLD.note_id); INSERT INTO weak_candidates (profile_id, card_id) SELECT c.profile_id, c.id FROM cards c WHERE c.note_id = OLD.note_id AND NOT (c.weight = 0 AND NOT EXISTS (SELECT 1 FROM note_topics WHERE note_topics.note_id = c.note_id AND (c.weak_topic_id IS NULL OR note_topics.topic_id <> c.weak_topic_id)) AND (c.weak_topic_id IS NULL OR EXISTS (SELECT 1 FROM note_topics WHERE note_topics.note_id = c.note_id AND note_topics.topic_id = c.weak_topic_id))) ON CONFLICT DO NOTHING; END IF; IF TG_OP <> 'DELETE' THEN DELETE FROM weak_candidates WHERE (profile_id, card_id) IN (SELECT c.profile_id, c.id FROM cards c WHERE c.note_id = NEW.note_id); INSERT INTO weak_candidates (profile_id, card_id) SELECT c.profile_id, c.id FROM cards c WHERE c.note_id = NEW.note_id AND NOT (c.weight = 0 AND NOT EXISTS (SELECT 1 FROM note_topics WHERE note_topics.note_id = c.note_id AND (c.weak_topic_id IS NULL OR note_topics.topic_id <> c.weak_topic_id)) AND (c.weak_topic_id IS NULL OR EXISTS (SELECT 1 FROM note_topics WHERE note_topics.note_id = c.note_id AND note_topics.topic_id = c.weak_topic_id))) ON CONFLICT DO NOTHING; RETURN NEW; END IF; RETURN OLD; END $$",
        "CREATE TRIGGER tr_weak_candidates_card_in AFTER INSERT ON cards FOR EACH ROW EXECUTE FUNCTION weak_candidates_card()",
        "CREATE TRIGGER tr_weak_candidates_card_out AFTER DELETE ON cards FOR EACH ROW EXECUTE FUNCTION weak_candidates_card()",
        "CREATE TRIGGER tr_weak_candidates_card_moved AFTER UPDATE OF weight, weak_topic_id, note_id, profile_id ON cards FOR EACH ROW WHEN ((OLD.weight = 0) <> (NEW.weight = 0) OR OLD.note_id <> NEW.note_id OR OLD.profile_id <> NEW.profile_id OR (OLD.weak_topic_id IS NULL) <> (NEW.weak_topic_id IS NULL) OR OLD.weak_topic_id <> NEW.weak_topic_id) EXECUTE FUNCTION weak_candidates_card()",
        "CREATE TRIGGER tr_weak_candidates_link_in AFTER INSERT ON note_topics FOR EACH ROW EXECUTE FUNCTION weak_candidates_link()",
        "CREATE TRIGGER tr_weak_candidates_link_out AFTER DELETE ON note_topics FOR EACH ROW EXECUTE FUNCTION weak_candidates_link()",
        "CREATE TRIGGER tr_weak_candidates_link_moved AFTER UPDATE ON note_topics FOR EACH ROW EXECUTE FUNCTION weak_candidates_link()",
    ],
    "sqlite": [
        "CREATE TRIGGER tr_weak_candidates_card_in AFTER INSERT ON cards BEGIN INSERT INTO weak_candidates (profile_id, card_id) SELECT NEW.profile_id, NEW.id WHERE NOT (NEW.weight = 0 AND NOT EXISTS (SELECT 1 FROM note_topics WHERE note_topics.note_id = NEW.note_id AND (NEW.weak_topic_id IS NULL OR note_topics.topic_id <> NEW.weak_topic_id)) AND (NEW.weak_topic_id IS NULL OR EXISTS (SELECT 1 FROM note_topics WHERE note_topics.note_id = NEW.note_id AND note_topics.topic_id = NEW.weak_topic_id))) ON CONFLICT DO NOTHING; END",
        "CREATE TRIGGER tr_weak_candidates_card_out AFTER DELETE ON cards BEGIN DELETE FROM weak_candidates WHERE profile_id = OLD.profile_id AND card_id = OLD.id; END",
        "CREATE TRIGGER tr_weak_candidates_card_moved AFTER UPDATE OF weight, weak_topic_id, note_id, profile_id ON cards WHEN (OLD.weight = 0) <> (NEW.weight = 0) OR OLD.note_id <> NEW.note_id OR OLD.profile_id <> NEW.profile_id OR (OLD.weak_topic_id IS NULL) <> (NEW.weak_topic_id IS NULL) OR OLD.weak_topic_id <> NEW.weak_topic_id BEGIN DELETE FROM weak_candidates WHERE profile_id = OLD.profile_id AND card_id = OLD.id; INSERT INTO weak_candidates (profile_id, card_id) SELECT NEW.profile_id, NEW.id WHERE NOT (NEW.weight = 0 AND NOT EXISTS (SELECT 1 FROM note_topics WHERE note_topics.note_id = NEW.note_id AND (NEW.weak_topic_id IS NULL OR note_topics.topic_id <> NEW.weak_topic_id)) AND (NEW.weak_topic_id IS NULL OR EXISTS (SELECT 1 FROM note_topics WHERE note_topics.note_id = NEW.note_id AND note_topics.topic_id = NEW.weak_topic_id))) ON CONFLICT DO NOTHING; END",
        "CREATE TRIGGER tr_weak_candidates_link_in AFTER INSERT ON note_topics BEGIN DELETE FROM weak_candidates WHERE (profile_id, card_id) IN (SELECT c.profile_id, c.id FROM cards c WHERE c.note_id = NEW.note_id); INSERT INTO weak_candidates (profile_id, card_id) SELECT c.profile_id, c.id FROM cards c WHERE c.note_id = NEW.note_id AND NOT (c.weight = 0 AND NOT EXISTS (SELECT 1 FROM note_topics WHERE note_topics.note_id = c.note_id AND (c.weak_topic_id IS NULL OR note_topics.topic_id <> c.weak_topic_id)) AND (c.weak_topic_id IS NULL OR EXISTS (SELECT 1 FROM note_topics WHERE note_topics.note_id = c.note_id AND note_topics.topic_id = c.weak_topic_id))) ON CONFLICT DO NOTHING; END",
        "CREATE TRIGGER tr_weak_candidates_link_out AFTER DELETE ON note_topics BEGIN DELETE FROM weak_candidates WHERE (profile_id, card_id) IN (SELECT c.profile_id, c.id FROM cards c WHERE c.note_id = OLD.note_id); INSERT INTO weak_candidates (profile_id, card_id) SELECT c.profile_id, c.id FROM cards c WHERE c.note_id = OLD.note_id AND NOT (c.weight = 0 AND NOT EXISTS (SELECT 1 FROM note_topics WHERE note_topics.note_id = c.note_id AND (c.weak_topic_id IS NULL OR note_topics.topic_id <> c.weak_topic_id)) AND (c.weak_topic_id IS NULL OR EXISTS (SELECT 1 FROM note_topics WHERE note_topics.note_id = c.note_id AND note_topics.topic_id = c.weak_topic_id))) ON CONFLICT DO NOTHING; END",
        "CREATE TRIGGER tr_weak_candidates_link_moved AFTER UPDATE ON note_topics BEGIN DELETE FROM weak_candidates WHERE (profile_id, card_id) IN (SELECT c.profile_id, c.id FROM cards c WHERE c.note_id = OLD.note_id); INSERT INTO weak_candidates (profile_id, card_id) SELECT c.profile_id, c.id FROM cards c WHERE c.note_id = OLD.note_id AND NOT (c.weight = 0 AND NOT EXISTS (SELECT 1 FROM note_topics WHERE note_topics.note_id = c.note_id AND (c.weak_topic_id IS NULL OR note_topics.topic_id <> c.weak_topic_id)) AND (c.weak_topic_id IS NULL OR EXISTS (SELECT 1 FROM note_topics WHERE note_topics.note_id = c.note_id AND note_topics.topic_id = c.weak_topic_id))) ON CONFLICT DO NOTHING; DELETE FROM weak_candidates WHERE (profile_id, card_id) IN (SELECT c.profile_id, c.id FROM cards c WHERE c.note_id = NEW.note_id); INSERT INTO weak_candidates (profile_id, card_id) SELECT c.profile_id, c.id FROM cards c WHERE c.note_id = NEW.note_id AND NOT (c.weight = 0 AND NOT EXISTS (SELECT 1 FROM note_topics WHERE note_topics.note_id = c.note_id AND (c.weak_topic_id IS NULL OR note_topics.topic_id <> c.weak_topic_id)) AND (c.weak_topic_id IS NULL OR EXISTS (SELECT 1 FROM note_topics WHERE note_topics.note_id = c.note_id AND note_topics.topic_id = c.weak_topic_id))) ON CONFLICT DO NOTHING; END",
    ],
}


def upgrade() -> None:
    op.create_table(
        "weak_candidates",
        sa.Column("profile_id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("card_id", sa.Integer(), autoincrement=False, nullable=False),
        sa.ForeignKeyConstraint(
            ["profile_id"],
            ["profiles.id"],
            name=op.f("fk_weak_candidates_profile_id_profiles"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("profile_id", "card_id", name=op.f("pk_weak_candidates")),
        sqlite_with_rowid=False,
    )
    op.execute(FILL)
    for statement in DDL.get(op.get_bind().dialect.name, []):
        op.execute(statement)


def downgrade() -> None:
    for trigger in TRIGGERS:
        table = "note_topics" if "_link_" in trigger else "cards"
        if op.get_bind().dialect.name == "sqlite":
            op.execute(f"DROP TRIGGER IF EXISTS {trigger}")
        else:
            op.execute(f"DROP TRIGGER IF EXISTS {trigger} ON {table}")
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP FUNCTION IF EXISTS weak_candidates_card()")
        op.execute("DROP FUNCTION IF EXISTS weak_candidates_link()")
    op.drop_table("weak_candidates")
