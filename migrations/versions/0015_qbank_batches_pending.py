"""qbank batches still being written

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-05 22:20:00

A question-bank import writes its attempts in short transactions (so that a reviewer's answer
never waits for a whole import) into a batch that readers do not see until one last short
transaction publishes it. `qbank_batches.pending_from`: while the batch is being written, the
lowest attempt id it may hold (readers see only the profile's attempts below it); NULL once
published. `qbank_batches.owner`: who is writing it (host, process, import), so that the next
import knows a batch left by a killed one and removes it. NULL for every existing batch (all
are published). Downgrading removes the attempts of unpublished batches with those batches
(they were never visible), then drops both columns.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0015"
down_revision: str | None = "0014"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("qbank_batches", sa.Column("pending_from", sa.Integer(), nullable=True))
    op.add_column("qbank_batches", sa.Column("owner", sa.String(200), nullable=True))


def downgrade() -> None:
    op.execute(
        "DELETE FROM qbank_attempts WHERE batch_id IN "
        "(SELECT id FROM qbank_batches WHERE pending_from IS NOT NULL)"
    )
    op.execute("DELETE FROM qbank_batches WHERE pending_from IS NOT NULL")
    if op.get_bind().dialect.name == "sqlite":
        # In place (SQLite 3.35+), as 0011 does: batch mode would copy the table.
        op.execute("ALTER TABLE qbank_batches DROP COLUMN owner")
        op.execute("ALTER TABLE qbank_batches DROP COLUMN pending_from")
    else:
        op.drop_column("qbank_batches", "owner")
        op.drop_column("qbank_batches", "pending_from")
