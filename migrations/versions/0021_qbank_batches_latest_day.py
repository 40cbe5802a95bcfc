"""qbank batches keep the latest day of their attempts

Revision ID: 0021
Revises: 0020
Create Date: 2026-12-06 07:40:00

The pull-forwards read the misses of the last days from the batches imported since then; a
year of history imported today was read whole (1,000,000 attempts, ~0.25 s of every import
that day at 200,000 cards, issue 19) to find none. `qbank_batches.latest_on` keeps the latest
day of a batch's attempts (written when an import's weights are written; NULL: not known, the
batch is read as before), and the pull-forwards skip a batch whose latest day is before the
first day they look at.

The upgrade sets it for every published batch from its attempts (one grouped pass); the
downgrade drops the column. No attempt changes either way.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0021"
down_revision: str | None = "0020"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("qbank_batches") as batch:
        batch.add_column(sa.Column("latest_on", sa.Date(), nullable=True))
    bind = op.get_bind()
    found = bind.execute(
        sa.text("SELECT batch_id, max(on_date) FROM qbank_attempts GROUP BY batch_id")
    ).all()
    published = {
        int(batch_id)
        for (batch_id,) in bind.execute(
            sa.text("SELECT id FROM qbank_batches WHERE pending_from IS NULL")
        ).all()
    }
    values = [
        {"b": int(batch_id), "d": day} for batch_id, day in found if int(batch_id) in published
    ]
    if values:
        bind.execute(sa.text("UPDATE qbank_batches SET latest_on = :d WHERE id = :b"), values)


def downgrade() -> None:
    with op.batch_alter_table("qbank_batches") as batch:
        batch.drop_column("latest_on")
