"""`weakness`, `due`, `cards` and `qbank import` as a student runs them: the missed question
named, `weakness --json` as one object with topics and gaps, the alias a gap suggests run as
printed, the long-paste warning."""

from __future__ import annotations

import shlex

from tests.conftest import write_deck
from tests.weak_week import ACID_BASE, DECK, NEISSERIA, QID, TYPE_I, paste

ROWS = [
    (QID, "Renal", "Acid-base disorders", "Metabolic acidosis"),
    ("501", "Infectious diseases", "Gram-negative cocci", "Neisseria gonorrhoeae"),
    ("502", "Renal", "Tubular disorders", "Respiratory acidosis"),
] + [
    (f"6{n}", "Allergy", "Hypersensitivity reactions", "Type I hypersensitivity") for n in range(3)
]


def _setup(cli, db_url, tmp_path):
    cli.ok("decks", "add", write_deck(tmp_path / "week.toml", DECK, key="week"), "--db", db_url)
    log = tmp_path / "paste.tsv"
    log.write_bytes(paste(*ROWS))
    return cli.json("qbank", "import", log, "--db", db_url)


def test_weakness_json_is_one_object_with_ranked_topics_then_rollups_and_gaps(
    cli, db_url, tmp_path
):
    imported = _setup(cli, db_url, tmp_path)
    assert imported["matched"] == {"card": 1, "topic": 4, "none": 1}
    assert imported["warnings"] == []
    found = cli.json("weakness", "--db", db_url)
    assert set(found) == {"topics", "gaps", "leeches"}
    topics = found["topics"]
    leaves = [r["topic"] for r in topics if r["level"] == "topic"]
    # The Metabolic acidosis miss is uworld:118154: it counts for its card, which has no topic.
    assert leaves == [TYPE_I, NEISSERIA]
    assert [r["level"] for r in topics[: len(leaves)]] == ["topic"] * len(leaves)
    assert {r["level"] for r in topics[len(leaves) :]} == {"system", "subject"}
    type_i = next(r for r in topics if r["topic"] == TYPE_I)
    # UWorld's "% correct others" is 50 % on every miss of this paste: no topic's misses are
    # more surprising than another's, so the shares weigh nothing and neither the report nor
    # the cards' reasons name them (tests/services/test_qbank_others.py: shares that differ).
    assert type_i["reason"] == "3 misses in the last 14 days; about 30 min of study suggested"
    assert {r["others_correct"] for r in topics} == {None}
    (gap,) = found["gaps"]
    assert gap["text"] == "Respiratory acidosis" and gap["misses"] == 1
    assert gap["suggestion"]["topic"] == ACID_BASE
    limited = cli.json("weakness", "--limit", "1", "--db", db_url)
    assert len(limited["topics"]) == 1 and limited["gaps"] == found["gaps"]


def test_the_alias_a_gap_suggests_runs_as_printed_and_the_gap_goes(cli, db_url, tmp_path):
    cli.ok("decks", "add", write_deck(tmp_path / "week.toml", DECK, key="week"), "--db", db_url)
    log = tmp_path / "paste.tsv"
    log.write_bytes(paste(*ROWS))
    said = cli.ok("qbank", "import", log, "--db", db_url).out
    # The import names the gap and where its closest topic and the alias are found.
    assert "unmatched topics (gaps in your decks): Respiratory acidosis" in said
    assert "`flashcore weakness` names the closest topic for each" in said
    text = cli.ok("weakness", "--db", db_url).out
    assert "gaps: misses that matched no card or topic" in text
    command = next(line.strip() for line in text.splitlines() if "topics alias" in line)
    assert command == f"flashcore topics alias 'Respiratory acidosis' '{ACID_BASE}'"
    cli.ok(*shlex.split(command)[1:], "--db", db_url)
    found = cli.json("weakness", "--db", db_url)
    assert found["gaps"] == []
    acid = next(r for r in found["topics"] if r["topic"] == ACID_BASE)
    assert acid["misses"] == 1  # Metabolic acidosis went to the card (its qid): this is the alias


def test_due_and_cards_name_the_missed_question(cli, db_url, tmp_path):
    _setup(cli, db_url, tmp_path)
    first = cli.json("due", "--db", db_url)[0]
    assert first["note_key"] == "week:qid-alone"
    assert first["reason"] == f"new; missed uworld:{QID} on 2026-11-25"
    cards = {c["note_key"]: c for c in cli.json("cards", "--db", db_url)}
    assert cards["week:qid-alone"]["weakness"] == f"missed uworld:{QID} on 2026-11-25"
    assert cards["week:type1-a"]["weakness"].startswith(f"weak topic: {TYPE_I}")
    assert cards["week:plain"]["weakness"] == ""
    table = cli.ok("cards", "--db", db_url).out
    assert f"missed uworld:{QID} on 2026-11-25" in table


def test_a_long_paste_of_incorrects_warns_on_stderr_and_still_imports(cli, sqlite_url, tmp_path):
    cli.ok("decks", "add", write_deck(tmp_path / "week.toml", DECK, key="week"), "--db", sqlite_url)
    log = tmp_path / "long.tsv"
    log.write_bytes(paste(*[(str(700 + n), "Renal", "Acid-base", "Anion gap") for n in range(41)]))
    result = cli.ok("qbank", "import", log, "--db", sqlite_url)
    assert "41 attempts added" in result.out
    (warning,) = result.err_lines
    assert warning.startswith("flashcore: warning: all 41 pasted rows count as incorrect")
    short = tmp_path / "short.tsv"
    short.write_bytes(
        paste(*[(str(800 + n), "Renal", "Acid-base", "Anion gap") for n in range(40)])
    )
    assert cli.ok("qbank", "import", short, "--db", sqlite_url).err_lines == []


def test_weakness_without_misses_says_how_to_start(cli, sqlite_url):
    assert cli.json("weakness", "--db", sqlite_url) == {"topics": [], "gaps": [], "leeches": []}
    assert "no weak topics yet" in cli.ok("weakness", "--db", sqlite_url).out


def test_a_log_without_the_others_share_reports_none(cli, sqlite_url, tmp_path):
    """A CSV (no "% correct others") keeps the report as it was: no share, no words."""
    from tests.weak_week import csv_log

    cli.ok("decks", "add", write_deck(tmp_path / "week.toml", DECK, key="week"), "--db", sqlite_url)
    log = tmp_path / "log.csv"
    rows = [(f"9{n}", "incorrect", "2026-11-25", "Allergy", "Type I hypersensitivity")
            for n in range(3)]  # fmt: skip
    log.write_bytes(csv_log(*rows))
    cli.ok("qbank", "import", log, "--db", sqlite_url)
    type_i = next(r for r in cli.json("weakness", "--db", sqlite_url)["topics"]
                  if r["topic"] == TYPE_I)  # fmt: skip
    assert type_i["others_correct"] is None
    assert "of others" not in type_i["reason"]
