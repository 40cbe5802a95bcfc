"""`config set leech_action` and what `answer`, `cards`, `due` and `undo` show of a leech, on
both backends (issue 21d)."""

from __future__ import annotations

import pytest

from tests.cli.test_cli_study import T2, card, graduate, ids_by_key

T2_LATER = "2026-11-27T10:11:00+00:00"


def test_leech_action_is_set_and_shown_like_every_setting(cli, db_url, one_line_error):
    assert cli.json("config", "get", "--db", db_url)["leech_action"] == "tag"
    assert (
        cli.ok("config", "set", "leech_action", "suspend", "--db", db_url).out.strip() == "suspend"
    )
    assert cli.ok("config", "get", "leech_action", "--db", db_url).out.strip() == "suspend"
    line = one_line_error(cli("config", "set", "leech_action", "delete", "--db", db_url))
    assert line.endswith("leech_action: 'delete' is not one of suspend, tag (use suspend or tag)")
    assert cli.ok("config", "get", "leech_action", "--db", db_url).out.strip() == "suspend"
    assert "suspend or tag" in cli.ok("config", "--help").out


@pytest.mark.parametrize("action", ["suspend", "tag"])
def test_answer_says_what_became_of_the_leech(cli, loaded, action):
    db = loaded
    target = ids_by_key(cli, db)[("test:t1-ige", 0)]
    cli.ok("config", "set", "leech_threshold", "1", "--db", db)
    cli.ok("config", "set", "leech_action", action, "--db", db)
    graduate(cli, db, target)
    said = cli.at(T2).ok("answer", target, "again", "--db", db).out
    shown = card(cli, db, target)
    assert (shown["leech"], shown["lapses"], "leech" in shown["tags"]) == (True, 1, True)
    later = [i["card_id"] for i in cli.at(T2_LATER).json("due", "--db", db)]
    if action == "suspend":
        assert f"card {target} has lapsed once: tagged leech and suspended" in said
        assert shown["suspended"] is True and target not in later
    else:
        assert f"card {target} has lapsed once: tagged leech" in said
        assert "it stays in your reviews" in said
        assert shown["suspended"] is False and target in later  # its relearning step
    cli.at(T2).ok("undo", "--db", db)
    back = card(cli, db, target)
    assert (back["leech"], back["suspended"], back["lapses"]) == (False, False, 0)


def test_answer_json_names_the_leech_action(cli, loaded):
    db = loaded
    target = ids_by_key(cli, db)[("test:t1-ige", 0)]
    cli.ok("config", "set", "leech_threshold", "1", "--db", db)
    cli.ok("config", "set", "leech_action", "tag", "--db", db)
    graduate(cli, db, target)
    found = cli.at(T2).json("answer", target, "again", "--db", db)
    assert (found["leech"], found["leech_action"]) == (True, "tag")
    assert cli.at(T2_LATER).json("answer", target, "good", "--db", db)["leech_action"] is None
