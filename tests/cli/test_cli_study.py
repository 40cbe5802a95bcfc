"""`flashcore due`, `answer`, `undo`, `check` and `stats` driven as a student (or a script) does."""

from __future__ import annotations

from datetime import datetime

import pytest

DUE_KEYS = {
    "card_id",
    "note_key",
    "deck",
    "topics",
    "state",
    "due",
    "reps",
    "retrievability",
    "priority",
    "reason",
}
T0 = "2026-11-25T09:00:00+00:00"
T0_10M = "2026-11-25T09:10:00+00:00"
T2 = "2026-11-27T10:00:00+00:00"
T2_15M = "2026-11-27T10:15:00+00:00"


def ids_by_key(cli, db):
    return {(c["note_key"], c["ord"]): c["card_id"] for c in cli.json("cards", "--db", db)}


def card(cli, db, card_id):
    (found,) = [c for c in cli.json("cards", "--db", db) if c["card_id"] == card_id]
    return found


def graduate(cli, db, *card_ids):
    """Good at T0 and again at T0+10m: new -> learning -> review."""
    for card_id in card_ids:
        cli.at(T0).ok("answer", card_id, "good", "--db", db)
    for card_id in card_ids:
        cli.at(T0_10M).ok("answer", card_id, "good", "--db", db)


def test_due_json_on_a_fresh_deck_lists_new_cards_one_per_note(cli, loaded):
    items = cli.json("due", "--db", loaded)
    assert [i["note_key"] for i in items] == ["test:t1-ige", "test:t1-cells", "test:t4-cells"]
    for item in items:
        assert set(item) >= DUE_KEYS, DUE_KEYS - set(item)
        assert type(item["card_id"]) is int
        assert item["state"] == "new"
        assert item["retrievability"] is None
        assert item["reps"] == 0
        assert item["deck"] == "Test::Deck"
        assert isinstance(item["topics"], list)
        assert isinstance(item["priority"], int | float)
        assert item["reason"]
        assert datetime.fromisoformat(item["due"]).utcoffset().total_seconds() == 0


def test_due_orders_learning_then_reviews_then_new_with_reasons(cli, loaded):
    ids = ids_by_key(cli, loaded)
    ige, t4 = ids[("test:t1-ige", 0)], ids[("test:t4-cells", 0)]
    graduate(cli, loaded, ige, t4)
    assert [c["state"] for c in cli.json("cards", "--db", loaded) if c["card_id"] in (ige, t4)] == [
        "review",
        "review",
    ]
    cli.at(T2).ok("answer", ige, "again", "--db", loaded)
    items = cli.at(T2_15M).json("due", "--db", loaded)
    assert [(i["card_id"], i["state"]) for i in items] == [
        (ige, "relearning"),
        (t4, "review"),
        (ids[("test:t1-cells", 1)], "new"),
    ]
    review = items[1]
    assert 0 < review["retrievability"] < 1
    assert review["reps"] == 2
    assert "due" in review["reason"]
    assert items[2]["retrievability"] is None
    text = cli.at(T2_15M).ok("due", "--db", loaded).out
    assert "1 new, 1 learning, 1 review" in text


def test_due_limit_and_deck_filter(cli, loaded_sqlite):
    assert len(cli.json("due", "--limit", "1", "--db", loaded_sqlite)) == 1
    assert len(cli.json("due", "--deck", "test", "--db", loaded_sqlite)) == 3


def test_due_says_all_done_when_nothing_is_left(cli, sqlite_url):
    assert "All done" in cli.ok("due", "--db", sqlite_url).out
    assert cli.json("due", "--db", sqlite_url) == []


@pytest.mark.parametrize(
    ("rating", "state"),
    [("again", "learning"), ("2", "learning"), ("GOOD", "learning"), ("4", "review")],
)  # fmt: skip
def test_answer_accepts_names_and_numbers(cli, loaded_sqlite, rating, state):
    target = cli.json("cards", "--db", loaded_sqlite)[0]["card_id"]
    result = cli.ok("answer", target, rating, "--db", loaded_sqlite)
    assert f"card {target}:" in result.out
    shown = card(cli, loaded_sqlite, target)
    assert shown["state"] == state
    assert shown["reps"] == 1


