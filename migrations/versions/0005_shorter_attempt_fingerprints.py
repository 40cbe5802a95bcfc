"""qbank attempts: 128-bit fingerprints, and only the index imports need

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-25 06:20:00

What a 100,000-attempt import writes, made smaller:
- An attempt's fingerprint (sha256 of `source|qid|date|outcome`) was stored as 64 hex digits,
  in the table and again in its unique index. Its first 32 hex digits (128 bits) identify an
  attempt as well (a collision among a student's attempts is out of reach) and halve those
  bytes (~6 MB less per 100,000 attempts). The column keeps its type; stored fingerprints are
  cut to their first 32 digits.
- The indexes on batch_id and on (profile_id, on_date) go: each cost such an import 0.05-0.1 s,
  and no read used them to advantage (the weight refresh reads a profile's attempts in table
  order, an import finds duplicates through the fingerprint index, removing a batch is rare).
Downgrading restores both indexes and recomputes the full digests from each row's columns.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

CHARS = 32


def upgrade() -> None:
    with op.batch_alter_table("qbank_attempts", schema=None) as batch_op:
        batch_op.drop_index("ix_qbank_attempts_profile_id_on_date")
        batch_op.drop_index("ix_qbank_attempts_batch_id")
    op.execute(
        f"UPDATE qbank_attempts SET fingerprint = substr(fingerprint, 1, {CHARS}) "
        f"WHERE length(fingerprint) > {CHARS}"
    )


def downgrade() -> None:
    with op.batch_alter_table("qbank_attempts", schema=None) as batch_op:
        batch_op.create_index("ix_qbank_attempts_batch_id", ["batch_id"], unique=False)
        batch_op.create_index(
            "ix_qbank_attempts_profile_id_on_date", ["profile_id", "on_date"], unique=False
        )
    attempts = sa.table(
        "qbank_attempts",
        sa.column("id", sa.Integer),
        sa.column("source", sa.String),
        sa.column("qid", sa.String),
        sa.column("outcome", sa.String),
        sa.column("on_date", sa.Date),
        sa.column("fingerprint", sa.String),
    )
    bind = op.get_bind()
    change = (
        sa.update(attempts)
        .where(attempts.c.id == sa.bindparam("b_id"))
        .values(fingerprint=sa.bindparam("b_fp"))
    )
    last = 0
    while True:  # 5,000 rows at a time, in id order: memory stays flat on any table size
        rows = bind.execute(
            sa.select(
                attempts.c.id, attempts.c.source, attempts.c.qid, attempts.c.outcome,
                attempts.c.on_date,
            )
            .where(attempts.c.id > last, sa.func.length(attempts.c.fingerprint) <= CHARS)
            .order_by(attempts.c.id)
            .limit(5000)
        ).all()  # fmt: skip
        if not rows:
            return
        bind.execute(
            change,
            [
                {
                    "b_id": r.id,
                    "b_fp": hashlib.sha256(
                        f"{r.source}|{r.qid}|{r.on_date.isoformat()}|{r.outcome}".encode()
                    ).hexdigest(),
                }
                for r in rows
            ],
        )
        last = rows[-1].id
