"""Smoke test of `python -m tools.bench.pg_class` on the local PostgreSQL server: a tiny class
is built, every cloned student owns a whole collection of their own, and two students answering
at once lose and double nothing. No timing assertions: the numbers depend on the machine."""

from __future__ import annotations

import contextlib
import io
import json
import os

import pytest
from sqlalchemy import create_engine, text

from tests.conftest import PG_URL, pg_problem
from tools.bench import pg_class

pytestmark = pytest.mark.skipif(pg_problem() is not None, reason=f"PostgreSQL: {pg_problem()}")


def test_tiny_class_builds_isolated_students_and_loses_no_answer(tmp_path) -> None:
    server = PG_URL.rsplit("/", 1)[0]
    database = f"fc_class_smoke_{os.getpid()}"
    argv = ["--students", "3", "--cards", "200", "--reviews", "600", "--answering", "2"]
    argv += ["--seconds", "2", "--pace", "0.02", "--server", server, "--database", database]
    argv += ["--keep", str(tmp_path), "--json"]
    out = io.StringIO()
    try:
        with contextlib.redirect_stdout(out):
            assert pg_class.main(argv) == 0
        report = json.loads(out.getvalue())
        answering = report["answering"]
        assert answering["answers"] > 0
        assert answering["lost"] == 0 and answering["doubled"] == 0
        assert not answering["failed_processes"] and answering["error_count"] == 0
        assert {"p50", "p95", "p99", "max"} <= set(answering["answer_ms"])
        assert report["size"]["cards"] == 3 * 200
        assert report["size"]["per_student_mb"] > 0
        engine = create_engine(f"{server}/{database}")
        try:
            with engine.connect() as conn:
                per_student = conn.execute(
                    text(
                        "SELECT p.name, count(DISTINCT c.id), count(DISTINCT n.id),"
                        " count(DISTINCT r.id) FROM profiles p"
                        " JOIN cards c ON c.profile_id = p.id"
                        " JOIN notes n ON n.id = c.note_id AND n.profile_id = p.id"
                        " LEFT JOIN review_logs r ON r.card_id = c.id AND r.profile_id = p.id"
                        " GROUP BY p.name ORDER BY p.name"
                    )
                ).all()
                mixed = conn.execute(
                    text(
                        "SELECT count(*) FROM cards c JOIN notes n ON n.id = c.note_id"
                        " WHERE n.profile_id <> c.profile_id"
                    )
                ).scalar()
                # the topics' card counts, kept by the database's triggers as the rows came in
                topic_counts = conn.execute(
                    text(
                        "SELECT t.profile_id, count(*), sum(tc.cards) FROM topic_cards tc"
                        " JOIN topics t ON t.id = tc.topic_id GROUP BY t.profile_id"
                    )
                ).all()
        finally:
            engine.dispose()
        assert len(topic_counts) == 3 and len({row[1:] for row in topic_counts}) == 1
        assert topic_counts[0][2] > 0
        assert [row[0] for row in per_student] == ["student-000", "student-001", "student-002"]
        assert {row[1] for row in per_student} == {200}
        assert len({row[2] for row in per_student}) == 1
        # The student who did not answer holds exactly the built history; the others more.
        assert per_student[2][3] == 600
        assert per_student[0][3] > 600 and per_student[1][3] > 600
        assert per_student[0][3] + per_student[1][3] - 1200 == answering["answers"]
        assert mixed == 0
    finally:
        admin = create_engine(f"{server}/postgres", isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)'))
        admin.dispose()
