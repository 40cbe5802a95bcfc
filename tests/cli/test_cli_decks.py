"""`flashcore decks add|list`: loading deck files is an upsert keyed by the note key."""

from __future__ import annotations

import io
import sys

import pytest

BASIC = """
[[cards]]
id = "{id}"
front = "{front}"
back = "{back}"
"""


def card_by_key(cli, db, note_key):
    found = [c for c in cli.json("cards", "--db", db) if c["note_key"] == note_key]
    assert len(found) == 1, found
    return found[0]


def test_decks_add_reports_what_it_added(cli, sqlite_url, deck):
    result = cli.ok("decks", "add", deck, "--db", sqlite_url)
    assert result.out.strip() == f"{deck}: 3 added, 0 updated"
    assert result.err == ""


def test_decks_add_json_has_one_report_per_file(cli, sqlite_url, deck):
    (report,) = cli.json("decks", "add", deck, "--db", sqlite_url)
    assert report["path"] == str(deck)
    assert report["ok"] is True
    assert report["added"] == 3
    assert report["updated"] == 0
    assert report["decks"] == ["Test::Deck"]
    assert report["problems"] == []


def test_running_decks_add_again_changes_nothing(cli, loaded, deck):
    before = cli.json("cards", "--db", loaded)
    result = cli.ok("decks", "add", deck, "--db", loaded)
    assert result.out.strip() == f"{deck}: 0 added, 0 updated"
    assert cli.json("cards", "--db", loaded) == before


def test_decks_list_counts_new_learning_and_due(cli, loaded_sqlite):
    (row,) = cli.json("decks", "list", "--db", loaded_sqlite)
    assert row["key"] == "test"
    assert row["name"] == "Test::Deck"
    assert row["cards"] == 4
    # What `due --deck` holds: one card of the two-deletion cloze note (siblings wait a day).
    assert row["new"] == 3
    assert row["learning"] == 0
    assert row["due"] == 0
    card = card_by_key(cli, loaded_sqlite, "test:t1-ige")["card_id"]
    cli.ok("answer", card, "again", "--db", loaded_sqlite)
    (row,) = cli.json("decks", "list", "--db", loaded_sqlite)
    assert (row["new"], row["learning"], row["due"]) == (2, 1, 0)
    text = cli.ok("decks", "list", "--db", loaded_sqlite).out
    assert "Test::Deck" in text
    assert "learning" in text.splitlines()[0]


def test_decks_list_on_an_empty_collection_says_how_to_add_decks(cli, sqlite_url):
    assert "flashcore decks add" in cli.ok("decks", "list", "--db", sqlite_url).out
    assert cli.json("decks", "list", "--db", sqlite_url) == []


def test_an_edited_card_keeps_its_history(cli, loaded, make_deck, small_deck_text):
    before = card_by_key(cli, loaded, "test:t1-ige")
    cli.ok("answer", before["card_id"], "good", "--db", loaded)
    edited = small_deck_text.replace('back = "IgE"', 'back = "IgE (immunoglobulin E)"')
    assert edited != small_deck_text
    path = make_deck("small.toml", edited)
    result = cli.ok("decks", "add", path, "--db", loaded)
    assert result.out.strip() == f"{path}: 0 added, 1 updated"
    after = card_by_key(cli, loaded, "test:t1-ige")
    assert after["card_id"] == before["card_id"]
    assert after["reps"] == 1
    assert after["state"] == "learning"
    assert after["stability"] is not None


def test_renaming_a_deck_with_a_key_keeps_its_cards(cli, loaded_sqlite, make_deck, small_deck_text):
    ids = {c["note_key"]: c["card_id"] for c in cli.json("cards", "--db", loaded_sqlite)}
    path = make_deck("renamed.toml", small_deck_text, name="Step 1::Renamed")
    assert "0 added, 0 updated" in cli.ok("decks", "add", path, "--db", loaded_sqlite).out
    (row,) = cli.json("decks", "list", "--db", loaded_sqlite)
    assert row["name"] == "Step 1::Renamed"
    assert {c["note_key"]: c["card_id"] for c in cli.json("cards", "--db", loaded_sqlite)} == ids


