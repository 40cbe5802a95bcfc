"""`flashcore cards`, `config` and `profiles`: browsing and marking cards, settings, isolation."""

from __future__ import annotations

from datetime import datetime

import pytest

CARD_KEYS = {
    "card_id",
    "note_key",
    "deck",
    "topics",
    "state",
    "due",
    "stability",
    "difficulty",
    "reps",
    "lapses",
    "desired_retention",
    "suspended",
}


def aware(text):
    value = datetime.fromisoformat(text)
    assert value.tzinfo is not None, text
    assert value.utcoffset().total_seconds() == 0, text
    return value


def test_cards_json_gives_the_documented_keys_and_types(cli, loaded):
    cards = cli.json("cards", "--db", loaded)
    assert len(cards) == 4
    for card in cards:
        assert set(card) >= CARD_KEYS, CARD_KEYS - set(card)
        assert type(card["card_id"]) is int
        assert card["deck"] == "Test::Deck"
        assert card["note_key"].startswith("test:")
        assert card["state"] == "new"
        aware(card["due"])
        assert card["stability"] is None
        assert card["difficulty"] is None
        assert (card["reps"], card["lapses"]) == (0, 0)
        assert card["suspended"] is False
        assert isinstance(card["topics"], list)
    ige = next(c for c in cards if c["note_key"] == "test:t1-ige")
    assert ige["topics"] == ["Immunology::Hypersensitivity::Type I"]


def test_cards_json_after_an_answer_shows_the_memory_state(cli, loaded):
    card = next(c for c in cli.json("cards", "--db", loaded) if c["note_key"] == "test:t1-ige")
    cli.ok("answer", card["card_id"], "good", "--db", loaded)
    after = next(c for c in cli.json("cards", "--db", loaded) if c["card_id"] == card["card_id"])
    assert after["state"] == "learning"
    assert isinstance(after["stability"], float)
    assert 1 <= after["difficulty"] <= 10
    assert after["reps"] == 1
    assert after["desired_retention"] == pytest.approx(0.9)
    assert aware(after["due"]) > aware(card["due"])


def test_cards_filters_by_deck_and_topic(cli, loaded_sqlite):
    db = loaded_sqlite
    assert len(cli.json("cards", "--deck", "Test::Deck", "--db", db)) == 4
    assert len(cli.json("cards", "--deck", "test", "--db", db)) == 4
    assert len(cli.json("cards", "--deck", "Test", "--db", db)) == 4  # parent deck
    type_i = cli.json("cards", "--topic", "Immunology::Hypersensitivity::Type I", "--db", db)
    assert {c["note_key"] for c in type_i} == {"test:t1-ige", "test:t1-cells"}
    assert len(cli.json("cards", "--topic", "Immunology", "--db", db)) == 4
    # topic keys are normalised: `type 1` meets `Type I`
    assert (
        len(cli.json("cards", "--topic", "immunology::hypersensitivity::type 1", "--db", db)) == 3
    )


def test_cards_with_an_unknown_deck_or_topic_is_an_error(cli, loaded_sqlite, one_line_error):
    assert "Nope" in one_line_error(cli("cards", "--deck", "Nope", "--db", loaded_sqlite))
    assert "Nope" in one_line_error(cli("cards", "--topic", "Nope", "--db", loaded_sqlite))


def test_cards_text_output_is_a_table(cli, loaded_sqlite):
    lines = cli.ok("cards", "--db", loaded_sqlite).out.splitlines()
    assert lines[0].split()[:3] == ["card_id", "note_key", "state"]
    assert len(lines) == 2 + 4


