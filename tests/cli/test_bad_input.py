"""Every bad input gets its own clear answer (issue 20): one line naming the problem (with
`path:line` for files), exit 1 (2 for a usage error), never a generic `XError: ...`, and the
database as it was. One test (or a few) per failure the issue lists, in its order."""

from __future__ import annotations

import os
import re
import sqlite3
import stat
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta
from pathlib import Path

import pytest

from flashcore.core.text import TOPIC_CHARS
from tests.conftest import write_deck

GENERIC = re.compile(r"\b[A-Z]\w*(Error|Exception)\b|run with --debug")
BASIC = '[[cards]]\nid = "{id}"\nfront = "{front}"\nback = "{back}"\n'


def dump(db_url: str) -> list[str]:
    """Everything a SQLite database holds, for "nothing changed" checks."""
    conn = sqlite3.connect(db_url.removeprefix("sqlite:///"))
    try:
        return list(conn.iterdump())
    finally:
        conn.close()


def refused(result, code: int = 1) -> str:
    """The run failed with `code`, one line on stderr, no generic exception name; the line."""
    assert result.code == code, (result.code, result.out, result.err)
    assert len(result.err_lines) == 1, result.err
    line = result.err_lines[0]
    assert not GENERIC.search(line), line
    return line


# ---------------------------------------------------------------- 1. doctor and real damage


@pytest.mark.parametrize(
    ("errorname", "words", "advice"),
    [
        ("SQLITE_READONLY", "attempt to write a readonly database", "read-only"),
        ("SQLITE_IOERR", "disk I/O error", "check free space"),
        ("SQLITE_FULL", "database or disk is full", "disk is full"),
        ("SQLITE_CANTOPEN", "unable to open database file", "read-only"),
    ],
)
def test_doctor_does_not_call_a_sound_database_damaged_when_it_cannot_run_its_check(
    cli, loaded_sqlite, monkeypatch, errorname, words, advice
):
    from flashcore.storage import backup

    def cannot_run(conn, *, full=False):
        exc = sqlite3.OperationalError(words)
        exc.sqlite_errorname = errorname
        raise exc

    before = dump(loaded_sqlite)
    monkeypatch.setattr(backup, "check_connection", cannot_run)
    line = refused(cli("doctor", "--db", loaded_sqlite))
    assert advice in line
    assert "damaged" not in line and "restore" not in line and "copy the file" not in line
    assert dump(loaded_sqlite) == before


@contextmanager
def read_only_folder(folder: Path) -> Iterator[None]:
    """A folder nobody may write to (chmod, or `chattr +i` for root); skips where it cannot be."""
    import shutil
    import subprocess

    root = os.geteuid() == 0
    if root and shutil.which("chattr"):
        locked = subprocess.run(["chattr", "+i", str(folder)], capture_output=True).returncode
        unlock = ["chattr", "-i", str(folder)]
    else:
        os.chmod(folder, 0o555)
        locked, unlock = 0, None
    try:
        probe = folder / "probe"
        try:
            probe.touch()
        except OSError:
            pass
        else:
            probe.unlink()
            pytest.skip("this folder cannot be made read-only here")
        if locked != 0:
            pytest.skip("chattr +i is not allowed here")
        yield
    finally:
        if unlock:
            subprocess.run(unlock, check=False)
        else:
            os.chmod(folder, 0o755)


def _closed_database(cli, url: str) -> Path:
    db = Path(url.removeprefix("sqlite:///"))
    cli.ok("decks", "list", "--db", url)  # checkpointed and closed: no -wal/-shm left
    for leftover in db.parent.glob(db.name + "-*"):
        leftover.unlink()
    return db


def test_doctor_in_a_folder_it_cannot_write_says_so_instead_of_damaged(cli, loaded_sqlite):
    """For real: SQLite cannot make the -shm file its read-only connection needs."""
    db = _closed_database(cli, loaded_sqlite)
    with read_only_folder(db.parent):
        line = refused(cli("doctor", "--db", loaded_sqlite))
        assert "cannot run the integrity check" in line and "read-only" in line
        assert "damaged" not in line


