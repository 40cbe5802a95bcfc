"""Hostile text is inert on every surface outside the TUI: names stored with terminal escapes
(by an older flashcore, another tool or a hand edit; the loaders now refuse them) are printed by
every listing as visible escapes, never as control characters a terminal would obey."""

from __future__ import annotations

import json
import unicodedata

import pytest

from flashcore.core.text import inert

# OSC 0 (window title), OSC 52 (clipboard write), ESC[2J (clear), C1 CSI, a bidi override,
# carriage return, tab, NUL and a line break.
HOSTILE = "\x1b]0;pwned\x07\x1b]52;c;aGk=\x07\x1b[2J\x9b31m\u202eevil\r\t\x00\nx"
LISTINGS = [
    ["decks", "list"],
    ["cards"],
    ["due"],
    ["weakness"],
    ["topics", "list"],
    ["profiles", "list"],
    ["qbank", "list"],
    ["qbank", "batches"],
    ["stats"],
    ["config", "get"],
    ["check"],
    ["backup", "list"],
]


def unsafe(text: str) -> list[str]:
    """Characters a terminal could act on: controls (newline aside) and bidi overrides."""
    return [
        ch
        for ch in text
        if ch != "\n"
        and (
            unicodedata.category(ch) == "Cc"
            or "\u202a" <= ch <= "\u202e"
            or "\u2066" <= ch <= "\u2069"
        )
    ]


@pytest.fixture
def hostile_db(cli, loaded_sqlite, tmp_path, raw_sql) -> str:
    """SMALL_DECK, a miss on its type I card, an alias and a second profile; then every name
    and reason rewritten behind flashcore's back to hold HOSTILE."""
    db = loaded_sqlite
    log = tmp_path / "log.csv"
    log.write_text(
        "question_id,result,date,topic\n1001,incorrect,2026-11-24,Type I hypersensitivity\n",
        encoding="utf-8",
    )
    cli.ok("qbank", "import", log, "--db", db)
    cli.ok("topics", "alias", "Anaphylaxis", "Immunology::Hypersensitivity::Type I", "--db", db)
    cli.ok("profiles", "create", "second", "--db", db)
    cli.ok("backup", "create", "--db", db)
    for statement in (
        "UPDATE decks SET name = name || ?, key = key || ?",
        "UPDATE topics SET path = path || ?, reason = 'weak topic: ' || ?",
        "UPDATE topic_aliases SET alias = alias || ?, topic_path = topic_path || ?",
        "UPDATE notes SET key = key || ?, tags = json_array(?)",
        "UPDATE qbank_attempts SET topic = topic || ?, subject = ?",  # qid 1001 still matches
        "UPDATE qbank_batches SET origin = ?, format = ?",
        "UPDATE profiles SET name = name || ? WHERE name = ?",
    ):
        marks = statement.count("?")
        values = (HOSTILE,) * marks if "WHERE" not in statement else (HOSTILE, "second")
        raw_sql(db, statement, values)
    return db


def test_inert_writes_every_control_character_as_a_visible_escape():
    shown = inert(HOSTILE)
    assert unsafe(shown) == []
    assert "\\x1b]0;pwned\\x07" in shown and "\\x9b" in shown and "\\u202e" in shown
    assert shown.endswith("\\x00\nx")  # a line break stays one, unless the text is a cell
    assert "\n" not in inert(HOSTILE, newlines=False)
    assert inert("Immunology::Type I — 6 misses") == "Immunology::Type I — 6 misses"


@pytest.mark.parametrize("argv", LISTINGS, ids=lambda argv: "-".join(argv))
def test_every_listing_prints_hostile_names_without_a_control_character(cli, hostile_db, argv):
    result = cli(*argv, "--db", hostile_db)
    assert result.code in (0, 1), result.err  # `check` exits 1 when it finds a problem
    assert unsafe(result.out) == []
    assert unsafe(result.err) == []


@pytest.mark.parametrize(
    "argv", [a for a in LISTINGS if a[0] in {"decks", "cards", "due", "weakness", "topics",
                                            "profiles", "qbank"}], ids=lambda argv: "-".join(argv)
)  # fmt: skip
def test_the_hostile_names_do_reach_the_listings_as_escapes(cli, hostile_db, argv):
    out = cli(*argv, "--db", hostile_db).out
    assert "\\x1b]0;pwned\\x07" in out
    assert "\\u202eevil" in out


@pytest.mark.parametrize("argv", LISTINGS[:8], ids=lambda argv: "-".join(argv))
def test_json_listings_escape_c1_controls_and_bidi_overrides_too(cli, hostile_db, argv):
    result = cli(*argv, "--json", "--db", hostile_db)
    assert result.code == 0, result.err
    assert unsafe(result.out) == []
    data = json.loads(result.out)  # still one valid JSON document, the text unchanged
    if argv == ["decks", "list"]:
        assert all(deck["name"].endswith(HOSTILE) for deck in data)


def test_messages_that_quote_a_hostile_argument_are_inert(cli, hostile_db):
    for argv in (
        ["cards", "--topic", HOSTILE],
        ["due", "--deck", HOSTILE],
        ["--profile", HOSTILE, "due"],
        ["topics", "alias", "word", HOSTILE],
        ["backup", "restore", HOSTILE, "--yes"],
        ["config", "get", HOSTILE],
        ["qbank", "import", HOSTILE],
        ["decks", "add", HOSTILE],
        ["export", "anki", "-o", f"/nonexistent/{HOSTILE}.apkg"],
    ):
        result = cli(*argv, "--db", hostile_db)
        assert result.code in (1, 2), (argv, result.out)
        assert unsafe(result.err) == [], argv
        assert unsafe(result.out) == [], argv