@pytest.mark.parametrize(
    ("action", "undo", "field"),
    [
        ("suspend", "unsuspend", "suspended"),
        ("bury", "unbury", "buried"),
        ("flag", "unflag", "flagged"),
    ],
)
def test_card_actions_set_and_clear_their_mark(cli, loaded_sqlite, action, undo, field):
    ids = [c["card_id"] for c in cli.json("cards", "--db", loaded_sqlite)][:2]
    result = cli.ok("cards", action, *ids, "--db", loaded_sqlite)
    assert result.out.strip() == f"{action}: 2 cards"
    marked = {c["card_id"]: c[field] for c in cli.json("cards", "--db", loaded_sqlite)}
    assert [marked[i] for i in ids] == [True, True]
    assert sum(marked.values()) == 2
    cli.ok("cards", undo, *ids, "--db", loaded_sqlite)
    assert not any(c[field] for c in cli.json("cards", "--db", loaded_sqlite))


def test_suspended_and_buried_cards_never_appear_in_due(cli, loaded_sqlite):
    db = loaded_sqlite
    due = [i["card_id"] for i in cli.json("due", "--db", db)]
    cli.ok("cards", "suspend", due[0], "--db", db)
    cli.ok("cards", "bury", due[1], "--db", db)
    now_due = [i["card_id"] for i in cli.json("due", "--db", db)]
    assert due[0] not in now_due
    assert due[1] not in now_due
    # a buried card comes back on the next study day (4:00 in the profile's timezone)
    tomorrow = [i["card_id"] for i in cli.at("2026-11-26T04:00:00+00:00").json("due", "--db", db)]
    assert due[1] in tomorrow
    assert due[0] not in tomorrow


def test_card_actions_json(cli, loaded_sqlite):
    ids = [c["card_id"] for c in cli.json("cards", "--db", loaded_sqlite)][:2]
    assert cli.json("cards", "flag", *ids, "--db", loaded_sqlite) == {
        "action": "flag",
        "cards": ids,
    }


def test_a_card_action_on_an_unknown_card_changes_nothing(cli, loaded_sqlite, one_line_error):
    first = cli.json("cards", "--db", loaded_sqlite)[0]["card_id"]
    line = one_line_error(cli("cards", "suspend", first, 99999, "--db", loaded_sqlite))
    assert "99999" in line
    assert not any(c["suspended"] for c in cli.json("cards", "--db", loaded_sqlite))


def test_answering_a_suspended_card_is_refused(cli, loaded_sqlite, one_line_error):
    card = cli.json("cards", "--db", loaded_sqlite)[0]["card_id"]
    cli.ok("cards", "suspend", card, "--db", loaded_sqlite)
    assert "suspended" in one_line_error(cli("answer", card, "good", "--db", loaded_sqlite))


# ---------------------------------------------------------------- config


def test_config_get_lists_the_documented_settings_with_anki_defaults(cli, sqlite_url):
    items = cli.json("config", "get", "--db", sqlite_url)
    assert items["desired_retention"] == "0.9"
    assert items["new_per_day"] == "20"
    assert items["reviews_per_day"] == "200"
    assert items["day_start_hour"] == "4"
    assert items["learning_steps"] == "1m 10m"
    assert items["relearning_steps"] == "10m"
    assert items["maximum_interval"] == "36500"
    assert items["leech_threshold"] == "8"
    assert items["new_ignores_review_limit"] == "false"
    assert "timezone" in items


def test_config_set_then_get_round_trips(cli, db_url):
    assert cli.ok("config", "set", "new_per_day", "30", "--db", db_url).out.strip() == "30"
    assert cli.ok("config", "get", "new_per_day", "--db", db_url).out.strip() == "30"
    assert cli.json("config", "set", "timezone", "America/New_York", "--db", db_url) == {
        "key": "timezone",
        "value": "America/New_York",
    }
    assert cli.json("config", "get", "timezone", "--db", db_url)["value"] == "America/New_York"


@pytest.mark.parametrize(
    ("key", "value"),
    [
        ("new_per_day", "many"),
        ("new_per_day", "-1"),
        ("desired_retention", "1.5"),
        ("timezone", "Mars/Olympus_Mons"),
        ("day_start_hour", "24"),
        ("learning_steps", "1 minute"),
        ("no_such_setting", "1"),
    ],
)
def test_config_set_refuses_bad_values_with_one_line(cli, sqlite_url, one_line_error, key, value):
    before = cli.json("config", "get", "--db", sqlite_url)
    one_line_error(cli("config", "set", key, value, "--db", sqlite_url))
    assert cli.json("config", "get", "--db", sqlite_url) == before


