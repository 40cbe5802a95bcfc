"""What every table of the schema is built from: the naming convention of constraints and
indexes, the one `MetaData`, and the columns most tables share (`storage.tables` and
`storage.tables_qbank` use them)."""

from __future__ import annotations

from sqlalchemy import Column, ForeignKey, Integer, MetaData

NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

metadata = MetaData(naming_convention=NAMING)


def record_id() -> Column[int]:
    return Column("id", Integer, primary_key=True)


def profile_column() -> Column[int]:
    return Column("profile_id", ForeignKey("profiles.id", ondelete="CASCADE"), nullable=False)


def profile_key() -> Column[int]:
    """`profile_id` as the primary key of a table holding one row per profile."""
    return Column(
        "profile_id",
        ForeignKey("profiles.id", ondelete="CASCADE"),
        primary_key=True,
        autoincrement=False,
    )


def required(name: str, type_: object, **kw: object) -> Column[object]:
    return Column(name, type_, nullable=False, **kw)  # type: ignore[arg-type]


def optional(name: str, type_: object, **kw: object) -> Column[object]:
    return Column(name, type_, nullable=True, **kw)  # type: ignore[arg-type]
