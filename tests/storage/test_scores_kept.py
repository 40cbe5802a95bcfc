"""The kept topic scores' row (schema 0026, `repos.scores_kept`): read only under the stamp it
was kept with, replaced by the next keep, forgotten with the kept sums; and two connections
keeping at once (a report and an import) leave the later one's row, never an error on the key
(SQLite and PostgreSQL)."""

from __future__ import annotations

import threading
import time

from sqlalchemy.exc import SQLAlchemyError

from flashcore.storage import repos


def test_the_row_is_read_under_its_stamp_only_and_replaced_and_forgotten(fc):
    pid = fc.profile_id
    with fc.engine.begin() as conn:
        assert repos.kept_scores(conn, pid, "a") is None
        repos.keep_scores(conn, pid, "a", "[1]")
        repos.keep_scores(conn, pid, "b", "[2]")
        assert repos.kept_scores(conn, pid, "a") is None
        assert repos.kept_scores(conn, pid, "b") == "[2]"
        repos.clear_sums(conn, pid)
        assert repos.kept_scores(conn, pid, "b") is None


def test_two_connections_keeping_at_once_leave_the_later_row(fc):
    pid = fc.profile_id
    done: list[object] = []
    with fc.engine.connect() as first:
        first.begin()
        repos.keep_scores(first, pid, "first", "[1]")

        def second() -> None:
            try:
                with fc.engine.begin() as conn:  # waits for the first to commit
                    repos.keep_scores(conn, pid, "second", "[2]")
                done.append(True)
            except SQLAlchemyError as exc:  # the test's verdict, below
                done.append(exc)

        thread = threading.Thread(target=second)
        thread.start()
        time.sleep(0.5)
        first.commit()
    thread.join(30)
    assert done == [True]
    with fc.engine.connect() as conn:
        assert repos.kept_scores(conn, pid, "second") == "[2]"