def test_config_get_of_an_unknown_key_is_an_error(cli, sqlite_url, one_line_error):
    assert "colour" in one_line_error(cli("config", "get", "colour", "--db", sqlite_url))


# ---------------------------------------------------------------- profiles


def test_profiles_list_and_create(cli, sqlite_url):
    (only,) = cli.json("profiles", "list", "--db", sqlite_url)
    assert only["name"] == "default"
    assert only["current"] is True
    aware(only["created_at"])
    assert cli.json("profiles", "create", "alice", "--db", sqlite_url) == {"created": "alice"}
    names = {p["name"]: p["current"] for p in cli.json("profiles", "list", "--db", sqlite_url)}
    assert names == {"default": True, "alice": False}
    mine = cli.json("profiles", "list", "--db", sqlite_url, "--profile", "alice")
    assert {p["name"]: p["current"] for p in mine} == {"default": False, "alice": True}
    assert "alice" in cli.ok("profiles", "list", "--db", sqlite_url).out


def test_a_profile_named_in_the_environment_can_be_created(cli, sqlite_url, monkeypatch):
    """`export FLASHCORE_PROFILE=alice` first, then follow the advice the error message gives."""
    monkeypatch.setenv("FLASHCORE_PROFILE", "alice")
    refused = cli("decks", "list", "--db", sqlite_url)
    assert "flashcore profiles create alice" in refused.err
    created = cli("profiles", "create", "alice", "--db", sqlite_url)
    assert created.code == 0, created.err
    assert cli.json("decks", "list", "--db", sqlite_url) == []


def test_creating_a_profile_twice_is_an_error(cli, sqlite_url, one_line_error):
    cli.ok("profiles", "create", "alice", "--db", sqlite_url)
    assert "alice" in one_line_error(cli("profiles", "create", "alice", "--db", sqlite_url))


def test_an_unknown_profile_is_an_error_not_created(cli, sqlite_url, one_line_error):
    assert "ghost" in one_line_error(cli("decks", "list", "--profile", "ghost", "--db", sqlite_url))
    names = [p["name"] for p in cli.json("profiles", "list", "--db", sqlite_url)]
    assert names == ["default"]


def test_profiles_in_one_database_do_not_see_each_others_data(
    cli, loaded, deck, make_deck, one_line_error
):
    cli.ok("profiles", "create", "alice", "--db", loaded)
    alice = ("--db", loaded, "--profile", "alice")
    assert cli.json("decks", "list", *alice) == []
    assert cli.json("cards", *alice) == []
    assert cli.json("due", *alice) == []
    theirs = cli.json("cards", "--db", loaded)[0]["card_id"]
    one_line_error(cli("answer", theirs, "good", *alice))
    one_line_error(cli("cards", "suspend", theirs, *alice))
    one_line_error(cli("undo", *alice))  # nothing of alice's to undo
    # the same deck file in alice's profile makes her own cards
    cli.ok("decks", "add", deck, *alice)
    mine = cli.json("cards", *alice)
    assert len(mine) == 4
    assert not {c["card_id"] for c in mine} & {
        c["card_id"] for c in cli.json("cards", "--db", loaded)
    }
    cli.ok("answer", mine[0]["card_id"], "good", *alice)
    cli.ok("config", "set", "new_per_day", "1", *alice)
    assert all(c["reps"] == 0 for c in cli.json("cards", "--db", loaded))
    assert cli.ok("config", "get", "new_per_day", "--db", loaded).out.strip() == "20"
    # undo in the default profile does not touch alice's answer
    one_line_error(cli("undo", "--db", loaded))
    assert sum(c["reps"] for c in cli.json("cards", *alice)) == 1
    decks = {p["name"]: p["decks"] for p in cli.json("profiles", "list", "--db", loaded)}
    assert decks == {"default": 1, "alice": 1}


