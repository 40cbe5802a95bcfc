"""qbank attempts keep the question's "% correct others"

Revision ID: 0025
Revises: 0024
Create Date: 2026-12-06 21:10:00

UWorld's Test Results table gives each question the share of other students who answer it
right. A miss on a question most of them get right says more about the student's memory than
one most of them miss (issue 21, twelfth round: core.difficulty). `qbank_attempts.others` keeps
it as a whole percent; NULL where the log had no such column (AMBOSS, NBME, CSV, older pastes)
or the cell held no percent: such an attempt counts as before.

The upgrade adds the nullable column (every stored attempt NULL: their pastes are gone) and a
partial index on (profile_id, on_date) of the attempts that have it, so that the weight refresh
reads the recent misses with a share without a look at a CSV's or AMBOSS's attempts (empty until
a UWorld paste); the downgrade drops both. No row changes either way.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0025"
down_revision: str | None = "0024"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


WITH_SHARE = sa.text("others IS NOT NULL")


def upgrade() -> None:
    with op.batch_alter_table("qbank_attempts") as batch:
        batch.add_column(sa.Column("others", sa.SmallInteger(), nullable=True))
    op.create_index(
        "ix_qbank_attempts_shares", "qbank_attempts", ["profile_id", "on_date"],
        sqlite_where=WITH_SHARE, postgresql_where=WITH_SHARE,
    )  # fmt: skip


def downgrade() -> None:
    op.drop_index("ix_qbank_attempts_shares", table_name="qbank_attempts")
    with op.batch_alter_table("qbank_attempts") as batch:
        batch.drop_column("others")
