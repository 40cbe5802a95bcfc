"""The tests' new SQLite collections come from a template migrated once per process
(tests/migrated_template.py); what they get must be what Alembic gives a new file, and a file
holding anything must still go through the real `ensure_schema`."""

from __future__ import annotations

import sqlite3

import pytest

from flashcore.core.errors import DatabaseError
from flashcore.services import Flashcore
from flashcore.storage import migrate
from tests import migrated_template
from tests.sqlite_templates import schema_of


def test_a_new_collection_from_the_template_is_what_alembic_makes(tmp_path, clock):
    real = tmp_path / "real.sqlite3"
    migrated_template.enable(False)  # every revision, as a user's first command runs them
    try:
        with Flashcore.open(f"sqlite:///{real}", clock=clock, create=True):
            pass
    finally:
        migrated_template.enable(True)
    copied = tmp_path / "copied.sqlite3"
    with Flashcore.open(f"sqlite:///{copied}", clock=clock, create=True):
        pass
    master, version = schema_of(copied)
    assert version == [(migrate.HEAD,)]
    assert (master, version) == schema_of(real)
    conn = sqlite3.connect(copied)
    try:
        assert conn.execute("PRAGMA journal_mode").fetchone() == ("wal",)
        assert conn.execute("PRAGMA integrity_check").fetchone() == ("ok",)
    finally:
        conn.close()


def test_the_template_fills_only_a_file_with_no_table(tmp_path, clock, monkeypatch):
    filled: list[bool] = []
    real_fill = migrated_template._fill_if_new

    def fill(engine: object) -> bool:
        filled.append(real_fill(engine))
        return filled[-1]

    monkeypatch.setattr(migrated_template, "_fill_if_new", fill)
    foreign = tmp_path / "other.sqlite3"
    conn = sqlite3.connect(foreign)
    conn.execute("CREATE TABLE notes_of_another_program (x)")
    conn.commit()
    conn.close()
    with pytest.raises(DatabaseError, match="not a flashcore database"):
        Flashcore.open(f"sqlite:///{foreign}", clock=clock)
    with Flashcore.open(f"sqlite:///{tmp_path / 'new.sqlite3'}", clock=clock, create=True):
        pass
    with Flashcore.open(f"sqlite:///{tmp_path / 'new.sqlite3'}", clock=clock):
        pass  # at the head now: nothing to fill, nothing to migrate
    assert filled == [False, True, False]


def test_another_head_or_another_scripts_folder_runs_alembic(tmp_path, clock, monkeypatch):
    runs: list[str] = []
    real_run = migrate.run_alembic

    def run_alembic(engine: object, verb: str, target: str) -> None:
        runs.append(verb)
        real_run(engine, verb, target)  # type: ignore[arg-type]

    monkeypatch.setattr(migrate, "run_alembic", run_alembic)
    with Flashcore.open(f"sqlite:///{tmp_path / 'a.sqlite3'}", clock=clock, create=True):
        pass
    assert runs == []  # the template
    monkeypatch.setattr(migrated_template, "_REAL", [("elsewhere", migrate.HEAD)])
    with Flashcore.open(f"sqlite:///{tmp_path / 'b.sqlite3'}", clock=clock, create=True):
        pass
    assert runs == ["upgrade"]
