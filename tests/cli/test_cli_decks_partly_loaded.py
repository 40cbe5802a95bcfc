"""`flashcore decks add a b` where `a` is loaded (committed) and then `b` fails to be written:
the output says `a` was loaded (its usual line on stdout) and, last, one error line on stderr,
`1 of 2 files loaded; b: <problem>`, exit code 1. Seen before: the first file's import
committed and the only output was b's error, ending `nothing was imported`, as if nothing had
been loaded."""

from __future__ import annotations

import pytest
from sqlalchemy.exc import OperationalError

from tests.conftest import DECKS


def test_a_package_failing_after_a_loaded_one_says_the_first_was_loaded(cli, tmp_path):
    pytest.importorskip("anki.collection")
    from tests.services.test_anki_damaged_history import _damaged

    damaged = _damaged(tmp_path)
    good = DECKS / "immunology.toml"
    cli.ok("init")
    result = cli("decks", "add", good, damaged, DECKS / "physiology.toml", "--with-scheduling")
    assert result.code == 1
    assert result.out == f"{good}: 92 added, 0 updated\n"
    [line] = result.err_lines
    assert line.startswith(f"flashcore: error: 1 of 3 files loaded; {damaged}: the package's ")
    assert "revlog ivl" in line
    assert line.endswith(f"; not tried after it: {DECKS / 'physiology.toml'}")
    decks = {d["name"] for d in cli.json("decks", "list")}
    assert decks == {"Step 1::Immunology"}  # the first stays loaded, nothing else came in

    reports = cli("decks", "add", good, damaged, "--with-scheduling", "--json")
    assert reports.code == 1 and len(reports.err_lines) == 1
    first, second = reports.json()
    assert first["ok"] and first["unchanged"] == 92
    assert not second["ok"] and second["problems"][0].startswith(f"{damaged}: the package's ")


def test_a_database_error_on_the_second_file_names_it_and_the_loaded_first(
    cli, tmp_path, monkeypatch
):
    """The second file's write fails on the database (a full disk): its advice is given for
    that file; the first stays loaded."""
    from flashcore.storage import repos

    calls = []
    upsert = repos.upsert_deck

    def full_on_the_second_file(session, profile_id, spec, *args, **kwargs):
        calls.append(spec.key)
        if spec.key != calls[0]:
            raise OperationalError("INSERT", {}, Exception("database or disk is full"))
        return upsert(session, profile_id, spec, *args, **kwargs)

    monkeypatch.setattr(repos, "upsert_deck", full_on_the_second_file)
    cli.ok("init")
    first, second = DECKS / "immunology.toml", DECKS / "physiology.toml"
    result = cli("decks", "add", first, second)
    assert result.code == 1 and result.out == f"{first}: 92 added, 0 updated\n"
    assert result.err_lines == [
        f"flashcore: error: 1 of 2 files loaded; {second}: the disk is full: free some space "
        "and try again; nothing was changed (database or disk is full)"
    ]
    monkeypatch.setattr(repos, "upsert_deck", upsert)
    assert [d["name"] for d in cli.json("decks", "list")] == ["Step 1::Immunology"]


def test_a_first_file_that_fails_to_be_written_still_says_nothing_was_loaded(cli, monkeypatch):
    from flashcore.storage import repos

    def full(*args, **kwargs):
        raise OperationalError("INSERT", {}, Exception("database or disk is full"))

    monkeypatch.setattr(repos, "upsert_deck", full)
    cli.ok("init")
    result = cli("decks", "add", DECKS / "immunology.toml", DECKS / "physiology.toml")
    assert result.code == 1 and len(result.err_lines) == 1
    assert "files loaded" not in result.err and "nothing was changed" in result.err