@pytest.mark.parametrize(
    "args", [("due",), ("answer", "1", "good"), ("stats",), ("init",), ("init", "NEW")]
)
def test_a_database_in_a_folder_it_cannot_write_is_named_read_only(cli, loaded_sqlite, args):
    """SQLite says only "unable to open database file" (found living with it: a collection on
    a read-only mount): every command names the read-only folder and what to do."""
    db = _closed_database(cli, loaded_sqlite)
    url = loaded_sqlite
    if args[-1] == "NEW":  # a new database in that folder: init cannot create it
        args, url = args[:-1], f"sqlite:///{db.parent / 'new.sqlite3'}"
    before = dump(loaded_sqlite)
    with read_only_folder(db.parent):
        line = refused(cli(*args, "--db", url))
        assert f"its folder {db.parent} is read-only" in line, line
        assert "make both writable" in line and "nothing was changed" in line
    assert dump(loaded_sqlite) == before
    assert not (db.parent / "new.sqlite3").exists()


def test_doctor_still_reports_a_corrupt_database_as_damaged(cli, loaded_sqlite, monkeypatch):
    from flashcore.storage import backup

    def corrupt(conn, *, full=False):
        exc = sqlite3.DatabaseError("database disk image is malformed")
        exc.sqlite_errorname = "SQLITE_CORRUPT"
        raise exc

    monkeypatch.setattr(backup, "check_connection", corrupt)
    result = cli("doctor", "--db", loaded_sqlite)
    assert result.code == 1
    assert "is damaged" in result.err


# ---------------------------------------------------------------- 2. terminal escapes


@pytest.mark.parametrize(
    ("field", "body", "name"),
    [
        ("deck name", BASIC.format(id="a", front="q", back="a"), "Evil\\u001b]0;pwned\\u0007"),
        ("topic", BASIC.format(id="a", front="q", back="a")
         + 'topics = ["Imm\\u001b[2J::Topic"]\n', "Test"),
        ("tag", BASIC.format(id="a", front="q", back="a") + 'tags = ["t\\u001b]52;c;aGk=\\u0007"]\n',
         "Test"),
        ("card text", BASIC.format(id="a", front="q\\u009b31m", back="a"), "Test"),
    ],
)  # fmt: skip
def test_control_characters_in_deck_files_are_refused_with_path_and_line(
    cli, db_url, tmp_path, field, body, name
):
    path = write_deck(tmp_path / "evil.toml", body, name=name)
    line = refused(cli("decks", "add", path, "--db", db_url))
    assert re.match(rf"{re.escape(str(path))}:\d+: ", line), line
    assert "control character" in line
    assert "\x1b" not in line and "\x9b" not in line
    assert cli.json("decks", "list", "--db", db_url) == []


def test_profile_names_and_aliases_with_escapes_are_refused(cli, loaded_sqlite):
    before = dump(loaded_sqlite)
    line = refused(cli("profiles", "create", "evil\x1b]0;pwned\x07", "--db", loaded_sqlite))
    assert "\\x1b" in line and "\x1b" not in line
    alias = cli("topics", "alias", "Type\x1b[2J I", "Immunology", "--db", loaded_sqlite)
    assert "control character" in refused(alias, code=2)
    assert dump(loaded_sqlite) == before


def test_an_escape_in_an_argument_is_shown_inert_in_the_error(cli, loaded_sqlite):
    line = refused(cli("due", "--deck", "x\x1b]0;t\x07", "--db", loaded_sqlite))
    assert "\x1b" not in line and "\\x1b" in line
    line = refused(cli("decks", "list", "\x1b[2J", "--db", loaded_sqlite), code=2)
    assert "\x1b" not in line and "\\x1b" in line


# ---------------------------------------------------------------- 3. nested cloze

NESTED = 'cloze = "Outer {{c1::inner {{c2::nested}} text}} end."\n'


