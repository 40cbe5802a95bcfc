"""`qbank import` and `qbank remove` say what they did in words that count right: found living
with an AnKing collection (issue rv7), a one-miss batch printed `1 suspended cards of the missed
questions unsuspended`, `1 cards of weak topics pulled into today's queue` and, removed, `1
cards its misses had unsuspended are suspended again`."""

from __future__ import annotations

from pathlib import Path

from tests.conftest import write_deck

BODY = (
    '[[cards]]\nid = "a"\nfront = "q1"\nback = "a1"\nqids = ["uworld:7"]\n'
    '[[cards]]\nid = "b"\nfront = "q2"\nback = "a2"\nqids = ["uworld:8"]\n'
)


def test_removing_a_batch_counts_its_attempts_and_cards_in_words(cli, sqlite_url, tmp_path):
    cli.ok("decks", "add", write_deck(tmp_path / "t.toml", BODY), "--db", sqlite_url)
    cli.ok("cards", "suspend", "1", "2", "--db", sqlite_url)
    one = tmp_path / "one.txt"
    one.write_text("7\n", encoding="utf-8")
    out = cli.ok("qbank", "import", one, "--format", "qids", "--db", sqlite_url).out
    assert "1 suspended card of the missed questions unsuspended (they come first;" in out
    out = cli.ok("qbank", "remove", "1", "--db", sqlite_url).out.splitlines()
    assert out == [
        "removed batch 1 (1 attempt)",
        "1 card its misses had unsuspended is suspended again",
    ]
    two = tmp_path / "two.txt"
    two.write_text("7\n8\n", encoding="utf-8")
    batch = cli.json("qbank", "import", two, "--format", "qids", "--db", sqlite_url)["batch_id"]
    out = cli.ok("qbank", "remove", str(batch), "--db", sqlite_url).out.splitlines()
    assert out == [
        f"removed batch {batch} (2 attempts)",
        "2 cards its misses had unsuspended are suspended again",
    ]


def test_one_pulled_card_is_one_card(cli, sqlite_url, tmp_path):
    cli.ok("decks", "add", write_deck(tmp_path / "t.toml", BODY), "--db", sqlite_url)
    cli.at("2026-11-20T09:00:00+00:00")
    cli.ok("answer", "2", "easy", "--db", sqlite_url)  # in review, due in days
    cli.at("2026-11-21T09:00:00+00:00")
    missed = tmp_path / "missed.txt"
    missed.write_text("8\n", encoding="utf-8")
    out = cli.ok("qbank", "import", missed, "--format", "qids", "--db", sqlite_url).out
    assert "1 card of weak topics pulled into today's queue" in out.splitlines()


def test_a_removed_batchs_id_is_never_given_again(cli, db_url):
    """Found living with an AnKing collection (issue rv7): SQLite gave a removed last batch's id
    to the next import, so `qbank remove 2` typed again from the shell's history took back a
    later block of questions (schema 0029)."""
    samples = Path(__file__).resolve().parents[2] / "decks" / "samples"
    cli.ok("qbank", "import", samples / "missed.csv", "--db", db_url)
    second = cli.ok("qbank", "import", samples / "uworld-paste.tsv", "--db", db_url)
    assert "batch 2 " in second.out
    cli.ok("qbank", "remove", "2", "--db", db_url)
    again = cli.ok("qbank", "import", samples / "uworld-paste.tsv", "--again", "--db", db_url)
    assert "batch 3 " in again.out, again.out  # SQLite gave it 2 again
    gone = cli("qbank", "remove", "2", "--db", db_url)
    assert gone.code == 1 and "no qbank batch 2" in gone.err
    assert len(cli.json("qbank", "batches", "--db", db_url)) == 2


def _paste(cli, monkeypatch, db_url: str, text: bytes, *more: str):
    import io

    monkeypatch.setattr("sys.stdin", io.TextIOWrapper(io.BytesIO(text)))
    return cli.ok("qbank", "import", "-", "--format", "qids", "--date", "2026-11-20",
                  "--db", db_url, *more)  # fmt: skip


def test_a_paste_of_questions_all_imported_before_makes_no_batch(cli, db_url, tmp_path,
                                                                 monkeypatch):  # fmt: skip
    """Found living with an AnKing collection: a paste whose rows were all imported before
    made a batch of 0 attempts and printed its number to undo it with. Now no batch is made
    (`batch_id` null, `qbank batches` lists none) and the summary says so."""
    cli.ok("decks", "add", write_deck(tmp_path / "t.toml", BODY), "--db", db_url)
    _paste(cli, monkeypatch, db_url, b"7\n8\n")
    report = _paste(cli, monkeypatch, db_url, b"8\n7\n", "--json").json()  # the same again
    assert (report["added"], report["duplicates"], report["batch_id"]) == (0, 2, None)
    batches = cli.json("qbank", "batches", "--json", "--db", db_url)
    assert [b["added"] for b in batches] == [2]  # before: [0, 2]
    out = _paste(cli, monkeypatch, db_url, b"7\n").out.splitlines()
    assert "no batch made: every row was imported before (nothing to undo)" in out
    assert not any("qbank remove" in line for line in out)
