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