def test_a_nested_cloze_makes_a_card_per_deletion_rendered_as_anki_does(
    cli, db_url, tmp_path, clock
):
    from flashcore.services import Flashcore, study

    path = write_deck(tmp_path / "nested.toml", '[[cards]]\nid = "n"\n' + NESTED)
    cli.ok("decks", "add", path, "--db", db_url)
    cards = {c["ord"]: c["card_id"] for c in cli.json("cards", "--db", db_url)}
    assert sorted(cards) == [1, 2]
    with Flashcore.open(db_url, clock=clock) as fc:
        sides = {
            ord_: tuple(
                "".join(s.text for s in side)
                for side in (study.show(fc, cid).front, study.show(fc, cid).back)
            )
            for ord_, cid in cards.items()
        }
    assert sides[1] == ("Outer [...] end.", "Outer inner nested text end.")
    assert sides[2] == ("Outer inner [...] text end.", "Outer inner nested text end.")


def test_an_unclosed_cloze_deletion_is_refused_with_path_and_line(cli, sqlite_url, tmp_path):
    path = write_deck(tmp_path / "open.toml", '[[cards]]\nid = "n"\ncloze = "a {{c1::b"\n')
    line = refused(cli("decks", "add", path, "--db", sqlite_url))
    assert line.startswith(f"{path}:7: card n: unclosed cloze deletion")


# ---------------------------------------------------------------- 4. simultaneous answers


def test_an_answer_reads_the_clock_under_the_lock_so_a_simultaneous_one_is_not_refused(
    db_url, tmp_path, clock
):
    """Answer A reads the clock; if it did so before taking the lock, answer B (later clock)
    could commit in between and A would be refused with a false "clock is before this card's
    last review". The clock below runs B whenever it is read while the lock is free."""
    import sqlalchemy as sa

    from flashcore.core.model import Rating
    from flashcore.services import Flashcore, study

    path = write_deck(tmp_path / "d.toml", BASIC.format(id="a", front="q", back="a"))
    with Flashcore.open(db_url, clock=clock, create=True) as fc:
        fc.add_decks([path])
    probe = sa.create_engine(db_url)

    def lock_free() -> bool:
        if db_url.startswith("sqlite"):
            conn = sqlite3.connect(db_url.removeprefix("sqlite:///"), timeout=0)
            try:
                conn.execute("BEGIN IMMEDIATE")
                conn.rollback()
                return True
            except sqlite3.OperationalError:
                return False
            finally:
                conn.close()
        with probe.connect() as conn:
            try:
                conn.exec_driver_sql("SELECT 1 FROM cards FOR UPDATE NOWAIT")
                return True
            except sa.exc.OperationalError:
                return False
            finally:
                conn.rollback()

    class Racing:
        """Ticks a second per reading; the first reading with the lock free lets B answer."""

        def __init__(self) -> None:
            self.instant = clock.now()
            self.other_done = False

        def now(self) -> datetime:
            self.instant = read = self.instant + timedelta(seconds=1)
            if not self.other_done and threading.current_thread().name == "A" and lock_free():
                self.other_done = True  # B answers now, with a later clock, and commits
                with Flashcore.open(db_url, clock=self) as other:
                    study.answer(other, card_id, Rating.GOOD)
            return read

    racing = Racing()
    errors: list[BaseException] = []
    with Flashcore.open(db_url, clock=racing) as fc:
        card_id = study.build_queue(fc).items[0].card_id

        def answer_a() -> None:
            try:
                study.answer(fc, card_id, Rating.GOOD)
            except BaseException as exc:  # noqa: BLE001 - reported below
                errors.append(exc)

        thread = threading.Thread(target=answer_a, name="A")
        thread.start()
        thread.join(60)
        if not racing.other_done:  # A read the clock only under the lock: B answers after
            with Flashcore.open(db_url, clock=racing) as other:
                study.answer(other, card_id, Rating.GOOD)
        assert errors == []
        assert fc.cards()[0]["reps"] == 2
    probe.dispose()


# ---------------------------------------------------------------- 5. long topics, both backends


