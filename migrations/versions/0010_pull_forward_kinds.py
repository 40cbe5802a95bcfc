"""Pull-forward kinds

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-05 04:00:00

A pull-forward records what pulled the card as data (core.reasons.PulledForward), so the queue
no longer reads its reason text:
- `kind`: "question" (its note lists a missed question) or "topic" (a topic's fresh misses);
- `subject`: the question's `source:qid`, or the topic's path;
- `on_date`: the day the question was missed (a question's only);
- `misses`: the topic's fresh misses (a topic's only; 0 otherwise).
Rows already stored take these from their reason text. `reason` stays, written as before.
Downgrading drops the four columns (the reason text holds everything an older version reads).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import date

import sqlalchemy as sa
from alembic import op

revision: str = "0010"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

QUESTION = re.compile(r"pulled forward after missing (?P<subject>.+) on (?P<on>\d{4}-\d\d-\d\d)$")
TOPIC = re.compile(r"pulled forward after (?P<misses>\d+) miss(?:es)? on (?P<subject>.+)$")


def upgrade() -> None:
    with op.batch_alter_table("pull_forwards", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("kind", sa.String(length=16), server_default="topic", nullable=False)
        )
        batch_op.add_column(
            sa.Column("subject", sa.String(length=300), server_default="", nullable=False)
        )
        batch_op.add_column(sa.Column("on_date", sa.Date(), nullable=True))
        batch_op.add_column(
            sa.Column("misses", sa.Integer(), server_default=sa.text("0"), nullable=False)
        )
    # Data: the kind and its data, read from the reason text the rows were written with.
    table = sa.table(
        "pull_forwards",
        sa.column("profile_id", sa.Integer()),
        sa.column("card_id", sa.Integer()),
        sa.column("study_day", sa.Date()),
        sa.column("reason", sa.String()),
        sa.column("kind", sa.String()),
        sa.column("subject", sa.String()),
        sa.column("on_date", sa.Date()),
        sa.column("misses", sa.Integer()),
    )
    conn = op.get_bind()
    rows = conn.execute(
        sa.select(table.c.profile_id, table.c.card_id, table.c.study_day, table.c.reason)
    ).all()
    for profile_id, card_id, study_day, reason in rows:
        values = _parsed(reason)
        if values is None:
            continue
        conn.execute(
            sa.update(table)
            .where(
                table.c.profile_id == profile_id,
                table.c.card_id == card_id,
                table.c.study_day == study_day,
            )
            .values(**values)
        )


def _parsed(reason: str) -> dict[str, object] | None:
    found = QUESTION.match(reason)
    if found:
        on = date.fromisoformat(found["on"])
        return {"kind": "question", "subject": found["subject"], "on_date": on, "misses": 0}
    found = TOPIC.match(reason)
    if found:
        return {"kind": "topic", "subject": found["subject"], "misses": int(found["misses"])}
    return None


def downgrade() -> None:
    with op.batch_alter_table("pull_forwards", schema=None) as batch_op:
        batch_op.drop_column("misses")
        batch_op.drop_column("on_date")
        batch_op.drop_column("subject")
        batch_op.drop_column("kind")
