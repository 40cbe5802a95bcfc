"""pytest-alembic on a SQLite file in tmp_path, with flashcore's engine (foreign keys on, WAL)
and the repository's `migrations/` folder.

migrations/env.py takes the `connection` attribute as a Connection (Alembic's "sharing a
connection" recipe); pytest-alembic hands over whatever `alembic_engine` is, so it is a
Connection here rather than an Engine."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Connection

from flashcore.storage.db import make_engine
from flashcore.storage.migrate import alembic_config as flashcore_alembic_config

REPO_ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def alembic_config() -> Any:
    config = flashcore_alembic_config()
    config.set_main_option("script_location", str(REPO_ROOT / "migrations"))
    return config


@pytest.fixture
def alembic_engine(tmp_path: Path) -> Iterator[Connection]:
    engine = make_engine(f"sqlite:///{tmp_path / 'alembic.sqlite3'}", create=True)
    try:
        with engine.connect() as connection:
            yield connection
    finally:
        engine.dispose()