def test_a_topic_longer_than_the_limit_is_refused_identically_on_both_backends(
    cli, db_url, tmp_path
):
    body = BASIC.format(id="a", front="q", back="a") + f'topics = ["A::{"x" * TOPIC_CHARS}"]\n'
    path = write_deck(tmp_path / "long.toml", body)
    line = refused(cli("decks", "add", path, "--db", db_url))
    assert line.startswith(f"{path}:9: card a: topic ")
    assert f"at most {TOPIC_CHARS}" in line


def test_a_weak_topic_at_the_length_limit_and_a_longer_stored_one_still_refresh(
    cli, db_url, tmp_path, raw_sql
):
    """The weight refresh writes "weak topic: <path> — N misses ..." into VARCHAR(300): a
    topic at the limit fits, and one stored before the limit existed is clipped, not a
    DataError on PostgreSQL."""
    topic = "A::" + "y" * (TOPIC_CHARS - 3)
    body = (
        BASIC.format(id="a", front="q", back="a")
        + f'topics = ["{topic}"]\nqids = ["uworld:7"]\n'
        # A second, unmissed topic: a topic's misses weigh against the student's average
        # (issue 21), and a student's only topic is their average.
        + BASIC.format(id="b", front="q2", back="a2")
        + 'topics = ["C::other"]\n'
    )
    cli.ok("decks", "add", write_deck(tmp_path / "t.toml", body), "--db", db_url)
    log = tmp_path / "log.csv"
    log.write_text("question_id,result,date\n7,incorrect,2026-11-24\n", encoding="utf-8")
    cli.ok("qbank", "import", log, "--db", db_url)
    rows = {r["topic"]: r for r in cli.json("weakness", "--db", db_url)["topics"]}
    assert rows[topic]["misses"] == 1
    longer = "B::" + "z" * 290  # as an older flashcore stored it on SQLite
    raw_sql(db_url, "UPDATE topics SET path = ? WHERE path = ?", (longer, topic))
    log.write_text("question_id,result,date\n7,incorrect,2026-11-25\n", encoding="utf-8")
    cli.ok("qbank", "import", log, "--db", db_url)
    (reason,) = raw_sql(db_url, "SELECT reason FROM topics WHERE path = ?", (longer,))[0]
    assert len(reason) <= 300 and reason.startswith("weak topic: B::z")


# ---------------------------------------------------------------- 6. settings ranges


@pytest.mark.parametrize(
    ("key", "value"),
    [
        ("learning_steps", "99999999999d"),
        ("learning_steps", "0s"),
        ("relearning_steps", "400d"),
        ("learning_steps", " ".join(["1m"] * 21)),
        ("weakness_half_life_days", "nan"),
        ("weakness_half_life_days", "inf"),
        ("weakness_half_life_days", "1e308"),
        ("desired_retention", "nan"),
        ("new_per_day", "9" * 5000),
        ("fsrs_parameters", ",".join(["nan"] * 21)),
        ("timezone", "a" * 5000),
        ("timezone", "Europe/\x1b[2J"),
    ],
)
def test_every_setting_has_a_range_and_a_value_outside_it_is_refused(
    cli, loaded_sqlite, key, value
):
    before = dump(loaded_sqlite)
    line = refused(cli("config", "set", key, value, "--db", loaded_sqlite))
    assert line.startswith(f"flashcore: error: {key}:"), line
    assert len(line) < 300
    assert dump(loaded_sqlite) == before
    cli.ok("due", "--db", loaded_sqlite)


def test_a_stored_setting_out_of_range_is_replaced_by_its_default_with_a_warning(
    cli, loaded_sqlite, raw_sql
):
    raw_sql(
        loaded_sqlite,
        "UPDATE profiles SET settings = json_set(settings, '$.learning_steps', "
        "json_array('99999999999d'))",
    )
    result = cli("due", "--db", loaded_sqlite)
    assert result.code == 0
    assert result.err_lines == [
        "flashcore: warning: profile 'default': setting learning_steps = '99999999999d' is out "
        "of range (up to 20 steps, each 1s to 365d); using 1m 10m until `flashcore config set "
        "learning_steps VALUE` fixes it"
    ]
    card_id = cli.json("due", "--db", loaded_sqlite)[0]["card_id"]
    cli.ok("answer", card_id, "good", "--db", loaded_sqlite)
    cli.ok("config", "set", "learning_steps", "1m 10m", "--db", loaded_sqlite)
    assert cli("due", "--db", loaded_sqlite).err == ""


