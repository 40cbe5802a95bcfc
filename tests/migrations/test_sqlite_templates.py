"""The SQLite files the migration tests start from are made once per process and copied
(tests/sqlite_templates.py): a copy must be what the real steps give a new file, and a copy is
the test's own (what a test writes reaches no other test's copy)."""

from __future__ import annotations

import itertools
import sqlite3
from pathlib import Path
from types import SimpleNamespace

import pytest

from flashcore.storage import migrate
from flashcore.storage.db import make_engine
from flashcore.storage.migrate import read_revision
from tests import sqlite_templates
from tests.migrations.fixtures import (
    FOLDER,
    dump,
    fixture_paths,
    load,
    read_fixture,
    released_database,
)


def _rows(path: Path) -> dict[str, object]:
    engine = make_engine(f"sqlite:///{path}")
    try:
        return dump(engine)
    finally:
        engine.dispose()


def _direct(path: Path, revision: str) -> Path:
    engine = make_engine(f"sqlite:///{path}", create=True)
    try:
        migrate.upgrade(engine, revision)
    finally:
        engine.dispose()
    return path


def test_a_file_at_a_revision_is_what_alembic_makes_of_a_new_file(tmp_path, monkeypatch):
    """Made in a row (each from the one before it, by Alembic's upgrade from there), every
    file holds what one upgrade of a new file to that revision gives: the same schema, the
    same rows, the same `alembic_version`."""
    monkeypatch.setattr(sqlite_templates, "_made", {})  # this process's earlier files aside
    steps: list[tuple[str | None, str]] = []
    real_upgrade = migrate.upgrade

    def upgrade(engine, target="head"):
        steps.append((read_revision(engine), target))
        real_upgrade(engine, target)

    monkeypatch.setattr(migrate, "upgrade", upgrade)
    released = sorted(fixture_paths())
    # the first, the two table rebuilds (a VACUUM after them), the newest released
    wanted = [released[0], "0012", "0017", released[-1]]
    for revision in wanted:
        made = tmp_path / f"made-{revision}.sqlite3"
        sqlite_templates.at_revision(made, revision)
        direct = _direct(tmp_path / f"direct-{revision}.sqlite3", revision)
        schema = sqlite_templates.schema_of(made)
        assert schema[1] == [(revision,)]
        assert schema == sqlite_templates.schema_of(direct), revision
        assert _rows(made) == _rows(direct), revision
        with sqlite3.connect(made) as conn:
            assert conn.execute("PRAGMA integrity_check").fetchone() == ("ok",)
    assert steps[::2] == [(None, wanted[0]), *itertools.pairwise(wanted)]
    sqlite_templates.at_revision(tmp_path / "again.sqlite3", released[0])
    assert len(steps) == 2 * len(wanted), "made once per process"


def test_a_copy_is_the_tests_own(tmp_path):
    first = tmp_path / "first.sqlite3"
    sqlite_templates.at_revision(first, "0005")
    with sqlite3.connect(first) as conn:
        conn.execute("CREATE TABLE written_by_a_test (x)")
        conn.execute("DELETE FROM alembic_version")
    assert sqlite_templates.schema_of(first)[1] == []  # the copy holds what the test wrote ...
    second = tmp_path / "second.sqlite3"
    sqlite_templates.at_revision(second, "0005")
    direct = _direct(tmp_path / "direct.sqlite3", "0005")
    assert sqlite_templates.schema_of(second) == sqlite_templates.schema_of(direct)  # ... alone


@pytest.mark.parametrize(("revision", "then"), [("0008", "0016"), ("0013", None)])
def test_a_released_database_is_the_fixture_loaded_into_alembics_file(tmp_path, revision, then):
    """`released_database` on SQLite (a copy of this process's file) holds what upgrading a new
    file, loading the fixture and upgrading on gives, for each copy handed out."""
    sqlite = SimpleNamespace(param="sqlite")
    direct = tmp_path / "direct.sqlite3"
    engine = make_engine(f"sqlite:///{direct}", create=True)
    try:
        migrate.upgrade(engine, revision)
        load(engine, read_fixture(FOLDER / f"{revision}.json"))
        if then is not None:
            migrate.upgrade(engine, then)
    finally:
        engine.dispose()
    for n in range(2):
        (tmp_path / str(n)).mkdir()
        url, fixture = released_database(sqlite, tmp_path / str(n), revision, then)
        assert fixture == read_fixture(FOLDER / f"{revision}.json")
        made = tmp_path / str(n) / "released.sqlite3"
        assert url == f"sqlite:///{made}"
        assert sqlite_templates.schema_of(made) == sqlite_templates.schema_of(direct)
        assert _rows(made) == _rows(direct)
