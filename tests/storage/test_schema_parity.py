"""The schema has two definitions: `flashcore/storage/tables.py` (what the code reads and what
tests' fresh databases get) and the Alembic revisions (what a user's file is upgraded by). They
must agree to the index: compared as SQLite's own DDL, and as PostgreSQL's index definitions."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import sqlalchemy as sa

from flashcore.storage.db import make_engine
from flashcore.storage.migrate import upgrade
from flashcore.storage.tables import metadata


def _normalized(sql: str) -> str:
    sql = re.sub(r"\s+", " ", sql).strip()
    return sql.replace("( ", "(").replace(" )", ")").replace('"', "")


def _sqlite_schema(engine: sa.Engine) -> dict[tuple[str, str], str]:
    with engine.connect() as conn:
        rows = conn.exec_driver_sql(
            "SELECT type, name, sql FROM sqlite_master WHERE sql IS NOT NULL "
            "AND name NOT IN ('alembic_version', 'sqlite_stat1', 'sqlite_stat4')"
        ).all()
    return {(kind, name): _normalized(sql) for kind, name, sql in rows}


def test_migrations_and_tables_give_the_same_sqlite_schema(tmp_path: Path):
    migrated = make_engine(f"sqlite:///{tmp_path / 'migrated.sqlite3'}", create=True)
    upgrade(migrated)
    created = make_engine(f"sqlite:///{tmp_path / 'created.sqlite3'}", create=True)
    metadata.create_all(created)
    a, b = _sqlite_schema(migrated), _sqlite_schema(created)
    migrated.dispose()
    created.dispose()
    assert sorted(a) == sorted(b)
    # Indexes word for word; tables by their columns.
    for key in a:
        if key[0] == "index":
            assert a[key] == b[key], key
    with (
        make_engine(f"sqlite:///{tmp_path / 'migrated.sqlite3'}").connect() as m,
        make_engine(f"sqlite:///{tmp_path / 'created.sqlite3'}").connect() as c,
    ):
        for kind, name in a:
            if kind == "table":
                # (name, type, not null, default, primary key): later revisions append
                # columns, so their position may differ
                cols_m = [r[1:] for r in m.exec_driver_sql(f"PRAGMA table_info({name})")]
                cols_c = [r[1:] for r in c.exec_driver_sql(f"PRAGMA table_info({name})")]
                assert sorted(cols_m) == sorted(cols_c), name


@pytest.mark.postgres
def test_migrations_and_tables_give_the_same_postgres_indexes(pg_url: str):
    engine = make_engine(pg_url)
    upgrade(engine)
    query = (
        "SELECT indexname, indexdef FROM pg_indexes WHERE schemaname = current_schema() "
        "AND tablename <> 'alembic_version'"
    )
    with engine.connect() as conn:
        migrated = dict(conn.execute(sa.text(query)).all())
        schema = conn.execute(sa.text("SELECT current_schema()")).scalar_one()
    with engine.begin() as conn:
        conn.exec_driver_sql(f"CREATE SCHEMA {schema}_created")
        conn.exec_driver_sql(f"SET search_path TO {schema}_created")
        metadata.create_all(conn)
        created = {
            name: definition.replace(f"{schema}_created.", f"{schema}.")
            for name, definition in conn.execute(
                sa.text(query.replace("current_schema()", f"'{schema}_created'"))
            ).all()
        }
        conn.exec_driver_sql(f"DROP SCHEMA {schema}_created CASCADE")
    engine.dispose()
    assert migrated == created


def test_the_new_card_queries_read_their_indexes_in_order(fc_sqlite):
    # New cards come in NEW_CARD_ORDER in three parts (repos.queue.new_parts): missed
    # questions' cards and the unweighted ones from ix_cards_new_queue (new cards only; SQLite
    # uses it only when the query names `state = 0` literally, as the queue's statements do),
    # weak topics' cards topic by topic from ix_cards_new_by_topic, heaviest topic first.
    from sqlalchemy import and_

    from flashcore.storage.repos.queue import new_parts
    from flashcore.storage.tables import cards

    c = cards.c
    where = and_(c.profile_id == 1, c.suspended.is_(False))
    plans = []
    with fc_sqlite.engine.connect() as conn:
        for statement in new_parts(1, where):
            sql = str(statement.limit(20).compile(conn, compile_kwargs={"literal_binds": True}))
            rows = conn.exec_driver_sql(f"EXPLAIN QUERY PLAN {sql}")
            plans.append(" ".join(str(r[3]) for r in rows))
    missed, weak, rest = plans
    for plan in (missed, rest):
        assert "ix_cards_new_queue" in plan
        assert "TEMP B-TREE" not in plan  # in introduction order straight from the index
    assert "ix_topics_profile_id_card_weight" in weak and "ix_cards_new_by_topic" in weak
    assert "TEMP B-TREE FOR ORDER BY" not in weak  # only topics of equal weight are merged


PARTIAL_ON_POSTGRES = """
import sys
from sqlalchemy.dialects import postgresql
from sqlalchemy.schema import CreateIndex

from flashcore.storage import tables
from flashcore.storage.db import make_engine

assert "flashcore.storage.models" not in sys.modules
make_engine("postgresql+psycopg://nobody@127.0.0.1:1/none")  # (no connection is made)
for table in tables.metadata.tables.values():
    for index in table.indexes:
        if index.name in tables.PARTIAL_WHERE:
            print(CreateIndex(index).compile(dialect=postgresql.dialect()))
"""


def test_a_process_that_opens_postgresql_gets_the_partial_indexes_condition():
    """The partial indexes' PostgreSQL condition is set when PostgreSQL is first used, not when
    the tables are imported (issue 19f): opening a PostgreSQL engine in a process that never
    imported Alembic's models is enough (every other test here has imported them)."""
    import subprocess
    import sys

    done = subprocess.run([sys.executable, "-c", PARTIAL_ON_POSTGRES], capture_output=True,
                          text=True, timeout=60, check=False)  # fmt: skip
    assert done.returncode == 0, done.stderr
    printed = [line for line in done.stdout.splitlines() if line.startswith("CREATE INDEX")]
    assert len(printed) == 3
    assert all(" WHERE " in line for line in printed), printed
