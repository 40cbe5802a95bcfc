"""The command line as a whole: help, global options, the environment, opening databases."""

from __future__ import annotations

import json
import re
import sqlite3
from contextlib import closing
from pathlib import Path

import pytest

from flashcore import __version__
from flashcore.storage.migrate import HEAD
from tests import migrated_template

COMMANDS = [
    "init",
    "review",
    "decks",
    "cards",
    "config",
    "profiles",
    "due",
    "answer",
    "undo",
    "check",
    "stats",
    "exam",
    "plan",
    "assess",
    "optimize",
]


def test_help_lists_every_command_and_exits_0(cli):
    result = cli("--help")
    assert result.code == 0
    for command in COMMANDS:
        assert f"\n    {command} " in result.out or f"\n    {command}\n" in result.out, command
    for env in ("FLASHCORE_DB", "FLASHCORE_PROFILE", "FLASHCORE_NOW"):
        assert env in result.out


@pytest.mark.parametrize(
    "argv",
    [[c] for c in COMMANDS] + [["decks", "add"], ["decks", "list"]],
    ids=lambda argv: "-".join(argv),
)
def test_every_command_has_help_with_a_runnable_example(cli, argv):
    result = cli(*argv, "--help")
    assert result.code == 0
    assert "example:" in result.out
    example = result.out.split("example:", 1)[1].strip().splitlines()[0]
    assert example.startswith(f"flashcore {argv[0]}")


def listed_commands(help_text):
    section = help_text.split("COMMAND\n", 1)[1].split("\n\n", 1)[0]
    return re.findall(r"^    ([a-z][a-z-]*)(?:\s|$)", section, flags=re.MULTILINE)


def test_every_command_listed_in_help_has_help_with_an_example(cli):
    listed = listed_commands(cli("--help").out)
    assert set(COMMANDS) <= set(listed)
    for command in listed:
        result = cli(command, "--help")
        assert result.code == 0, command
        assert "example:" in result.out, f"flashcore {command} --help has no example"


def test_every_command_appears_in_the_readme():
    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text(encoding="utf-8")
    assert [c for c in COMMANDS if f"flashcore {c}" not in readme] == []


def test_version_prints_the_package_version(cli):
    result = cli("--version")
    assert result.code == 0
    assert result.out.strip() == f"flashcore {__version__}"


def test_no_command_prints_help_and_is_a_usage_error(cli):
    result = cli()
    assert result.code == 2
    assert "usage:" in result.out + result.err


@pytest.mark.parametrize(
    "argv",
    [
        ["frobnicate"],
        ["decks", "add"],
        ["answer", "one", "good"],
        ["answer", "1"],
        ["config", "fetch"],
        ["profiles", "delete"],
        ["due", "--limit", "many"],
        ["cards", "explode", "1"],
        ["undo", "--steps", "x"],
        ["cards", "1", "2"],
    ],
    ids=lambda argv: "-".join(argv),
)
def test_argument_errors_exit_2(cli, argv):
    result = cli(*argv)
    assert result.code == 2
    assert "Traceback" not in result.err


@pytest.mark.parametrize(
    "argv",
    [
        ["answer", "1", "perfect"],
        ["answer", "1", "5"],
        ["answer", "1", "good", "--duration", "-3"],
        ["cards", "suspend"],
        ["config", "set", "new_per_day"],
        ["decks"],
    ],
    ids=lambda argv: "-".join(argv),
)
def test_usage_errors_found_after_parsing_exit_2_with_one_line(
    cli, loaded_sqlite, one_line_error, argv
):
    one_line_error(cli(*argv, "--db", loaded_sqlite), code=2)


def test_global_options_are_accepted_before_and_after_the_command(cli, loaded_sqlite):
    before = cli.ok("--db", loaded_sqlite, "decks", "list", "--json").json()
    after = cli.ok("decks", "list", "--db", loaded_sqlite, "--json").json()
    assert before == after
    assert [d["key"] for d in before] == ["test"]
    cli.ok("--db", loaded_sqlite, "profiles", "create", "alice")
    assert cli.json("--profile", "alice", "--db", loaded_sqlite, "decks", "list") == []
    assert cli.json("decks", "list", "--profile", "alice", "--db", loaded_sqlite) == []
    assert cli.json("--db", loaded_sqlite, "cards", "--profile", "default") != []


def test_env_variables_choose_the_database_and_profile(cli, loaded_sqlite, monkeypatch):
    monkeypatch.setenv("FLASHCORE_DB", loaded_sqlite)
    assert [d["key"] for d in cli.json("decks", "list")] == ["test"]
    cli.ok("profiles", "create", "bob")
    monkeypatch.setenv("FLASHCORE_PROFILE", "bob")
    assert cli.json("decks", "list") == []
    # the command line wins over the environment
    assert [d["key"] for d in cli.json("decks", "list", "--profile", "default")] == ["test"]


