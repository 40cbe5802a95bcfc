"""The wrong command for a file, as a student mixes them up: found living with it, `decks add
decks/samples/missed.csv` loaded a UWorld log as 16 flashcards ("question_id" on the front of
one, a question id on the front of each other) into the new-card queue, and `decks add` of the
UWorld paste as 12; a score report or a list of ids was refused with a problem about notes.
Each is now refused with the command that loads it, nothing changed, and a deck that only
resembles a table (an `id` column, a `Question` header) still loads. The other way round,
`qbank import` of a deck or an Anki package names `decks add`."""

from __future__ import annotations

import io
from pathlib import Path

import pytest

from tests.cli.test_bad_input import dump, refused

SAMPLES = Path(__file__).parents[2] / "decks" / "samples"


def _refused_by_decks_add(cli, db: str, path: Path, why: str) -> None:
    """`decks add PATH` refused in one line (`PATH: WHY; nothing was loaded`), the collection
    unchanged."""
    before = dump(db)
    line = refused(cli("decks", "add", path, "--db", db))
    assert line == f"{path}: {why}; nothing was loaded"
    assert dump(db) == before


def _refused_as_a_log(cli, db: str, log: Path, kind: str) -> None:
    why = f"a missed-question log ({kind}), not a deck: load it with `flashcore qbank import {log}`"
    _refused_by_decks_add(cli, db, log, why)


@pytest.mark.parametrize(
    ("sample", "kind"),
    [
        ("missed.csv", "a table, 15 questions"),
        ("uworld-paste.tsv", "a UWorld paste, 12 questions"),
        ("incorrect-qids.txt", "question ids, 8 questions"),
    ],
)
def test_a_missed_question_log_given_to_decks_add_names_qbank_import(
    cli, loaded_sqlite, sample, kind
):
    log = SAMPLES / sample
    _refused_as_a_log(cli, loaded_sqlite, log, kind)
    imported = cli.json("qbank", "import", log, "--db", loaded_sqlite)
    assert imported["added"] > 0


@pytest.mark.parametrize("sample", ["nbme-report.csv", "nbme-report.txt"])
def test_a_score_report_given_to_decks_add_names_assess_add(cli, loaded_sqlite, sample):
    report = SAMPLES / sample
    why = (
        "a self-assessment's score report, not a deck: load it with "
        f"`flashcore assess add NAME SCORE --report {report}`"
    )
    _refused_by_decks_add(cli, loaded_sqlite, report, why)


def test_the_samples_folder_given_to_decks_add_loads_nothing(cli, loaded_sqlite):
    before = dump(loaded_sqlite)
    result = cli("decks", "add", SAMPLES, "--db", loaded_sqlite)
    assert result.code == 1
    assert "0 of 5 files loaded" in result.err
    assert (result.out + result.err).count("not a deck: load it with") == 5
    assert dump(loaded_sqlite) == before


@pytest.mark.parametrize(
    ("name", "text", "cards"),
    [
        ("ids.csv", "id,front,back\n1,What is 1?,One\n2,What is 2?,Two\n", 2),
        ("qa.csv", "Question,Answer\nWhat blocks H1?,Diphenhydramine\n", 1),
        ("numbers.tsv", "1\tWhat is the first?\n2\tWhat is the second?\n", 2),
        # a front that is a range reads as UWorld's `n - QID` cell; no % or time: a deck
        ("labs.tsv", "135-145\tSodium (mEq/L)\n95-105\tChloride\n7-18\tBUN\n", 3),
        ("wars.txt", "1914-1918\tWorld War I\r\n1939-1945\tWorld War II\r\n", 2),
        # a deck's header beside columns a log has too (an id, a topic or subject)
        ("own.csv", "ID,Question,Answer,Topic\n1,What blocks H1?,Diphenhydramine,H1\n", 1),
        ("sheet.csv", "id,front,back,subject\r\n7,Aspirin MOA?,COX,Pharmacology\r\n", 1),
        (
            "prompts.csv",
            "ID,Prompt,Response,Topic\n3,Drug of choice for absence?,Ethosuximide,Neuro\n",
            1,
        ),
        ("sides.csv", "QID,Front,Extra,System\n9,Aspirin MOA?,Irreversible COX,Heme\n", 1),
    ],
)
def test_a_deck_that_resembles_a_table_still_loads(cli, sqlite_url, tmp_path, name, text, cards):
    # (a header row is no card: one card per row below it)
    deck = tmp_path / name
    deck.write_text(text, encoding="utf-8")
    (report,) = cli.json("decks", "add", deck, "--db", sqlite_url)
    assert report["ok"] and report["added"] == cards


