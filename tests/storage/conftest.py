"""Storage fixtures: a collection (both backends) holding the small test deck, and PostgreSQL
schemas that start at head (migrate once, replay per test: the STYLE's "migrate once, copy")."""

from __future__ import annotations

import functools
import io
import os
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import SMALL_DECK, write_deck


@pytest.fixture
def deck_path(tmp_path: Path) -> Path:
    return write_deck(tmp_path / "small.toml", SMALL_DECK)


@pytest.fixture
def loaded_fc(fc: Any, deck_path: Path) -> Any:
    """The `fc` collection (SQLite and PostgreSQL) with SMALL_DECK: 3 notes, 4 cards."""
    (report,) = fc.add_decks([deck_path])
    assert report.ok, report.problems
    return fc


@pytest.fixture
def loaded_sqlite_fc(fc_sqlite: Any, deck_path: Path) -> Any:
    """A SQLite collection with SMALL_DECK."""
    (report,) = fc_sqlite.add_decks([deck_path])
    assert report.ok, report.problems
    return fc_sqlite


# ---------------------------------------------------------------- fast PostgreSQL schemas


@functools.cache
def head_schema_sql() -> str | None:
    """Every migration up to head as PostgreSQL DDL, rendered once by Alembic's offline mode
    from the real migration scripts (None if they cannot be rendered offline)."""
    from alembic import command
    from alembic.config import Config

    from flashcore.storage.migrate import migrations_dir

    buffer = io.StringIO()
    config = Config(output_buffer=buffer)
    config.set_main_option("script_location", str(migrations_dir()))
    config.set_main_option("sqlalchemy.url", "postgresql+psycopg://")
    config.attributes["configure_logger"] = False
    saved = os.environ.pop("FLASHCORE_DB", None)
    try:
        command.upgrade(config, "head", sql=True)
    except Exception:  # noqa: BLE001 - a migration that needs a live connection: go online
        return None
    finally:
        if saved is not None:
            os.environ["FLASHCORE_DB"] = saved
    return buffer.getvalue()


def migrate_pg_schema(url: str) -> str:
    """Bring the fresh schema behind `url` to head: replay the rendered DDL (fast), or run the
    migrations online when they cannot be rendered. Returns `url`."""
    sql = head_schema_sql()
    if sql is None:
        from flashcore.storage.db import make_engine
        from flashcore.storage.migrate import upgrade

        engine = make_engine(url)
        try:
            upgrade(engine, "head")
        finally:
            engine.dispose()
        return url
    import psycopg

    with psycopg.connect(
        url.replace("postgresql+psycopg://", "postgresql://"), autocommit=True
    ) as conn:
        conn.execute(sql.encode())
    return url


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def db_url(request: pytest.FixtureRequest) -> str:
    """As the root `db_url`, but the PostgreSQL schema arrives already at head."""
    if request.param == "sqlite":
        return str(request.getfixturevalue("sqlite_url"))
    return migrate_pg_schema(str(request.getfixturevalue("pg_url")))
