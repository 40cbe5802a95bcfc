"""A first import on SQLite writes its answers narrow, into `imported_answers` (schema 0027: a
card's previous answer read where the rows are read, `storage.answer_rows`; before, each answer
but a card's first *chained*, schema 0017); every other import, and every import on PostgreSQL,
writes the rows whole into the review log. The same package taken both ways must
read as the same history wherever the review log's before-state is read: the chain reader
(`log_rows.before_state`, behind undo and the rows written out when the row before goes), the
card states, `stats`, `check`, the forgetting signal, the optimizer's input, `export anki
--with-scheduling`, and each card answered, undone (exactly as before) and answered again."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from sqlalchemy import select

from flashcore.core.clock import FixedClock
from flashcore.core.model import Rating
from flashcore.importers.anki_package import open_package
from flashcore.services import Flashcore, study
from flashcore.services.check import check
from flashcore.services.export import export_anki
from flashcore.services.stats import stats
from flashcore.storage import anki_sync, planning, repos
from flashcore.storage.answer_rows import REVIEW_LOG_COLUMNS, answer_rows
from flashcore.storage.repos.log_rows import CHAINED, PACKED, before_state, write_out
from flashcore.storage.tables import imported_answers, review_logs
from flashcore.storage.uow import reading, run_write
from tests import anki_history as ah
from tests import conftest
from tests.services import test_anki_scheduling as scheduling
from tests.services.test_anki_scheduling import flashcore_cards, import_package

student = scheduling.student  # the fixture
BEFORE = sorted({*CHAINED, *PACKED, "state_before", "lapses_before"})
STATE = ("state", "step", "stability", "difficulty", "due", "last_review", "reps", "lapses",
         "desired_retention", "buried_until", "suspended")  # fmt: skip


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def two_urls(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[tuple[str, str]]:
    """Two empty databases on one backend."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'chained.sqlite3'}", f"sqlite:///{tmp_path / 'whole.sqlite3'}"
        return
    problem = conftest.pg_problem()
    if problem:
        if os.environ.get("CI"):
            pytest.fail(f"PostgreSQL unavailable under CI: {problem}")
        pytest.skip(f"PostgreSQL unavailable: {problem}")
    schemas = [f"fc_test_{uuid.uuid4().hex[:12]}" for _ in range(2)]
    engine = sa.create_engine(conftest.PG_URL)
    with engine.begin() as conn:
        for schema in schemas:
            conn.exec_driver_sql(f"CREATE SCHEMA {schema}")
    try:
        yield conftest.pg_schema_url(schemas[0]), conftest.pg_schema_url(schemas[1])
    finally:
        with engine.begin() as conn:
            for schema in schemas:
                conn.exec_driver_sql(f"DROP SCHEMA IF EXISTS {schema} CASCADE")
        engine.dispose()


def _before_states(fc: Any) -> dict[int, tuple[Any, ...]]:
    """Every row's before-state as the chain reader gives it, by revlog id (an answer given
    here: by card and time)."""
    every = answer_rows(*REVIEW_LOG_COLUMNS)
    with reading(fc.engine) as session:
        rows = (
            session.execute(
                select(every).order_by(every.c.card_id, every.c.id, every.c.reviewed_at)
            )
            .mappings()
            .all()
        )
        read = [before_state(session, dict(row)) for row in rows]
    return {
        r["anki_revlog_id"] or (r["card_id"], r["reviewed_at"]): tuple(r[n] for n in BEFORE)
        for r in read
    }


def _narrow(fc: Any) -> int:
    """The answers kept narrow (`imported_answers`: a first import's on SQLite)."""
    with reading(fc.engine) as session:
        query = select(sa.func.count()).select_from(imported_answers)
        return int(session.execute(query).scalar_one())


def _written_out(fc: Any) -> dict[str, Any]:
    """Every row as stored once written out, as when the row before it is deleted or rewritten
    (`unchain_successor`: an undo, a merge's replay), by revlog id (live rows by time)."""

    def work(session: Any) -> None:
        for (log_id,) in session.execute(select(review_logs.c.id).order_by(review_logs.c.id)):
            write_out(session, log_id)

    run_write(fc.engine, work)
    skip = {"id", "card_id", "profile_id", "scheduler_id"}
    with reading(fc.engine) as session:
        rows = session.execute(select(answer_rows(*REVIEW_LOG_COLUMNS))).mappings().all()
    return {
        "rows": {
            r["anki_revlog_id"] or (r["card_id"], r["reviewed_at"]): {
                k: v for k, v in r.items() if k not in skip
            }
            for r in rows
        }
    }


