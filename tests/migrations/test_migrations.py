"""Migrations: one head, up and down for every revision on SQLite (pytest-alembic) and on
PostgreSQL, models that match the DDL, plain `alembic upgrade head`, and safe upgrades."""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
from contextlib import closing
from datetime import UTC, datetime
from pathlib import Path

import pytest
from alembic.script import ScriptDirectory
from pytest_alembic.tests import (
    test_model_definitions_match_ddl,
    test_single_head_revision,
    test_up_down_consistency,
    test_upgrade,
)
from sqlalchemy import inspect, text

from flashcore.storage.db import make_engine
from flashcore.storage.migrate import (
    HEAD,
    alembic_config,
    downgrade,
    ensure_schema,
    known_revisions,
    migration_transaction,
    read_revision,
    upgrade,
)
from flashcore.storage.models import Base

__all__ = [
    "test_model_definitions_match_ddl",
    "test_single_head_revision",
    "test_up_down_consistency",
    "test_upgrade",
]

REPO_ROOT = Path(__file__).resolve().parents[2]
TABLES = set(Base.metadata.tables)


def script_directory() -> ScriptDirectory:
    return ScriptDirectory.from_config(alembic_config())


def revisions_base_to_head() -> list[str]:
    return [s.revision for s in reversed(list(script_directory().walk_revisions()))]


def tables(engine) -> set[str]:
    with engine.connect() as conn:
        return set(inspect(conn).get_table_names()) - {"alembic_version"}


def test_head_constant_is_the_single_alembic_head():
    assert script_directory().get_heads() == [HEAD]
    assert HEAD in known_revisions()


def test_stairway_up_and_down_one_revision_at_a_time_on_sqlite(tmp_path):
    engine = make_engine(f"sqlite:///{tmp_path / 'stairs.sqlite3'}", create=True)
    try:
        previous = "base"
        for revision in revisions_base_to_head():
            upgrade(engine, revision)
            assert read_revision(engine) == revision
            downgrade(engine, previous)
            upgrade(engine, revision)
            assert read_revision(engine) == revision
            previous = revision
        assert tables(engine) == TABLES
    finally:
        engine.dispose()


def test_upgrade_downgrade_upgrade_on_postgres(pg_url):
    engine = make_engine(pg_url)
    try:
        assert read_revision(engine) is None
        upgrade(engine, "head")
        assert read_revision(engine) == HEAD
        assert tables(engine) == TABLES
        downgrade(engine, "base")
        assert tables(engine) == set()
        assert read_revision(engine) is None
        upgrade(engine, "head")
        assert read_revision(engine) == HEAD
        assert tables(engine) == TABLES
    finally:
        engine.dispose()


def test_postgres_tables_land_in_the_connection_schema_only(pg_url):
    engine = make_engine(pg_url)
    try:
        upgrade(engine, "head")
        with engine.connect() as conn:
            schema = conn.execute(text("SELECT current_schema()")).scalar()
            where = set(
                conn.execute(
                    text(
                        "SELECT DISTINCT table_schema FROM information_schema.tables "
                        "WHERE table_name = 'review_logs'"
                    )
                ).scalars()
            )
        assert schema in where
        assert "public" not in where
    finally:
        engine.dispose()


