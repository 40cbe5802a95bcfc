"""A student who studies in flashcore and on the phone (Anki) at once, with real Anki on the
phone side (tests/anki_history.py): the phone's collection is imported with its scheduling, the
student studies in flashcore over several days (`check` clean every day), keeps studying on the
phone meanwhile, and brings the phone's export back. Every answer of both sides is in the log
exactly once, in time order; a card answered on both sides has its state recomputed by FSRS
from its anchor (and `check` agrees); a card answered only on the phone has Anki's due day."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from flashcore.core.clock import FixedClock
from flashcore.core.model import Rating
from flashcore.services import Flashcore, study
from flashcore.services.check import check
from tests import anki_history as ah
from tests.services.test_anki_scheduling import flashcore_cards, import_package, review_rows


def phone_with_history(folder: Path) -> ah.Student:
    """A phone collection studied over three sessions, the last 30 days before now."""
    phone = ah.new_student(folder / "phone" / "collection.anki2", notes=14)
    ah.study_days(phone, [3, 5, 30])
    return phone


def study_in_flashcore(
    fc: Any, clock: FixedClock, days: int, seed: int, step: timedelta = timedelta(seconds=20)
) -> int:
    """Each day: answer today's whole queue (mostly Good), `step` apart, `check` clean; answers
    given."""
    given = 0
    for day in range(days):
        rng = random.Random(f"{seed}:{day}")
        for _ in range(300):
            queue = study.build_queue(fc, limit=1)
            if not queue.items:
                break
            item = queue.items[0]
            if item.due > clock.now():
                clock.set(item.due)  # a learning step later today
            draw = rng.random()
            rating = Rating.AGAIN if draw < 0.12 else Rating.HARD if draw < 0.2 else Rating.GOOD
            study.answer(fc, item.card_id, rating, duration_ms=4000)
            given += 1
            clock.advance(step)
        assert check(fc).problems == [], f"day {day}"
        clock.set(clock.now().replace(hour=9, minute=0) + timedelta(days=1))
    return given


@pytest.mark.parametrize(
    "url_fixture", ["sqlite_url", pytest.param("pg_url", marks=pytest.mark.postgres)]
)
def test_answers_from_both_sides_are_all_kept_once_and_merged_with_fsrs(
    request, url_fixture, tmp_path
):
    url = request.getfixturevalue(url_fixture)
    phone = phone_with_history(tmp_path)
    first = ah.export(phone, tmp_path / "phone-1.colpkg")
    wall = datetime.now(UTC).replace(microsecond=0)
    clock = FixedClock((wall - timedelta(days=29)).replace(hour=9, minute=0, second=0))
    with Flashcore.open(url, clock=clock, create=True, timezone="UTC") as fc:
        summary, card_ids = import_package(fc, first, tmp_path / "work")
        assert summary.cards_added > 0 and check(fc).problems == []
        given = study_in_flashcore(fc, clock, days=12, seed=3)
        # How many come due here depends on where the phone's (real-time) history falls against
        # Anki's day boundary: 8 to 12 seen; what matters is that both sides answer some cards.
        assert given >= 6
        here = {
            cid: [r.reviewed_at for r in rows if not r.imported]
            for cid, rows in review_rows(fc).items()
        }

        # Meanwhile, on the phone (now): what is due there is answered.
        phone_answers = ah.answer_due(phone, ah.mixed(9))
        assert phone_answers > 5
        second = ah.export(phone, tmp_path / "phone-2.colpkg")
        clock.set(datetime.now(UTC) + timedelta(hours=1))
        back, _ = import_package(fc, second, tmp_path / "work")

        assert back.reviews_added == phone_answers
        assert back.cards_merged > 0
        logs = review_rows(fc)
        anki = ah.revlog_ids(phone.col)
        for anki_id, flashcore_id in card_ids.items():
            rows = logs.get(flashcore_id, [])
            # Every phone answer once, every flashcore answer once, nothing else.
            assert sorted(r.anki_revlog_id for r in rows if r.imported) == anki.get(anki_id, [])
            assert [r.reviewed_at for r in rows if not r.imported] == here.get(flashcore_id, [])
            assert [r.reviewed_at for r in rows] == sorted(r.reviewed_at for r in rows)
        assert check(fc).problems == []

        # A card answered only on the phone since the first import has Anki's due day.
        due = ah.anki_due_dates(phone.col, datetime.now(UTC))
        mine = flashcore_cards(fc)
        phone_only = [
            a for a, f in card_ids.items()
            if not here.get(f) and any(r > first_ids_max(first) for r in anki.get(a, []))
        ]  # fmt: skip
        assert phone_only
        for anki_id in phone_only:
            assert mine[card_ids[anki_id]].due == due[anki_id]

        # Brought back twice: nothing more.
        again, _ = import_package(fc, second, tmp_path / "work")
        assert again.reviews_added == 0 and again.cards_merged == 0
        assert sum(map(len, review_rows(fc).values())) == sum(map(len, logs.values()))


def first_ids_max(package: Path) -> int:
    from flashcore.importers.anki_package import open_package

    with open_package(package, work_dir=package.parent / "peek") as pkg:
        return max((e.id for e in pkg.revlog()), default=0)
