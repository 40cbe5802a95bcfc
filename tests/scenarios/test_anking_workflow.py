"""AnKing's workflow in flashcore over several study days: an AnKing-style package imported
with its suspended cards, a UWorld question missed on a later day (its cards unsuspend, come
first, and say why), the student studies every day, then re-imports the deck after editing a
note in Anki: the edit arrives, nothing is duplicated, flashcore's scheduling stays, and the
unsuspended cards are not suspended again. Invariants every day: the cards are all there once,
suspended cards never appear in the queue, `check` is clean."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

pytest.importorskip("anki.collection")

from flashcore.core.clock import FixedClock
from flashcore.core.model import Rating
from flashcore.services import Flashcore, study
from flashcore.services.check import check
from flashcore.services.qbank import import_log
from tests.anki_packages import build_student_collection, export

START = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)
CARDS = 11


def _invariants(fc, day: int) -> None:
    cards = fc.cards()
    assert len(cards) == CARDS, f"day {day}: {len(cards)} cards"
    assert len({(c["note_key"], c["ord"]) for c in cards}) == CARDS
    suspended = {c["card_id"] for c in cards if c["suspended"]}
    queue = study.build_queue(fc)
    assert not suspended & {i.card_id for i in queue.items}, f"day {day}"
    assert check(fc).problems == [], f"day {day}"


def _study_today(fc, clock: FixedClock) -> int:
    given = 0
    for _ in range(200):
        queue = study.build_queue(fc, limit=1)
        if not queue.items:
            break
        item = queue.items[0]
        if item.due > clock.now():
            clock.set(item.due)
        study.answer(fc, item.card_id, Rating.GOOD, duration_ms=5000)
        given += 1
        clock.advance(timedelta(seconds=30))
    return given


@pytest.mark.parametrize(
    "url_fixture", ["sqlite_url", pytest.param("pg_url", marks=pytest.mark.postgres)]
)
def test_a_missed_question_unsuspends_its_anking_cards_and_a_reimport_keeps_them(
    request, url_fixture, tmp_path, monkeypatch
):
    monkeypatch.setenv("FLASHCORE_HOME", str(tmp_path / "home"))
    url = request.getfixturevalue(url_fixture)
    clock = FixedClock(START)
    fc = Flashcore.open(url, clock=clock, create=True, timezone="UTC")
    (tmp_path / "anki").mkdir()
    col, made = build_student_collection(tmp_path / "anki" / "collection.anki2")
    try:
        [report] = fc.add_decks([export(col, tmp_path / "anking.apkg", scheduling=True)])
        assert report.ok and report.added == 7
        held = {c["card_id"] for c in fc.cards() if c["suspended"]}
        assert len(held) == 2  # the Amiodarone note's two deletions
        for day in range(6):
            if day == 2:  # a UWorld block: question 5678 missed
                miss = import_log(fc, b"5678\n", origin="block.txt", fmt="qids")
                assert miss.unsuspended == 2 and miss.matched_card == 1
                queue = study.build_queue(fc)
                new = [i for i in queue.items if i.state.label == "new"]
                # introduced first of the new cards (its sibling is buried for the day)
                assert new[0].card_id in held, "the unsuspended cards come first"
                assert new[0].reason.startswith("new; unsuspended: missed uworld:5678 on")
            if day == 4:  # the student fixes a typo in Anki and exports again
                note = col.get_note(made.note_ids["suspended"])
                note["Text"] = "{{c1::Amiodarone}} causes {{c2::pulmonary fibrosis}} (and thyroid)"
                col.update_note(note)
                [again] = fc.add_decks([export(col, tmp_path / "anking2.apkg", scheduling=True)])
                assert (again.added, again.updated) == (0, 1)
                after = {c["card_id"]: c for c in fc.cards()}
                assert not any(after[i]["suspended"] for i in held)  # not suspended again
                assert max(after[i]["reps"] for i in held) > 0  # flashcore's scheduling stays
            given = _study_today(fc, clock)
            assert given > 0 or day > 2
            _invariants(fc, day)
            clock.set(clock.now().replace(hour=9, minute=0) + timedelta(days=1))
        view = study.show(fc, sorted(held)[0])
        assert "thyroid" in "".join(s.text for s in view.back)
    finally:
        col.close()
        fc.close()
