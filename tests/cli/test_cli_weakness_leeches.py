"""`weakness` lists the leeches of its weakest topics (issue 21e): cards suspended as leeches
and cards tagged leech, each with the command that brings it back once rewritten, in the text
and in `--json` (`leeches`), on both backends; a leech of a topic the report does not show is
not listed, `--limit` keeps the shown topics' only, and an unsuspended card leaves the list."""

from __future__ import annotations

from tests.cli.test_cli_study import T0, T0_10M, T2, card, ids_by_key
from tests.weak_week import TYPE_I, paste

TYPE_IV = "Immunology::Hypersensitivity::Type IV"
# Three misses on Type I hypersensitivity, one on Type IV: Type I ranks first.
MISSES = [(f"60{n}", "Allergy", "Hypersensitivity reactions", "Type I hypersensitivity")
          for n in range(3)] + [("700", "Allergy", "Hypersensitivity reactions",
                                 "Type IV hypersensitivity")]  # fmt: skip


def _leeches(cli, db, tmp_path):
    """t1-ige suspended as a leech, the cloze's first card tagged leech (both Type I), the
    Type IV card suspended as a leech; then the misses imported. Returns the three ids."""
    ids = ids_by_key(cli, db)
    ige, cloze, iv = ids[("test:t1-ige", 0)], ids[("test:t1-cells", 1)], ids[("test:t4-cells", 0)]
    cli.ok("config", "set", "leech_threshold", "1", "--db", db)
    for card_id in (ige, cloze, iv):
        cli.at(T0).ok("answer", card_id, "good", "--db", db)
    for card_id in (ige, cloze, iv):
        cli.at(T0_10M).ok("answer", card_id, "good", "--db", db)
    for card_id, action in ((ige, "suspend"), (cloze, "tag"), (iv, "suspend")):
        cli.ok("config", "set", "leech_action", action, "--db", db)
        cli.at(T2).ok("answer", card_id, "again", "--db", db)
    assert [card(cli, db, c)["suspended"] for c in (ige, cloze, iv)] == [True, False, True]
    log = tmp_path / "paste.tsv"
    log.write_bytes(paste(*MISSES))
    cli.at(T2).ok("qbank", "import", log, "--db", db)
    return ige, cloze, iv


def test_weakness_lists_its_topics_leeches_with_the_command_to_bring_them_back(
    cli, loaded, tmp_path
):
    db = loaded
    ige, cloze, iv = _leeches(cli, db, tmp_path)
    found = cli.at(T2).json("weakness", "--db", db)
    assert [r["topic"] for r in found["topics"] if r["level"] == "topic"] == [TYPE_I, TYPE_IV]
    assert found["leeches"] == [
        {"card_id": ige, "topic": TYPE_I, "lapses": 1, "suspended": True,
         "command": f"flashcore cards unsuspend {ige}"},
        {"card_id": cloze, "topic": TYPE_I, "lapses": 1, "suspended": False,
         "command": f"flashcore cards unsuspend {cloze}"},
        {"card_id": iv, "topic": TYPE_IV, "lapses": 1, "suspended": True,
         "command": f"flashcore cards unsuspend {iv}"},
    ]  # fmt: skip
    text = cli.at(T2).ok("weakness", "--db", db).out
    assert "leeches in your weakest topics: rewrite each" in text
    assert f"  card {ige}: lapsed once, suspended — {TYPE_I}" in text
    assert f"  card {cloze}: lapsed once, tagged leech, in your reviews — {TYPE_I}" in text
    assert f"    flashcore cards unsuspend {iv}" in text
    # --limit 1: Type I's row, and its leeches only
    limited = cli.at(T2).json("weakness", "--limit", "1", "--db", db)
    assert [x["card_id"] for x in limited["leeches"]] == [ige, cloze]
    assert f"card {iv}:" not in cli.at(T2).ok("weakness", "--limit", "1", "--db", db).out
    # rewritten and brought back as the command says: the mark goes, so does the row
    cli.at(T2).ok(*found["leeches"][0]["command"].split()[1:], "--db", db)
    after = cli.at(T2).json("weakness", "--db", db)
    assert [x["card_id"] for x in after["leeches"]] == [cloze, iv]


def test_a_leech_of_a_topic_without_misses_is_not_listed(cli, loaded, tmp_path):
    db = loaded
    type_i_only = [m for m in MISSES if "Type IV" not in m[3]]
    ids = ids_by_key(cli, db)
    iv = ids[("test:t4-cells", 0)]
    cli.ok("config", "set", "leech_threshold", "1", "--db", db)
    cli.at(T0).ok("answer", iv, "good", "--db", db)
    cli.at(T0_10M).ok("answer", iv, "good", "--db", db)
    cli.at(T2).ok("answer", iv, "again", "--db", db)
    assert card(cli, db, iv)["leech"] is True
    log = tmp_path / "paste.tsv"
    log.write_bytes(paste(*type_i_only))
    cli.at(T2).ok("qbank", "import", log, "--db", db)
    found = cli.at(T2).json("weakness", "--db", db)
    assert [r["topic"] for r in found["topics"] if r["level"] == "topic"] == [TYPE_I]
    assert found["leeches"] == []
    assert "leeches in your weakest topics" not in cli.at(T2).ok("weakness", "--db", db).out
