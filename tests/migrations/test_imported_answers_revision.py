"""Schema 0027 on a released 0026 database, on SQLite and PostgreSQL: the upgrade adds the
empty `imported_answers` table and changes no row; imported answers kept there read as
review-log rows (`storage.answer_rows`), and the downgrade moves each into the review log as
exactly that row (ids aside), then drops the table: no row lost either way."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from flashcore.storage.answer_rows import REVIEW_LOG_COLUMNS, imported_select
from flashcore.storage.db import make_engine
from flashcore.storage.migrate import downgrade, read_revision, upgrade
from flashcore.storage.tables import imported_answers, review_logs
from tests.migrations.fixtures import dump, released_database

REVISION, PREVIOUS = "0027", "0026"
T0 = 1_790_000_000_000  # epoch milliseconds: an Anki revlog id


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def released(request: pytest.FixtureRequest, tmp_path: Path) -> tuple[str, dict[str, Any]]:
    return released_database(request, tmp_path, PREVIOUS)


def _answers(profile_id: int, card_ids: list[int]) -> list[dict[str, Any]]:
    """A few answers of two cards: learning steps, reviews, a lapse, a filtered deck's."""
    day = 86_400_000
    due = datetime(2026, 12, 1, 4, tzinfo=UTC)
    rows = []
    #  card, ms after T0, ease, type, ivl, factor, day
    for card, at, ease, kind, ivl, factor, study_day in (
        (0, 0, 3, 0, -600, 0, 100),
        (0, 600_000, 3, 0, 1, 2500, 100),
        (0, day, 1, 1, -600, 2300, 101),
        (0, day + 600_000, 3, 2, 2, 2300, 101),
        (0, 4 * day, 4, 1, 9, 450, 104),
        (1, 2 * day, 1, 3, -60, 0, 102),  # a filtered deck's first answer: no lapse
        (1, 3 * day, 1, 3, 1, 0, 103),  # and its second: a lapse
    ):
        rows.append({
            "card_id": card_ids[card], "anki_revlog_id": T0 + at, "profile_id": profile_id,
            "rating": ease, "duration_ms": 4000 if ease != 4 else None, "kind": kind,
            "interval": ivl, "factor": factor, "day": study_day, "due_after": due,
            "desired_retention": 0.9 if card == 0 else 0.85,
        })  # fmt: skip
    return rows


def test_imported_answers_come_and_go_without_losing_a_row(released):
    url, fixture = released
    columns = {name: table["columns"] for name, table in fixture["tables"].items()}
    engine = make_engine(url)
    try:
        upgrade(engine, REVISION)
        assert read_revision(engine) == REVISION
        assert "imported_answers" in sa.inspect(engine).get_table_names()
        assert dump(engine, columns) == fixture["tables"]
        with engine.begin() as conn:
            profile_id, *_ = conn.execute(sa.text("SELECT min(id) FROM profiles")).one()
            card_ids = list(
                conn.execute(
                    sa.select(sa.text("id")).select_from(sa.text("cards"))
                    .where(sa.text(f"profile_id = {profile_id}")).order_by(sa.text("id")).limit(2)
                ).scalars()
            )  # fmt: skip
            conn.execute(sa.insert(imported_answers), _answers(profile_id, card_ids))
            read = conn.execute(imported_select(REVIEW_LOG_COLUMNS)).mappings().all()
            logged = conn.execute(sa.select(sa.func.count()).select_from(review_logs)).scalar()
        assert len(read) == 7
        by_revlog = {r["anki_revlog_id"]: r for r in read}
        lapses = [by_revlog[T0 + ms]["lapses_before"] for ms in (86_400_000 + 600_000, 345_600_000)]
        assert lapses == [1, 1]  # card 0: one review lapse before each
        assert by_revlog[T0 + 3 * 86_400_000]["lapses_before"] == 0  # filtered first: none

        downgrade(engine, PREVIOUS)
        assert read_revision(engine) == PREVIOUS
        assert "imported_answers" not in sa.inspect(engine).get_table_names()
        with engine.connect() as conn:
            moved = (
                conn.execute(
                    sa.select(review_logs).where(
                        review_logs.c.anki_revlog_id.in_(list(by_revlog)),
                        review_logs.c.card_id.in_(card_ids),
                    )
                )
                .mappings()
                .all()
            )
            total = conn.execute(sa.select(sa.func.count()).select_from(review_logs)).scalar()
        assert total == logged + 7
        skip = {"id"}
        want = {k: {n: v for n, v in r.items() if n not in skip} for k, r in by_revlog.items()}
        have = {r["anki_revlog_id"]: {n: v for n, v in r.items() if n not in skip} for r in moved}
        assert have == want
        assert all(r["imported"] and r["reason"] == "answered in Anki" for r in moved)
        # the rows there before are as they were
        kept = {n: t for n, t in dump(engine, columns).items() if n != "review_logs"}
        assert kept == {n: t for n, t in fixture["tables"].items() if n != "review_logs"}
    finally:
        engine.dispose()
