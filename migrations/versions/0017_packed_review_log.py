"""Packed review log

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-05 22:00:00

After schema 0012 the database was still 1.62 times Anki's at 50,000 cards / 1,000,000 answers
(issue 19; the target is 1.5). Per review-log row on SQLite:
- `desired_retention` is `Retention`: on SQLite, when the value is a whole number of
  1/10,000ths, its difference from 0.9 in them (0.9 -> 0.0, which SQLite writes in a REAL
  column as the integer 0, in no byte), else the float (8 bytes); PostgreSQL keeps its float.
  -8 bytes.
- `buried_siblings` is `IdList`: NULL for none (was `[]`), on both databases. -2 bytes.
- `step_before`, `stability_before`, `difficulty_before`, `retention_before` and
  `buried_until_before`, NULL on nearly every row (chained, a new card's first answer, an Anki
  import), are one column `packed_before` (`PackedBefore`: compact JSON, NULL when all are
  None): SQLite spends a header byte on every column of every row, NULL or not. -4 bytes.
- `chained` is dropped: a row is chained exactly when its `due_before` is NULL (schema 0012
  stored `due_before` on every other row). -1 byte.
The values are unchanged, exactly (floats through Python's shortest repr on SQLite and
PostgreSQL's on PostgreSQL, both exact). On SQLite the table is rebuilt in id order
(`storage.migrate` VACUUMs afterwards); downgrading restores 0016's columns and values.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from alembic import op

import flashcore.storage.types as fc_types

revision: str = "0017"
down_revision: str | None = "0016"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

PACKED = ("step_before", "stability_before", "difficulty_before", "retention_before",
          "buried_until_before")  # fmt: skip
# 0016's columns in their SQLite order (as 0012 left them), and 0017's.
OLD = (
    "id", "profile_id", "card_id", "reviewed_at", "rating", "duration_ms", "desired_retention",
    "reason", "state_before", "step_before", "stability_before", "difficulty_before",
    "due_before", "last_review_before", "lapses_before", "retention_before", "state_after",
    "step_after", "stability_after", "difficulty_after", "due_after", "leeched",
    "buried_siblings", "scheduler_id", "buried_until_before", "elapsed_days", "anki_revlog_id",
    "imported", "chained",
)  # fmt: skip
NEW = (
    "id", "profile_id", "card_id", "reviewed_at", "rating", "duration_ms", "desired_retention",
    "reason", "state_before", "due_before", "last_review_before", "lapses_before",
    "packed_before", "state_after", "step_after", "stability_after", "difficulty_after",
    "due_after", "leeched", "buried_siblings", "scheduler_id", "elapsed_days", "anki_revlog_id",
    "imported",
)  # fmt: skip
NOT_NULL = {"id", "profile_id", "card_id", "reviewed_at", "rating", "desired_retention", "reason",
            "state_before", "lapses_before", "state_after", "stability_after",
            "difficulty_after", "due_after", "leeched", "imported", "chained"}  # fmt: skip
TIMES = {"reviewed_at", "due_before", "last_review_before", "buried_until_before", "due_after"}


def _type(name: str) -> sa.types.TypeEngine[Any]:
    if name in TIMES:
        return fc_types.UTCMicros()
    return {
        "id": sa.Integer(), "profile_id": sa.Integer(), "card_id": sa.Integer(),
        "rating": sa.SmallInteger(), "scheduler_id": sa.Integer(), "duration_ms": sa.Integer(),
        "desired_retention": sa.Float(), "reason": sa.String(length=300),
        "state_before": sa.SmallInteger(), "step_before": sa.SmallInteger(),
        "stability_before": sa.Float(), "difficulty_before": sa.Float(),
        "lapses_before": sa.Integer(), "retention_before": sa.Float(),
        "state_after": sa.SmallInteger(), "step_after": sa.SmallInteger(),
        "stability_after": sa.Float(), "difficulty_after": sa.Float(), "leeched": sa.Boolean(),
        "buried_siblings": sa.JSON(), "elapsed_days": sa.Integer(),
        "anki_revlog_id": sa.BigInteger(), "packed_before": fc_types.PackedBefore(),
    }[name]  # fmt: skip


def _columns(names: Sequence[str], *, new: bool) -> list[sa.Column[Any]]:
    out: list[sa.Column[Any]] = []
    for name in names:
        if name in ("imported", "chained"):
            out.append(sa.Column(name, sa.Boolean(), server_default=sa.false(), nullable=False))
            continue
        type_: sa.types.TypeEngine[Any] = _type(name)
        if new and name == "desired_retention":
            type_ = fc_types.Retention()
        elif new and name == "buried_siblings":
            type_ = fc_types.IdList()
        required = name in NOT_NULL or (name == "buried_siblings" and not new)
        out.append(sa.Column(name, type_, nullable=not required))
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


def _indexes() -> None:
    op.create_index("ix_review_logs_card_id", "review_logs", ["card_id"])
    op.create_index(
        "ix_review_logs_profile_id_reviewed_at", "review_logs", ["profile_id", "reviewed_at"]
    )
    op.create_index(
        "ix_review_logs_card_id_anki_revlog_id", "review_logs", ["card_id", "anki_revlog_id"],
        unique=True, sqlite_where=_PARTIAL, postgresql_where=_PARTIAL,
    )  # fmt: skip


def _check_chains() -> None:
    """Schema 0012 stores `due_before` on every row not chained: 0017 reads `chained` from it."""
    bad = op.get_bind().execute(
        sa.text("SELECT COUNT(*) FROM review_logs WHERE due_before IS NULL AND NOT chained")
    )
    if bad.scalar_one():
        raise RuntimeError("review_logs: a row not chained has no due_before; nothing changed")


# ---------------------------------------------------------------- SQLite


def _sqlite_pack(step: Any, stability: Any, difficulty: Any, retention: Any, micros: Any) -> Any:
    buried = None if micros is None else fc_types.from_micros(micros)
    return fc_types.pack_before((step, stability, difficulty, retention, buried))


def _sqlite_unpack(packed: Any, at: int) -> Any:
    value = fc_types.unpack_before(packed)[at]
    return fc_types.to_micros(value) if at == 4 and value is not None else value


def _functions() -> None:
    driver: Any = op.get_bind().connection.driver_connection
    driver.create_function("fc_pack", 5, _sqlite_pack, deterministic=True)
    driver.create_function("fc_unpack", 2, _sqlite_unpack, deterministic=True)
    driver.create_function("fc_retention", 1, fc_types.to_retention, deterministic=True)


def _rebuild(table: str, names: Sequence[str], values: dict[str, str], *, new: bool) -> None:
    op.create_table(table, *_columns(names, new=new), *_constraints())
    selected = ", ".join(values.get(name, name) for name in names)
    op.execute(
        f"INSERT INTO {table} ({', '.join(names)}) SELECT {selected} FROM review_logs ORDER BY id"
    )
    op.drop_table("review_logs")
    op.rename_table(table, "review_logs")
    _indexes()


def upgrade() -> None:
    _check_chains()
    if op.get_bind().dialect.name == "sqlite":
        _functions()
        every_null = " AND ".join(f"{c} IS NULL" for c in PACKED)
        _rebuild(
            "_review_logs_0017",
            NEW,
            {
                "desired_retention": "fc_retention(desired_retention)",
                "packed_before": f"CASE WHEN {every_null} THEN NULL"
                f" ELSE fc_pack({', '.join(PACKED)}) END",
                "buried_siblings": "CASE WHEN replace(buried_siblings, ' ', '') = '[]'"
                " THEN NULL ELSE buried_siblings END",
            },
            new=True,
        )
        return
    # PostgreSQL: float8 and numeric print exactly (shortest repr), so JSON built here reads
    # back as the same values.
    op.add_column("review_logs", sa.Column("packed_before", sa.Text(), nullable=True))
    any_value = " OR ".join(f"{c} IS NOT NULL" for c in PACKED)
    op.execute(
        "UPDATE review_logs SET packed_before = replace(json_build_array(step_before,"
        " stability_before, difficulty_before, retention_before,"
        " (EXTRACT(EPOCH FROM buried_until_before) * 1000000)::bigint)::text, ' ', '')"
        f" WHERE {any_value}"
    )
    with op.batch_alter_table("review_logs") as batch_op:
        batch_op.alter_column("buried_siblings", existing_type=sa.JSON(), nullable=True)
    op.execute("UPDATE review_logs SET buried_siblings = NULL WHERE buried_siblings::text = '[]'")
    with op.batch_alter_table("review_logs") as batch_op:
        for name in (*PACKED, "chained"):
            batch_op.drop_column(name)


def downgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        _functions()
        values = {name: f"fc_unpack(packed_before, {i})" for i, name in enumerate(PACKED)}
        values.update(
            desired_retention=fc_types.RETENTION_SQL,
            buried_siblings="COALESCE(buried_siblings, '[]')",
            chained="due_before IS NULL",
        )
        _rebuild("_review_logs_0016", OLD, values, new=False)
        return
    with op.batch_alter_table("review_logs") as batch_op:
        for name in PACKED:
            batch_op.add_column(sa.Column(name, _type(name), nullable=True))
        batch_op.add_column(
            sa.Column("chained", sa.Boolean(), server_default=sa.false(), nullable=False)
        )
    op.execute(
        "UPDATE review_logs SET step_before = (packed_before::json->>0)::smallint,"
        " stability_before = (packed_before::json->>1)::float8,"
        " difficulty_before = (packed_before::json->>2)::float8,"
        " retention_before = (packed_before::json->>3)::float8,"
        " buried_until_before = timestamptz 'epoch'"
        " + ((packed_before::json->>4)::bigint * interval '1 microsecond')"
        " WHERE packed_before IS NOT NULL"
    )
    op.execute("UPDATE review_logs SET chained = true WHERE due_before IS NULL")
    op.execute("UPDATE review_logs SET buried_siblings = '[]' WHERE buried_siblings IS NULL")
    with op.batch_alter_table("review_logs") as batch_op:
        batch_op.alter_column("buried_siblings", existing_type=sa.JSON(), nullable=False)
        batch_op.drop_column("packed_before")