def test_config_help_and_the_readme_list_every_setting_with_its_range(cli):
    from flashcore.core.settings import RULES

    help_text = " ".join(cli("config", "--help").out.split())
    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text(encoding="utf-8")
    for key, rule in RULES.items():
        assert f"{key}: {rule.accepts}" in help_text, key
        rows = [line for line in readme.splitlines() if line.startswith(f"| `{key}`")]
        assert rows and rule.accepts in rows[0], key


# ---------------------------------------------------------------- 7. integers and durations


@pytest.mark.parametrize(
    "argv",
    [
        ["answer", "9" * 25, "good"],
        ["answer", "1", "good", "--duration", "nan"],
        ["answer", "1", "good", "--duration", "inf"],
        ["answer", "1", "good", "--duration", "1e17"],
        ["answer", "1", "good", "--duration", "-1"],
        ["answer", "1", "good", "--expect-reps", "9" * 25],
        ["undo", "--steps", "9" * 25],
        ["undo", "--steps", "0"],
        ["qbank", "remove", "9" * 25],
        ["qbank", "remove", "1" * 5000],
        ["cards", "suspend", "1", "9" * 25],
        ["cards", "flag", "-3"],
    ],
    ids=lambda argv: "-".join(a[:12] for a in argv),
)
def test_numbers_out_of_range_are_usage_errors(cli, loaded_sqlite, argv):
    before = dump(loaded_sqlite)
    line = refused(cli(*argv, "--db", loaded_sqlite), code=2)
    assert "usage error" in line and len(line) < 300
    assert dump(loaded_sqlite) == before


# ---------------------------------------------------------------- 8. huge time spent


def test_a_huge_time_spent_cell_is_a_bad_row_with_its_line(cli, loaded_sqlite, tmp_path):
    log = tmp_path / "log.csv"
    log.write_text(
        "question_id,result,date,time spent\n"
        "1001,incorrect,2026-11-24,75\n"
        f"1002,incorrect,2026-11-24,{'9' * 30}\n",
        encoding="utf-8",
    )
    before = dump(loaded_sqlite)
    for extra in ([], ["--dry-run"]):
        line = refused(cli("qbank", "import", log, *extra, "--db", loaded_sqlite))
        assert line.startswith(f"{log}:3: time spent '999"), line
        assert "more than a day" in line
    assert dump(loaded_sqlite) == before
    report = cli.json("qbank", "import", log, "--skip-invalid", "--db", loaded_sqlite)
    assert report["added"] == 1
    assert report["skipped_invalid"][0].startswith(f"{log}:3: time spent")


# ---------------------------------------------------------------- 9. decks add FOLDER


def test_a_folder_without_a_deck_file_is_an_error_that_says_so(cli, sqlite_url, tmp_path):
    empty = tmp_path / "empty"
    empty.mkdir()
    (empty / "notes.md").write_text("not a deck", encoding="utf-8")
    line = refused(cli("decks", "add", empty, "--db", sqlite_url))
    assert line.startswith(f"{empty}: no deck file in this folder")


def test_a_folder_loads_anki_text_exports_too(cli, sqlite_url, tmp_path):
    folder = tmp_path / "anki"
    folder.mkdir()
    (folder / "export.txt").write_text(
        "#separator:tab\n#html:false\nWhat mediates type I?\tIgE\n", encoding="utf-8"
    )
    cli.ok("decks", "add", folder, "--db", sqlite_url)
    assert [d["name"] for d in cli.json("decks", "list", "--db", sqlite_url)] == ["export"]


# ---------------------------------------------------------------- 10. FLASHCORE_NOW range


