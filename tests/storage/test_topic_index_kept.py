"""The topic index kept between weakness reports (schema 0024, `storage.index_cache`): a report
stores the light index it read, the next reads it, and whatever changes what it holds (decks
loaded and pruned, topics, aliases, question ids, note links, a note's removal, on SQLite by
the database's own triggers) makes the next report read it afresh; the report is the same,
byte for byte, with the index kept or read. An index read before a change committed is never
stored; without every trigger, nothing kept is read. PostgreSQL keeps none."""

from __future__ import annotations

import json
import random
import sqlite3
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest

from flashcore.core.clock import FixedClock
from flashcore.services import Flashcore, qbank, weakness
from flashcore.storage.repos import topic_index as topics_repo
from flashcore.storage.uow import reading_core, write_now
from tests.conftest import write_deck
from tests.storage.test_topic_cards import PATHS

TODAY = date(2026, 11, 25)


def _deck(rng: random.Random, keys: list[str]) -> str:
    out = []
    for i, key in enumerate(keys):
        linked = rng.sample(PATHS, rng.choice([0, 1, 1, 2, 3]))
        topics_line = "topics = [" + ", ".join(f'"{p}"' for p in linked) + "]"
        qids = f'qids = ["uworld:{1000 + i % 40}"]\n' if rng.random() < 0.5 else ""
        out.append(
            f'[[cards]]\nid = "{key}"\nfront = "front {key}"\nback = "back"\n{topics_line}\n{qids}'
        )
    return "\n".join(out)


def _log(rng: random.Random, rows: int) -> bytes:
    lines = ["question_id,result,date,subject,system,topic"]
    for i in range(rows):
        path = rng.choice([*PATHS, "Nowhere::Unknown thing"]).split("::")
        on = TODAY - timedelta(days=rng.choice([0, 1, 3, 9, 20]))
        outcome = rng.choice(["correct", "incorrect", "incorrect"])
        lines.append(f"{1000 + i % 60},{outcome},{on.isoformat()},Step 1,{path[0]},{path[-1]}")
    return ("\n".join(lines) + "\n").encode()


def _kept(fc: Flashcore) -> topics_repo.KeptIndex:
    with reading_core(fc.engine) as conn:
        return topics_repo.kept_index(conn, fc.profile_id)


def _read(fc: Flashcore) -> topics_repo.StoredIndex:
    with reading_core(fc.engine) as conn:
        return topics_repo.stored_index(conn, fc.profile_id, every_note=False)


def _report_read_afresh(fc: Flashcore, monkeypatch: pytest.MonkeyPatch) -> str:
    with monkeypatch.context() as m:
        m.setattr(topics_repo, "kept_index", lambda *a, **k: topics_repo.KeptIndex(None, None))
        return json.dumps(weakness.report(fc))


