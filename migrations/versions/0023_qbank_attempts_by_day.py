"""qbank attempts indexed by day, not by a unique fingerprint

Revision ID: 0023
Revises: 0022
Create Date: 2026-12-06 10:30:00

An import of 100,000 attempts into a profile holding 1,000,000 inserted each new fingerprint
into the unique (profile_id, fingerprint) index, somewhere among the million: every page of
the index rewritten (~30 MB more written per import, ~0.2 CPU-s at 200,000 cards, issue 19).
The attempts are now indexed by (profile_id, on_date), where a student's new attempts land at
the right edge, and an import finds its log's duplicates among the stored attempts of the
log's days (imports into a profile take turns since schema 0015, so the import itself keeps
duplicates out, as the unique index did).

The upgrade rebuilds the table on SQLite (a constraint cannot be dropped there); no row
changes. The downgrade restores the unique index, keeping the first (lowest id) of attempts
with the same fingerprint in a profile (none are expected: the import writes none).
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "0023"
down_revision: str | None = "0022"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

UNIQUE = "uq_qbank_attempts_profile_id_fingerprint"
BY_DAY = "ix_qbank_attempts_profile_id_on_date"


def upgrade() -> None:
    with op.batch_alter_table("qbank_attempts") as batch:
        batch.drop_constraint(UNIQUE, type_="unique")
    op.create_index(BY_DAY, "qbank_attempts", ["profile_id", "on_date"], unique=False)


def downgrade() -> None:
    op.drop_index(BY_DAY, table_name="qbank_attempts")
    op.execute(
        "DELETE FROM qbank_attempts WHERE id NOT IN "
        "(SELECT min(id) FROM qbank_attempts GROUP BY profile_id, fingerprint)"
    )
    with op.batch_alter_table("qbank_attempts") as batch:
        batch.create_unique_constraint(UNIQUE, ["profile_id", "fingerprint"])