def test_a_deck_taken_out_of_scope_and_back_over_days(cli, db_url):
    """Found living with it: `plan` told a student with 17,000 new AnKing cards to "suspend a
    low-yield deck" with `cards suspend CARD_ID...`, one id at a time. Now a deck or topic at
    once, its never-studied cards only with --new; studied cards keep their schedule."""
    from tests.conftest import DECKS

    db = db_url
    cli.ok("decks", "add", DECKS / "immunology.toml", DECKS / "physiology.toml", "--db", db)
    cli.at("2026-11-25T09:00:00+00:00")
    studied = [i["card_id"] for i in cli.json("due", "--deck", "Immunology", "--db", db)[:5]]
    for card in studied:
        cli.ok("answer", card, "good", "--db", db)
    immunology = {c["card_id"]: c for c in cli.json("cards", "--deck", "Immunology", "--db", db)}
    never = sorted(i for i, c in immunology.items() if c["state"] == "new")
    cli.at("2026-11-26T09:00:00+00:00")
    out = cli.json("cards", "suspend", "--deck", "Immunology", "--new", "--db", db)
    assert out == {"action": "suspend", "cards": never, "change": 1, "marks_only": []}
    assert cli.ok("cards", "suspend", "--deck", "Immunology", "--new", "--db", db).out == (
        "suspend: nothing to change in deck Step 1::Immunology\n"
    )
    queue = cli.json("due", "--limit", "1000", "--db", db)
    assert not {q["card_id"] for q in queue} & set(never)
    assert {q["card_id"] for q in queue} & set(studied)  # their learning steps go on
    listed = {c["card_id"]: c for c in cli.json("cards", "--deck", "Immunology", "--db", db)}
    assert [i for i, c in listed.items() if c["suspended"]] == never
    assert all(listed[i]["state"] != "new" for i in studied)
    cli.at("2026-11-28T09:00:00+00:00")
    text = cli.ok("cards", "--deck", "Immunology", "unsuspend", "--db", db).out
    assert text == (
        f"unsuspend: {len(never):,} cards of deck Step 1::Immunology\n"
        "  change 2: `flashcore cards suspend --last` undoes exactly these cards\n"
    )
    assert not any(c["suspended"] for c in cli.json("cards", "--db", db))
    assert set(never) & {q["card_id"] for q in cli.json("due", "--limit", "1000", "--db", db)}


@pytest.mark.parametrize(
    ("args", "words"),
    [
        (("cards", "suspend"), "name CARD_IDs or a scope (--deck D, --topic T), not neither"),
        (("cards", "suspend", "1", "--deck", "Test"), "not both"),
        (("cards", "flag", "--new"), "not neither"),
        (("cards", "bury", "1", "--new"), "--new goes with --deck or --topic"),
    ],
)
def test_a_card_action_without_one_scope_is_a_usage_line(cli, loaded_sqlite, args, words):
    result = cli(*args, "--db", loaded_sqlite)
    assert result.code == 2 and len(result.err_lines) == 1 and words in result.err
    assert not any(c["suspended"] or c["flagged"] for c in cli.json("cards", "--db", loaded_sqlite))


def test_a_card_action_on_an_unknown_deck_or_topic_changes_nothing(
    cli, loaded_sqlite, one_line_error
):
    assert "no topic 'Nope'" in one_line_error(
        cli("cards", "suspend", "--topic", "Nope", "--db", loaded_sqlite)
    )
    assert not any(c["suspended"] for c in cli.json("cards", "--db", loaded_sqlite))


def test_one_card_changed_in_a_scope_is_said_in_the_singular(cli, loaded_sqlite):
    db = loaded_sqlite
    ids = [c["card_id"] for c in cli.json("cards", "--db", db)]
    cli.ok("cards", "flag", *ids[1:], "--db", db)
    assert cli.ok("cards", "flag", "--deck", "Test", "--db", db).out.startswith("flag: 1 card of ")
    assert cli.ok("cards", "unflag", "--deck", "Test", "--new", "--db", db).out.startswith(
        f"unflag: {len(ids)} new cards of "
    )