def test_a_card_removed_from_the_file_is_suspended_and_reported(
    cli, loaded, make_deck, small_deck_text
):
    kept = card_by_key(cli, loaded, "test:t4-cells")
    cli.ok("answer", kept["card_id"], "good", "--db", loaded)
    without = small_deck_text.split('[[cards]]\nid = "t4-cells"')[0]
    path = make_deck("small.toml", without)
    result = cli.ok("decks", "add", path, "--db", loaded)
    assert "1 missing from the file" in result.out
    assert "test:t4-cells" in result.out
    gone = card_by_key(cli, loaded, "test:t4-cells")
    assert gone["suspended"] is True
    assert gone["reps"] == 1  # kept, with its history
    assert len(cli.json("cards", "--db", loaded)) == 4
    # Putting it back in the file brings it back, history intact.
    back = make_deck("small.toml", small_deck_text)
    cli.ok("decks", "add", back, "--db", loaded)
    returned = card_by_key(cli, loaded, "test:t4-cells")
    assert returned["suspended"] is False
    assert returned["reps"] == 1
    assert returned["card_id"] == kept["card_id"]


def test_prune_without_yes_and_without_a_terminal_refuses(
    cli, loaded_sqlite, make_deck, small_deck_text, monkeypatch
):
    monkeypatch.setattr(sys, "stdin", io.StringIO("y\n"))  # not a terminal
    without = small_deck_text.split('[[cards]]\nid = "t4-cells"')[0]
    path = make_deck("small.toml", without)
    before = cli.json("cards", "--db", loaded_sqlite)
    result = cli("decks", "add", path, "--prune", "--db", loaded_sqlite)
    assert result.code != 0
    assert "--yes" in result.err
    assert "Traceback" not in result.err
    assert cli.json("cards", "--db", loaded_sqlite) == before


class FakeTerminal(io.StringIO):
    def isatty(self):
        return True


@pytest.mark.parametrize(("reply", "deleted"), [("n\n", False), ("\n", False), ("yes\n", True)])
def test_prune_at_a_terminal_asks_first(
    cli, loaded_sqlite, make_deck, small_deck_text, monkeypatch, reply, deleted
):
    monkeypatch.setattr(sys, "stdin", FakeTerminal(reply))
    without = small_deck_text.split('[[cards]]\nid = "t4-cells"')[0]
    path = make_deck("small.toml", without)
    result = cli("decks", "add", path, "--prune", "--db", loaded_sqlite)
    assert "Go on?" in result.out + result.err
    keys = {c["note_key"] for c in cli.json("cards", "--db", loaded_sqlite)}
    assert ("test:t4-cells" not in keys) is deleted
    assert (result.code == 0) is deleted


def test_prune_with_yes_deletes_the_missing_cards_and_their_reviews(
    cli, loaded, make_deck, small_deck_text, raw_sql
):
    doomed = card_by_key(cli, loaded, "test:t4-cells")["card_id"]
    cli.ok("answer", doomed, "good", "--db", loaded)
    without = small_deck_text.split('[[cards]]\nid = "t4-cells"')[0]
    path = make_deck("small.toml", without)
    (report,) = cli.json("decks", "add", path, "--prune", "--yes", "--db", loaded)
    assert report["deleted"] == 1
    keys = {c["note_key"] for c in cli.json("cards", "--db", loaded)}
    assert keys == {"test:t1-ige", "test:t1-cells"}
    assert raw_sql(loaded, "SELECT count(*) FROM review_logs WHERE card_id = ?", (doomed,)) == [
        (0,)
    ]


