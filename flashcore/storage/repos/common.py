"""What the repositories share: the executor they run on, its dialect, small helpers."""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

from sqlalchemy import JSON, Connection, Table, bindparam, insert, update

from flashcore.storage.types import UTCDateTime

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
    statement = (
        f"INSERT INTO {table.name} ({', '.join(names)}) VALUES ({', '.join('?' for _ in names)})"
    )
    _driver(executor).executemany(statement, _bound(table, dialect, names, names, rows))


def insert_many_like(
    executor: Executor,
    table: Table,
    template: Mapping[str, Any],
    varying: Sequence[str],
    values: Sequence[Sequence[Any]],
) -> None:
    """INSERT a row per item of `values`: `template` with its `varying` columns set to the
    item's values, in that order (an import's 48,000 new cards differ in 4 of 21 columns). On
    SQLite the template's other values go through their bind processing once, and each row
    is the driver's tuple of those and its own; elsewhere, `insert_many`'s."""
    if not values:
        return
    dialect = dialect_of(executor)
    if dialect.name != "sqlite":
        rows = [{**template, **dict(zip(varying, item, strict=True))} for item in values]
        executor.execute(insert(table), rows)
        return
    fixed = [name for name in template if name not in varying]
    bound = _bound(table, dialect, fixed, fixed, [template])[0]
    # A value stored as NULL in every row (the template's, or a varying column's) is written as
    # the literal: Python 3.11's sqlite3 binds a None through its adaptation protocol (~0.3 us
    # each; a first AnKing import's 48,000 new cards carried six each, its notes one).
    nulls = [name for name, value in zip(fixed, bound, strict=True) if value is None]
    head = tuple(value for value in bound if value is not None)
    columns = [[item[i] for item in values] for i in range(len(varying))]
    columns = [
        column if p is None else _processed(table, name, p, column)
        for name, column in zip(varying, columns, strict=True)
        for p in (_processor(table, dialect, name),)
    ]
    shown = [i for i, column in enumerate(columns) if any(v is not None for v in column)]
    nulls += [name for i, name in enumerate(varying) if i not in shown]
    names = [name for name in fixed if name not in nulls] + [varying[i] for i in shown]
    columns = [columns[i] for i in shown]
    tuples = [head + row for row in zip(*columns, strict=True)] if columns else [head] * len(values)
    marks = ", ".join(["?"] * len(names) + ["NULL"] * len(nulls))
    statement = f"INSERT INTO {table.name} ({', '.join([*names, *nulls])}) VALUES ({marks})"
    _driver(executor).executemany(statement, tuples)


def insert_tuples(
    executor: Executor, table: Table, names: Sequence[str], rows: Sequence[tuple[Any, ...]]
) -> None:
    """INSERT `rows`, tuples of the values of `names` in that order, values no column type
    processes (whole numbers, text: a note's topic and question links). On SQLite straight
    to the driver's executemany; elsewhere SQLAlchemy's."""
    if not rows:
        return
    if dialect_of(executor).name != "sqlite":
        executor.execute(insert(table), [dict(zip(names, row, strict=True)) for row in rows])
        return
    statement = (
        f"INSERT INTO {table.name} ({', '.join(names)}) VALUES ({', '.join('?' for _ in names)})"
    )
    _driver(executor).executemany(statement, rows)


def _processor(table: Table, dialect: Any, name: str) -> Any:
    return table.c[name].type.dialect_impl(dialect).bind_processor(dialect)


