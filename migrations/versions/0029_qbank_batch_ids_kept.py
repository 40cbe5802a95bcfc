"""qbank batch ids are never given twice (SQLite: `AUTOINCREMENT`)

Revision ID: 0029
Revises: 0028
Create Date: 2026-12-07 14:20:00

A batch's id is what the student types to take it back (`flashcore qbank remove N`, the id the
import printed). SQLite gave a removed last batch's id to the next import, so `qbank remove 2`
typed again from the shell's history took back a later block of questions (found living with
an AnKing collection, issue rv7). With `AUTOINCREMENT` SQLite keeps the highest id ever given
(`sqlite_sequence`) and never gives one again; PostgreSQL's sequences never did.

Upgrade (SQLite): the table is made again with `AUTOINCREMENT`, every row and index kept (the
attempts' foreign key names the table, not its rows); ids removed before the upgrade above the
highest kept one cannot be known. Downgrade: made again without it. No row changes either way;
nothing on PostgreSQL.
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "0029"
down_revision: str | None = "0028"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _rebuild(autoincrement: bool) -> None:
    if op.get_bind().dialect.name != "sqlite":
        return  # PostgreSQL: a sequence never gives an id twice
    with op.batch_alter_table(
        "qbank_batches", recreate="always", table_kwargs={"sqlite_autoincrement": autoincrement}
    ):
        pass


def upgrade() -> None:
    _rebuild(True)


def downgrade() -> None:
    _rebuild(False)
