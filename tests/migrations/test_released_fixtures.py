"""A database from every released schema, with real content, upgrades to head on SQLite and on
PostgreSQL with every row and every table's content hash kept (but for the values a revision
rewrites on purpose, listed in REWRITTEN), foreign keys sound, and nothing
for `flashcore check` or `flashcore doctor` to report; downgrading back gives the same rows.

The fixtures are `tests/migrations/fixtures/<revision>.json` (see tests/migrations/fixtures.py).
A new revision needs nothing here but its fixture: `python -m tests.migrations.fixtures`, which
`test_every_released_revision_has_a_fixture` asks for."""

from __future__ import annotations

import copy
import hashlib
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from flashcore.cli import main
from flashcore.core.clock import FixedClock
from flashcore.services import Flashcore
from flashcore.storage.db import make_engine, sqlite_path
from flashcore.storage.migrate import HEAD, downgrade, known_revisions, read_revision, upgrade
from flashcore.storage.models import Base
from tests import sqlite_templates
from tests.migrations.fixtures import dump, fixture_paths, load, read_fixture

FIXTURES = fixture_paths()


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def empty_db(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """An empty database: a new SQLite file, or a fresh PostgreSQL schema."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'released.sqlite3'}"
    return str(request.getfixturevalue("pg_url"))


def test_every_released_revision_has_a_fixture():
    """Every revision below the head is released (the head may still be in the works); the
    head's fixture is made when the next revision is added, at the latest."""
    released = set(known_revisions()) - {HEAD}
    missing = sorted(released - set(FIXTURES))
    assert not missing, f"make them with: python -m tests.migrations.fixtures REVISION: {missing}"
    assert set(FIXTURES) <= set(known_revisions()), "a fixture of an unknown revision"


def _columns(fixture: dict[str, Any]) -> dict[str, list[str]]:
    return {name: table["columns"] for name, table in fixture["tables"].items()}


def _hashes(engine: sa.Engine, columns: dict[str, list[str]]) -> dict[str, tuple[int, str]]:
    """(row count, sha256 of the rows in primary-key order) per fixture table, over the
    fixture's columns: tables and columns added by later revisions are left out."""
    return _hashed(dump(engine, columns))


def _hashed(tables: dict[str, Any]) -> dict[str, tuple[int, str]]:
    return {
        name: (len(table["rows"]), hashlib.sha256(repr(table["rows"]).encode()).hexdigest())
        for name, table in tables.items()
    }


# The values a revision rewrites on purpose: (revision, table, column, old value -> new value).
# Every other value must come through an upgrade unchanged.
REWRITTEN = [
    ("0005", "qbank_attempts", "fingerprint", lambda fp: fp[:32]),  # 128-bit fingerprints
    # A topic's weight is read through one of the note's topics; the card keeps a missed
    # question's (>= 1) alone.
    ("0019", "cards", "weight", lambda w: w if w >= 1 else 0.0),
]

# Values a revision works out anew from other tables, which no per-value change says: (revision,
# table, column). Left out of the comparison after the upgrade (the revision's own test checks
# them), compared after the downgrade back.
# - 0019: `cards.weak_topic_id` points at the note's topic the card takes its weight from.
REDERIVED = [("0019", "cards", "weak_topic_id")]


def _without(
    tables: dict[str, Any], revision: str, listed: list[tuple[str, str, str]]
) -> dict[str, Any]:
    """A copy of `tables` without the `listed` (revision, table, column) columns that a
    revision after `revision` derives."""
    out = copy.deepcopy(tables)
    for derived_by, name, column in listed:
        table = out.get(name)
        if revision >= derived_by or table is None or column not in table["columns"]:
            continue
        at = table["columns"].index(column)
        table["columns"].pop(at)
        for row in table["rows"]:
            row.pop(at)
    return out


def _without_rederived(tables: dict[str, Any], revision: str) -> dict[str, Any]:
    return _without(tables, revision, REDERIVED)


# Columns that say how a value was stored, not what it is, which a later revision derives
# instead: (revision, table, column). Left out of the comparisons for earlier fixtures.
# - 0017: `review_logs.chained` (a chained row is one with no `due_before`; the fixtures hold
#   every before-state written out, so their rows come back not chained, values unchanged).
STORAGE_DETAILS = [("0017", "review_logs", "chained")]


def _without_storage_details(fixture: dict[str, Any], revision: str) -> dict[str, Any]:
    return copy.deepcopy(fixture) | {
        "tables": _without(fixture["tables"], revision, STORAGE_DETAILS)
    }


def _upgraded(tables: dict[str, Any], revision: str) -> dict[str, Any]:
    """The fixture's tables as an upgrade from `revision` to head leaves them."""
    out = copy.deepcopy(tables)
    for rewritten_by, name, column, change in REWRITTEN:
        if revision >= rewritten_by or name not in out or column not in out[name]["columns"]:
            continue
        at = out[name]["columns"].index(column)
        for row in out[name]["rows"]:
            row[at] = change(row[at])
    return out


def _foreign_key_problems(engine: sa.Engine) -> list[Any]:
    with engine.connect() as conn:
        if engine.dialect.name == "sqlite":
            return list(conn.exec_driver_sql("PRAGMA foreign_key_check").all())
        return list(  # every constraint PostgreSQL holds is checked against every row
            conn.execute(
                sa.text(
                    "SELECT c.conname FROM pg_constraint c JOIN pg_namespace n"
                    " ON n.oid = c.connamespace WHERE c.contype = 'f'"
                    " AND n.nspname = current_schema() AND NOT c.convalidated"
                )
            ).all()
        )


def _foreign_keys(engine: sa.Engine) -> set[tuple[str, str | None]]:
    inspector = sa.inspect(engine)
    return {
        (table, fk["name"])
        for table in inspector.get_table_names()
        for fk in inspector.get_foreign_keys(table)
    }


def _model_foreign_keys() -> set[tuple[str, str | None]]:
    return {
        (table.name, str(fk.name))
        for table in Base.metadata.tables.values()
        for fk in table.foreign_key_constraints
    }


def _flashcore(monkeypatch, capsys, now: str, *args: object) -> tuple[int, str]:
    monkeypatch.setenv("FLASHCORE_NOW", now)
    capsys.readouterr()
    code = main([str(a) for a in args])
    out, err = capsys.readouterr()
    return code, out + err


@pytest.mark.parametrize("revision", sorted(FIXTURES))
def test_a_released_database_upgrades_with_every_row_kept_and_downgrades_back(
    revision, empty_db, monkeypatch, capsys
):
    fixture = read_fixture(FIXTURES[revision])
    now = fixture["now"]
    path = sqlite_path(empty_db)
    if path is not None:  # Alembic's file at `revision`, copied (tests/sqlite_templates.py)
        sqlite_templates.at_revision(path, revision)
    engine = make_engine(empty_db, create=True)
    try:
        if path is None:
            upgrade(engine, revision)
        assert read_revision(engine) == revision
        load(engine, fixture)
        loaded = dump(engine, _columns(fixture))
        assert loaded == fixture["tables"], "did not load as written"
        assert {name: len(t["rows"]) for name, t in loaded.items()} == fixture["counts"]
        fixture = _without_storage_details(fixture, revision)
        columns = _columns(fixture)

        with Flashcore.open(empty_db, clock=FixedClock(datetime.fromisoformat(now))) as fc:
            backup = fc.backup  # the app upgrades on open (SQLite: after a backup)
        assert read_revision(engine) == HEAD
        expected = _without_rederived(_upgraded(fixture["tables"], revision), revision)
        kept = _columns({"tables": expected})
        assert dump(engine, kept) == expected
        upgraded = _hashed(expected)
        assert _foreign_key_problems(engine) == []
        assert _foreign_keys(engine) == _model_foreign_keys()
        if sqlite_path(empty_db) is not None and revision != HEAD:
            assert backup is not None

        for profile in ("default", "alice"):
            code, said = _flashcore(
                monkeypatch, capsys, now, "check", "--db", empty_db, "--profile", profile
            )
            assert code == 0, said
        code, said = _flashcore(monkeypatch, capsys, now, "doctor", "--db", empty_db)
        assert code == 0 and "nothing to repair" in said, said
        assert _hashes(engine, kept) == upgraded  # check and doctor changed nothing

        downgrade(engine, revision)
        assert read_revision(engine) == revision
        assert dump(engine, columns) == fixture["tables"]
        assert _foreign_key_problems(engine) == []

        upgrade(engine, "head")  # and it still works: an answer gets the next ids
        code, said = _flashcore(monkeypatch, capsys, now, "due", "--db", empty_db, "--json")
        assert code == 0, said
        first = int(said.split('"card_id": ')[1].split(",")[0])
        code, said = _flashcore(monkeypatch, capsys, now, "answer", first, "good", "--db", empty_db)
        assert code == 0, said
        answered = len(fixture["tables"]["review_logs"]["rows"]) + 1
        assert _hashes(engine, columns)["review_logs"][0] == answered
    finally:
        engine.dispose()