@pytest.mark.parametrize(
    "instant",
    ["9999-06-01T00:00:00+00:00", "0001-01-02T00:00:00+00:00", "1969-12-31T23:59:59+00:00"],
)
def test_flashcore_now_outside_a_sane_range_is_refused_before_anything_is_written(
    cli, loaded_sqlite, tmp_path, instant
):
    log = tmp_path / "log.csv"
    log.write_text("question_id,result\n1001,incorrect\n", encoding="utf-8")
    before = dump(loaded_sqlite)
    for argv in (["due"], ["weakness"], ["qbank", "import", str(log)]):
        line = refused(cli.at(instant)(*argv, "--db", loaded_sqlite), code=2)
        assert line.startswith("flashcore: usage error: FLASHCORE_NOW:")
        assert "1970 to 2099" in line
    assert dump(loaded_sqlite) == before


# ---------------------------------------------------------------- 11. limits


@pytest.mark.parametrize("command", ["due", "weakness"])
@pytest.mark.parametrize("limit", ["-1", "0", "-5", "9" * 30])
def test_a_limit_must_be_positive(cli, loaded_sqlite, command, limit):
    line = refused(cli(command, "--limit", limit, "--db", loaded_sqlite), code=2)
    assert "--limit" in line


# ---------------------------------------------------------------- 12. profile names


@pytest.mark.parametrize("name", ["two\nlines", "tab\there", "bell\x07", "x" * 101, "  "])
def test_a_profile_name_must_be_one_line_of_printable_text(cli, sqlite_url, name):
    cli.ok("init", "--db", sqlite_url)
    refused(cli("profiles", "create", name, "--db", sqlite_url))
    assert [p["name"] for p in cli.json("profiles", "list", "--db", sqlite_url)] == ["default"]


# ---------------------------------------------------------------- 13. dates and times


@pytest.mark.parametrize("when", ["2026-11-20T25:61", "2026-11-20 99:99", "11/20/2026 13:30 PM"])
def test_an_impossible_time_of_day_in_a_log_date_is_a_bad_row(cli, loaded_sqlite, tmp_path, when):
    log = tmp_path / "log.csv"
    log.write_text(f"question_id,result,date\n1001,incorrect,{when}\n", encoding="utf-8")
    line = refused(cli("qbank", "import", log, "--db", loaded_sqlite))
    assert line.startswith(f"{log}:2: impossible time of day in date")


@pytest.mark.parametrize("day", ["1969-12-31", "2099-12-31", "2026-11-27"])
def test_a_date_option_out_of_range_is_refused_as_the_same_date_in_a_file(
    cli, loaded_sqlite, tmp_path, day
):
    log = tmp_path / "log.csv"
    log.write_text(f"question_id,result,date\n1001,incorrect,{day}\n", encoding="utf-8")
    in_file = refused(cli("qbank", "import", log, "--db", loaded_sqlite))
    ids = tmp_path / "ids.txt"
    ids.write_text("1001\n", encoding="utf-8")
    argv = ("qbank", "import", ids, "--format", "qids", "--date", day, "--db", loaded_sqlite)
    as_option = refused(cli(*argv), code=2)
    why = in_file.split(":2: ", 1)[1].split(";")[0]
    assert as_option == f"flashcore: usage error: --date {day}: {why}"


def test_tomorrow_is_still_accepted_for_a_bank_whose_day_runs_ahead(cli, loaded_sqlite, tmp_path):
    log = tmp_path / "log.csv"
    log.write_text("question_id,result,date\n1001,incorrect,2026-11-26\n", encoding="utf-8")
    assert cli.json("qbank", "import", log, "--db", loaded_sqlite)["added"] == 1


# ---------------------------------------------------------------- 14. escaped NUL and U+001F


@pytest.mark.parametrize("escape", ["\\u0000", "\\u001f", "\\u001F"])
def test_an_escaped_nul_or_unit_separator_in_toml_text_is_refused(cli, db_url, tmp_path, escape):
    body = BASIC.format(id="a", front="q", back=f"IgE{escape}")
    path = write_deck(tmp_path / "nul.toml", body)
    line = refused(cli("decks", "add", path, "--db", db_url))
    assert line.startswith(f"{path}:8: card a: back holds control character U+00"), line


# ---------------------------------------------------------------- 15. depth and cloze numbers


