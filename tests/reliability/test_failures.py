"""Clear failures, run as a user would: a read-only database file or folder, a full disk, a
corrupt or non-flashcore file, a database from a newer flashcore, another process holding the
write lock past the timeout. Each: one line on stderr naming the cause and what to do, exit 1,
the database (and its backups) unchanged."""

from __future__ import annotations

import hashlib
import os
import shutil
import sqlite3
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

import flashcore.storage.db as db_module
from flashcore.cli import main
from flashcore.storage import backup as files
from tests.conftest import SMALL_DECK, write_deck
from tests.reliability.conftest import file_hashes, hot_deck_body

NOW_ISO = "2026-11-25T09:00:00+00:00"
ROOT = Path(__file__).resolve().parents[2]


@dataclass
class Result:
    code: int
    out: str
    err: str

    @property
    def line(self) -> str:
        """The one error line; fails unless there is exactly one and no traceback."""
        lines = [x for x in self.err.splitlines() if x.strip()]
        assert self.code == 1, (self.code, self.out, self.err)
        assert "Traceback" not in self.err
        assert len(lines) == 1, self.err
        return lines[0]


@pytest.fixture
def run(capsys, monkeypatch, tmp_path):
    monkeypatch.setenv("FLASHCORE_NOW", NOW_ISO)
    monkeypatch.setenv("FLASHCORE_HOME", str(tmp_path / "home"))
    monkeypatch.delenv("FLASHCORE_DB", raising=False)

    def go(*args: object) -> Result:
        capsys.readouterr()
        try:
            code = main([str(a) for a in args])
        except SystemExit as exc:
            code = exc.code if isinstance(exc.code, int) else 1
        out, err = capsys.readouterr()
        return Result(int(code), out, err)

    return go


@pytest.fixture
def collection(run, tmp_path) -> Path:
    """A SQLite collection with SMALL_DECK, one answer and one backup."""
    db = tmp_path / "step1.sqlite3"
    deck = write_deck(tmp_path / "small.toml", SMALL_DECK)
    assert run("init", "--db", db).code == 0
    assert run("decks", "add", deck, "--db", db).code == 0
    assert run("answer", 1, "good", "--db", db).code == 0
    assert run("backup", "create", "--db", db).code == 0
    _checkpoint(db)
    return db


def _checkpoint(db: Path) -> None:
    conn = sqlite3.connect(db)
    conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    conn.close()


def _state(db: Path) -> dict[str, str]:
    """Hashes of the database file(s) and of every backup: what must not change."""
    out = {
        p.name: hashlib.sha256(p.read_bytes()).hexdigest()
        for p in db.parent.glob(db.name + "*")
        if p.is_file() and p.stat().st_size and not p.name.endswith("-shm")
    }
    folder = files.backup_folder(db)
    if folder.exists():
        out |= {f"backups/{k}": v for k, v in file_hashes(folder).items()}
    return out


# ---------------------------------------------------------------- permissions


def _unprivileged() -> list[str] | None:
    """A command prefix that runs flashcore without the right to ignore file permissions:
    nothing for an ordinary user; for root, setpriv dropping CAP_DAC_OVERRIDE (None if that
    is not possible here)."""
    if os.geteuid() != 0:
        return []
    setpriv = shutil.which("setpriv")
    if setpriv is None:
        return None
    prefix = [setpriv, "--bounding-set=-dac_override,-dac_read_search,-fowner"]
    probe = subprocess.run([*prefix, "true"], capture_output=True)
    return prefix if probe.returncode == 0 else None


def _cli_process(prefix: list[str], *args: object, home: Path) -> Result:
    env = os.environ | {"FLASHCORE_NOW": NOW_ISO, "FLASHCORE_HOME": str(home)}
    env.pop("FLASHCORE_DB", None)
    done = subprocess.run(
        [*prefix, sys.executable, "-m", "flashcore.cli", *map(str, args)],
        capture_output=True,
        text=True,
        cwd=ROOT,
        env=env,
        timeout=120,
    )
    return Result(done.returncode, done.stdout, done.stderr)


@pytest.fixture
def unprivileged() -> list[str]:
    prefix = _unprivileged()
    if prefix is None:
        pytest.skip("cannot drop the permission override here (root without setpriv)")
    return prefix


def test_a_read_only_database_file_is_refused_in_one_line(collection, unprivileged, tmp_path):
    before = _state(collection)
    collection.chmod(0o444)
    try:
        result = _cli_process(unprivileged, "answer", 2, "good", "--db", collection, home=tmp_path)
    finally:
        collection.chmod(0o644)
    assert "read-only" in result.line and "writable" in result.line
    assert _state(collection) == before


def test_a_read_only_folder_is_refused_in_one_line(collection, unprivileged, tmp_path):
    folder = tmp_path / "locked"
    folder.mkdir()
    db = folder / collection.name
    shutil.copyfile(collection, db)
    before = db.read_bytes()
    folder.chmod(0o555)
    try:
        result = _cli_process(unprivileged, "answer", 2, "good", "--db", db, home=tmp_path)
    finally:
        folder.chmod(0o755)
    assert "read-only" in result.line and "folder" in result.line
    assert db.read_bytes() == before