def test_prune_text_output_reports_the_deletions(cli, loaded_sqlite, make_deck, small_deck_text):
    without = small_deck_text.split('[[cards]]\nid = "t4-cells"')[0]
    path = make_deck("small.toml", without)
    result = cli.ok("decks", "add", path, "--prune", "--yes", "--db", loaded_sqlite)
    assert "1 deleted" in result.out


BROKEN = """[deck]
name = "Broken"
key = "broken"

[[cards]]
front = "a card without an id"
back = "x"

[[cards]]
id = "twice"
front = "first"
back = "x"

[[cards]]
id = "twice"
front = "second"
back = "y"

[[cards]]
id = "no-deletion"
cloze = "nothing is hidden here"

[[cards]]
id = "both"
front = "a"
back = "b"
cloze = "{{c1::x}}"

[[cards]]
id = "colourful"
front = "a"
back = "b"
colour = "red"

[[cards]]
id = "fine"
front = "a fine card"
back = "but the file is broken"
"""


def _block_of(text: str, marker: str) -> range:
    """The line numbers (1-based) of the [[cards]] block containing `marker`."""
    lines = text.splitlines()
    at = next(i for i, line in enumerate(lines) if marker in line)
    start = max(i for i in range(at + 1) if lines[i].startswith("[[cards]]"))
    end = next((i for i in range(at + 1, len(lines)) if lines[i].startswith("[[")), len(lines))
    return range(start + 1, end + 1)


def test_a_file_with_errors_lists_every_problem_and_changes_nothing(cli, sqlite_url, tmp_path):
    path = tmp_path / "broken.toml"
    path.write_text(BROKEN, encoding="utf-8")
    result = cli("decks", "add", path, "--db", sqlite_url)
    assert result.code == 1
    assert "Traceback" not in result.err
    problems = [line for line in result.err_lines if line.startswith(f"{path}:")]
    located = {}
    for line in problems:
        where, message = line[len(str(path)) + 1 :].split(": ", 1)
        located[message] = int(where)
    expectations = {
        "id": _block_of(BROKEN, "a card without an id"),
        "duplicate": _block_of(BROKEN, '"second"'),
        "deletion": _block_of(BROKEN, "nothing is hidden"),
        "both": _block_of(BROKEN, 'id = "both"'),
        "colour": [BROKEN.splitlines().index('colour = "red"') + 1],  # the key's own line
    }
    for word, lines in expectations.items():
        hits = [line for message, line in located.items() if word in message]
        assert hits, f"no problem mentioning {word!r} in {problems}"
        assert hits[0] in lines, (word, hits, list(lines))
    assert len(problems) == 5, problems
    assert cli.json("cards", "--db", sqlite_url) == []
    assert cli.json("decks", "list", "--db", sqlite_url) == []


def test_a_broken_edit_leaves_the_loaded_deck_as_it_was(cli, loaded_sqlite, deck, small_deck_text):
    before = cli.json("cards", "--db", loaded_sqlite)
    deck.write_text(deck.read_text() + '\n[[cards]]\nid = "t1-ige"\nfront = "x"\nback = "y"\n')
    result = cli("decks", "add", deck, "--db", loaded_sqlite)
    assert result.code == 1
    assert any("duplicate" in line for line in result.err_lines)
    assert cli.json("cards", "--db", loaded_sqlite) == before


def test_each_of_several_files_is_all_or_nothing(cli, sqlite_url, make_deck, tmp_path):
    first = make_deck("a.toml", BASIC.format(id="a1", front="A?", back="A"), key="a", name="A")
    broken = tmp_path / "b.toml"
    broken.write_text(BROKEN, encoding="utf-8")
    third = make_deck("c.toml", BASIC.format(id="c1", front="C?", back="C"), key="c", name="C")
    result = cli("decks", "add", first, broken, third, "--db", sqlite_url)
    assert result.code == 1
    assert f"{first}: 1 added, 0 updated" in result.out
    assert f"{third}: 1 added, 0 updated" in result.out
    summary = result.err_lines[-1]
    assert "2 of 3" in summary
    assert str(broken) in summary
    assert str(first) not in summary
    keys = {c["note_key"] for c in cli.json("cards", "--db", sqlite_url)}
    assert keys == {"a:a1", "c:c1"}
    reports = cli("decks", "add", first, broken, third, "--db", sqlite_url, "--json")
    assert reports.code == 1
    assert [r["ok"] for r in reports.json()] == [True, False, True]