def test_deeply_nested_toml_is_refused_with_path_and_line(cli, sqlite_url, tmp_path):
    path = tmp_path / "deep.toml"
    path.write_text(
        '[deck]\nname = "D"\n\n[[cards]]\nid = "a"\ntopics = ' + "[" * 5000 + "]" * 5000 + "\n",
        encoding="utf-8",
    )
    line = refused(cli("decks", "add", path, "--db", sqlite_url))
    assert line.startswith(f"{path}:6: invalid TOML: arrays or tables nested more than")


@pytest.mark.parametrize("number", ["9" * 30, "1000", "40000"])
def test_a_huge_cloze_number_is_refused_with_path_and_line(cli, db_url, tmp_path, number):
    body = f'[[cards]]\nid = "c"\ncloze = "a {{{{c{number}::b}}}}"\n'
    path = write_deck(tmp_path / "big.toml", body)
    line = refused(cli("decks", "add", path, "--db", db_url))
    assert line.startswith(f"{path}:7: card c: cloze number c"), line
    assert "use c1 to c999" in line


# ---------------------------------------------------------------- 16. file permissions


@pytest.mark.parametrize(("mask", "mode"), [(0o077, 0o600), (0o022, 0o644), (0o027, 0o640)])
def test_an_export_follows_the_umask(cli, loaded_sqlite, tmp_path, mask, mode):
    target = tmp_path / f"out-{mask:o}.apkg"
    old = os.umask(mask)
    try:
        cli.ok("export", "anki", "-o", target, "--with-scheduling", "--db", loaded_sqlite)
    finally:
        os.umask(old)
    assert stat.S_IMODE(target.stat().st_mode) == mode


def test_a_backup_is_never_more_open_than_the_database(cli, loaded_sqlite):
    db = Path(loaded_sqlite.removeprefix("sqlite:///"))
    os.chmod(db, 0o600)
    old = os.umask(0o022)
    try:
        made = cli.json("backup", "create", "--db", loaded_sqlite)
    finally:
        os.umask(old)
    assert stat.S_IMODE(Path(made["path"]).stat().st_mode) == 0o600


def test_a_folder_given_as_the_database_says_so_without_calling_it_damaged(cli, tmp_path):
    result = cli("due", "--db", tmp_path)
    assert result.code == 1 and len(result.err_lines) == 1, result.err
    assert f"{tmp_path} is a folder: give --db a database file or a URL" in result.err
    assert "damaged" not in result.err and "Traceback" not in result.err


# ---------------------------------------------------------------- 14. the wrong kind of file


@pytest.mark.parametrize("sample", ["nbme-report.csv", "nbme-report.txt"])
def test_a_score_report_given_to_qbank_import_names_the_command_that_reads_it(
    cli, loaded_sqlite, sample
):
    """Found living with it: an NBME score report pasted into `qbank import` was refused with
    "no question id column … (fix the row, or use --skip-invalid)", neither of which helps."""
    report = Path(__file__).parents[2] / "decks" / "samples" / sample
    before = dump(loaded_sqlite)
    for extra in ([], ["--skip-invalid"]):
        line = refused(cli("qbank", "import", report, *extra, "--db", loaded_sqlite))
        assert line == (
            f"{report}: a self-assessment's score report, not a missed-question log: load it "
            f"with `flashcore assess add NAME SCORE --report {report}`; nothing was imported"
        )
    assert dump(loaded_sqlite) == before
    added = cli.json("assess", "add", "NBME 31", "64", "--report", report, "--db", loaded_sqlite)
    assert added["name"] == "NBME 31"


def test_a_file_without_a_question_id_column_is_not_told_to_skip_rows(cli, loaded_sqlite, tmp_path):
    log = tmp_path / "log.csv"
    log.write_text("topic,result\nRenal,incorrect\n", encoding="utf-8")
    line = refused(cli("qbank", "import", log, "--db", loaded_sqlite))
    assert line.startswith(f"{log}:1: no question id column")
    assert line.endswith("columns found: 'topic', 'result'; nothing was imported")