def update_many(
    executor: Executor,
    table: Table,
    rows: Sequence[Mapping[str, Any]],
    *,
    key: str,
    also: Mapping[str, Any] | None = None,
) -> None:
    """UPDATE the rows of `table` whose column `key` holds each row's `key` value, setting the
    row's other values (dicts with the same keys) and `also` (column -> SQL expression, the same
    for every row: `{"version": table.c.version + 1}`). On SQLite by the driver's executemany,
    as `insert_many` (a scheduling import updates ~35,000 cards and anchors); elsewhere
    SQLAlchemy's."""
    if not rows:
        return
    names = [name for name in rows[0] if name != key]
    dialect = dialect_of(executor)
    if dialect.name != "sqlite":
        params: dict[str, Any] = {name: bindparam(f"u_{name}") for name in names}
        executor.execute(
            update(table)
            .where(table.c[key] == bindparam("u_key"))
            .values({**params, **(also or {})}),
            [{"u_key": row[key], **{f"u_{n}": row[n] for n in names}} for row in rows],
        )
        return
    extra = [
        f"{name} = {expression.compile(dialect=dialect, compile_kwargs={'literal_binds': True})}"
        for name, expression in (also or {}).items()
    ]
    assignments = ", ".join([f"{name} = ?" for name in names] + extra)
    sql = f"UPDATE {table.name} SET {assignments} WHERE {key} = ?"
    _driver(executor).executemany(sql, _bound(table, dialect, [*names, key], names, rows))


def _driver(executor: Executor) -> Any:
    held: Any = executor
    connection = held.connection() if callable(held.connection) else held
    return connection.connection.driver_connection


def _bound(
    table: Table,
    dialect: Any,
    names: Sequence[str],
    processed: Sequence[str],
    rows: Sequence[Mapping[str, Any]],
) -> list[tuple[Any, ...]]:
    """The rows' values of `names`, in order, those of `processed` through their column type's
    bind processing. Column by column (a row's loop over its columns cost ~1 s CPU for an
    import's 35,000 notes and 48,000 cards)."""
    wanted = set(processed)
    columns: list[list[Any]] = []
    for name in names:
        column = [row[name] for row in rows]
        proc = None
        if name in wanted:
            proc = table.c[name].type.dialect_impl(dialect).bind_processor(dialect)
        if proc is not None:
            column = _processed(table, name, proc, column)
        columns.append(column)
    return list(zip(*columns, strict=True))


def _processed(table: Table, name: str, proc: Any, column: list[Any]) -> list[Any]:
    """A column's values through its type's bind processing (`proc`), as the driver takes
    them: times once per distinct value, JSON by `_json_texts`, the rest once per run."""
    kind = table.c[name].type
    if isinstance(kind, UTCDateTime):
        return _by_value(proc, column)
    if isinstance(kind, JSON):
        return _json_texts(proc, column)
    return _by_run(proc, column)


_escaped = json.encoder.encode_basestring_ascii  # what `json.dumps` writes of a str


def _json_texts(proc: Any, column: list[Any]) -> list[Any]:
    """JSON values as SQLAlchemy's processing (`json.dumps`) writes them: a dict of strings
    and a list of strings put together from their escaped strings, the same text (an
    import's 35,000 notes' fields and tags: ~3 us a value less); any other value by `proc`."""
    out = []
    for value in column:
        kind = type(value)
        if kind is dict and all(type(k) is str and type(v) is str for k, v in value.items()):
            out.append(
                "{" + ", ".join([f"{_escaped(k)}: {_escaped(v)}" for k, v in value.items()]) + "}"
            )
        elif kind is list and all(type(v) is str for v in value):
            out.append("[" + ", ".join([_escaped(v) for v in value]) + "]")
        else:
            out.append(proc(value))
    return out


def _by_value(proc: Any, column: list[Any]) -> list[Any]:
    """Times: processed once per distinct value (an import's cards share their `now`, its
    anchors a few hundred due days)."""
    memo: dict[Any, Any] = {}
    out = []
    for raw in column:
        done = memo.get(raw, _MISSING)
        if done is _MISSING:
            done = memo[raw] = proc(raw)
        out.append(done)
    return out


def _by_run(proc: Any, column: list[Any]) -> list[Any]:
    """Other values: once per run of the same object."""
    out = []
    last: Any = _MISSING
    done: Any = None
    for raw in column:
        if raw is not last:
            done = proc(raw)
            last = raw
        out.append(done)
    return out


_MISSING = object()