def test_plain_alembic_upgrade_head_from_the_repo_root_works(tmp_path):
    target = tmp_path / "x.sqlite3"
    stray = REPO_ROOT / "flashcore.sqlite3"  # alembic.ini's fallback URL
    stray_before = stray.exists()
    env = dict(os.environ, FLASHCORE_DB=f"sqlite:///{target}")
    result = subprocess.run(
        [sys.executable, "-m", "alembic", "upgrade", "head"],
        cwd=REPO_ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    with closing(sqlite3.connect(target)) as conn, conn:
        assert conn.execute("SELECT version_num FROM alembic_version").fetchall() == [(HEAD,)]
        names = {
            r[0]
            for r in conn.execute(
                "SELECT name FROM sqlite_master WHERE type='table' AND name NOT LIKE 'sqlite_%'"
            )
        }
    assert names - {"alembic_version"} == TABLES
    assert stray.exists() == stray_before  # FLASHCORE_DB was used, not the fallback


def test_ensure_schema_on_an_empty_file_migrates_to_head_without_a_backup(tmp_path):
    engine = make_engine(f"sqlite:///{tmp_path / 'new.sqlite3'}", create=True)
    try:
        assert ensure_schema(engine) is None
        assert read_revision(engine) == HEAD
    finally:
        engine.dispose()
    assert list(tmp_path.glob("*.bak")) == []


def test_ensure_schema_on_an_up_to_date_database_keeps_data_and_makes_no_backup(sqlite_url):
    engine = make_engine(sqlite_url)
    try:
        with engine.begin() as conn:
            conn.execute(
                text("INSERT INTO profiles (name, settings, created_at) VALUES ('kept', '{}', :t)"),
                {"t": datetime(2026, 11, 25, 9, tzinfo=UTC).replace(tzinfo=None)},
            )
        assert ensure_schema(engine) is None
        with engine.connect() as conn:
            names = conn.execute(text("SELECT name FROM profiles")).scalars().all()
        assert names == ["kept"]
    finally:
        engine.dispose()
    folder = Path(sqlite_url.removeprefix("sqlite:///")).parent
    assert list(folder.glob("*.bak")) == []


@pytest.mark.skipif(len(known_revisions()) < 2, reason="needs an older revision to upgrade from")
def test_upgrading_a_sqlite_file_with_data_backs_it_up_first(sqlite_url):
    older = revisions_base_to_head()[-2]
    engine = make_engine(sqlite_url)
    try:
        downgrade(engine, older)
        with engine.begin() as conn:
            conn.execute(
                text("INSERT INTO profiles (name, settings, created_at) VALUES ('kept', '{}', :t)"),
                {"t": datetime(2026, 11, 25, 9)},
            )
        backup = ensure_schema(engine)
    finally:
        engine.dispose()
    assert backup is not None
    with closing(sqlite3.connect(backup)) as conn, conn:
        assert conn.execute("SELECT version_num FROM alembic_version").fetchall() == [(older,)]
        assert conn.execute("SELECT name FROM profiles").fetchall() == [("kept",)]


def test_the_backup_helper_copies_a_consistent_sqlite_file(sqlite_url):
    from flashcore.storage.migrate import backup_sqlite

    engine = make_engine(sqlite_url)
    try:
        with engine.begin() as conn:
            conn.execute(
                text("INSERT INTO profiles (name, settings, created_at) VALUES ('kept', '{}', :t)"),
                {"t": datetime(2026, 11, 25, 9)},
            )
        backup = backup_sqlite(engine, suffix="test")
    finally:
        engine.dispose()
    assert backup is not None
    with closing(sqlite3.connect(backup)) as conn, conn:
        assert conn.execute("SELECT name FROM profiles").fetchall() == [("kept",)]
        assert conn.execute("PRAGMA integrity_check").fetchall() == [("ok",)]


def test_sqlite_migrations_run_with_foreign_keys_off_and_restore_them(fc_sqlite):
    """A batch rebuild of a parent table with foreign keys on would cascade-delete reviews."""
    with fc_sqlite.engine.connect() as conn:
        with migration_transaction(conn):
            assert conn.exec_driver_sql("PRAGMA foreign_keys").scalar() == 0
        assert conn.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1


def test_a_failing_migration_leaves_nothing_half_applied(db_url):
    engine = make_engine(db_url)
    try:
        ensure_schema(engine)
        with (
            engine.connect() as conn,
            pytest.raises(RuntimeError, match="boom"),
            migration_transaction(conn),
        ):
            conn.exec_driver_sql("CREATE TABLE half_done (id INTEGER PRIMARY KEY)")
            conn.exec_driver_sql("UPDATE alembic_version SET version_num = 'zzzz'")
            raise RuntimeError("boom")
        assert "half_done" not in tables(engine)
        assert read_revision(engine) == HEAD
    finally:
        engine.dispose()