def test_two_files_declaring_the_same_deck_key_is_an_error(cli, sqlite_url, make_deck):
    one = make_deck("one.toml", BASIC.format(id="x", front="1?", back="1"), key="same")
    two = make_deck("two.toml", BASIC.format(id="y", front="2?", back="2"), key="same")
    result = cli("decks", "add", one, two, "--db", sqlite_url)
    assert result.code == 1
    clash = [line for line in result.err_lines if "same" in line]
    assert clash, result.err
    assert str(one) in result.err
    assert str(two) in result.err
    keys = {c["note_key"] for c in cli.json("cards", "--db", sqlite_url)}
    assert "same:y" not in keys or "same:x" not in keys  # the two files are never merged


def test_a_missing_file_is_reported_with_its_path(cli, sqlite_url, tmp_path):
    missing = tmp_path / "nowhere.toml"
    result = cli("decks", "add", missing, "--db", sqlite_url)
    assert result.code == 1
    assert str(missing) in result.err
    assert "Traceback" not in result.err


def test_an_unknown_file_type_is_refused(cli, sqlite_url, tmp_path):
    odd = tmp_path / "deck.docx"
    odd.write_bytes(b"PK\x03\x04")
    result = cli("decks", "add", odd, "--db", sqlite_url)
    assert result.code == 1
    assert str(odd) in result.err


def test_a_folder_loads_every_toml_file_in_it(cli, sqlite_url, make_deck, tmp_path):
    make_deck("a.toml", BASIC.format(id="a1", front="A?", back="A"), key="a", name="A")
    make_deck("b.toml", BASIC.format(id="b1", front="B?", back="B"), key="b", name="B")
    reports = cli.json("decks", "add", tmp_path, "--db", sqlite_url)
    assert sorted(r["decks"][0] for r in reports) == ["A", "B"]


def test_a_cloze_note_makes_one_card_per_deletion(cli, sqlite_url, make_deck):
    body = '\n[[cards]]\nid = "cz"\ncloze = "{{c1::a}} and {{c3::b}} and {{c1::again}}"\n'
    path = make_deck("cz.toml", body)
    cli.ok("decks", "add", path, "--db", sqlite_url)
    cards = cli.json("cards", "--db", sqlite_url)
    assert len(cards) == 2
    assert sorted(c["ord"] for c in cards) == [1, 3]
    assert {c["note_key"] for c in cards} == {"test:cz"}


def test_export_with_scheduling_says_anki_needs_fsrs_switched_on(cli, loaded_sqlite, tmp_path):
    target = tmp_path / "out.apkg"
    result = cli.ok("export", "anki", "-o", target, "--with-scheduling", "--json",
                    "--db", loaded_sqlite)  # fmt: skip
    assert result.json()["notes"] == 3  # stdout stays one JSON document
    assert "only once FSRS is switched on in the target profile" in result.err
    plain = cli.ok("export", "anki", "-o", target, "--db", loaded_sqlite)
    assert "FSRS" not in plain.err  # without scheduling there is nothing to say


def test_export_accepts_a_unique_end_of_a_deck_name(cli, loaded_sqlite, tmp_path):
    target = tmp_path / "deck.apkg"
    assert (
        cli.json("export", "anki", "-o", target, "--deck", "deck", "--db", loaded_sqlite)["cards"]
        == 4
    )
