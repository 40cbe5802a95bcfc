"""The round trip a student makes between flashcore and Anki, with real Anki on the Anki side:
a phone collection with weeks of history is added with `decks add FILE --with-scheduling`,
studied in flashcore over several days (`check` clean every day), exported with `export anki
--with-scheduling`, imported into another Anki (a new device) and studied there, exported again
and added back. Every answer of both sides is in the review log exactly once; the cards take
the newest state (Anki's, which saw every answer); `check` finds nothing; a third import adds
nothing."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from anki.collection import Collection, ImportAnkiPackageOptions, ImportAnkiPackageRequest

from flashcore.core.clock import FixedClock
from flashcore.services import Flashcore
from flashcore.services.check import check
from flashcore.services.export import export_anki
from tests import anki_history as ah
from tests.scenarios.test_anki_both_sides import phone_with_history, study_in_flashcore
from tests.services.test_anki_scheduling import flashcore_cards, review_rows


def added(fc: Flashcore, package: Path) -> dict:
    (report,) = fc.add_decks([package], with_scheduling=True)
    assert report.ok, report.problems
    assert report.scheduling is not None
    return report.scheduling.to_json()


@pytest.mark.parametrize(
    "url_fixture", ["sqlite_url", pytest.param("pg_url", marks=pytest.mark.postgres)]
)
def test_flashcore_to_anki_and_back_keeps_every_answer_once(request, url_fixture, tmp_path):
    url = request.getfixturevalue(url_fixture)
    phone = phone_with_history(tmp_path)
    first = ah.export(phone, tmp_path / "phone.colpkg")
    phone_answers = sum(map(len, ah.revlog_ids(phone.col).values()))
    wall = datetime.now(UTC).replace(microsecond=0)
    clock = FixedClock((wall - timedelta(days=29)).replace(hour=9, minute=0, second=0))
    with Flashcore.open(url, clock=clock, create=True, timezone="UTC") as fc:
        summary = added(fc, first)
        assert summary["reviews_added"] == phone_answers and check(fc).problems == []
        given = study_in_flashcore(fc, clock, days=12, seed=5)
        assert given > 8
        out = tmp_path / "from-flashcore.apkg"
        export_anki(fc, out, with_scheduling=True)
        exported_at = clock.now()

        # Another device: a fresh Anki collection takes the export, and is studied (now).
        desk = ah.Student(tmp_path / "desk" / "collection.anki2",
                          Collection(str(_fresh(tmp_path / "desk"))))  # fmt: skip
        desk.col.import_anki_package(ImportAnkiPackageRequest(
            package_path=str(out),
            options=ImportAnkiPackageOptions(with_scheduling=True, with_deck_configs=True),
        ))  # fmt: skip
        desk_before = sum(map(len, ah.revlog_ids(desk.col).values()))
        assert desk_before == phone_answers + given  # Anki took every answer of both
        desk_answers = ah.answer_due(desk, ah.mixed(11))
        assert desk_answers > 5
        back = ah.export(desk, tmp_path / "desk.apkg")

        clock.set(datetime.now(UTC) + timedelta(hours=1))
        summary = added(fc, back)
        assert summary["reviews_added"] == desk_answers
        assert summary["reviews_linked"] == given  # flashcore's own answers, recognised
        assert summary["reviews_skipped"] == phone_answers
        logs = review_rows(fc)
        rows = [r for card in logs.values() for r in card]
        assert len(rows) == phone_answers + given + desk_answers
        assert len({r.anki_revlog_id for r in rows}) == len(rows)  # each once, all known to Anki
        assert check(fc).problems == []

        # The cards answered on the new device are due when Anki says.
        due = ah.anki_due_dates(desk.col, datetime.now(UTC))
        mine = flashcore_cards(fc)
        exported_ms = int(exported_at.timestamp() * 1000)
        answered = {cid for cid, ids in ah.revlog_ids(desk.col).items() if ids[-1] > exported_ms}
        assert answered
        by_anki = _anki_ids(fc)
        for anki_id in answered & due.keys():
            assert mine[by_anki[anki_id]].due == due[anki_id]

        again = added(fc, back)
        assert again["reviews_added"] == 0 and again["cards_updated"] == 0
        assert sum(map(len, review_rows(fc).values())) == len(rows)


def _fresh(folder: Path) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    return folder / "collection.anki2"


def _anki_ids(fc: Flashcore) -> dict[int, int]:
    from sqlalchemy import select

    from flashcore.storage.tables import anki_cards
    from flashcore.storage.uow import reading

    with reading(fc.engine) as session:
        return dict(session.execute(select(anki_cards.c.anki_card_id, anki_cards.c.card_id)).all())
