"""Anki ids and imported history

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-04 23:00:00

For `flashcore decks add FILE --with-scheduling` (an Anki package's states, memory and revlog):
- `review_logs.anki_revlog_id`: the Anki revlog id of an answer (imported from Anki, or given
  here and seen again in a package); unique per card, so a re-import adds each review once.
- `review_logs.imported`: true for a row taken over from an Anki revlog (default false: every
  row already written was answered in flashcore).
- `anki_cards`: a card's Anki card id and its anchor, the schedule it had in Anki when its
  history was last taken over; `check` replays a card from its anchor.
Downgrading drops the table and the two columns (an older flashcore would then replay imported
history from new and report the imported cards: `check --repair` there rewrites them).
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import flashcore.storage.types

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    when = flashcore.storage.types.UTCDateTime(timezone=True)
    with op.batch_alter_table("review_logs", schema=None) as batch_op:
        batch_op.add_column(sa.Column("anki_revlog_id", sa.BigInteger(), nullable=True))
        batch_op.add_column(
            sa.Column("imported", sa.Boolean(), server_default=sa.false(), nullable=False)
        )
        batch_op.create_index(
            batch_op.f("ix_review_logs_card_id_anki_revlog_id"),
            ["card_id", "anki_revlog_id"],
            unique=True,
        )
    op.create_table(
        "anki_cards",
        sa.Column("card_id", sa.Integer(), nullable=False),
        sa.Column("profile_id", sa.Integer(), nullable=False),
        sa.Column("anki_card_id", sa.BigInteger(), nullable=False),
        sa.Column("anchor_at", when, nullable=True),
        sa.Column("state", sa.SmallInteger(), nullable=True),
        sa.Column("step", sa.SmallInteger(), nullable=True),
        sa.Column("due", when, nullable=True),
        sa.Column("stability", sa.Float(), nullable=True),
        sa.Column("difficulty", sa.Float(), nullable=True),
        sa.Column("last_review", when, nullable=True),
        sa.Column("reps", sa.Integer(), nullable=True),
        sa.Column("lapses", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["card_id"],
            ["cards.id"],
            name=op.f("fk_anki_cards_card_id_cards"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["profile_id"],
            ["profiles.id"],
            name=op.f("fk_anki_cards_profile_id_profiles"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("card_id", name=op.f("pk_anki_cards")),
    )
    op.create_index(
        op.f("ix_anki_cards_anki_card_id"), "anki_cards", ["anki_card_id"], unique=False
    )


def downgrade() -> None:
    op.drop_index(op.f("ix_anki_cards_anki_card_id"), table_name="anki_cards")
    op.drop_table("anki_cards")
    with op.batch_alter_table("review_logs", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_review_logs_card_id_anki_revlog_id"))
        batch_op.drop_column("imported")
        batch_op.drop_column("anki_revlog_id")
