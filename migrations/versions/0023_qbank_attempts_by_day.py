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
with the same fingerprint in a profile (none are expected: the import writes none). What
counted the attempts it removes counts the rows left: for each profile that had any, the
tallies by text are counted afresh (as `check --repair` counts them), the kept sums and windows
are forgotten (summed afresh by the next report, as after `qbank remove`), and each batch that
lost attempts has them taken off its `added` and its latest day read again.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
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


# The attempts that share a fingerprint with an earlier one of their profile.
_LATER = "id NOT IN (SELECT min(id) FROM qbank_attempts GROUP BY profile_id, fingerprint)"
# A profile's attempts a reader sees (`repos.qbank_batches.shown`): none of a batch still
# being written (its tallies are added when it is published).
_SHOWN = (
    "id < coalesce((SELECT min(b.pending_from) FROM qbank_batches b WHERE b.profile_id ="
    " qbank_attempts.profile_id AND b.pending_from IS NOT NULL), 9223372036854775807)"
)


def downgrade() -> None:
    op.drop_index(BY_DAY, table_name="qbank_attempts")
    bind = op.get_bind()
    counted = "SELECT profile_id, batch_id, count(*) FROM qbank_attempts WHERE"
    later = bind.execute(sa.text(f"{counted} {_LATER} GROUP BY profile_id, batch_id")).all()
    op.execute(f"DELETE FROM qbank_attempts WHERE {_LATER}")
    for _profile, batch_id, removed in later:
        bind.execute(
            sa.text(
                "UPDATE qbank_batches SET added = CASE WHEN added > :removed THEN added -"
                " :removed ELSE 0 END, latest_on = (SELECT max(on_date) FROM qbank_attempts"
                " WHERE batch_id = :batch) WHERE id = :batch"
            ),
            {"batch": batch_id, "removed": removed},
        )
    for profile_id in sorted({row[0] for row in later}):
        _count_afresh(bind, profile_id)
    with op.batch_alter_table("qbank_attempts") as batch:
        batch.create_unique_constraint(UNIQUE, ["profile_id", "fingerprint"])


def _count_afresh(bind: sa.Connection, profile_id: int) -> None:
    """The profile's tallies counted from its attempts; its kept sums and windows forgotten."""
    params = {"profile": profile_id}
    bind.execute(sa.text("DELETE FROM qbank_tallies WHERE profile_id = :profile"), params)
    bind.execute(
        sa.text(
            "INSERT INTO qbank_tallies (profile_id, topic, category, system, attempts, misses)"
            " SELECT profile_id, topic, category, system, count(*), sum(CASE WHEN outcome IN"
            " ('incorrect', 'omitted') THEN 1 ELSE 0 END) FROM qbank_attempts"
            f" WHERE profile_id = :profile AND {_SHOWN}"
            " GROUP BY profile_id, topic, category, system"
        ),
        params,
    )
    for table in ("qbank_sums_state", "qbank_sums", "qbank_windows"):
        bind.execute(sa.text(f"DELETE FROM {table} WHERE profile_id = :profile"), params)
