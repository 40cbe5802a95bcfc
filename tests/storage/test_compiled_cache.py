"""The compiled-statement cache the tests' engines share (tests/compiled_cache.py): an engine
gets the SQL its own dialect compiles, from the cache when another engine of a like dialect
compiled the statement first, and never SQL compiled for another kind of database."""

from __future__ import annotations

from pathlib import Path

import pytest
import sqlalchemy as sa

from flashcore.storage.db import make_engine
from tests import compiled_cache

TABLE = sa.Table("t", sa.MetaData(), sa.Column("id", sa.Integer, primary_key=True),
                 sa.Column("v", sa.Text))  # fmt: skip


def _run(url: str, value: str) -> tuple[list[tuple[object, ...]], bool]:
    """Create the table, insert a row and read it back: the rows, and whether the select's SQL
    came from the cache."""
    engine = make_engine(url, create=True)
    try:
        TABLE.create(engine, checkfirst=True)
        select = sa.select(TABLE.c.v).where(TABLE.c.v == sa.bindparam("v"))
        with engine.begin() as conn:
            conn.execute(sa.insert(TABLE).values(v=value))
            result = conn.execute(select, {"v": value})
            rows = [tuple(r) for r in result]
            assert result.context.compiled is not None
            sql = str(result.context.compiled)
            cached = result.context.cache_hit is engine.dialect.CACHE_HIT
        assert sql == str(select.compile(dialect=engine.dialect)), "its own dialect's SQL"
        return rows, cached
    finally:
        TABLE.drop(engine, checkfirst=True)
        engine.dispose()


def test_a_second_engine_gets_the_first_s_compiled_sql_and_its_own_rows(tmp_path: Path) -> None:
    first, _ = _run(f"sqlite:///{tmp_path / 'one.sqlite3'}", "one")
    second, cached = _run(f"sqlite:///{tmp_path / 'two.sqlite3'}", "two")
    assert (first, second) == ([("one",)], [("two",)])
    assert cached, "the second engine compiled the select again"


def test_dialects_that_differ_in_a_setting_do_not_share(tmp_path: Path) -> None:
    one = make_engine(f"sqlite:///{tmp_path / 'one.sqlite3'}", create=True)
    two = make_engine(f"sqlite:///{tmp_path / 'two.sqlite3'}", create=True)
    try:
        for engine in (one, two):
            with engine.connect() as conn:
                conn.exec_driver_sql("SELECT 1")
        alike = compiled_cache._settings(one.dialect) == compiled_cache._settings(two.dialect)
        assert alike
        two.dialect.paramstyle = "named"  # would compile `:v`, not `?`
        two.dialect.__dict__.pop("_tests_compiled_cache_settings")
        assert compiled_cache._settings(one.dialect) != compiled_cache._settings(two.dialect)
    finally:
        one.dispose()
        two.dispose()


@pytest.mark.postgres
def test_postgresql_and_sqlite_each_compile_their_own(tmp_path: Path, pg_url: str) -> None:
    _run(f"sqlite:///{tmp_path / 'one.sqlite3'}", "one")
    rows, _ = _run(pg_url, "pg")  # `%(v)s`, not SQLite's `?`: checked against its own compile
    assert rows == [("pg",)]