def test_answer_json_reports_the_new_schedule(cli, loaded_sqlite):
    target = cli.json("cards", "--db", loaded_sqlite)[0]["card_id"]
    result = cli.json("answer", target, "good", "--duration", "6.5", "--db", loaded_sqlite)
    assert result["card_id"] == target
    assert result["state"] == "learning"
    assert result["reps"] == 1
    assert result["due"] == T0_10M
    assert result["desired_retention"] == pytest.approx(0.9)


def test_answer_with_matching_expect_reps_is_recorded(cli, loaded_sqlite):
    target = cli.json("cards", "--db", loaded_sqlite)[0]["card_id"]
    cli.ok("answer", target, "good", "--expect-reps", "0", "--db", loaded_sqlite)
    cli.at(T0_10M).ok("answer", target, "good", "--expect-reps", "1", "--db", loaded_sqlite)
    assert card(cli, loaded_sqlite, target)["reps"] == 2


def test_answer_with_mismatched_expect_reps_refuses_and_changes_nothing(
    cli, loaded, one_line_error, raw_sql
):
    target = cli.json("cards", "--db", loaded)[0]["card_id"]
    cli.ok("answer", target, "good", "--db", loaded)
    before = cli.json("cards", "--db", loaded)
    line = one_line_error(cli("answer", target, "good", "--expect-reps", "0", "--db", loaded))
    assert str(target) in line
    assert cli.json("cards", "--db", loaded) == before
    assert raw_sql(loaded, "SELECT count(*) FROM review_logs") == [(1,)]


def test_answer_on_an_unknown_card_is_an_error(cli, loaded_sqlite, one_line_error):
    assert "424242" in one_line_error(cli("answer", "424242", "good", "--db", loaded_sqlite))


def test_answer_with_a_clock_before_the_last_review_is_refused(cli, loaded_sqlite, one_line_error):
    target = cli.json("cards", "--db", loaded_sqlite)[0]["card_id"]
    cli.at(T0_10M).ok("answer", target, "good", "--db", loaded_sqlite)
    before = card(cli, loaded_sqlite, target)
    one_line_error(cli.at(T0)("answer", target, "good", "--db", loaded_sqlite))
    assert card(cli, loaded_sqlite, target) == before


def test_undo_two_steps_restores_the_exact_previous_state(cli, loaded):
    ids = ids_by_key(cli, loaded)
    ige, c1 = ids[("test:t1-ige", 0)], ids[("test:t1-cells", 1)]
    cli.at(T0).ok("answer", ige, "good", "--db", loaded)
    before = cli.json("cards", "--db", loaded)
    cli.at(T0_10M).ok("answer", ige, "good", "--db", loaded)
    cli.at(T0_10M).ok("answer", c1, "again", "--db", loaded)  # buries its sibling c2
    assert card(cli, loaded, ids[("test:t1-cells", 2)])["buried"] is True
    undone = cli.at(T0_10M).json("undo", "--steps", "2", "--db", loaded)
    assert [u["card_id"] for u in undone] == [c1, ige]
    assert [u["rating"] for u in undone] == ["again", "good"]
    assert cli.json("cards", "--db", loaded) == before
    stats = cli.at(T0_10M).json("stats", "--db", loaded)
    assert stats["today"]["reviews"] == 1


def test_undo_across_a_study_day_is_refused_unless_confirmed(cli, loaded, one_line_error, raw_sql):
    """Day 1 answers a card, day 2 another: `undo --steps 2` on day 2 would reach day 1's
    answer; it is refused in one line, nothing changed, until --yes."""
    ids = ids_by_key(cli, loaded)
    ige, t4 = ids[("test:t1-ige", 0)], ids[("test:t4-cells", 0)]
    cli.at(T0).ok("answer", ige, "good", "--db", loaded)
    cli.at(T2).ok("answer", t4, "good", "--db", loaded)
    before = cli.at(T2).json("cards", "--db", loaded)
    line = one_line_error(cli.at(T2)("undo", "--steps", "2", "--db", loaded))
    assert "1 of the 2 answers were given on an earlier study day (2026-11-25)" in line
    assert "--yes" in line
    assert cli.at(T2).json("cards", "--db", loaded) == before
    assert raw_sql(loaded, "SELECT count(*) FROM review_logs") == [(2,)]
    # Today's answer alone is undone as ever; then the earlier one only when confirmed.
    assert [u["card_id"] for u in cli.at(T2).json("undo", "--db", loaded)] == [t4]
    line = one_line_error(cli.at(T2_15M)("undo", "--db", loaded))
    assert "the last answer was given on an earlier study day (2026-11-25)" in line
    undone = cli.at(T2_15M).json("undo", "--yes", "--db", loaded)
    assert [u["card_id"] for u in undone] == [ige]
    assert raw_sql(loaded, "SELECT count(*) FROM review_logs") == [(0,)]


