"""Times the student reads are in their own zone. Found living with it (a profile in Kolkata):
`qbank batches` said "imported (UTC) 2027-01-05 02:30" of a log pasted at 08:00 that morning, and
an identical paste was refused as "imported 2027-01-05 02:30 UTC". JSON keeps UTC (ISO, with its
offset), as before."""

from __future__ import annotations

from pathlib import Path

SAMPLE = Path(__file__).parents[2] / "decks" / "samples" / "missed.csv"


def test_batches_and_an_identical_log_say_the_profiles_local_time(cli, db_url):
    cli.ok("config", "set", "timezone", "Asia/Kolkata", "--db", db_url)
    cli.at("2027-01-05T02:30:00+00:00").ok("qbank", "import", SAMPLE, "--db", db_url)

    again = cli.at("2027-01-05T03:30:00+00:00")("qbank", "import", SAMPLE, "--db", db_url)
    assert again.code == 1
    assert "identical to batch 1 imported 2027-01-05 08:00 IST; nothing added" in again.err

    lines = cli.ok("qbank", "batches", "--db", db_url).out.splitlines()
    assert lines[0].split()[:3] == ["batch", "imported", "(Asia/Kolkata)"]
    assert lines[2].split()[:3] == ["1", "2027-01-05", "08:00"]
    (batch,) = cli.json("qbank", "batches", "--db", db_url)
    assert batch["imported_at"] == "2027-01-05T02:30:00+00:00"


def test_a_profile_in_utc_reads_utc_as_before(cli, db_url):
    cli.at("2027-01-05T02:30:00+00:00").ok("qbank", "import", SAMPLE, "--db", db_url)
    again = cli("qbank", "import", SAMPLE, "--db", db_url)
    assert "identical to batch 1 imported 2027-01-05 02:30 UTC; nothing added" in again.err
    zone = cli.ok("config", "get", "timezone", "--db", db_url).out.strip()  # the machine's: UTC
    lines = cli.ok("qbank", "batches", "--db", db_url).out.splitlines()
    assert lines[0].split()[1:3] == ["imported", f"({zone})"]
    assert lines[2].split()[1:3] == ["2027-01-05", "02:30"]


def test_an_undone_answer_says_when_it_was_given_in_the_profiles_zone(cli, db_url):
    cli.ok("config", "set", "timezone", "Asia/Kolkata", "--db", db_url)
    cli.ok("decks", "add", SAMPLE.parents[1] / "immunology.toml", "--db", db_url)
    card = cli.at("2027-01-05T02:30:00+00:00").json("due", "--limit", "1", "--db", db_url)[0]
    cli.ok("answer", card["card_id"], "again", "--db", db_url)
    out = cli.ok("undo", "--db", db_url).out.strip()
    assert out == f"undone: card {card['card_id']} (Again at 2027-01-05 08:00 IST)"
    cli.ok("answer", card["card_id"], "good", "--db", db_url)
    (row,) = cli.json("undo", "--db", db_url)
    assert row["reviewed_at"] == "2027-01-05T02:30:00+00:00"  # --json keeps UTC ISO


def test_an_answer_and_the_cards_table_say_due_times_in_the_profiles_zone(cli, db_url):
    # `answer` printed "due 2027-01-05T02:31:00+00:00" and `cards` "due (UTC)" to a student in
    # Kolkata; JSON keeps UTC ISO.
    cli.ok("config", "set", "timezone", "Asia/Kolkata", "--db", db_url)
    cli.ok("decks", "add", SAMPLE.parents[1] / "immunology.toml", "--db", db_url)
    at = cli.at("2027-01-05T02:30:00+00:00")
    card = at.json("due", "--limit", "1", "--db", db_url)[0]
    out = at.ok("answer", card["card_id"], "again", "--db", db_url).out.strip()
    assert out.endswith(", due 2027-01-05 08:01 IST"), out
    lines = at.ok("cards", "--db", db_url).out.splitlines()
    assert lines[0].split()[3:5] == ["due", "(Asia/Kolkata)"]
    (row,) = [line for line in lines if line.split()[0] == str(card["card_id"])]
    assert "2027-01-05 08:01" in row
    (listed,) = [c for c in at.json("cards", "--db", db_url) if c["card_id"] == card["card_id"]]
    assert listed["due"] == "2027-01-05T02:31:00+00:00"
