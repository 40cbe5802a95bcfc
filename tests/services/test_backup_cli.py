"""`flashcore backup list|create|restore` and `flashcore doctor` as a user runs them: output,
`--json`, the restore prompt, exit codes, and the pg_dump pointer on PostgreSQL."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import pytest

from flashcore.cli import main
from tests.conftest import SMALL_DECK, write_deck


@pytest.fixture
def run(capsys, monkeypatch, tmp_path):
    monkeypatch.setenv("FLASHCORE_NOW", "2026-11-25T09:00:00+00:00")
    monkeypatch.setenv("FLASHCORE_HOME", str(tmp_path / "home"))
    monkeypatch.delenv("FLASHCORE_DB", raising=False)

    def go(*args: object, at: str | None = None) -> tuple[int, str, str]:
        if at:
            monkeypatch.setenv("FLASHCORE_NOW", at)
        capsys.readouterr()
        try:
            code = main([str(a) for a in args])
        except SystemExit as exc:
            code = exc.code if isinstance(exc.code, int) else 1
        out, err = capsys.readouterr()
        return int(code), out, err

    return go


@pytest.fixture
def db(run, tmp_path) -> Path:
    path = tmp_path / "step1.sqlite3"
    assert run("init", "--db", path)[0] == 0
    assert run("decks", "add", write_deck(tmp_path / "s.toml", SMALL_DECK), "--db", path)[0] == 0
    return path


def reviews(db: Path) -> int:
    with sqlite3.connect(db) as conn:
        count = conn.execute("SELECT COUNT(*) FROM review_logs").fetchone()[0]
    conn.close()
    return int(count)


def test_backup_list_create_and_json(run, db):
    code, out, _ = run("backup", "list", "--db", db)
    assert code == 0 and "no backups yet" in out
    code, out, _ = run("backup", "create", "--db", db)
    assert code == 0 and "backup 20261125-090000" in out and "quick_check ok" in out
    code, out, _ = run("backup", "create", "--db", db, "--json", at="2026-11-25T10:00:00+00:00")
    made = json.loads(out)
    assert made["id"] == "20261125-100000" and made["pruned"] == []
    listed = json.loads(run("backup", "list", "--db", db, "--json")[1])
    assert [b["id"] for b in listed] == ["20261125-100000", "20261125-090000"]
    assert "20261125-090000" in run("backup", "list", "--db", db)[1]


def test_restore_asks_first_and_refuses_without_a_terminal(run, db, monkeypatch):
    run("backup", "create", "--db", db)
    run("answer", 1, "good", "--db", db, at="2026-11-25T09:05:00+00:00")
    monkeypatch.setattr("sys.stdin.isatty", lambda: False)
    code, _, err = run("backup", "restore", "20261125-090000", "--db", db)
    assert code == 2 and "--yes" in err
    monkeypatch.setattr("sys.stdin.isatty", lambda: True)
    monkeypatch.setattr("builtins.input", lambda prompt: "n")
    code, _, err = run("backup", "restore", "20261125-090000", "--db", db)
    assert code == 1 and "nothing was changed" in err
    assert reviews(db) == 1
    monkeypatch.setattr("builtins.input", lambda prompt: "y")
    code, out, _ = run("backup", "restore", "20261125-090000", "--db", db,
                       at="2026-11-25T09:10:00+00:00")  # fmt: skip
    assert code == 0 and "restored" in out and "backup 20261125-091000" in out
    assert reviews(db) == 0


def test_restore_with_yes_and_json(run, db):
    run("backup", "create", "--db", db)
    code, out, _ = run("backup", "restore", "20261125-090000", "--yes", "--json", "--db", db,
                       at="2026-11-25T09:30:00+00:00")  # fmt: skip
    done = json.loads(out)
    assert code == 0 and done["restored"]["id"] == "20261125-090000"
    assert done["backup_before_restore"]["id"] == "20261125-093000"
    code, _, err = run("backup", "restore", "19990101-000000", "--yes", "--db", db)
    assert code == 1 and "flashcore backup list" in err and len(err.splitlines()) == 1


def test_doctor_reports_repairs_then_nothing(run, db):
    with sqlite3.connect(db) as conn:
        conn.execute("UPDATE cards SET reps = 4 WHERE id = 1")
    conn.close()
    code, out, _ = run("doctor", "--db", db)
    assert code == 0 and "fixed: 1 cards disagreeing with their review log" in out
    assert "backup before repairs" in out
    report = json.loads(run("doctor", "--db", db, "--json")[1])
    assert report["integrity"] == "ok" and report["fixes"] == {} and not report["damaged"]
    assert "nothing to repair" in run("doctor", "--db", db)[1]


@pytest.mark.postgres
def test_backup_on_postgresql_says_use_pg_dump(run, pg_url):
    assert run("init", "--db", pg_url)[0] == 0
    for verb in (["list"], ["create"], ["restore", "x", "--yes"]):
        code, _, err = run("backup", *verb, "--db", pg_url)
        assert code == 1 and "pg_dump" in err and len(err.splitlines()) == 1
    code, out, _ = run("doctor", "--db", pg_url)
    assert code == 0 and "PostgreSQL" in out


# ---------------------------------------------------------------- automatic backups (issue 13)


def test_a_command_that_changed_something_leaves_an_automatic_snapshot_when_it_ends(
    run, inline_jobs, db
):
    code, out, _ = run("backup", "list", "--db", db, "--json")
    listed = json.loads(out)
    assert [(b["id"], b["kind"]) for b in listed] == [("20261125-090000", "snapshot")]
    assert run("answer", 1, "good", "--db", db, at="2026-11-25T09:10:00+00:00")[0] == 0
    assert len(json.loads(run("backup", "list", "--db", db, "--json")[1])) == 1  # 10 min old
    assert run("answer", 2, "good", "--db", db, at="2026-11-25T09:40:00+00:00")[0] == 0
    listed = json.loads(run("backup", "list", "--db", db, "--json")[1])
    assert [b["id"] for b in listed] == ["20261125-094000", "20261125-090000"]
    assert {b["kind"] for b in listed} == {"snapshot"}
    code, out, _ = run("backup", "list", "--db", db)
    assert code == 0 and "20261125-094000" in out and "snapshot" in out


def test_a_snapshot_is_restored_by_its_id_like_a_copy(run, inline_jobs, db):
    (first,) = json.loads(run("backup", "list", "--db", db, "--json")[1])
    assert run("answer", 1, "good", "--db", db, at="2026-11-25T09:10:00+00:00")[0] == 0
    assert reviews(db) == 1
    code, out, err = run("backup", "restore", first["id"], "--yes", "--db", db,
                         at="2026-11-25T09:20:00+00:00")  # fmt: skip
    assert code == 0, err
    assert f"from backup {first['id']}" in out
    assert reviews(db) == 0
    kinds = {b["id"]: b["kind"] for b in json.loads(run("backup", "list", "--db", db, "--json")[1])}
    assert kinds == {first["id"]: "snapshot", "20261125-092000": "copy"}  # the state replaced
