"""Smoke test of `python -m tools.bench`: a tiny run (no Anki) reports every figure it
promises. No timing assertions: the numbers depend on the machine."""

from __future__ import annotations

import contextlib
import io
import json
from datetime import UTC
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select

from flashcore.core.clock import FixedClock, parse_instant
from flashcore.services.collection import Flashcore
from flashcore.storage.models import Card, ReviewLog
from flashcore.storage.uow import reading
from tools.bench import engine as bench

TINY = ["--cards", "2000", "--reviews", "20000", "--no-anki", "--runs", "1"]
TINY += ["--answer-runs", "1", "--answers", "20", "--json"]


@pytest.fixture(scope="module")
def tiny_run(tmp_path_factory: pytest.TempPathFactory) -> tuple[dict[str, Any], Path]:
    keep = tmp_path_factory.mktemp("bench")
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        assert bench.main([*TINY, "--keep", str(keep)]) == 0
    return json.loads(out.getvalue()), keep


def test_tiny_run_reports_every_figure_and_target(tiny_run: tuple[dict[str, Any], Path]) -> None:
    report, _keep = tiny_run
    fc = report["flashcore"]
    for key in (
        "queue_cold_ms",
        "queue_warm_ms",
        "listing_first_ms",
        "listing_warm_ms",
        "open_ms",
        "due_json_process_ms",
        "help_process_ms",
        "python_startup_ms",
        "rss_due_json_mb",
        "rss_in_process_mb",
    ):
        assert fc[key] > 0, key
    for part in ("preview_answer_next", "answer_next", "preview", "answer", "next"):
        assert set(fc[part]) == {"p50", "p99", "max"}
    assert fc["answered"] == 20
    assert report["anki"] is None
    assert {t["name"] for t in report["targets"]} == set(bench.TARGETS)
    collection = report["collection"]
    assert collection["cards"] == 2000
    assert collection["review_logs"] == 20000
    assert collection["flashcore_queue"]["review"] > 0
    assert collection["flashcore_queue"]["new"] == 20


def test_bulk_written_rows_read_back_through_flashcores_types(
    tiny_run: tuple[dict[str, Any], Path],
) -> None:
    report, keep = tiny_run
    now = parse_instant(report["collection"]["now"])
    fc = Flashcore.open(str(keep / "flashcore.sqlite3"), clock=FixedClock(now))
    with fc, reading(fc.engine) as session:
        logs = session.execute(select(func.count()).select_from(ReviewLog)).scalar_one()
        first = session.execute(select(ReviewLog).limit(1)).scalar_one()
        reviewed = session.execute(select(Card).where(Card.reps > 0).limit(1)).scalar_one()
    assert logs == 20000
    assert first.reviewed_at.tzinfo is UTC and first.reviewed_at < now
    assert first.buried_siblings == []
    assert reviewed.last_review is not None and reviewed.last_review < now
    assert reviewed.stability is not None and 1 <= (reviewed.difficulty or 0) <= 10


def test_tiny_run_reports_the_safety_work_and_the_deferred_wal_work(
    tiny_run: tuple[dict[str, Any], Path],
) -> None:
    report, _keep = tiny_run
    for part in ("answer_next_deferred", "deferred"):
        assert set(report["flashcore"][part]) == {"p50", "p99", "max"}
    safety = report["safety"]
    for key in ("first_command_s", "first_command_safety_s", "warm_command_s", "decks_add_s",
                "qbank_import_s", "imports_safety_s", "restore_point_pin_s"):  # fmt: skip
        assert safety[key] is not None and safety[key] >= 0, key
    assert 0 < safety["backups_x_database"] <= 3.0
    assert [i["command"] for i in safety["runs"][0]["imports"]] == [
        "decks add", "qbank import", "decks add", "qbank import",
    ]  # fmt: skip
