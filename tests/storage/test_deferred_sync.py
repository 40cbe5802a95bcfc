"""An import's step transactions commit without waiting for the disk (SQLite
`synchronous=NORMAL`), and the connection is back to `synchronous=FULL` for the transaction
that completes them (the publish, the fold's end, the batch marked done)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from flashcore.services.write_steps import Steps
from flashcore.storage.db import make_engine


def _synchronous(conn: Any) -> int:
    return int(conn.exec_driver_sql("PRAGMA synchronous").scalar_one())


def test_steps_commit_unsynced_and_the_next_transaction_is_synced(tmp_path: Path) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'steps.sqlite3'}", create=True)
    try:
        with engine.connect() as conn:
            conn.exec_driver_sql("CREATE TABLE t (n INTEGER)")
            conn.commit()
            seen: list[int] = []

            def write(c: Any, start: int, stop: int) -> None:
                seen.append(_synchronous(c))
                c.exec_driver_sql(f"INSERT INTO t (n) VALUES ({stop})")

            Steps(conn).run(3, write)
            assert seen and set(seen) == {1}  # NORMAL in every step
            assert _synchronous(conn) == 2  # FULL again for the transaction that follows
            conn.rollback()
    finally:
        engine.dispose()


def test_steps_restore_full_sync_when_a_step_fails(tmp_path: Path) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'steps.sqlite3'}", create=True)
    try:
        with engine.connect() as conn:

            def write(c: Any, start: int, stop: int) -> None:
                raise RuntimeError("step failed")

            with pytest.raises(RuntimeError):
                Steps(conn).run(3, write)
            assert _synchronous(conn) == 2
            conn.rollback()
    finally:
        engine.dispose()


@pytest.mark.postgres
def test_steps_on_postgresql_commit_without_waiting_for_the_wal(pg_url: str) -> None:
    engine = make_engine(pg_url, create=True)
    try:
        with engine.connect() as conn:
            seen: list[str] = []

            def write(c: Any, start: int, stop: int) -> None:
                seen.append(str(c.exec_driver_sql("SHOW synchronous_commit").scalar_one()))

            Steps(conn).run(3, write)
            assert seen and set(seen) == {"off"}  # in every step
            after = conn.exec_driver_sql("SHOW synchronous_commit").scalar_one()
            assert after == "on"  # only for the steps' own transactions
            conn.rollback()
    finally:
        engine.dispose()