def test_flashcore_now_freezes_the_clock_for_answers(cli, loaded_sqlite):
    card = cli.json("cards", "--db", loaded_sqlite)[0]["card_id"]
    cli.at("2027-02-03T04:05:06+00:00").ok("answer", card, "good", "--db", loaded_sqlite)
    (shown,) = [c for c in cli.json("cards", "--db", loaded_sqlite) if c["card_id"] == card]
    assert shown["last_review"] == "2027-02-03T04:05:06+00:00"
    assert shown["due"] == "2027-02-03T04:15:06+00:00"  # Good on a new card: the 10m step


def test_flashcore_now_accepts_other_offsets_and_reports_utc(cli, loaded_sqlite):
    card = cli.json("cards", "--db", loaded_sqlite)[0]["card_id"]
    cli.at("2026-11-25T10:00:00+05:30").ok("answer", card, "again", "--db", loaded_sqlite)
    (shown,) = [c for c in cli.json("cards", "--db", loaded_sqlite) if c["card_id"] == card]
    assert shown["last_review"] == "2026-11-25T04:30:00+00:00"


@pytest.mark.parametrize("value", ["2026-11-25T09:00:00", "yesterday"])
def test_a_bad_flashcore_now_is_refused_with_one_line(cli, loaded_sqlite, one_line_error, value):
    result = cli.at(value)("due", "--db", loaded_sqlite)
    assert result.code in (1, 2)
    one_line_error(result, code=result.code)
    assert "FLASHCORE_NOW" in result.err


def test_init_creates_a_sqlite_file_and_is_idempotent(cli, tmp_path):
    target = tmp_path / "new.sqlite3"
    first = cli.json("init", "--db", target)
    assert first["database"] == str(target)
    assert first["schema"] == HEAD
    assert first["profile"] == "default"
    assert first["backup"] is None
    assert target.exists()
    again = cli.ok("init", "--db", target)
    assert f"database: {target}" in again.out
    assert HEAD in again.out
    assert list(tmp_path.glob("*.bak")) == []


def test_init_accepts_a_sqlalchemy_url(cli, tmp_path):
    target = tmp_path / "url.sqlite3"
    cli.ok("init", "--db", f"sqlite:///{target}")
    assert target.exists()


def test_default_database_lives_in_flashcore_home(cli, tmp_path, deck):
    assert cli.json("decks", "list") == []
    assert (tmp_path / "home" / "flashcore.sqlite3").exists()
    cli.ok("decks", "add", deck)
    assert cli.json("init")["database"] == str(tmp_path / "home" / "flashcore.sqlite3")
    assert [d["key"] for d in cli.json("decks", "list")] == ["test"]


@pytest.mark.parametrize(
    "argv",
    [["decks", "list"], ["cards"], ["due"], ["stats"], ["check"], ["config", "get"]],
    ids=lambda argv: "-".join(argv),
)
def test_a_mistyped_db_path_is_refused_and_not_created(cli, tmp_path, one_line_error, argv):
    missing = tmp_path / "typo.sqlite3"
    line = one_line_error(cli(*argv, "--db", missing))
    assert "typo.sqlite3" in line
    assert not missing.exists()
    one_line_error(cli(*argv, "--db", f"sqlite:///{missing}"))
    assert list(tmp_path.iterdir()) == []  # no database, no -wal/-shm, no home folder


def test_decks_add_to_a_missing_db_creates_nothing(cli, tmp_path, deck, one_line_error):
    missing = tmp_path / "nope" / "x.sqlite3"
    one_line_error(cli("decks", "add", deck, "--db", missing))
    assert not missing.parent.exists()
    one_line_error(cli("init", "--db", missing))
    assert not missing.parent.exists()


def test_an_empty_existing_sqlite_file_is_migrated_on_first_use(cli, tmp_path, monkeypatch):
    # Alembic's own run, not the tests' migrated template (tests/migrated_template.py): the
    # subject is the migration of an empty file on first use.
    monkeypatch.setattr(migrated_template, "_enabled", [False])
    target = tmp_path / "empty.sqlite3"
    target.touch()
    assert cli.json("decks", "list", "--db", target) == []
    with closing(sqlite3.connect(target)) as conn, conn:
        assert conn.execute("SELECT version_num FROM alembic_version").fetchall() == [(HEAD,)]


def test_an_empty_postgres_schema_is_migrated_on_first_use(cli, pg_url, deck):
    assert cli.json("decks", "list", "--db", pg_url) == []
    cli.ok("decks", "add", deck, "--db", pg_url)
    assert len(cli.json("cards", "--db", pg_url)) == 4


def test_a_database_from_a_newer_flashcore_is_refused(cli, loaded, raw_sql, one_line_error):
    raw_sql(loaded, "UPDATE alembic_version SET version_num = 'ffff'")
    before = raw_sql(loaded, "SELECT count(*) FROM cards")
    for argv in (["decks", "list"], ["init"], ["due"]):
        line = one_line_error(cli(*argv, "--db", loaded))
        assert "newer" in line
        assert "ffff" in line
    assert raw_sql(loaded, "SELECT version_num FROM alembic_version") == [("ffff",)]
    assert raw_sql(loaded, "SELECT count(*) FROM cards") == before