def test_the_kept_index_is_the_index_read_and_the_report_the_same_as_changes_come(
    db_url, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    rng = random.Random(5)
    sqlite = db_url.startswith("sqlite")
    clock = FixedClock(datetime(2026, 11, 25, 15, tzinfo=UTC))
    with Flashcore.open(db_url, clock=clock, create=True, timezone="UTC") as fc:
        keys = [f"n{i}" for i in range(40)]
        deck = write_deck(tmp_path / "d.toml", _deck(rng, keys), key="d")
        fc.add_decks([deck])
        qbank.import_log(fc, _log(rng, 400), origin="log.csv")
        changes = [  # (a change, whether it changes what the index holds)
            (lambda: None, True),
            (lambda: fc.add_decks([write_deck(deck, _deck(rng, [*keys[:30], "x1"]), key="d")]),
             True),
            (lambda: fc.add_decks([deck], prune=True), True),  # notes removed, links gone
            (lambda: qbank.add_alias(fc, "Unknown thing", PATHS[2]), True),
            (lambda: fc.add_decks([write_deck(deck, _deck(rng, [*keys[5:], "x2"]), key="d")]),
             True),
            (lambda: qbank.import_log(fc, _log(rng, 50), origin="more.csv"), False),
        ]  # fmt: skip
        for change, moves in changes:
            change()
            if sqlite:  # the triggers saw it (or nothing to see)
                assert (_kept(fc).stored is None) == moves
            first = json.dumps(weakness.report(fc))  # reads the index (stores it on SQLite)
            kept = _kept(fc)
            assert (kept.stored is not None) == sqlite
            if sqlite:
                assert kept.stored == _read(fc)
            again = json.dumps(weakness.report(fc))  # reads the kept one on SQLite
            assert first == again == _report_read_afresh(fc, monkeypatch)


def test_an_index_read_before_a_change_committed_is_not_stored(fc_sqlite, tmp_path: Path):
    fc = fc_sqlite
    rng = random.Random(9)
    fc.add_decks([write_deck(tmp_path / "d.toml", _deck(rng, ["a", "b", "c"]), key="d")])
    write_now(fc.engine, lambda w: topics_repo.observe_index(w, fc.profile_id))
    with reading_core(fc.engine) as conn:
        kept = topics_repo.kept_index(conn, fc.profile_id)
        read = topics_repo.stored_index(conn, fc.profile_id, every_note=False)
    assert kept.stored is None and kept.gen is not None
    qbank.add_alias(fc, "Something else", PATHS[0])  # committed after the read
    stored = write_now(
        fc.engine, lambda w: topics_repo.keep_index(w, fc.profile_id, kept.gen, read)
    )
    assert stored is False
    assert _kept(fc).stored is None
    write_now(fc.engine, lambda w: topics_repo.observe_index(w, fc.profile_id))
    with reading_core(fc.engine) as conn:  # read again: stored, with the alias
        kept = topics_repo.kept_index(conn, fc.profile_id)
        read = topics_repo.stored_index(conn, fc.profile_id, every_note=False)
    assert kept.gen is not None
    assert write_now(fc.engine, lambda w: topics_repo.keep_index(w, fc.profile_id, kept.gen, read))
    assert _kept(fc).stored == read and read.aliases


def test_without_every_trigger_nothing_kept_is_read(fc_sqlite, tmp_path: Path):
    fc = fc_sqlite
    rng = random.Random(3)
    fc.add_decks([write_deck(tmp_path / "d.toml", _deck(rng, ["a", "b"]), key="d")])
    qbank.import_log(fc, _log(rng, 20), origin="log.csv")
    weakness.report(fc)
    weakness.report(fc)
    assert _kept(fc).stored is not None
    with fc.engine.begin() as conn:  # as a later migration rebuilding note_topics would
        conn.exec_driver_sql("DROP TRIGGER tr_topic_index_link_in")
    assert _kept(fc) == topics_repo.KeptIndex(None, None)


def test_every_write_to_what_the_index_holds_moves_its_generation(fc_sqlite, tmp_path: Path):
    # Each trigger alone (SQLite): a reader has looked, one statement, the generation moved;
    # what an import writes on topics (their cards' weight) does not move it.
    fc = fc_sqlite
    fc.add_decks([write_deck(tmp_path / "d.toml", _deck(random.Random(1), ["a", "b"]), key="d")])
    pid = fc.profile_id
    note = f"(SELECT min(id) FROM notes WHERE profile_id = {pid})"
    topic = f"(SELECT max(id) FROM topics WHERE profile_id = {pid})"
    writes = [
        (f"INSERT INTO topics (profile_id, path, key, weight, reason, card_weight) "
         f"VALUES ({pid}, 'Zeta::New', 'zeta::new', 0, '', 0)", True),
        (f"UPDATE topics SET card_weight = card_weight + 1 WHERE profile_id = {pid}", False),
        (f"UPDATE topics SET path = 'Zeta::Newer' WHERE id = {topic}", True),
        (f"INSERT INTO note_topics (note_id, topic_id) VALUES ({note}, {topic})", True),
        (f"UPDATE note_topics SET topic_id = topic_id WHERE note_id = {note}", True),
        (f"DELETE FROM note_topics WHERE topic_id = {topic}", True),
        (f"DELETE FROM topics WHERE id = {topic}", True),
        (f"INSERT INTO note_qids (note_id, source, qid) VALUES ({note}, 'amboss', 'q1')", True),
        ("UPDATE note_qids SET qid = 'q2' WHERE qid = 'q1'", True),
        ("DELETE FROM note_qids WHERE qid = 'q2'", True),
        (f"INSERT INTO topic_aliases (profile_id, alias, alias_key, topic_path) "
         f"VALUES ({pid}, 'Al', 'al', 'Zeta')", True),
        ("UPDATE topic_aliases SET topic_path = 'Eta' WHERE alias_key = 'al'", True),
        ("DELETE FROM topic_aliases WHERE alias_key = 'al'", True),
        (f"UPDATE notes SET removed = 1 WHERE id = {note}", True),
        (f"UPDATE notes SET content_hash = content_hash WHERE id = {note}", False),
    ]  # fmt: skip

    def generation() -> int:
        with fc.engine.connect() as conn:
            return int(
                conn.exec_driver_sql(
                    f"SELECT gen FROM topic_index_cache WHERE profile_id = {pid}"
                ).scalar_one()
            )

    for statement, moves in writes:
        write_now(fc.engine, lambda w: topics_repo.observe_index(w, pid))
        before = generation()
        with fc.engine.begin() as conn:
            conn.exec_driver_sql(statement)
        assert generation() == before + moves, statement
    before = generation()  # one count per look: the writes after the first count nothing
    for removed in (0, 1, 0):
        with fc.engine.begin() as conn:
            conn.exec_driver_sql(f"UPDATE notes SET removed = {removed} WHERE id = {note}")
    assert generation() == before + 1


def test_a_report_never_waits_for_the_write_lock_to_keep_the_index(fc_sqlite, tmp_path: Path):
    fc = fc_sqlite
    rng = random.Random(4)
    fc.add_decks([write_deck(tmp_path / "d.toml", _deck(rng, ["a", "b"]), key="d")])
    qbank.import_log(fc, _log(rng, 20), origin="log.csv")
    weakness.report(fc)  # keeps the index
    qbank.add_alias(fc, "Unknown thing", PATHS[1])  # which this changes
    other = sqlite3.connect(fc.location, isolation_level=None)  # another process writing
    try:
        other.execute("BEGIN IMMEDIATE")  # the write lock held throughout
        seen = [json.dumps(weakness.report(fc)) for _ in range(2)]
        assert write_now(fc.engine, lambda w: topics_repo.observe_index(w, 1)) is None
        other.execute("ROLLBACK")
    finally:
        other.close()
    assert _kept(fc).stored is None  # nothing kept meanwhile; the next report keeps it
    assert json.dumps(weakness.report(fc)) == seen[0] == seen[1]
    assert _kept(fc).stored is not None