def _states(fc: Any, card_ids: dict[int, int]) -> dict[int, tuple[Any, ...]]:
    """Each imported card's state, by its Anki card id."""
    cards = flashcore_cards(fc)
    return {cid: tuple(getattr(cards[c], n) for n in STATE) for cid, c in card_ids.items()}


def _readers(fc: Any, card_ids: dict[int, int], tmp: Path) -> dict[str, Any]:
    """What the readers of the review log give, ids aside."""
    anki_of = {card: cid for cid, card in card_ids.items()}
    with reading(fc.engine) as session:
        outcomes = repos.review_outcomes(session, fc.profile_id, fc.now().replace(year=2000))
        items = planning.review_log_items(session, fc.profile_id)
    tmp.mkdir(exist_ok=True)
    out = tmp / f"export-{uuid.uuid4().hex[:6]}.apkg"
    export_anki(fc, out, with_scheduling=True)
    with open_package(out, work_dir=tmp / out.stem) as pkg:
        revlog = sorted((e.id, e.ease, e.interval, e.last_interval, e.factor, e.taken_millis,
                         e.kind) for e in pkg.revlog())  # fmt: skip
    report = check(fc).to_json()
    return {
        "states": _states(fc, card_ids),
        "before": _before_states(fc),
        "stats": stats(fc),
        "check": (report["cards"], report["reviews"], report["problems"]),
        "outcomes": [(o.reviewed_at, o.stability, o.last_review, o.elapsed_days, o.lapsed)
                     for o in sorted(outcomes, key=lambda o: (o.reviewed_at, o.stability))],
        "optimizer": {anki_of[c]: answers for c, answers in items.items()},
        "export": revlog,
    }  # fmt: skip


def _answer_undo_answer(fc: Any, card_ids: dict[int, int]) -> int:
    """Each imported card answered, undone (the card exactly as before), answered again."""
    answered = 0
    for cid in sorted(card_ids):
        card_id = card_ids[cid]
        before = flashcore_cards(fc)[card_id]
        if before.suspended:
            continue
        study.answer(fc, card_id, Rating.GOOD, duration_ms=3000)
        study.undo(fc)
        after = flashcore_cards(fc)[card_id]
        assert tuple(getattr(after, n) for n in STATE) == tuple(getattr(before, n) for n in STATE)
        study.answer(fc, card_id, Rating.HARD, duration_ms=3000)
        answered += 1
    return answered


def test_a_chained_history_reads_as_the_same_history_written_whole(
    student, two_urls, tmp_path: Path, monkeypatch: Any
):
    from datetime import UTC, datetime, timedelta

    package = ah.export(student, tmp_path / "phone.colpkg")
    start = datetime.now(UTC).replace(microsecond=0) - timedelta(days=19, hours=-1)
    read: list[dict[str, Any]] = []
    for n, fc, clock, summary, card_ids in _both_ways(two_urls, package, start, tmp_path,
                                                      monkeypatch):  # fmt: skip
        assert summary.reviews_added > 20
        assert (_narrow(fc) > 0) == (n == 0 and fc.engine.dialect.name == "sqlite")
        first = _readers(fc, card_ids, tmp_path / f"read{n}")
        assert first["check"][2] == []
        assert _answer_undo_answer(fc, card_ids) > 5
        clock.set(start + timedelta(days=2))
        assert _answer_undo_answer(fc, card_ids) > 5
        answered = _readers(fc, card_ids, tmp_path / f"r{n}")
        read.append({"imported": first, "answered": answered, "written": _written_out(fc)})
    assert _differing(read) == []


