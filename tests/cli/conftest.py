"""CLI fixtures: run `flashcore.cli.main` in-process as a user would, with a frozen clock and a
home folder inside tmp_path, and write deck files."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from flashcore.cli import main
from tests.conftest import SMALL_DECK, write_deck

NOW_ISO = "2026-11-25T09:00:00+00:00"


@dataclass
class Result:
    code: int
    out: str
    err: str

    def json(self) -> Any:
        return json.loads(self.out)

    @property
    def err_lines(self) -> list[str]:
        return [line for line in self.err.splitlines() if line.strip()]


class Cli:
    """Runs `flashcore ARGS...` in this process and captures what it prints."""

    def __init__(self, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch):
        self._capsys = capsys
        self._monkeypatch = monkeypatch

    def at(self, instant: str) -> Cli:
        """Freeze the clock of the following runs (FLASHCORE_NOW)."""
        self._monkeypatch.setenv("FLASHCORE_NOW", instant)
        return self

    def __call__(self, *args: object) -> Result:
        self._capsys.readouterr()
        try:
            code = main([str(a) for a in args])
        except SystemExit as exc:  # argparse: --help, --version and usage errors
            code = exc.code if isinstance(exc.code, int) else 1
        out, err = self._capsys.readouterr()
        return Result(int(code), out, err)

    def ok(self, *args: object) -> Result:
        result = self(*args)
        assert result.code == 0, f"flashcore {args} failed ({result.code}): {result.err}"
        return result

    def json(self, *args: object) -> Any:
        return self.ok(*args, "--json").json()


@pytest.fixture
def cli(capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Cli:
    monkeypatch.setenv("FLASHCORE_NOW", NOW_ISO)
    monkeypatch.setenv("FLASHCORE_HOME", str(tmp_path / "home"))
    monkeypatch.delenv("FLASHCORE_DB", raising=False)
    monkeypatch.delenv("FLASHCORE_PROFILE", raising=False)
    monkeypatch.chdir(tmp_path)
    return Cli(capsys, monkeypatch)


@pytest.fixture
def deck(tmp_path: Path) -> Path:
    """SMALL_DECK written to a file: 3 notes, 4 cards (one cloze note with two deletions)."""
    return write_deck(tmp_path / "small.toml", SMALL_DECK)


@pytest.fixture
def loaded(cli: Cli, db_url: str, deck: Path) -> str:
    """A database (both backends) holding SMALL_DECK; returns its URL."""
    cli.ok("decks", "add", deck, "--db", db_url)
    return db_url


@pytest.fixture
def loaded_sqlite(cli: Cli, sqlite_url: str, deck: Path) -> str:
    """A SQLite database holding SMALL_DECK, for checks where the backend does not matter."""
    cli.ok("decks", "add", deck, "--db", sqlite_url)
    return sqlite_url


def _one_line_error(result: Result, code: int = 1) -> str:
    """Exit `code`, one line on stderr and no traceback; returns that line."""
    assert result.code == code, (result.code, result.out, result.err)
    assert "Traceback" not in result.err
    assert len(result.err_lines) == 1, result.err
    return result.err_lines[0]


def _sql(db_url: str, statement: str, params: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    """Raw SQL behind flashcore's back: sqlite3 for SQLite files, psycopg for PostgreSQL."""
    if db_url.startswith("sqlite:///"):
        conn = sqlite3.connect(db_url.removeprefix("sqlite:///"))
        try:
            rows = conn.execute(statement, params).fetchall()
            conn.commit()
            return rows
        finally:
            conn.close()
    import sqlalchemy as sa

    engine = sa.create_engine(db_url)
    try:
        with engine.begin() as conn:
            result = conn.exec_driver_sql(statement.replace("?", "%s"), params)
            return [tuple(r) for r in result] if result.returns_rows else []
    finally:
        engine.dispose()


@pytest.fixture
def one_line_error() -> Callable[..., str]:
    """Check a run failed with exit 1 (or `code`), one line on stderr, no traceback."""
    return _one_line_error


@pytest.fixture
def raw_sql() -> Callable[..., list[tuple[Any, ...]]]:
    return _sql


@pytest.fixture
def small_deck_text() -> str:
    return SMALL_DECK


@pytest.fixture
def make_deck(tmp_path: Path) -> Callable[..., Path]:
    """make_deck(filename, body, name=..., key=...) writes a deck file into tmp_path."""

    def make(filename: str, body: str, **kwargs: str) -> Path:
        return write_deck(tmp_path / filename, body, **kwargs)

    return make
