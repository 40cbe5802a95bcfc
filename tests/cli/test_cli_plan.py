"""`exam`, `plan`, `assess`, `optimize` and `due --minutes` as a student runs them: their
`--json` keys, several days with FLASHCORE_NOW, and bad input (one clear line, nothing
changed)."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from tests.conftest import DECKS

REPORT = DECKS / "samples" / "nbme-report.txt"
CSV_REPORT = DECKS / "samples" / "nbme-report.csv"


@pytest.fixture
def loaded(cli, db_url):
    cli.ok("decks", "add", DECKS / "immunology.toml", DECKS / "physiology.toml", "--db", db_url)
    return db_url


def test_exam_set_show_and_clear_with_json(cli, loaded):
    data = cli.json("exam", "set", "2027-02-15", "--minutes-per-day", "90", "--db", loaded)
    assert data["exam_date"] == "2027-02-15" and data["minutes_per_day"] == 90
    assert data["buffer_days"] == 7 and data["days_left"] == 82
    assert data["new_per_day_needed"] >= 1
    assert cli.json("exam", "show", "--db", loaded)["minutes_per_day"] == 90
    again = cli.json("exam", "set", "2027-02-15", "--buffer-days", "10", "--db", loaded)
    assert again["minutes_per_day"] == 90 and again["buffer_days"] == 10  # the rest kept
    assert "82 days left" in cli.ok("exam", "show", "--db", loaded).out
    cli.ok("exam", "clear", "--db", loaded)
    gone = cli("exam", "show", "--db", loaded)
    assert gone.code == 1 and gone.err_lines == [
        "flashcore: error: no exam date set: flashcore exam set YYYY-MM-DD --minutes-per-day "
        "MINUTES"
    ]


@pytest.mark.parametrize(
    ("args", "code", "words"),
    [
        (("exam", "set", "2020-01-01"), 2, "is in the past"),
        (("exam", "set", "2026-11-25"), 2, "is today"),
        (("exam", "set", "2027-02-15", "--minutes-per-day", "0"), 2, "'0' is not a whole"),
        (("exam", "set", "15/02/2027"), 2, "is not a date (YYYY-MM-DD)"),
        (("exam", "set", "2027-02-15", "--buffer-days", "99"), 2, "--buffer-days"),
        (("assess", "add", "NBME 31", "101"), 2, "not a score from 0 to 100"),
        (("assess", "add", "NBME 31", "-3"), 2, "not a score from 0 to 100"),
        (("assess", "add", "NBME 31", "60", "--pass-line", "abc"), 2, "not a score"),
        (("assess", "add", "NBME 31", "60", "--date", "2026-12-01"), 1, "after today"),
        (("assess", "add", "NBME 31", "60", "--report", "README.md"), 1,
         "unknown report form"),
        (("assess", "add", "NBME 31", "60", "--report", "missing.txt"), 1, "missing.txt"),
        (("due", "--minutes", "0"), 2, "'0' is not a whole number"),
    ],
)  # fmt: skip
def test_bad_input_is_one_line_and_changes_nothing(cli, loaded, args, code, words, tmp_path):
    (tmp_path / "README.md").write_text("# not a report\nScore 58\n", encoding="utf-8")
    result = cli(*args, "--db", loaded)
    assert result.code == code, result.err
    assert len(result.err_lines) == 1 and words in result.err, result.err
    assert "Traceback" not in result.err
    assert cli.json("assess", "list", "--db", loaded) == []
    assert cli("exam", "show", "--db", loaded).code == 1  # no exam stored


def test_plan_json_keys_and_days_to_the_exam(cli, loaded):
    cli.ok("exam", "set", "2026-12-31", "--minutes-per-day", "45", "--db", loaded)
    data = cli.json("plan", "--db", loaded)
    assert {"exam_date", "days_left", "minutes_per_day", "new_cards_left", "new_per_day_needed",
            "days", "readiness", "warnings"} <= set(data)  # fmt: skip
    assert len(data["days"]) == data["days_left"] == 36
    day = data["days"][0]
    assert {"date", "reviews", "new", "minutes", "over_budget"} <= set(day)
    assert day["date"] == "2026-11-25"
    assert {"systems", "disciplines", "expected_points_at_risk"} <= set(data["readiness"])
    assert all({"kind", "message"} == set(w) for w in data["warnings"])
    text = cli.ok("plan", "--db", loaded).out
    assert "Readiness by system on exam day, at that pace" in text and "week of" in text
    # the forecast's pace is named: it is the plan's, not new_per_day, in manual mode too
    assert f"at {data['new_per_day_needed']:,} new cards a day" in text


def test_a_week_of_days_with_plan_mode_auto(cli, loaded):
    cli.ok("exam", "set", "2026-12-31", "--minutes-per-day", "60", "--db", loaded)
    cli.ok("config", "set", "plan_mode", "auto", "--db", loaded)
    needed = []
    for day in range(25, 30):
        cli.at(f"2026-11-{day}T09:00:00+00:00")
        queue = cli.json("due", "--db", loaded)
        needed.append(int(cli.ok("config", "get", "new_per_day", "--db", loaded).out))
        if day % 2:  # study every other day
            for item in queue[:10]:
                cli.ok("answer", item["card_id"], "good", "--duration", "7", "--db", loaded)
    assert needed == sorted(needed)  # falling behind raises it; it never drops here
    plan = cli.json("plan", "--db", loaded)
    assert plan["plan_mode"] == "auto" and plan["new_per_day"] == needed[-1]


def test_assess_add_with_a_report_and_list(cli, loaded):
    added = cli.json("assess", "add", "NBME 30", "57", "--date", "2026-11-10", "--report",
                     CSV_REPORT, "--db", loaded)  # fmt: skip
    assert added["passed"] is False and added["margin"] == -3
    assert {"kind", "area", "band", "percent"} <= set(added["areas"][0])
    cli.ok("assess", "add", "NBME 31", "64", "--date", "2026-11-24", "--pass-line", "60",
           "--report", REPORT, "--db", loaded)  # fmt: skip
    listed = cli.json("assess", "list", "--db", loaded)
    assert [a["name"] for a in listed] == ["NBME 31", "NBME 30"]
    assert {"assessment_id", "name", "date", "score", "pass_line", "margin", "passed",
            "areas"} <= set(listed[0])  # fmt: skip
    text = cli.ok("assess", "list", "--db", loaded).out
    assert "projected on" in text
    due = cli.json("due", "--limit", "3", "--db", loaded)
    # Immunology (a weak system) and physiology (a weak discipline) cards take turns
    assert all("lower on NBME 31" in item["reason"] for item in due)
    assert any("weak system" in item["reason"] for item in due)
    cli.ok("assess", "remove", str(listed[0]["assessment_id"]), "--db", loaded)
    assert len(cli.json("assess", "list", "--db", loaded)) == 1


def test_the_same_assessment_added_again_adds_nothing(cli, loaded):
    # Typed twice (the shell's history), the same NBME became two points on one day: the
    # projection's trend and the report's weight counted it twice.
    args = ("assess", "add", "NBME 31", "64", "--date", "2026-11-24", "--report", REPORT)
    first = cli.json(*args, "--db", loaded)
    again = cli(*args, "--db", loaded)
    assert again.code == 1 and len(again.err_lines) == 1
    assert "NBME 31 on 2026-11-24 is already recorded (assessment " in again.err
    assert f"assessment {first['assessment_id']}" in again.err and "nothing was added" in again.err
    # another spelling of the same name, another score: the same form on the same day
    other = cli("assess", "add", "nbme  31 ", "70", "--date", "2026-11-24", "--db", loaded)
    assert other.code == 1 and "assess remove" in other.err
    assert [a["assessment_id"] for a in cli.json("assess", "list", "--db", loaded)] == [
        first["assessment_id"]
    ]
    # the same form on another day (a retake) is a new assessment
    cli.ok("assess", "add", "NBME 31", "66", "--date", "2026-11-25", "--db", loaded)
    assert len(cli.json("assess", "list", "--db", loaded)) == 2


def test_due_within_minutes_lists_what_is_kept_then_what_is_postponed(cli, loaded):
    everything = cli.json("due", "--db", loaded)
    data = cli.json("due", "--minutes", "3", "--db", loaded)
    kept = [i for i in data if not i["postponed"]]
    postponed = [i for i in data if i["postponed"]]
    assert len(kept) + len(postponed) == len(everything)
    assert sum(i["seconds"] for i in kept) <= 180
    assert all(i["reason"].startswith("postponed: over today's 3-minute budget")
               for i in postponed)  # fmt: skip
    text = cli.ok("due", "--minutes", "3", "--db", loaded).out
    assert "postponed to tomorrow" in text


def test_optimize_refuses_with_too_few_reviews_and_changes_nothing(cli, loaded):
    result = cli("optimize", "--db", loaded)
    assert result.code == 1 and len(result.err_lines) == 1
    assert "optimize needs at least 1,000 reviews" in result.err
    assert cli.ok("config", "get", "fsrs_parameters", "--db", loaded).out.strip() == (
        "(FSRS-6 defaults)"
    )


def test_every_new_command_has_help_with_an_example(cli):
    for args in (("exam",), ("plan",), ("assess",), ("assess", "add"), ("optimize",)):
        result = cli(*args, "--help")
        assert result.code == 0 and "example:" in result.out, args


def test_the_samples_are_the_readmes_example(cli):
    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text(encoding="utf-8")
    assert "nbme-report.txt" in readme and "flashcore plan" in readme


def test_the_plan_is_the_same_in_every_process(tmp_path, sqlite_template):
    """The forecast's fuzz is drawn from its own state, never from Python's per-process string
    hashing: two processes (different hash seeds) print the same plan."""
    import json
    import os
    import subprocess
    import sys

    db = tmp_path / "p.sqlite3"
    env = {**os.environ, "FLASHCORE_NOW": "2026-11-25T09:00:00+00:00",
           "FLASHCORE_HOME": str(tmp_path / "home"), "PYTHONPATH": str(DECKS.parent)}  # fmt: skip

    def flashcore(*args: object, seed: str = "0") -> str:
        done = subprocess.run(
            [sys.executable, "-m", "flashcore.cli", *map(str, args), "--db", db],
            env={**env, "PYTHONHASHSEED": seed}, capture_output=True, text=True, check=True,
        )  # fmt: skip
        return done.stdout

    shutil.copy(sqlite_template, db)  # a new collection, as `init` leaves it
    flashcore("decks", "add", DECKS / "immunology.toml", DECKS / "physiology.toml")
    flashcore("exam", "set", "2027-01-10", "--minutes-per-day", "20")
    first = json.loads(flashcore("plan", "--json", seed="1"))
    second = json.loads(flashcore("plan", "--json", seed="2"))
    assert first == second


def test_past_the_exam_day_the_exam_changes_nothing_and_says_what_to_do(cli, loaded):
    """Found living with it (FLASHCORE_NOW past the exam): `plan` printed '-1 days left' and
    a forecast, a warning to move the exam to a later date, and `plan_mode auto` went on
    asking for every new card left each day (the buffer's rule) after the exam."""
    cli.ok("exam", "set", "2026-12-05", "--minutes-per-day", "60", "--db", loaded)
    cli.ok("config", "set", "plan_mode", "auto", "--db", loaded)
    cli.ok("assess", "add", "NBME 30", "55", "--date", "2026-11-20", "--db", loaded)
    cli.ok("assess", "add", "NBME 31", "61", "--date", "2026-11-24", "--db", loaded)
    assert cli.json("plan", "--db", loaded)["assessments"]["projected"] is not None
    new_left = cli.json("exam", "show", "--db", loaded)["new_cards_left"]
    cli.at("2026-12-01T09:00:00+00:00").ok("due", "--db", loaded)  # in the buffer
    assert cli.ok("config", "get", "new_per_day", "--db", loaded).out.strip() == str(new_left)
    cli.at("2026-12-05T09:00:00+00:00")  # the exam day: still on
    assert "0 days left" in cli.ok("exam", "show", "--db", loaded).out
    cli.at("2026-12-06T09:00:00+00:00")
    queue = cli.json("due", "--limit", "1000", "--db", loaded)
    assert cli.ok("config", "get", "new_per_day", "--db", loaded).out.strip() == "20"
    assert len([c for c in queue if c["state"] == "new"]) == min(20, new_left)
    shown = cli.json("exam", "show", "--db", loaded)
    assert shown["passed"] and shown["new_per_day_needed"] == 0
    assert "behind (1 day ago)" in cli.ok("exam", "show", "--db", loaded).out
    plan = cli.json("plan", "--db", loaded)
    assert plan["passed"] and plan["days"] == [] and plan["days_left"] == -1
    assert [w["kind"] for w in plan["warnings"]] == ["exam_passed"]
    assert plan["assessments"]["projected"] is None  # no score projected to a past day
    text = cli.ok("plan", "--db", loaded).out
    assert "days left" not in text and "flashcore exam set" in text
    cli.ok("config", "set", "new_per_day", "35", "--db", loaded)  # set by hand after the exam
    cli.at("2026-12-07T09:00:00+00:00").ok("due", "--db", loaded)
    assert cli.ok("config", "get", "new_per_day", "--db", loaded).out.strip() == "35"
    solve = cli("plan", "--solve", "--db", loaded)
    assert solve.code == 1 and solve.err_lines == [
        "flashcore: error: the exam day 2026-12-05 is behind: nothing to solve toward; set the "
        "next one first (`flashcore exam set YYYY-MM-DD --minutes-per-day M`)"
    ]


def test_a_review_limit_the_reviews_outgrow_is_said_alike_by_plan_and_due(cli, loaded):
    """Found living with it (an Anki collection imported, ~550 reviews due a day, the default
    200 a day): `plan` showed a calm 41 min/day while the backlog grew by thousands, advised
    more minutes when the budget was not what held new cards back, and `due` offered
    `--extra-new` for new cards that only the review limit kept out. Days of study with a
    moving clock; each day the plan's first day and `due` agree on what waits."""
    cli.ok("exam", "set", "2026-12-31", "--minutes-per-day", "120", "--db", loaded)
    cli.ok("config", "set", "new_per_day", "40", "--db", loaded)
    for day in ("25", "26", "27"):  # 120 cards learnt: their reviews come back together
        cli.at(f"2026-11-{day}T09:00:00+00:00")
        for item in cli.json("due", "--limit", "1000", "--db", loaded):
            cli.ok("answer", item["card_id"], "good", "--duration", "5", "--db", loaded)
    cli.ok("config", "set", "reviews_per_day", "10", "--db", loaded)
    cli.at("2026-12-05T09:00:00+00:00")
    queue = cli.json("due", "--limit", "1000", "--db", loaded)
    assert sum(1 for q in queue if q["state"] == "review") == 10
    assert not [q for q in queue if q["state"] == "new"]  # the reviews fill the limit
    text = cli.ok("due", "--db", loaded).out
    held = int(text.split(" more due reviews wait beyond today's review limit")[0].split()[-1])
    assert "40 new cards of today's 40 wait: new cards count against the review limit" in text
    assert "--extra-new" not in text  # raising the new-card limit would bring none
    plan = cli.json("plan", "--db", loaded)
    first = plan["days"][0]
    # the plan introduces new cards at the rate it needs (here fewer than new_per_day)
    needed = plan["new_per_day_needed"]
    assert (first["reviews"], first["held_reviews"], first["held_new"]) == (10, held, needed)
    assert plan["days"][-1]["held_reviews"] > held  # the backlog grows to the exam
    warnings = {w["kind"]: w["message"] for w in plan["warnings"]}
    assert "over_budget" not in warnings
    limit = warnings["review_limit"]
    assert limit.startswith("reviews_per_day 10 leaves due reviews waiting on ")
    last = plan["days"][-1]
    assert f" of {len(plan['days'])} days ({held} today, about {last['held_reviews']} on " in limit
    assert "a day fall due after today" in limit
    assert "more minutes" not in warnings.get("unseen_on_exam_day", "")
    assert "waiting at end" in cli.ok("plan", "--db", loaded).out
    enough = 200
    cli.ok("config", "set", "reviews_per_day", str(enough), "--db", loaded)  # raised, as advised
    plan = cli.json("plan", "--db", loaded)
    assert "review_limit" not in {w["kind"] for w in plan["warnings"]}
    assert plan["days"][0]["held_reviews"] == plan["days"][0]["held_new"] == 0
    text = cli.ok("due", "--db", loaded).out
    assert "wait beyond today's review limit" not in text and "count against" not in text


def test_the_review_limit_warning_counts_the_days_reviews_wait_apart_from_new_cards(
    cli, sqlite_url
):
    """Found in review: with a review limit below the new-card limit, new cards got no room
    every day while reviews waited on fewer days, and the warning said "leaves due reviews
    waiting on 84 of 84 days (0 today, ...)": it counted the days of either."""
    cli.ok("decks", "add", DECKS / "immunology.toml", "--db", sqlite_url)
    cli.ok("exam", "set", "2026-12-31", "--db", sqlite_url)
    cli.ok("config", "set", "reviews_per_day", "5", "--db", sqlite_url)
    plan = cli.json("plan", "--db", sqlite_url)
    days = plan["days"]
    waiting = sum(1 for d in days if d["held_reviews"])
    squeezed = sum(1 for d in days if d["held_new"])
    assert waiting < squeezed  # the case: new cards get no room on more days
    message = {w["kind"]: w["message"] for w in plan["warnings"]}["review_limit"]
    if waiting:
        assert f"leaves due reviews waiting on {waiting} of {len(days)} days (" in message
        assert f"and no room for new cards on {squeezed} (they count against it)" in message
    else:
        assert message.startswith(
            f"reviews_per_day 5 leaves no room for new cards on {squeezed} of {len(days)} days"
        )


def test_new_cards_a_review_limit_below_the_new_card_limit_keeps_out_are_not_blamed_on_reviews(
    cli, sqlite_url
):
    """Found in review: `reviews_per_day 200` with `new_per_day 300` and nothing due; `due`
    said "100 new cards of today's 300 wait: new cards count against the review limit, which
    today's due reviews fill" with no review due at all."""
    cli.ok("decks", "add", DECKS / "immunology.toml", "--db", sqlite_url)
    cli.ok("config", "set", "new_per_day", "30", "--db", sqlite_url)
    cli.ok("config", "set", "reviews_per_day", "20", "--db", sqlite_url)
    text = cli.ok("due", "--db", sqlite_url).out
    assert "0 review" in text and "10 new cards of today's 30 wait: new cards count" in text
    assert "due reviews fill" not in text


def _per_day(cli, db: str) -> tuple[int, int, int]:
    """new_per_day as `config get`, `plan` and the queue's new cards (none studied today) say."""
    shown = int(cli.ok("config", "get", "new_per_day", "--db", db).out)
    planned = cli.ok("plan", "--db", db).out.splitlines()[1]
    in_plan = int(planned.rsplit("new_per_day ", 1)[1].rstrip(")"))
    queued = cli.json("stats", "--db", db)["queue"]["today"]["new"]
    return shown, in_plan, queued


def test_plan_mode_auto_takes_effect_the_day_it_is_set_and_the_day_the_exam_moves(cli, loaded):
    # Found living with it: `config set plan_mode auto` left new_per_day at 20 in `config get`
    # and `plan` until some queue read that day applied it, and an exam moved earlier in auto
    # mode kept yesterday's new cards a day until the next study day (165 needed, 51 queued).
    cli.ok("config", "set", "new_per_day", "5", "--db", loaded)
    cli.ok("exam", "set", "2027-01-05", "--db", loaded)
    assert _per_day(cli, loaded) == (5, 5, 5)  # manual: the exam changes nothing
    cli.ok("config", "set", "plan_mode", "auto", "--db", loaded)
    first = cli.json("exam", "show", "--db", loaded)["new_per_day_needed"]
    assert first > 5 and _per_day(cli, loaded) == (first, first, first)
    cli.ok("exam", "set", "2026-12-20", "--db", loaded)  # sooner: more a day, today
    sooner = cli.json("exam", "show", "--db", loaded)["new_per_day_needed"]
    assert sooner > first and _per_day(cli, loaded) == (sooner, sooner, sooner)
    # The next day, `plan` as the day's first command shows the day's value too.
    cli.at("2026-11-26T09:00:00+00:00")
    needed = cli.json("exam", "show", "--db", loaded)["new_per_day_needed"]
    assert _per_day(cli, loaded) == (needed, needed, needed)
