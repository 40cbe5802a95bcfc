"""The order new cards come in (setting `new_order`), through the command line on SQLite and
PostgreSQL: interleaved across decks and topic areas by default, deck by deck on request, the
same in every reader, stable across reloads, weak topics still first."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import pytest

from flashcore.core.clock import FixedClock
from flashcore.services import Flashcore
from flashcore.storage import planning
from tests.cli.conftest import NOW_ISO, Cli


def deck_body(prefix: str, areas: tuple[str, ...], count: int, *, qid_of: str = "") -> str:
    cards = []
    for i in range(count):
        area = areas[i % len(areas)]
        qids = f'qids = ["uworld:{900 + i}"]\n' if f"{prefix}{i}" == qid_of else ""
        cards.append(
            f'[[cards]]\nid = "{prefix}{i}"\nfront = "{prefix} question {i}"\nback = "a{i}"\n'
            f'topics = ["{area}::leaf {i}"]\n{qids}'
        )
    return "\n".join(cards)


@pytest.fixture
def two_decks(make_deck) -> tuple[Path, Path]:
    """Twenty biostatistics cards in two areas, then twenty cardiology cards."""
    biostat = make_deck(
        "biostat.toml",
        deck_body("bs", ("Biostatistics::Diagnostic tests", "Biostatistics::Bias"), 20),
        name="Step 1::Biostatistics",
        key="biostat",
    )
    cardio = make_deck(
        "cardio.toml",
        deck_body("cv", ("Cardiology::Heart failure",), 20, qid_of="cv13"),
        name="Step 1::Cardiology",
        key="cardio",
    )
    return biostat, cardio


def new_keys(cli: Cli, db: str, *extra: str) -> list[str]:
    queue = cli.json("due", "--db", db, *extra)
    assert all(e["state"] == "new" for e in queue)
    return [e["note_key"].split(":")[1] for e in queue]


def test_new_cards_alternate_decks_and_areas_by_default(cli, db_url, two_decks):
    cli.ok("decks", "add", *two_decks, "--db", db_url)
    assert cli.ok("config", "get", "new_order", "--db", db_url).out.strip() == "interleaved"
    first = new_keys(cli, db_url)
    assert len(first) == 20
    assert [k[:2] for k in first] == ["bs", "cv"] * 10
    biostat = [k for k in first if k.startswith("bs")]
    # Within the deck its two areas take turns, each in the file's order
    assert biostat == [f"bs{i}" for i in (0, 1, 2, 3, 4, 5, 6, 7, 8, 9)]
    assert new_keys(cli, db_url, "--deck", "Cardiology") == [f"cv{i}" for i in range(20)]


def test_config_set_new_order_deck_restores_deck_by_deck(cli, db_url, two_decks):
    cli.ok("decks", "add", *two_decks, "--db", db_url)
    assert cli.ok("config", "set", "new_order", "deck", "--db", db_url).out.strip() == "deck"
    assert new_keys(cli, db_url) == [f"bs{i}" for i in range(20)]
    cli.ok("config", "set", "new_order", "interleaved", "--db", db_url)
    assert [k[:2] for k in new_keys(cli, db_url)] == ["bs", "cv"] * 10


def test_a_bad_new_order_is_refused_in_one_line(cli, sqlite_url, one_line_error):
    line = one_line_error(cli("config", "set", "new_order", "shuffled", "--db", sqlite_url))
    assert line == (
        "flashcore: error: new_order: 'shuffled' is not one of interleaved, deck "
        "(use interleaved or deck)"
    )
    assert "new_order: interleaved or deck" in " ".join(cli("config", "--help").out.split())


def test_a_missed_questions_card_still_comes_before_the_order(cli, db_url, two_decks, tmp_path):
    cli.ok("decks", "add", *two_decks, "--db", db_url)
    log = tmp_path / "log.csv"
    log.write_text("question_id,result,date\n913,incorrect,2026-11-24\n", encoding="utf-8")
    cli.ok("qbank", "import", log, "--db", db_url)
    first = new_keys(cli, db_url)
    assert first[0] == "cv13"
    # Weak cardiology cards (the missed question's topic area) before the rest, then in order
    rest = [k for k in first[1:] if k.startswith("bs")]
    assert rest == sorted(rest, key=lambda k: int(k[2:]))


def test_reloading_writes_no_positions_and_studied_cards_keep_theirs(
    cli, db_url, two_decks, raw_sql
):
    cli.ok("decks", "add", *two_decks, "--db", db_url)
    first = new_keys(cli, db_url)
    for entry in cli.json("due", "--db", db_url, "--limit", "3"):
        cli.ok("answer", entry["card_id"], "good", "--db", db_url)
    before = raw_sql(db_url, "SELECT id, new_position, version FROM cards ORDER BY id")
    cli.ok("decks", "add", *two_decks, "--db", db_url)
    assert raw_sql(db_url, "SELECT id, new_position, version FROM cards ORDER BY id") == before
    assert new_keys(cli, db_url, "--extra-new", "3")[:17] == first[3:]


def test_a_deck_added_later_is_interleaved_with_the_new_cards_left(
    cli, db_url, two_decks, make_deck
):
    biostat, cardio = two_decks
    cli.ok("decks", "add", biostat, "--db", db_url)
    for entry in cli.json("due", "--db", db_url, "--limit", "10"):
        cli.ok("answer", entry["card_id"], "easy", "--db", db_url)
    cli.ok("decks", "add", cardio, "--db", db_url)
    waiting = new_keys(cli, db_url, "--extra-new", "100")
    # 10 biostatistics cards left, 20 cardiology ones: two cardiology cards to each biostatistics
    assert len(waiting) == 30
    assert [k[:2] for k in waiting[:6]] == ["cv", "bs", "cv", "cv", "bs", "cv"]
    # A note added later in a new area of its deck is not left at the end of everything
    extra = '\n[[cards]]\nid = "cv-new"\nfront = "q"\nback = "a"\ntopics = ["Cardiology::Valves"]\n'
    body = deck_body("cv", ("Cardiology::Heart failure",), 20, qid_of="cv13") + extra
    more = make_deck("cardio.toml", body, name="Step 1::Cardiology", key="cardio")
    cli.ok("decks", "add", more, "--db", db_url)
    waiting = new_keys(cli, db_url, "--extra-new", "100")
    assert len(waiting) == 31 and 10 <= waiting.index("cv-new") <= 20


def test_every_reader_sees_the_queues_order(cli, db_url, two_decks):
    """The forecast's introduction order (storage.planning) is the queue's."""
    cli.ok("decks", "add", *two_decks, "--db", db_url)
    queue = [e["card_id"] for e in cli.json("due", "--db", db_url, "--extra-new", "100")]
    clock = FixedClock(datetime.fromisoformat(NOW_ISO))
    with Flashcore.open(db_url, clock=clock) as fc, fc.engine.connect() as conn:
        _studied, fresh = planning.scope_ids(conn, fc.profile_id)
    assert fresh == queue
