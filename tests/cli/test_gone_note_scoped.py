"""A deck suspended (or unsuspended) with `--deck` while one of its notes is gone from its file:
the gone note's card is the student's then, as if set by hand. Found living with it: `cards
suspend --deck Mini` left the gone card's mark, so when its note came back to the file it came
back unsuspended in a deck the student had suspended whole. Undoing the change gives the mark
back (while the note is still gone) or leaves the card as the return would have (once back)."""

from __future__ import annotations

from pathlib import Path

from tests.conftest import write_deck

TWO = """
[[cards]]
id = "a"
front = "qa"
back = "aa"

[[cards]]
id = "b"
front = "qb"
back = "ab"
"""
ONE = TWO[: TWO.index('[[cards]]\nid = "b"')]


def _suspended(cli, db: str) -> dict[str, bool]:
    return {c["note_key"]: c["suspended"] for c in cli.json("cards", "--db", db)}


def _gone(cli, db: str, path: Path) -> None:
    write_deck(path, ONE, name="Mini", key="mini")
    out = cli.ok("decks", "add", path, "--db", db).out
    assert "1 missing from the file (suspended, kept)" in out
    assert _suspended(cli, db) == {"mini:a": False, "mini:b": True}


def _back(cli, db: str, path: Path) -> None:
    write_deck(path, TWO, name="Mini", key="mini")
    cli.ok("decks", "add", path, "--db", db)


def test_a_deck_suspended_while_a_note_is_gone_stays_suspended_when_it_returns(
    cli, db_url, tmp_path
):
    path = write_deck(tmp_path / "mini.toml", TWO, name="Mini", key="mini")
    cli.ok("decks", "add", path, "--db", db_url)
    _gone(cli, db_url, path)

    done = cli.json("cards", "suspend", "--deck", "Mini", "--db", db_url)
    assert len(done["cards"]) == 2 and len(done["marks_only"]) == 1  # b: only its mark
    _back(cli, db_url, path)
    assert _suspended(cli, db_url) == {"mini:a": True, "mini:b": True}

    # The change undone after the return: both as they were, b as its return left it.
    undone = cli.json("cards", "unsuspend", "--last", "--db", db_url)
    assert len(undone["cards"]) == 2 and undone["left"] == {}
    assert _suspended(cli, db_url) == {"mini:a": False, "mini:b": False}


def test_undoing_it_while_the_note_is_still_gone_gives_the_mark_back(cli, db_url, tmp_path):
    path = write_deck(tmp_path / "mini.toml", TWO, name="Mini", key="mini")
    cli.ok("decks", "add", path, "--db", db_url)
    _gone(cli, db_url, path)
    text = cli.ok("cards", "suspend", "--deck", "Mini", "--db", db_url).out
    assert "1 card already suspended" in text and "note's leaving" in text
    cli.ok("cards", "unsuspend", "--last", "--db", db_url)
    assert _suspended(cli, db_url) == {"mini:a": False, "mini:b": True}  # b still gone
    _back(cli, db_url, path)
    assert _suspended(cli, db_url) == {"mini:a": False, "mini:b": False}  # as before the change


def test_a_deck_unsuspended_while_a_note_is_gone_then_suspended_stays_so(cli, db_url, tmp_path):
    # `unsuspend --deck` brought the gone card back but kept its mark; a later `suspend
    # --deck` then left a marked card that the note's return unsuspended.
    path = write_deck(tmp_path / "mini.toml", TWO, name="Mini", key="mini")
    cli.ok("decks", "add", path, "--db", db_url)
    _gone(cli, db_url, path)
    cli.ok("cards", "unsuspend", "--deck", "Mini", "--db", db_url)
    cli.ok("cards", "suspend", "--deck", "Mini", "--db", db_url)
    _back(cli, db_url, path)
    assert _suspended(cli, db_url) == {"mini:a": True, "mini:b": True}


def test_a_change_made_before_this_release_undone_keeps_the_gone_card_s_mark(
    cli, db_url, tmp_path, monkeypatch
):
    # The release before this one neither cleared nor remembered the gone card's mark when
    # `unsuspend --deck` took the card in. Undone now, while the note is still gone, the card
    # is suspended again and keeps the mark its note's leaving gave it, so that the note's
    # return brings it back, as it would have without the change (found by rv9: the undo
    # wrote the mark 0, and the card stayed suspended after its note came back).
    from flashcore.core.scoped_changes import RESTORED
    from flashcore.services.answering import CARD_ACTIONS

    path = write_deck(tmp_path / "mini.toml", TWO, name="Mini", key="mini")
    cli.ok("decks", "add", path, "--db", db_url)
    _gone(cli, db_url, path)
    with monkeypatch.context() as before:  # the change as the release before made it
        before.setitem(RESTORED, "unsuspend", ("suspended", "leech", "unsuspended_by"))
        before.setitem(
            CARD_ACTIONS, "unsuspend", {"suspended": False, "leech": False, "unsuspended_by": None}
        )
        cli.ok("cards", "unsuspend", "--deck", "Mini", "--db", db_url)
    cli.ok("cards", "suspend", "--last", "--db", db_url)
    assert _suspended(cli, db_url) == {"mini:a": False, "mini:b": True}
    _back(cli, db_url, path)
    assert _suspended(cli, db_url) == {"mini:a": False, "mini:b": False}