def _both_ways(
    two_urls: tuple[str, str], package: Path, start: Any, tmp_path: Path, monkeypatch: Any
) -> Iterator[tuple[int, Any, FixedClock, Any, dict[int, int]]]:
    """The package imported into each database, open while the caller works on it: first as
    a first import (narrow rows on SQLite), then as a later one (rows written whole)."""
    for n, url in enumerate(two_urls):
        clock = FixedClock(start)
        with Flashcore.open(url, clock=clock, create=True, timezone="UTC") as fc:
            if n == 1:  # not a first import: the rows go in whole (`ROWS_SQL`)
                monkeypatch.setattr(anki_sync, "holds_revlog_ids", lambda *_a: True)
            summary, card_ids = import_package(fc, package, tmp_path / f"work{n}")
            monkeypatch.undo()
            yield n, fc, clock, summary, card_ids


def _differing(read: list[dict[str, Any]]) -> list[tuple[str, str]]:
    """What a reader gave differently over the chained history and over the whole one."""
    chained_side, whole_side = read
    return [
        (when, name)
        for when, values in chained_side.items()
        for name, value in values.items()
        if value != whole_side[when][name]
    ]


def test_a_merge_over_a_chained_history_rewrites_it_as_over_the_whole_one(
    student, two_urls, tmp_path: Path, monkeypatch: Any
):
    """Cards reset to new in Anki after their answers (no anchor here) are answered on both
    sides: the next import replays every answer of each (`rewrite_answer`), the chained
    imported rows among them: the rows, the cards and every reader as over the rows written
    whole."""
    from datetime import UTC, datetime, timedelta

    col = student.col
    answers = ah.revlog_ids(col)
    forgotten = sorted(c for c in col.find_cards("is:review") if len(answers.get(c, ())) >= 3)[:2]
    assert len(forgotten) == 2
    col.sched.schedule_cards_as_new(forgotten)
    before = ah.export(student, tmp_path / "reset.colpkg")
    for card in forgotten:
        ah.answer_card(student, card, 3)
    after = ah.export(student, tmp_path / "answered.colpkg")
    start = datetime.now(UTC).replace(microsecond=0) - timedelta(days=19, hours=-1)
    read: list[dict[str, Any]] = []
    for n, fc, clock, _, card_ids in _both_ways(two_urls, before, start, tmp_path, monkeypatch):
        assert (_narrow(fc) > 0) == (n == 0 and fc.engine.dialect.name == "sqlite")
        for card in forgotten:
            study.answer(fc, card_ids[card], Rating.GOOD, duration_ms=3000)
        clock.set(datetime.now(UTC) + timedelta(hours=1))
        summary, _ = import_package(fc, after, tmp_path / f"again{n}")
        assert summary.cards_merged == 2
        merged = _readers(fc, card_ids, tmp_path / f"read{n}")
        assert merged["check"][2] == []
        read.append({"merged": merged, "written": _written_out(fc)})
    assert _differing(read) == []


def test_a_chained_history_downgraded_before_the_chain_reads_as_the_whole_one(
    student, two_urls, tmp_path: Path, monkeypatch: Any
):
    """Schema 0012's downgrade writes every chained row's before-state out (schema 0011 has
    no chain): an imported row's as the same row written whole holds it (no step, memory or
    retention before)."""
    from datetime import UTC, datetime, timedelta

    from flashcore.storage.db import make_engine
    from flashcore.storage.migrate import downgrade

    package = ah.export(student, tmp_path / "phone.colpkg")
    start = datetime.now(UTC).replace(microsecond=0) - timedelta(days=19, hours=-1)
    read = []
    for n, url in enumerate(two_urls):
        with Flashcore.open(url, clock=FixedClock(start), create=True, timezone="UTC") as fc:
            if n == 1:  # not a first import: the rows go in whole (`ROWS_SQL`)
                monkeypatch.setattr(anki_sync, "holds_revlog_ids", lambda *_a: True)
            import_package(fc, package, tmp_path / f"work{n}")
            monkeypatch.undo()
            assert (_narrow(fc) > 0) == (n == 0 and fc.engine.dialect.name == "sqlite")
        engine = make_engine(url)
        try:
            downgrade(engine, "0011")
            with engine.connect() as conn:
                rows = conn.execute(sa.text("SELECT * FROM review_logs")).mappings().all()
        finally:
            engine.dispose()
        skip = {"id", "card_id", "profile_id", "scheduler_id"}
        read.append({r["anki_revlog_id"]: {k: v for k, v in r.items() if k not in skip}
                     for r in rows})  # fmt: skip
    assert len(read[0]) > 20
    assert read[0] == read[1]