def test_undo_restores_a_card_that_became_a_leech(cli, loaded_sqlite):
    db = loaded_sqlite
    target = ids_by_key(cli, db)[("test:t1-ige", 0)]
    cli.ok("config", "set", "leech_threshold", "1", "--db", db)
    cli.ok("config", "set", "leech_action", "suspend", "--db", db)
    graduate(cli, db, target)
    before = card(cli, db, target)
    result = cli.at(T2).ok("answer", target, "again", "--db", db)
    assert "leech" in result.out
    leech = card(cli, db, target)
    assert (leech["suspended"], leech["leech"], leech["lapses"]) == (True, True, 1)
    cli.at(T2).ok("undo", "--db", db)
    assert card(cli, db, target) == before


def test_undo_restores_a_buried_card_that_was_answered(cli, loaded_sqlite):
    db = loaded_sqlite
    target = cli.json("cards", "--db", db)[0]["card_id"]
    cli.ok("cards", "bury", target, "--db", db)
    before = card(cli, db, target)
    assert before["buried"] is True
    cli.ok("answer", target, "good", "--db", db)
    cli.ok("undo", "--db", db)
    assert card(cli, db, target) == before


def test_undo_with_nothing_to_undo_is_an_error(cli, loaded_sqlite, one_line_error):
    assert "nothing to undo" in one_line_error(cli("undo", "--db", loaded_sqlite))


def test_undo_steps_must_be_positive(cli, loaded_sqlite):
    result = cli("undo", "--steps", "0", "--db", loaded_sqlite)
    assert result.code in (1, 2)
    assert len(result.err_lines) == 1


def test_check_passes_on_a_clean_collection(cli, loaded_sqlite):
    ids = ids_by_key(cli, loaded_sqlite)
    graduate(cli, loaded_sqlite, ids[("test:t1-ige", 0)], ids[("test:t1-cells", 1)])
    cli.at(T2).ok("answer", ids[("test:t1-ige", 0)], "again", "--db", loaded_sqlite)
    result = cli.at(T2).ok("check", "--db", loaded_sqlite)
    assert "checked 4 cards, 5 reviews" in result.out
    report = cli.at(T2).json("check", "--db", loaded_sqlite)
    assert report["problems"] == []
    assert report["cards"] == 4
    assert report["reviews"] == 5


def test_check_finds_a_corrupted_card_and_repair_fixes_it(cli, loaded, raw_sql):
    ids = ids_by_key(cli, loaded)
    target = ids[("test:t4-cells", 0)]
    graduate(cli, loaded, target)
    good = card(cli, loaded, target)
    raw_sql(loaded, "UPDATE cards SET stability = 99.5 WHERE id = ?", (target,))
    found = cli.at(T2)("check", "--db", loaded)
    assert found.code == 1
    assert f"card {target}:" in found.out
    assert "stability" in found.out
    report = cli.at(T2)("check", "--json", "--db", loaded)
    assert report.code == 1
    assert [p["card_id"] for p in report.json()["problems"]] == [target]
    repaired = cli.at(T2).ok("check", "--repair", "--db", loaded)
    assert "repaired 1" in repaired.out
    assert cli.at(T2).json("check", "--db", loaded)["problems"] == []
    fixed = card(cli, loaded, target)
    for key in ("stability", "difficulty", "due", "state", "reps", "lapses"):
        assert (
            fixed[key] == pytest.approx(good[key])
            if key == "stability"
            else fixed[key] == good[key]
        )


def test_check_does_not_report_cards_scheduled_under_earlier_settings(cli, loaded_sqlite):
    """Changing the learning steps is not corruption: cards answered before keep the schedule
    they were given, and `check` must not flag them (nor `--repair` rewrite them)."""
    db = loaded_sqlite
    ids = ids_by_key(cli, db)
    cli.ok("answer", ids[("test:t1-ige", 0)], "good", "--db", db)
    cli.ok("answer", ids[("test:t4-cells", 0)], "again", "--db", db)
    cli.ok("check", "--db", db)
    cli.ok("config", "set", "learning_steps", "2m 20m", "--db", db)
    result = cli("check", "--db", db)
    assert result.code == 0, result.out