def test_a_sqlite_file_that_is_not_flashcores_is_refused_untouched(cli, tmp_path, one_line_error):
    other = tmp_path / "other.sqlite3"
    with closing(sqlite3.connect(other)) as conn, conn:
        conn.execute("CREATE TABLE recipes (id INTEGER PRIMARY KEY, name TEXT)")
        conn.execute("INSERT INTO recipes (name) VALUES ('soup')")
    for argv in (["init"], ["decks", "list"]):
        line = one_line_error(cli(*argv, "--db", other))
        assert "not a flashcore database" in line
    with closing(sqlite3.connect(other)) as conn, conn:
        tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")}
    assert tables == {"recipes"}


def test_a_file_that_is_not_sqlite_at_all_is_refused(cli, tmp_path, one_line_error):
    junk = tmp_path / "notes.sqlite3"
    junk.write_text("these are my notes, not a database\n" * 100)
    one_line_error(cli("decks", "list", "--db", junk))
    assert junk.read_text().startswith("these are my notes")


def test_an_unreachable_postgres_server_is_one_line(cli, one_line_error):
    url = "postgresql+psycopg://postgres@127.0.0.1:1/test"
    line = one_line_error(cli("decks", "list", "--db", url))
    assert "127.0.0.1" in line or "connect" in line


def test_debug_shows_the_traceback(cli, tmp_path):
    with pytest.raises(Exception, match="no database"):
        cli("decks", "list", "--db", tmp_path / "missing.sqlite3", "--debug")


def test_every_data_command_prints_one_json_document(cli, loaded_sqlite):
    for argv in (
        ["decks", "list"],
        ["cards"],
        ["due"],
        ["stats"],
        ["check"],
        ["config", "get"],
        ["config", "get", "new_per_day"],
        ["profiles", "list"],
        ["init"],
    ):
        out = cli.ok(*argv, "--json", "--db", loaded_sqlite).out
        json.loads(out)  # exactly one document, nothing else on stdout


def test_json_flag_is_accepted_in_any_position(cli, loaded_sqlite):
    assert cli.ok("decks", "list", "--json", "--db", loaded_sqlite).json() == (
        cli.ok("--db", loaded_sqlite, "decks", "list", "--json").json()
    )


def test_profile_timezone_defaults_to_the_system_timezone(cli, tmp_path, monkeypatch):
    monkeypatch.setenv("TZ", "Asia/Tokyo")
    target = tmp_path / "tz.sqlite3"
    cli.ok("init", "--db", target)
    assert cli.ok("config", "get", "timezone", "--db", target).out.strip() == "Asia/Tokyo"
    monkeypatch.setenv("TZ", "America/Chicago")
    cli.ok("profiles", "create", "carol", "--db", target)
    tz = cli.ok("config", "get", "timezone", "--db", target, "--profile", "carol").out.strip()
    assert tz == "America/Chicago"


def test_a_database_at_flashcores_revision_without_its_tables_is_refused_in_one_line(
    cli, loaded, raw_sql, one_line_error
):
    """Found by review: a file whose schema revision is flashcore's head but whose tables are
    gone (damaged, or dropped by another program) printed `OperationalError: no such table:
    profiles`, a driver's exception name; `doctor` called it sound and then failed the same way."""
    drop = "DROP TABLE profiles" + ("" if loaded.startswith("sqlite") else " CASCADE")
    raw_sql(loaded, drop)  # (sqlite3 leaves foreign keys off)
    for argv in (["due"], ["weakness"], ["decks", "list"]):
        line = one_line_error(cli(*argv, "--db", loaded))
        assert "missing flashcore's tables" in line and "profiles" in line, line
        assert "Error:" not in line.split(" is missing")[0]
    if loaded.startswith("sqlite"):
        line = cli("doctor", "--db", loaded)
        assert line.code == 1
        assert "flashcore's tables missing: profiles" in line.out, line.out


def test_a_blank_profile_name_is_a_usage_error_naming_where_it_came_from(
    cli, loaded_sqlite, monkeypatch, one_line_error
):
    """Found by review: `--profile "   "` said "no profile '': create it with `flashcore
    profiles create `", a command that cannot be typed."""
    for argv in (["due"], ["weakness"], ["stats"]):
        line = one_line_error(cli(*argv, "--profile", "   ", "--db", loaded_sqlite), code=2)
        assert "--profile is blank" in line, line
    monkeypatch.setenv("FLASHCORE_PROFILE", " ")
    line = one_line_error(cli("due", "--db", loaded_sqlite), code=2)
    assert "FLASHCORE_PROFILE is blank" in line, line


def test_a_sqlite_url_argument_the_driver_would_ignore_is_refused_in_one_line(
    cli, loaded_sqlite, raw_sql, one_line_error
):
    """Found by review: `--db 'sqlite:///f?mode=ro'` printed SQLAlchemy's two-line warning that
    `mode` is ignored, then opened the file read-write anyway."""
    before = raw_sql(loaded_sqlite, "SELECT count(*) FROM cards")
    line = one_line_error(cli("due", "--db", loaded_sqlite + "?mode=ro"))
    assert "'mode'" in line and "uri=true" in line and "SAWarning" not in line, line
    assert raw_sql(loaded_sqlite, "SELECT count(*) FROM cards") == before