def test_a_header_row_places_the_fields_by_name_and_makes_no_card(cli, db_url, tmp_path):
    # Found by rv3: `ID,Question,Answer,Topic` loaded its header as a card ("ID" on its front)
    # and every row's id as the question ("1"). The header is read as Anki's `#columns:`: the
    # question on the front whatever its column, the id the note's key (a re-import updates).
    deck = tmp_path / "mine.csv"
    deck.write_text(
        "Answer,ID,Question,Topic\nDiphenhydramine,h1,What blocks H1?,Pharm\n"
        "Ethosuximide,abs,Drug of choice for absence seizures?,Neuro\n",
        encoding="utf-8",
    )
    (report,) = cli.json("decks", "add", deck, "--db", db_url)
    assert report["added"] == 2
    due = {c["note_key"]: c["front"] for c in cli.json("due", "--db", db_url)}
    assert due == {
        "mine:h1": "What blocks H1?",
        "mine:abs": "Drug of choice for absence seizures?",
    }
    deck.write_text(deck.read_text().replace("Ethosuximide", "Ethosuximide (or valproate)"))
    (again,) = cli.json("decks", "add", deck, "--db", db_url)
    assert (again["added"], again["updated"]) == (0, 1)


@pytest.mark.parametrize(
    "header",
    [
        "QID,Result,Date,Response",
        "question_id,outcome,date answered,answer",
        "qid,correct,date,front",
    ],
)
def test_a_log_whose_header_also_names_a_cards_side_is_still_a_log(
    cli, loaded_sqlite, tmp_path, header
):
    # Found by rv3: once `Response` (68c2876) named a card's side, a log of the student's own
    # (result, date and the letter chosen) was loaded by `decks add` as 3 flashcards, its
    # header one of them. A column only a log has (a result, a date, a time) keeps it a log.
    log = tmp_path / "mine.csv"
    log.write_text(f"{header}\n1001,incorrect,2026-11-20,B\n1002,incorrect,2026-11-20,C\n")
    _refused_as_a_log(cli, loaded_sqlite, log, "a table, 2 questions")


def test_a_deck_given_to_qbank_import_names_decks_add(cli, loaded_sqlite, monkeypatch):
    deck = Path(__file__).parents[2] / "decks" / "immunology.toml"
    before = dump(loaded_sqlite)
    line = refused(cli("qbank", "import", deck, "--db", loaded_sqlite))
    assert line == (
        f"{deck}: a flashcard deck, not a missed-question log: load it with "
        f"`flashcore decks add {deck}`; nothing was imported"
    )
    monkeypatch.setattr("sys.stdin", io.TextIOWrapper(io.BytesIO(deck.read_bytes())))
    piped = refused(cli("qbank", "import", "-", "--db", loaded_sqlite))
    assert piped.endswith("load it with `flashcore decks add FILE`; nothing was imported")
    assert dump(loaded_sqlite) == before


@pytest.mark.parametrize(
    ("name", "advice"),
    [
        ("phone.apkg", "(an Anki package: load it with `flashcore decks add {path}`)"),
        ("uworld.xlsx", "(a spreadsheet: save the sheet as CSV, then import the .csv)"),
    ],
)
def test_a_zip_given_to_qbank_import_says_what_to_do_with_it(
    cli, loaded_sqlite, tmp_path, name, advice
):
    path = tmp_path / name
    path.write_bytes(b"PK\x03\x04" + b"\x00" * 64)
    line = refused(cli("qbank", "import", path, "--db", loaded_sqlite))
    assert line == (
        f"{path}:1: not a text file: looks like a ZIP archive {advice.format(path=path)}; "
        "nothing was imported"
    )