def test_check_finds_a_card_with_state_but_no_log(cli, loaded_sqlite, raw_sql):
    target = ids_by_key(cli, loaded_sqlite)[("test:t1-ige", 0)]
    raw_sql(loaded_sqlite, "UPDATE cards SET reps = 3, state = 2 WHERE id = ?", (target,))
    result = cli("check", "--db", loaded_sqlite)
    assert result.code == 1
    assert f"card {target}:" in result.out
    cli.ok("check", "--repair", "--db", loaded_sqlite)
    assert card(cli, loaded_sqlite, target)["state"] == "new"
    cli.ok("check", "--db", loaded_sqlite)


def test_stats_json_counts_today_and_forecasts(cli, loaded_sqlite):
    ids = ids_by_key(cli, loaded_sqlite)
    graduate(cli, loaded_sqlite, ids[("test:t1-ige", 0)])
    cli.at(T0_10M).ok("answer", ids[("test:t4-cells", 0)], "again", "--db", loaded_sqlite)
    data = cli.at(T0_10M).json("stats", "--db", loaded_sqlite)
    assert set(data) >= {"today", "last_30_days", "cards", "forecast"}
    assert data["today"]["reviews"] == 3
    assert data["today"]["new"] == 2
    assert data["today"]["again"] == 1
    counts = {"new": 2, "learning": 1, "review": 1, "relearning": 0, "suspended": 0}
    assert {k: data["cards"][k] for k in counts} == counts
    assert data["last_30_days"]["reviews"] == 3
    assert data["last_30_days"]["true_retention"] is None  # no review-state answers yet
    per_day = data["last_30_days"]["per_day"]
    assert len(per_day) == 30
    assert per_day[-1] == {"date": "2026-11-25", "reviews": 3}
    forecast = data["forecast"]
    assert forecast[0]["date"] == "2026-11-25"
    # One new card a day of the cloze note (siblings). Today: the learning card. Tomorrow's first queue: that card again if it is not answered
    # today (the backlog counts), as `queue.tomorrow` says. Later: the graduated card.
    assert [d["due"] for d in forecast[:2]] == [1, 1]
    assert data["queue"]["today"] == {"new": 1, "learning": 1, "review": 0, "total": 2}
    assert data["queue"]["tomorrow"] == {"new": 1, "learning": 1, "review": 0, "total": 2}
    assert sum(d["due"] for d in forecast[2:]) == 1
    text = cli.at(T0_10M).ok("stats", "--db", loaded_sqlite).out
    assert text.startswith("today: 3 answers (1 again)")
    assert "due tomorrow: 1 new, 1 learning, 0 review" in text


def test_stats_true_retention_counts_review_answers(cli, loaded_sqlite):
    ids = ids_by_key(cli, loaded_sqlite)
    ige, t4 = ids[("test:t1-ige", 0)], ids[("test:t4-cells", 0)]
    graduate(cli, loaded_sqlite, ige, t4)
    cli.at(T2).ok("answer", ige, "again", "--db", loaded_sqlite)
    cli.at(T2).ok("answer", t4, "good", "--db", loaded_sqlite)
    data = cli.at(T2).json("stats", "--db", loaded_sqlite)
    assert data["last_30_days"]["true_retention"] == pytest.approx(0.5)


def test_deck_and_topic_accept_a_unique_end_of_their_name(cli, loaded_sqlite, one_line_error):
    db = loaded_sqlite
    whole = cli.json("due", "--topic", "Immunology::Hypersensitivity::Type I", "--db", db)
    assert cli.json("due", "--topic", "type i", "--db", db) == whole
    assert cli.json("cards", "--deck", "Deck", "--db", db) == cli.json(
        "cards", "--deck", "Test::Deck", "--db", db
    )
    assert cli.json("due", "--topic", "Type 1", "--db", db) == whole  # topic keys read 1 as I
    line = one_line_error(cli("due", "--topic", "Typ I", "--db", db))
    assert "did you mean 'Immunology::Hypersensitivity::Type I'" in line
    line = one_line_error(cli("due", "--topic", "Hypersensitivity::Type", "--db", db))
    assert "no topic 'Hypersensitivity::Type'" in line
