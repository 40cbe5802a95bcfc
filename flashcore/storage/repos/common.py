"""What the repositories share: the executor they run on, its dialect, small helpers."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

from sqlalchemy import Connection, Table, insert

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    # Repositories run on an ORM Session or on a plain Connection (a review session holds
    # one); they use Core statements on the tables only, so the ORM is never imported here.
    Executor = Session | Connection


def dialect_of(executor: Executor) -> Any:
    get_bind = getattr(executor, "get_bind", None)  # a Session
    if get_bind is not None:
        return get_bind().dialect
    return getattr(executor, "dialect")  # noqa: B009 (a Connection; the Session has none)


def like_prefix(prefix: str) -> str:
    escaped = prefix.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return escaped + "::%"


def chunks(items: list[int], size: int) -> Iterable[list[int]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def insert_many(executor: Executor, table: Table, rows: Sequence[Mapping[str, Any]]) -> None:
    """INSERT `rows` (dicts with the same keys). On SQLite the values go through each column
    type's own bind processing once and then to the driver's executemany: SQLAlchemy's
    `insertmanyvalues` compiles a statement per batch and processes each parameter in Python
    (an import of 35,000 notes and 48,000 cards spent ~3 s there). Elsewhere, SQLAlchemy's."""
    if not rows:
        return
    dialect = dialect_of(executor)
    if dialect.name != "sqlite":
        executor.execute(insert(table), list(rows))
        return
    names = list(rows[0])
    processors = [
        (i, proc)
        for i, name in enumerate(names)
        if (proc := table.c[name].type.dialect_impl(dialect).bind_processor(dialect)) is not None
    ]
    values: list[list[Any]] = []
    for row in rows:
        value = [row[name] for name in names]
        for i, proc in processors:
            value[i] = proc(value[i])
        values.append(value)
    held: Any = executor
    connection = held.connection() if callable(held.connection) else held
    statement = (
        f"INSERT INTO {table.name} ({', '.join(names)}) VALUES ({', '.join('?' for _ in names)})"
    )
    connection.connection.driver_connection.executemany(statement, values)
