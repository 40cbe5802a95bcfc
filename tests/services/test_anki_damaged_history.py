"""An Anki package whose review history holds an interval of ages (a revlog row's `ivl` that
puts the answer's due date past the year 9999: a damaged collection). Found by review: the
first import failed with `IntegrityError: NOT NULL constraint failed: review_logs.due_after`
(before that, `OverflowError`). Now `decks add --with-scheduling` refuses the package in one
line naming the file, and writes nothing; without the scheduling its notes load."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from flashcore.core.clock import FixedClock
from flashcore.core.errors import AnkiPackageError
from flashcore.services import Flashcore
from tests import anki_history as ah


def _damaged(tmp_path: Path) -> Path:
    student = ah.new_student(tmp_path / "c" / "collection.anki2", notes=3, cloze=0)
    ah.study_days(student, [1])
    db = student.col.db
    last = db.scalar("SELECT max(id) FROM revlog")
    db.execute("UPDATE revlog SET ivl = 5000000 WHERE id = ?", last)
    db.execute(
        "UPDATE cards SET ivl = 5000000, due = 5000000 WHERE id = "
        "(SELECT cid FROM revlog WHERE id = ?)",
        last,
    )
    return ah.export(student, tmp_path / "damaged.apkg")


@pytest.mark.parametrize(
    "url_fixture", ["sqlite_url", pytest.param("pg_url", marks=pytest.mark.postgres)]
)
def test_a_history_no_date_holds_is_refused_in_one_line_and_nothing_is_written(
    request, url_fixture, tmp_path
):
    url = request.getfixturevalue(url_fixture)
    package = _damaged(tmp_path)
    clock = FixedClock(datetime.now(UTC).replace(microsecond=0))
    with Flashcore.open(url, clock=clock, create=True, timezone="UTC") as fc:
        with pytest.raises(AnkiPackageError) as caught:
            fc.add_decks([package], with_scheduling=True)
        message = str(caught.value)
        assert message.startswith(f"{package}: ") and "\n" not in message
        assert "revlog ivl" in message and "nothing was imported" in message
        assert fc.cards() == []
        (report,) = fc.add_decks([package])  # the notes alone load
        assert report.ok and report.added == 3
