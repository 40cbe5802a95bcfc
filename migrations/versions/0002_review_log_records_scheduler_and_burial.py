"""review log records scheduler and burial

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-25 02:13:40.770279
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import flashcore.storage.types

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "schedulers",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("profile_id", sa.Integer(), nullable=False),
        sa.Column("digest", sa.String(length=64), nullable=False),
        sa.Column("config", sa.JSON(), nullable=False),
        sa.Column("created_at", flashcore.storage.types.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["profile_id"],
            ["profiles.id"],
            name=op.f("fk_schedulers_profile_id_profiles"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_schedulers")),
        sa.UniqueConstraint("profile_id", "digest", name=op.f("uq_schedulers_profile_id_digest")),
    )
    with op.batch_alter_table("review_logs", schema=None) as batch_op:
        batch_op.add_column(sa.Column("scheduler_id", sa.Integer(), nullable=True))
        batch_op.add_column(
            sa.Column(
                "buried_until_before",
                flashcore.storage.types.UTCDateTime(timezone=True),
                nullable=True,
            )
        )
        batch_op.create_foreign_key(
            batch_op.f("fk_review_logs_scheduler_id_schedulers"),
            "schedulers",
            ["scheduler_id"],
            ["id"],
            ondelete="SET NULL",
        )


def downgrade() -> None:
    with op.batch_alter_table("review_logs", schema=None) as batch_op:
        batch_op.drop_constraint(
            batch_op.f("fk_review_logs_scheduler_id_schedulers"), type_="foreignkey"
        )
        batch_op.drop_column("buried_until_before")
        batch_op.drop_column("scheduler_id")

    op.drop_table("schedulers")
