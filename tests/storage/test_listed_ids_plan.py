"""The question ids a profile's notes list are read from the listed ids to their notes by id
(SQLite): walking every note of the profile instead took an import's fold and the weights'
sums ~0.1 CPU-s each at 200,000 notes, 10,000 of them listing an id."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sqlalchemy.dialects import sqlite

from flashcore.storage.db import make_engine
from flashcore.storage.migrate import upgrade
from flashcore.storage.repos.qbank_sums import _listed_ids


def test_the_listed_ids_are_read_without_walking_the_profiles_notes(tmp_path: Path) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'plan.sqlite3'}", create=True)
    try:
        upgrade(engine)
        sql = str(
            _listed_ids(1).compile(dialect=sqlite.dialect(), compile_kwargs={"literal_binds": True})
        )
        with engine.connect() as conn:
            plan = [str(row[-1]) for row in conn.exec_driver_sql(f"EXPLAIN QUERY PLAN {sql}")]
        assert any(step.startswith("SCAN note_qids") for step in plan), plan
        assert not any("notes USING" in step and "profile_id" in step for step in plan), plan
    finally:
        engine.dispose()


def _attempt_statements(engine: Any, conn: Any, *reads: Any) -> list[tuple[str, object]]:
    """The statements (with their parameters) reading `qbank_attempts` that `reads(conn, 1)`
    send, for their query plans."""
    import sqlalchemy as sa

    seen: list[tuple[str, object]] = []

    def capture(_c: object, _cur: object, statement: str, params: object, *_a: object) -> None:
        if "qbank_attempts" in statement:
            seen.append((statement, params))

    sa.event.listen(engine, "before_cursor_execute", capture)
    try:
        for read in reads:
            read(conn, 1)
    finally:
        sa.event.remove(engine, "before_cursor_execute", capture)
    return seen


def test_a_profiles_every_attempt_is_read_in_table_order(tmp_path: Path) -> None:
    # Schema 0023's (profile_id, on_date) index would serve `profile_id = ?`, but a pass over
    # every attempt through it reads the table out of order (`qbank list` 4x the CPU).

    from flashcore.storage.repos.qbank import attempt_tallies
    from flashcore.storage.repos.qbank_batches import batch_summaries

    engine = make_engine(f"sqlite:///{tmp_path / 'plan.sqlite3'}", create=True)
    try:
        upgrade(engine)
        with engine.connect() as conn:
            seen = _attempt_statements(engine, conn, batch_summaries, attempt_tallies)
            assert len(seen) == 2
            for statement, params in seen:
                plan = conn.exec_driver_sql(f"EXPLAIN QUERY PLAN {statement}", params).all()
                steps = [str(row[-1]) for row in plan]
                assert not any("ix_qbank_attempts_profile_id_on_date" in s for s in steps), steps
    finally:
        engine.dispose()


def test_the_recent_misses_with_a_share_are_read_by_their_partial_index(sqlite_url: str) -> None:
    """Every weight refresh reads the recent misses that kept UWorld's "% correct others"
    (`missed_shares`, schema 0025). By the (profile_id, on_date) index it looked at every attempt
    of the 56 days, a CSV's too: 0.28 CPU-s per refresh at 1M attempts (160,000 in the window,
    none with a share); by the partial index of the attempts with a share, ~0.001 s."""
    from datetime import date

    from flashcore.storage.repos.attempts import missed_shares

    engine = make_engine(sqlite_url)
    try:
        with engine.connect() as conn:
            read = lambda c, profile: missed_shares(c, profile, date(2026, 10, 1))  # noqa: E731
            [(statement, params)] = _attempt_statements(engine, conn, read)
            plan = conn.exec_driver_sql(f"EXPLAIN QUERY PLAN {statement}", params).all()
            steps = [str(row[-1]) for row in plan]
            attempts = [s for s in steps if "qbank_attempts" in s and "qbank_batches" not in s]
            assert attempts and all("ix_qbank_attempts_shares" in s for s in attempts), steps
    finally:
        engine.dispose()


def test_the_questions_of_a_queues_cards_are_read_in_one_pass_in_table_order(
    fc_sqlite: Any, tmp_path: Path
) -> None:
    # Found opening the reviewer on the 200,000-card / 1,000,000-attempt collection: 17 s to
    # the first card, `due` 10 CPU-s. Naming the missed question of the queue's 19 cards joined
    # each card to the attempts through the (profile_id, on_date) index: the profile's every
    # attempt read out of order once per card (8.5 s). Now one pass, in table order; the same
    # answers (an id listed under another source is another question).
    from datetime import date

    from flashcore.services.qbank_import import import_log
    from flashcore.storage.repos.cards import question_answers
    from flashcore.storage.repos.qbank import MISSED
    from tests.conftest import write_deck

    fc = fc_sqlite
    deck = (
        "".join(
            f'[[cards]]\nid = "c{i}"\nfront = "Fact {i}"\nback = "A{i}"\nqids = ["uworld:{100 + i}"]\n\n'
            for i in range(30)
        )
        + '[[cards]]\nid = "amboss"\nfront = "Other"\nback = "B"\nqids = ["amboss:101"]\n'
    )
    (report,) = fc.add_decks([write_deck(tmp_path / "d.toml", deck)])
    assert report.ok, report.problems
    rows = [
        f"{100 + i},{'incorrect' if i % 3 else 'correct'},2026-11-{10 + i % 9}" for i in range(30)
    ]
    rows += ["101,correct,2026-11-20", "999,incorrect,2026-11-20"]
    log = "question_id,result,date\n" + "".join(r + "\n" for r in rows)
    import_log(fc, log.encode(), origin="test", source="uworld")
    engine = fc.engine
    with engine.connect() as conn:
        card_ids = [r[0] for r in conn.exec_driver_sql("SELECT id FROM cards ORDER BY id")]
        answers: dict[int, Any] = {}

        def read(c: Any, profile: int) -> None:
            answers.update(question_answers(c, profile, card_ids, MISSED))

        seen = _attempt_statements(engine, conn, read)
        assert len(seen) == 1
        for statement, params in seen:
            plan = conn.exec_driver_sql(f"EXPLAIN QUERY PLAN {statement}", params).all()
            steps = [str(row[-1]) for row in plan]
            assert not any("ix_qbank_attempts_profile_id_on_date" in s for s in steps), steps
    by_question = {q: days for listed in answers.values() for q, days in listed.items()}
    assert ("amboss", "101") not in by_question  # uworld:101's answers are not amboss:101's
    assert by_question[("uworld", "101")] == {
        (date(2026, 11, 11), True),
        (date(2026, 11, 20), False),
    }
    assert by_question[("uworld", "103")] == {(date(2026, 11, 13), False)}
    assert len(answers) == 30
