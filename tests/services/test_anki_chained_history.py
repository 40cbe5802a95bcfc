"""A first import's narrow imported answers (SQLite, schema 0027: each answer's previous one
read where the rows are read; before it, chained review-log rows) under what a student does next: each card
answered, undone (the card exactly as it was, its imported rows all kept), answered again;
`check` clean; the same package brought back adds nothing. Both backends (PostgreSQL's rows
go in whole: the same behaviour)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sqlalchemy import select

from flashcore.core.model import Rating
from flashcore.services import study
from flashcore.services.check import check
from flashcore.storage.tables import imported_answers
from flashcore.storage.uow import reading
from tests import anki_history as ah
from tests.services import test_anki_scheduling as scheduling
from tests.services.test_anki_scheduling import flashcore_cards, import_package, review_rows

student = scheduling.student  # the fixtures
fc_now = scheduling.fc_now

_STATE = ("state", "step", "stability", "difficulty", "due", "last_review", "reps", "lapses",
          "desired_retention", "buried_until", "suspended")  # fmt: skip


def _state(row: Any) -> tuple[Any, ...]:
    return tuple(getattr(row, name) for name in _STATE)


def _narrow(fc: Any) -> int:
    with reading(fc.engine) as session:
        return len(session.execute(select(imported_answers.c.card_id)).all())


def test_undo_and_re_answer_over_imported_chained_history(student, fc_now, tmp_path: Path):
    fc = fc_now
    package = ah.export(student, tmp_path / "phone.colpkg")
    summary, _ = import_package(fc, package, tmp_path / "work")
    imported = {cid: len(rows) for cid, rows in review_rows(fc).items()}
    assert summary.reviews_added == sum(imported.values()) > 20
    if fc.engine.dialect.name == "sqlite":
        assert _narrow(fc) == summary.reviews_added > 0
    answered = 0
    for card_id in sorted(imported):
        before = flashcore_cards(fc)  # a sibling answered before may have buried this one
        if before[card_id].suspended:
            continue
        study.answer(fc, card_id, Rating.GOOD, duration_ms=3000)
        study.undo(fc)
        assert _state(flashcore_cards(fc)[card_id]) == _state(before[card_id]), card_id
        assert len(review_rows(fc)[card_id]) == imported[card_id]
        study.answer(fc, card_id, Rating.HARD, duration_ms=3000)
        answered += 1
    assert answered > 5
    assert check(fc).problems == []
    rows = {cid: len(r) for cid, r in review_rows(fc).items()}
    again, _ = import_package(fc, package, tmp_path / "work")
    assert again.reviews_added == 0
    assert {cid: len(r) for cid, r in review_rows(fc).items()} == rows
    assert check(fc).problems == []
