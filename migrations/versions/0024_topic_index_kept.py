"""Topic index kept

Revision ID: 0024
Revises: 0023
Create Date: 2026-12-06 16:00:00

`topic_index_cache`: the light topic index the weakness report reads (topics, aliases, the
notes that list a question id with their topics, the notes counted per set of topics), stored
by a report once read, one row per profile, and a generation counted up by SQLite triggers on
topics, topic_aliases, notes, note_qids and note_topics whenever what it holds may change
(`storage.index_cache`): a report reads one row instead of scanning every note link (issue 19,
200,000 notes: ~0.08 CPU-s of a ~0.23 s report). No row is filled here: the first report
stores one. PostgreSQL gets the table only (its reports read the index each time).
Downgrading drops the triggers and the table (nothing else changes). The trigger text is a
copy of `storage.index_cache.TOPIC_INDEX_DDL` as it was at this revision.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0024"
down_revision: str | None = "0023"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TRIGGERS = (
    "tr_topic_index_topic_in",
    "tr_topic_index_topic_out",
    "tr_topic_index_topic_moved",
    "tr_topic_index_alias_in",
    "tr_topic_index_alias_out",
    "tr_topic_index_alias_moved",
    "tr_topic_index_qid_in",
    "tr_topic_index_qid_out",
    "tr_topic_index_qid_moved",
    "tr_topic_index_link_in",
    "tr_topic_index_link_out",
    "tr_topic_index_link_moved",
    "tr_topic_index_note_moved",
)

DDL: dict[str, list[str]] = {
    "sqlite": [
        "CREATE TRIGGER tr_topic_index_topic_in AFTER INSERT ON topics BEGIN UPDATE topic_index_cache SET gen = gen + 1 WHERE gen = observed AND profile_id = coalesce((NEW.profile_id), profile_id); END",
        "CREATE TRIGGER tr_topic_index_topic_out AFTER DELETE ON topics BEGIN UPDATE topic_index_cache SET gen = gen + 1 WHERE gen = observed AND profile_id = coalesce((OLD.profile_id), profile_id); END",
        "CREATE TRIGGER tr_topic_index_topic_moved AFTER UPDATE OF path, parent_id, profile_id ON topics BEGIN UPDATE topic_index_cache SET gen = gen + 1 WHERE gen = observed AND profile_id = coalesce((OLD.profile_id), profile_id); UPDATE topic_index_cache SET gen = gen + 1 WHERE gen = observed AND profile_id = coalesce((NEW.profile_id), profile_id); END",
        "CREATE TRIGGER tr_topic_index_alias_in AFTER INSERT ON topic_aliases BEGIN UPDATE topic_index_cache SET gen = gen + 1 WHERE gen = observed AND profile_id = coalesce((NEW.profile_id), profile_id); END",
        "CREATE TRIGGER tr_topic_index_alias_out AFTER DELETE ON topic_aliases BEGIN UPDATE topic_index_cache SET gen = gen + 1 WHERE gen = observed AND profile_id = coalesce((OLD.profile_id), profile_id); END",
        "CREATE TRIGGER tr_topic_index_alias_moved AFTER UPDATE ON topic_aliases BEGIN UPDATE topic_index_cache SET gen = gen + 1 WHERE gen = observed AND profile_id = coalesce((OLD.profile_id), profile_id); UPDATE topic_index_cache SET gen = gen + 1 WHERE gen = observed AND profile_id = coalesce((NEW.profile_id), profile_id); END",
        "CREATE TRIGGER tr_topic_index_qid_in AFTER INSERT ON note_qids BEGIN UPDATE topic_index_cache SET gen = gen + 1 WHERE gen = observed AND profile_id = coalesce((SELECT profile_id FROM notes WHERE id = NEW.note_id), profile_id); END",
        "CREATE TRIGGER tr_topic_index_qid_out AFTER DELETE ON note_qids BEGIN UPDATE topic_index_cache SET gen = gen + 1 WHERE gen = observed AND profile_id = coalesce((SELECT profile_id FROM notes WHERE id = OLD.note_id), profile_id); END",
        "CREATE TRIGGER tr_topic_index_qid_moved AFTER UPDATE ON note_qids BEGIN UPDATE topic_index_cache SET gen = gen + 1 WHERE gen = observed AND profile_id = coalesce((SELECT profile_id FROM notes WHERE id = OLD.note_id), profile_id); UPDATE topic_index_cache SET gen = gen + 1 WHERE gen = observed AND profile_id = coalesce((SELECT profile_id FROM notes WHERE id = NEW.note_id), profile_id); END",
        "CREATE TRIGGER tr_topic_index_link_in AFTER INSERT ON note_topics BEGIN UPDATE topic_index_cache SET gen = gen + 1 WHERE gen = observed AND profile_id = coalesce((SELECT profile_id FROM topics WHERE id = NEW.topic_id), profile_id); END",
        "CREATE TRIGGER tr_topic_index_link_out AFTER DELETE ON note_topics BEGIN UPDATE topic_index_cache SET gen = gen + 1 WHERE gen = observed AND profile_id = coalesce((SELECT profile_id FROM topics WHERE id = OLD.topic_id), profile_id); END",
        "CREATE TRIGGER tr_topic_index_link_moved AFTER UPDATE ON note_topics BEGIN UPDATE topic_index_cache SET gen = gen + 1 WHERE gen = observed AND profile_id = coalesce((SELECT profile_id FROM topics WHERE id = OLD.topic_id), profile_id); UPDATE topic_index_cache SET gen = gen + 1 WHERE gen = observed AND profile_id = coalesce((SELECT profile_id FROM topics WHERE id = NEW.topic_id), profile_id); END",
        "CREATE TRIGGER tr_topic_index_note_moved AFTER UPDATE OF removed, profile_id ON notes BEGIN UPDATE topic_index_cache SET gen = gen + 1 WHERE gen = observed AND profile_id = coalesce((OLD.profile_id), profile_id); UPDATE topic_index_cache SET gen = gen + 1 WHERE gen = observed AND profile_id = coalesce((NEW.profile_id), profile_id); END",
    ],
}


def upgrade() -> None:
    op.create_table(
        "topic_index_cache",
        sa.Column("profile_id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("gen", sa.Integer(), nullable=False),
        sa.Column("observed", sa.Integer(), nullable=False),
        sa.Column("built", sa.Integer(), nullable=True),
        sa.Column("payload", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(
            ["profile_id"],
            ["profiles.id"],
            name=op.f("fk_topic_index_cache_profile_id_profiles"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("profile_id", name=op.f("pk_topic_index_cache")),
    )
    for statement in DDL.get(op.get_bind().dialect.name, []):
        op.execute(statement)


def downgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        for trigger in TRIGGERS:
            op.execute(f"DROP TRIGGER IF EXISTS {trigger}")
    op.drop_table("topic_index_cache")
