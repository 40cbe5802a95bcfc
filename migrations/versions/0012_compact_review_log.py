"""Compact review log

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-05 05:00:00

The review log was ~3.4 times Anki's whole collection on disk (issue 19). Each row held its
times as 26-byte text on SQLite and the whole before-state of the card, which for nearly every
answer is what the card's previous answer left. Now:
- the review log's five times are `UTCMicros`: on SQLite an 8-byte integer of microseconds since
  the Unix epoch, exact (PostgreSQL keeps its 8-byte `timestamptz`, unchanged);
- `review_logs.chained`: true for an answer given to a card exactly as its previous answer (the
  card's row with the greatest id below) left it; its `step_before` .. `retention_before` are
  then NULL and read from that row (`due_before` becomes nullable). Rows written before schema
  0006 (no `elapsed_days`) are never chained: `stats` reads their `last_review_before`;
- the per-card index is on `card_id` alone (on SQLite the id is in it: the previous row is one
  seek), and the Anki revlog id index is partial (only rows that have one).
On SQLite the table is rebuilt in id order (`VACUUM` afterwards returns the freed pages:
`storage.migrate` runs it). Downgrading writes every before-state out and restores the text
times, the columns and the indexes of 0011 (as 0008 made them).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import op

import flashcore.storage.types

revision: str = "0012"
down_revision: str | None = "0011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

CHAINED = ("step_before", "stability_before", "difficulty_before", "due_before",
           "last_review_before", "retention_before")  # fmt: skip
SOURCE = ("step_after", "stability_after", "difficulty_after", "due_after", "reviewed_at",
          "desired_retention")  # fmt: skip
TIMES = ("reviewed_at", "due_before", "last_review_before", "buried_until_before", "due_after")
ALL = (  # in the order 0008 (and so 0011) left them on SQLite
    "id", "profile_id", "card_id", "reviewed_at", "rating", "duration_ms", "desired_retention",
    "reason", "state_before", "step_before", "stability_before", "difficulty_before",
    "due_before", "last_review_before", "lapses_before", "retention_before", "state_after",
    "step_after", "stability_after", "difficulty_after", "due_after", "leeched",
    "buried_siblings", "scheduler_id", "buried_until_before", "elapsed_days", "anki_revlog_id",
    "imported",
)  # fmt: skip
NOT_NULL = {"id", "profile_id", "card_id", "reviewed_at", "rating", "desired_retention", "reason",
            "state_before", "lapses_before", "state_after", "stability_after",
            "difficulty_after", "due_after", "leeched", "buried_siblings", "imported"}  # fmt: skip


def _columns(time_type: sa.types.TypeEngine[object], *, chained: bool) -> list[sa.Column[object]]:
    types: dict[str, sa.types.TypeEngine[object]] = {
        "id": sa.Integer(), "profile_id": sa.Integer(), "card_id": sa.Integer(),
        "rating": sa.SmallInteger(), "scheduler_id": sa.Integer(), "duration_ms": sa.Integer(),
        "desired_retention": sa.Float(), "reason": sa.String(length=300),
        "state_before": sa.SmallInteger(), "step_before": sa.SmallInteger(),
        "stability_before": sa.Float(), "difficulty_before": sa.Float(),
        "lapses_before": sa.Integer(), "retention_before": sa.Float(),
        "state_after": sa.SmallInteger(), "step_after": sa.SmallInteger(),
        "stability_after": sa.Float(), "difficulty_after": sa.Float(), "leeched": sa.Boolean(),
        "buried_siblings": sa.JSON(), "elapsed_days": sa.Integer(),
        "anki_revlog_id": sa.BigInteger(),
    }  # fmt: skip
    out: list[sa.Column[object]] = []
    for name in ALL:
        if name == "imported":
            out.append(sa.Column(name, sa.Boolean(), server_default=sa.false(), nullable=False))
            continue
        type_ = time_type if name in TIMES else types[name]
        required = name in NOT_NULL or (name == "due_before" and not chained)
        out.append(sa.Column(name, type_, nullable=not required))
    if chained:
        out.append(sa.Column("chained", sa.Boolean(), server_default=sa.false(), nullable=False))
    return out


def _constraints() -> list[sa.schema.SchemaItem]:
    return [
        sa.ForeignKeyConstraint(["card_id"], ["cards.id"],
                                name="fk_review_logs_card_id_cards", ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["profile_id"], ["profiles.id"],
                                name="fk_review_logs_profile_id_profiles", ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["scheduler_id"], ["schedulers.id"],
                                name="fk_review_logs_scheduler_id_schedulers",
                                ondelete="SET NULL"),
        sa.PrimaryKeyConstraint("id", name="pk_review_logs"),
    ]  # fmt: skip


_PARTIAL = sa.text("anki_revlog_id IS NOT NULL")


def _new_indexes() -> None:
    op.create_index("ix_review_logs_card_id", "review_logs", ["card_id"])
    op.create_index(
        "ix_review_logs_profile_id_reviewed_at", "review_logs", ["profile_id", "reviewed_at"]
    )
    op.create_index(
        "ix_review_logs_card_id_anki_revlog_id", "review_logs", ["card_id", "anki_revlog_id"],
        unique=True, sqlite_where=_PARTIAL, postgresql_where=_PARTIAL,
    )  # fmt: skip


def _old_indexes() -> None:
    op.create_index("ix_review_logs_card_id_reviewed_at", "review_logs", ["card_id", "reviewed_at"])
    op.create_index(
        "ix_review_logs_profile_id_reviewed_at", "review_logs", ["profile_id", "reviewed_at"]
    )
    op.create_index(
        "ix_review_logs_card_id_anki_revlog_id",
        "review_logs",
        ["card_id", "anki_revlog_id"],
        unique=True,
    )


# The card's previous row (by id): what a chained row's before-state is read from.
_LAGGED = (
    "SELECT r.*, LAG(r.id) OVER w AS p_id, "
    + ", ".join(f"LAG(r.{s}) OVER w AS p_{c}" for c, s in zip(CHAINED, SOURCE, strict=True))
    + " FROM review_logs r WINDOW w AS (PARTITION BY r.card_id ORDER BY r.id)"
)


def _chains(same: str) -> str:
    """The condition that a row (columns of `_LAGGED`) can be chained: its card has an earlier
    row that left exactly this before-state."""
    equal = " AND ".join(same.format(a=c, b=f"p_{c}") for c in CHAINED)
    return f"(p_id IS NOT NULL AND {equal})"


def _nulled(column: str, chain: str) -> str:
    """When a chained row leaves `column` NULL. A row written before 0006 (no `elapsed_days`)
    keeps its `last_review_before`, which `stats` reads in SQL (the same value as the chain's)."""
    if column == "last_review_before":
        return f"({chain} AND elapsed_days IS NOT NULL)"
    return chain


# SQLite: UTCDateTime's text <-> UTCMicros's integer, exactly. The text is
# `YYYY-MM-DD HH:MM:SS.ffffff` as flashcore writes it; anything else goes through Python.
def _to_micros(expr: str) -> str:
    return (
        f"CASE WHEN {expr} IS NULL THEN NULL WHEN length({expr}) = 26 AND substr({expr}, 11, 1) = ' '"
        f" THEN CAST(strftime('%s', substr({expr}, 1, 19)) AS INTEGER) * 1000000"
        f" + CAST(substr({expr}, 21, 6) AS INTEGER) ELSE fc_micros({expr}) END"
    )


def _to_text(expr: str) -> str:
    return (
        f"CASE WHEN {expr} IS NULL THEN NULL ELSE strftime('%Y-%m-%d %H:%M:%S', {expr} / 1000000,"
        f" 'unixepoch') || '.' || printf('%06d', {expr} % 1000000) END"
    )


def _python_micros(text: str | None) -> int | None:
    if text is None:
        return None
    value = datetime.fromisoformat(text)
    aware = value.replace(tzinfo=UTC) if value.tzinfo is None else value
    return flashcore.storage.types.to_micros(aware)


def upgrade() -> None:
    bind = op.get_bind()
    if bind.dialect.name == "sqlite":
        _upgrade_sqlite(bind)
        return
    with op.batch_alter_table("review_logs", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("chained", sa.Boolean(), server_default=sa.false(), nullable=False)
        )
        batch_op.alter_column(
            "due_before", existing_type=flashcore.storage.types.UTCDateTime(timezone=True),
            nullable=True,
        )  # fmt: skip
        batch_op.drop_index("ix_review_logs_card_id_reviewed_at")
        batch_op.drop_index("ix_review_logs_card_id_anki_revlog_id")
    chain = _chains("{a} IS NOT DISTINCT FROM {b}")
    nulls = ", ".join(
        "last_review_before = CASE WHEN review_logs.elapsed_days IS NULL"
        " THEN review_logs.last_review_before END"
        if c == "last_review_before"
        else f"{c} = NULL"
        for c in CHAINED
    )
    op.execute(
        f"UPDATE review_logs SET chained = true, {nulls}"
        f" FROM (SELECT id FROM ({_LAGGED}) l WHERE {chain}) p WHERE review_logs.id = p.id"
    )
    op.create_index("ix_review_logs_card_id", "review_logs", ["card_id"])
    op.create_index(
        "ix_review_logs_card_id_anki_revlog_id", "review_logs", ["card_id", "anki_revlog_id"],
        unique=True, postgresql_where=_PARTIAL,
    )  # fmt: skip


def _upgrade_sqlite(bind: sa.Connection) -> None:
    driver = bind.connection.driver_connection
    driver.create_function("fc_micros", 1, _python_micros, deterministic=True)  # type: ignore[union-attr]
    op.create_table(
        "_review_logs_0012",
        *_columns(flashcore.storage.types.UTCMicros(), chained=True),
        *_constraints(),
    )
    chain = _chains("{a} IS {b}")
    values = []
    for name in ALL:
        value = _to_micros(name) if name in TIMES else name
        if name in CHAINED:
            value = f"CASE WHEN {_nulled(name, chain)} THEN NULL ELSE {value} END"
        values.append(value)
    op.execute(
        f"INSERT INTO _review_logs_0012 ({', '.join(ALL)}, chained)"
        f" SELECT {', '.join(values)}, {chain} FROM ({_LAGGED}) ORDER BY id"
    )
    op.drop_table("review_logs")
    op.rename_table("_review_logs_0012", "review_logs")
    _new_indexes()


# What an imported row written whole holds of its before-state: its due and last review; a
# first Anki import's chained row (schema 0017 on) reads only these from the row before it.
IMPORTED_CHAIN = ("due_before", "last_review_before")


def _from_previous(column: str) -> str:
    """When a chained row's `column` is the previous row's (`imported` is a 0/1 on SQLite)."""
    if column in IMPORTED_CHAIN:
        return "chained"
    return "chained AND NOT imported"


def downgrade() -> None:
    bind = op.get_bind()
    resolved = ", ".join(
        f"CASE WHEN {_from_previous(c)} THEN p_{c} ELSE {c} END AS {c}" for c in CHAINED
    )
    if bind.dialect.name == "sqlite":
        op.create_table(
            "_review_logs_0011",
            *_columns(flashcore.storage.types.UTCDateTime(timezone=True), chained=False),
            *_constraints(),
        )
        values = [_to_text(f"{name}") if name in TIMES else name for name in ALL]
        op.execute(
            f"INSERT INTO _review_logs_0011 ({', '.join(ALL)}) SELECT {', '.join(values)} FROM"
            f" (SELECT {', '.join(c for c in ALL if c not in CHAINED)}, {resolved}"
            f" FROM ({_LAGGED})) ORDER BY id"
        )
        op.drop_table("review_logs")
        op.rename_table("_review_logs_0011", "review_logs")
        _old_indexes()
        return
    sets = ", ".join(
        f"{c} = p.p_{c}"
        if c in IMPORTED_CHAIN
        else f"{c} = CASE WHEN review_logs.imported THEN review_logs.{c} ELSE p.p_{c} END"
        for c in CHAINED
    )
    op.execute(
        f"UPDATE review_logs SET {sets} FROM ({_LAGGED}) p"
        " WHERE review_logs.id = p.id AND review_logs.chained"
    )
    op.drop_index("ix_review_logs_card_id", table_name="review_logs")
    op.drop_index("ix_review_logs_card_id_anki_revlog_id", table_name="review_logs")
    with op.batch_alter_table("review_logs", schema=None) as batch_op:
        batch_op.alter_column(
            "due_before", existing_type=flashcore.storage.types.UTCDateTime(timezone=True),
            nullable=False,
        )  # fmt: skip
        batch_op.drop_column("chained")
    op.create_index("ix_review_logs_card_id_reviewed_at", "review_logs", ["card_id", "reviewed_at"])
    op.create_index(
        "ix_review_logs_card_id_anki_revlog_id",
        "review_logs",
        ["card_id", "anki_revlog_id"],
        unique=True,
    )