# ---------------------------------------------------------------- full disk


def _limit_pages(monkeypatch) -> None:
    """Every connection flashcore opens may not grow the file: SQLite's max_page_count is a
    disk that is full."""
    original = db_module._sqlite_connect

    def connect(dbapi_connection, record):
        original(dbapi_connection, record)
        pages = dbapi_connection.execute("PRAGMA page_count").fetchone()[0]
        dbapi_connection.execute(f"PRAGMA max_page_count = {pages}")

    monkeypatch.setattr(db_module, "_sqlite_connect", connect)


def test_a_full_disk_changes_nothing_and_works_again_when_space_returns(
    run, collection, tmp_path, monkeypatch
):
    big = write_deck(tmp_path / "hot.toml", hot_deck_body(400), name="Hot", key="hot")
    with monkeypatch.context() as full:
        _limit_pages(full)
        _checkpoint(collection)
        before = collection.read_bytes()
        result = run("decks", "add", big, "--db", collection)
        assert "disk is full" in result.line and "free some space" in result.line
        _checkpoint(collection)
        assert collection.read_bytes() == before
    # space returns
    assert "400 added" in run("decks", "add", big, "--db", collection).out
    cards = run("cards", "--db", collection, "--json")
    assert cards.code == 0 and cards.out.count('"note_key": "hot:') == 400


def test_a_backup_on_a_full_disk_leaves_no_partial_file_and_keeps_the_others(
    run, collection, monkeypatch
):
    folder = files.backup_folder(collection)
    before = file_hashes(folder)
    real_connect = sqlite3.connect

    def connect(target, *args, **kwargs):
        conn = real_connect(target, *args, **kwargs)
        if str(target).endswith(files.TEMP_SUFFIX):  # the new backup file cannot grow
            conn.execute("PRAGMA max_page_count = 1")
        return conn

    monkeypatch.setattr(files.sqlite3, "connect", connect)
    line = run("backup", "create", "--db", collection).line
    assert "disk is full" in line
    assert file_hashes(folder) == before  # no new file, no temporary file, others unchanged


# ---------------------------------------------------------------- corrupt and foreign files


def _garbage_page(db: Path) -> None:
    conn = sqlite3.connect(db)
    root = conn.execute("SELECT rootpage FROM sqlite_master WHERE name = 'notes'").fetchone()[0]
    size = conn.execute("PRAGMA page_size").fetchone()[0]
    conn.close()
    with db.open("r+b") as f:
        f.seek((root - 1) * size)
        f.write(bytes(range(256)) * (size // 256))


def _truncate(db: Path) -> None:
    with db.open("r+b") as f:
        f.truncate(db.stat().st_size // 2)


def _zero_header(db: Path) -> None:
    with db.open("r+b") as f:
        f.write(b"\0" * 100)


@pytest.mark.parametrize("damage", [_garbage_page, _truncate, _zero_header])
def test_a_damaged_database_is_refused_and_its_backups_are_untouched(run, collection, damage):
    damage(collection)
    before = _state(collection)
    line = run("cards", "--db", collection).line
    assert "damaged" in line and "flashcore doctor" in line
    doctor = run("doctor", "--db", collection)
    assert "damaged" in doctor.line and "backup restore" in doctor.line
    assert "integrity_check" in doctor.out
    assert "damaged" in run("backup", "create", "--db", collection).line
    assert _state(collection) == before


def test_a_csv_given_as_the_database_is_refused_and_left_alone(run, tmp_path):
    csv = tmp_path / "missed.csv"
    csv.write_text("qid,topic\n1001,Type I hypersensitivity\n", encoding="utf-8")
    data = csv.read_bytes()
    for argv in (["decks", "list"], ["answer", 1, "good"], ["doctor"], ["backup", "create"]):
        line = run(*argv, "--db", csv).line
        assert "not a" in line or "damaged" in line, line
    assert csv.read_bytes() == data
    assert sorted(p.name for p in tmp_path.iterdir()) == ["missed.csv"]


def test_a_database_from_a_newer_flashcore_is_refused(run, collection):
    conn = sqlite3.connect(collection)
    conn.execute("UPDATE alembic_version SET version_num = '9999'")
    conn.commit()
    conn.close()
    before = _state(collection)
    line = run("answer", 2, "good", "--db", collection).line
    assert "newer flashcore" in line and "upgrade flashcore" in line
    assert _state(collection) == before


# ---------------------------------------------------------------- the write lock


def test_a_write_lock_held_past_the_timeout_is_refused(run, collection, monkeypatch):
    monkeypatch.setattr(db_module, "BUSY_TIMEOUT_MS", 50)
    before = _state(collection)  # read before connecting: reading the file drops the locks
    holder = sqlite3.connect(collection, isolation_level=None)
    holder.execute("BEGIN IMMEDIATE")
    try:
        line = run("answer", 2, "good", "--db", collection).line
    finally:
        holder.execute("ROLLBACK")
        holder.close()
    assert "busy" in line and "another flashcore" in line and "try again" in line
    assert _state(collection) == before
    assert run("answer", 2, "good", "--db", collection).code == 0
