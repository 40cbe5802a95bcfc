"""flashcore's own decks studied on the phone: a student loads a TOML deck, studies it in
flashcore for some days, exports it to Anki (`export anki --with-scheduling`), studies it in
Anki (real Anki, on "the phone"), exports from Anki and adds that package back with `decks add
FILE --with-scheduling`. Found by hand: every note came back as a second copy (its reviews on
the copy, `stats` counting flashcore's own answers twice). Now the notes are known by the GUIDs
flashcore's export gave them (services.anki_identity): nothing is added, the phone's answers
land on the deck's own cards, each answer of both sides once, `check` clean, and a second add
changes nothing. A note from an Anki package with a reversed template (exported as two notes)
comes back the same way."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from anki.collection import (
    Collection,
    DeckIdLimit,
    ExportAnkiPackageOptions,
    ImportAnkiPackageOptions,
    ImportAnkiPackageRequest,
)

from flashcore.core.clock import FixedClock
from flashcore.core.model import Rating
from flashcore.services import Flashcore, study
from flashcore.services.check import check
from flashcore.services.export import export_anki
from tests import anki_history as ah
from tests.conftest import write_deck
from tests.scenarios.test_anki_both_sides import study_in_flashcore
from tests.services.test_anki_scheduling import flashcore_cards, review_rows

DECK = "\n".join(
    f'[[cards]]\nid = "b{i}"\nfront = "Own question {i}"\nback = "Own answer {i}"\n'
    f'topics = ["Pharmacology::Autonomic"]\n'
    for i in range(8)
) + "\n".join(
    f'\n[[cards]]\nid = "c{i}"\ncloze = "{{{{c1::Drug {i}}}}} blocks {{{{c2::receptor {i}}}}}"\n'
    for i in range(3)
)


def _phone(tmp_path: Path, package: Path, name: str) -> ah.Student:
    """A fresh Anki collection that takes `package` (with scheduling)."""
    folder = tmp_path / name
    folder.mkdir(parents=True)
    student = ah.Student(folder / "collection.anki2", Collection(str(folder / "collection.anki2")))
    student.col.import_anki_package(ImportAnkiPackageRequest(
        package_path=str(package),
        options=ImportAnkiPackageOptions(with_scheduling=True, with_deck_configs=True),
    ))  # fmt: skip
    return student


def _counts(fc: Flashcore) -> tuple[int, int]:
    cards = fc.cards()
    return len({c["note_key"] for c in cards}), len(cards)


def _add(fc: Flashcore, package: Path) -> tuple[dict, int]:
    (report,) = fc.add_decks([package], with_scheduling=True)
    assert report.ok, report.problems
    assert report.scheduling is not None
    return report.scheduling.to_json(), report.own_notes


@pytest.mark.parametrize(
    "url_fixture", ["sqlite_url", pytest.param("pg_url", marks=pytest.mark.postgres)]
)
def test_own_deck_studied_in_anki_comes_back_without_copies(request, url_fixture, tmp_path):
    url = request.getfixturevalue(url_fixture)
    wall = datetime.now(UTC).replace(microsecond=0)
    clock = FixedClock((wall - timedelta(days=12)).replace(hour=9, minute=0, second=0))
    with Flashcore.open(url, clock=clock, create=True, timezone="UTC") as fc:
        (loaded,) = fc.add_decks([write_deck(tmp_path / "own.toml", DECK, name="Step 1::Own")])
        assert loaded.ok, loaded.problems
        notes_before, cards_before = _counts(fc)
        given = study_in_flashcore(fc, clock, days=6, seed=3)
        assert given > 10
        out = tmp_path / "from-flashcore.apkg"
        export_anki(fc, out, with_scheduling=True)

        phone = _phone(tmp_path, out, "phone")
        assert sum(map(len, ah.revlog_ids(phone.col).values())) == given
        on_phone = ah.answer_due(phone, ah.mixed(4))
        assert on_phone > 3
        back = ah.export(phone, tmp_path / "phone.apkg")

        clock.set(datetime.now(UTC) + timedelta(hours=1))
        summary, own = _add(fc, back)
        assert own == notes_before  # every note known: none added again
        assert _counts(fc) == (notes_before, cards_before)
        assert summary["reviews_added"] == on_phone
        assert summary["reviews_linked"] == given  # flashcore's own answers, recognised
        rows = [r for card in review_rows(fc).values() for r in card]
        assert len(rows) == given + on_phone
        assert check(fc).problems == []

        again, own = _add(fc, back)
        assert own == notes_before and _counts(fc) == (notes_before, cards_before)
        assert again["reviews_added"] == 0 and again["cards_updated"] == 0
        assert sum(map(len, review_rows(fc).values())) == len(rows)


@contextmanager
def _studied_on_the_real_clock(
    url: str, tmp_path: Path
) -> Iterator[tuple[Flashcore, FixedClock, int, Path]]:
    """The own deck studied here for six days on a clock that keeps microseconds, as the
    reviewer's real clock does, and exported with scheduling: (collection, its clock, answers
    given, the package)."""
    start = (datetime.now(UTC) - timedelta(days=12)).replace(
        hour=9, minute=0, second=3, microsecond=528_965
    )
    clock = FixedClock(start)
    with Flashcore.open(url, clock=clock, create=True, timezone="UTC") as fc:
        (loaded,) = fc.add_decks([write_deck(tmp_path / "own.toml", DECK, name="Step 1::Own")])
        assert loaded.ok, loaded.problems
        real_clock = timedelta(seconds=20, microseconds=431_777)
        given = study_in_flashcore(fc, clock, days=6, seed=3, step=real_clock)
        out = tmp_path / "from-flashcore.apkg"
        export_anki(fc, out, with_scheduling=True)
        yield fc, clock, given, out


@pytest.mark.parametrize(
    "url_fixture", ["sqlite_url", pytest.param("pg_url", marks=pytest.mark.postgres)]
)
def test_answers_given_on_the_real_clock_come_back_from_anki_without_a_replay_twice(
    request, url_fixture, tmp_path
):
    """Found living with it: answers given in the reviewer carry microseconds, Anki's revlog
    ids milliseconds. Brought back from a phone, every card flashcore had answered took Anki's
    copy of its own state (due rounded to the day's start, stability to four digits), anchored
    at the millisecond of its last answer, so `check` replayed that answer a second time on top
    and found ~50 of 152 cards wrong (and `check --repair` would have applied it twice)."""
    url = request.getfixturevalue(url_fixture)
    with _studied_on_the_real_clock(url, tmp_path) as (fc, clock, given, out):
        before = flashcore_cards(fc)
        wall = datetime.now(UTC)

        phone = _phone(tmp_path, out, "phone")
        on_phone = ah.answer_due(phone, ah.mixed(4), limit=2)
        assert on_phone == 2
        touched = {
            cid for cid, ids in ah.revlog_ids(phone.col).items()
            if ids[-1] > int(wall.timestamp() * 1000) - 60_000
        }  # fmt: skip
        back = ah.export(phone, tmp_path / "phone.apkg")

        clock.set(datetime.now(UTC) + timedelta(hours=1))
        summary, _ = _add(fc, back)
        assert summary["reviews_added"] == on_phone
        assert summary["reviews_linked"] == given
        assert check(fc).problems == []
        after = flashcore_cards(fc)
        by_anki = {a: c for c, a in _anki_links(fc).items()}
        answered_there = {by_anki[a] for a in touched}
        assert len(answered_there) == on_phone
        for card_id, row in before.items():
            if card_id not in answered_there:  # nothing new from Anki: its exact state stays
                kept = after[card_id]
                assert (kept.due, kept.stability, kept.reps) == (row.due, row.stability, row.reps)


@pytest.mark.parametrize(
    "url_fixture", ["sqlite_url", pytest.param("pg_url", marks=pytest.mark.postgres)]
)
def test_a_due_date_set_in_anki_on_a_card_answered_here_is_taken_without_a_replay_twice(
    request, url_fixture, tmp_path
):
    """A card answered here on the real clock (microseconds), exported, given a due date on the
    phone without an answer (a manual revlog row): it takes Anki's state, anchored after its
    last answer's microseconds (at the end of that answer's millisecond), so `check` does not
    replay that answer a second time (found in review: at the millisecond itself it did)."""
    url = request.getfixturevalue(url_fixture)
    with _studied_on_the_real_clock(url, tmp_path) as (fc, clock, _given, out):
        phone = _phone(tmp_path, out, "phone")
        col = phone.col
        (target, *_) = [cid for cid in col.find_cards("is:review") if col.get_card(cid).type == 2]
        col.sched.set_due_date([target], "20")  # a manual row, no answer
        back = ah.export(phone, tmp_path / "phone.apkg")

        clock.set(datetime.now(UTC) + timedelta(hours=1))
        summary, _ = _add(fc, back)
        assert (summary["reviews_added"], summary["manual_skipped"]) == (0, 1)
        card_id = {a: c for c, a in _anki_links(fc).items()}[target]
        due = flashcore_cards(fc)[card_id].due
        assert timedelta(days=19) < due - datetime.now(UTC) < timedelta(days=21)  # Anki's
        assert check(fc).problems == []


@pytest.mark.parametrize(
    "url_fixture", ["sqlite_url", pytest.param("pg_url", marks=pytest.mark.postgres)]
)
def test_a_card_reset_to_new_in_anki_is_new_here_too_and_stays_so(request, url_fixture, tmp_path):
    """Anki's Forget / Reset (a manual revlog row, no answer) on a card answered here: found in
    review, the re-import dropped it (the card stayed a review card here, counted "still new").
    Now the card is new here too, its answers stay in the log, `check` replays only what comes
    after the reset, the same package again changes nothing, and the card is studied anew."""
    url = request.getfixturevalue(url_fixture)
    with _studied_on_the_real_clock(url, tmp_path) as (fc, clock, given, out):
        phone = _phone(tmp_path, out, "phone")
        col = phone.col
        (target, *_) = [cid for cid in col.find_cards("is:review") if col.get_card(cid).type == 2]
        col.sched.schedule_cards_as_new([target], restore_position=True, reset_counts=False)
        back = ah.export(phone, tmp_path / "phone.apkg")

        clock.set(datetime.now(UTC) + timedelta(hours=1))
        summary, _ = _add(fc, back)
        assert (summary["reviews_added"], summary["cards_updated"]) == (0, 1)
        card_id = {a: c for c, a in _anki_links(fc).items()}[target]
        card = flashcore_cards(fc)[card_id]
        assert (card.state, card.stability, card.reps) == (0, None, 0)
        assert sum(map(len, review_rows(fc).values())) == given  # nothing lost
        assert check(fc).problems == []

        again, _ = _add(fc, back)
        assert again["cards_updated"] == 0
        assert flashcore_cards(fc)[card_id].state == 0
        clock.advance(timedelta(minutes=5))
        study.answer(fc, card_id, Rating.GOOD, duration_ms=3000)  # studied anew, from new
        assert flashcore_cards(fc)[card_id].reps == 1
        assert check(fc).problems == []


def _anki_links(fc: Flashcore) -> dict[int, int]:
    from sqlalchemy import select

    from flashcore.storage.tables import anki_cards
    from flashcore.storage.uow import reading

    with reading(fc.engine) as session:
        return dict(session.execute(select(anki_cards.c.card_id, anki_cards.c.anki_card_id)).all())


def _reversed_source(tmp_path: Path) -> tuple[Path, ah.Student, Any]:
    """An Anki collection of two basic notes and one "Basic (and reversed card)" note,
    exported: the package, the collection and the reversed note."""
    source = ah.new_student(tmp_path / "source" / "collection.anki2", notes=2, cloze=0)
    col = source.col
    note = col.new_note(col.models.by_name("Basic (and reversed card)"))
    note["Front"], note["Back"] = "Beta-1 blockers end in?", "-olol"
    col.add_note(note, col.decks.id("Step 1::Pharm"))
    return ah.export(source, tmp_path / "source.apkg"), source, note


def test_a_reversed_note_split_by_the_export_comes_back_as_its_two_cards(sqlite_url, tmp_path):
    first = _reversed_source(tmp_path)[0]
    clock = FixedClock(datetime.now(UTC).replace(microsecond=0) - timedelta(days=3))
    with Flashcore.open(sqlite_url, clock=clock, create=True, timezone="UTC") as fc:
        _add(fc, first)
        notes_before, cards_before = _counts(fc)
        assert cards_before == 4  # two basic notes, the reversed note's two cards
        given = study_in_flashcore(fc, clock, days=2, seed=1)
        out = tmp_path / "from-flashcore.apkg"
        export_anki(fc, out, with_scheduling=True)  # the reversed note: two notes in Anki
        phone = _phone(tmp_path, out, "phone")
        on_phone = ah.answer_due(phone, ah.mixed(2))
        back = ah.export(phone, tmp_path / "phone.apkg")

        clock.set(datetime.now(UTC) + timedelta(hours=1))
        summary, own = _add(fc, back)
        assert own == 1  # the reversed card's own note, known by its key
        assert _counts(fc) == (notes_before, cards_before)
        assert summary["reviews_added"] == on_phone
        assert sum(map(len, review_rows(fc).values())) == given + on_phone
        assert check(fc).problems == []


def test_a_reversed_note_moved_to_another_deck_in_anki_keeps_both_sides(sqlite_url, tmp_path):
    """Review rv: the reversed note's cards moved to another deck on the phone. The package
    note (the export's first half, one template) was taken as the package's text because it was
    looked up by its new deck: its reverse card came back blank and suspended. It stays as
    flashcore holds it, moved to the new deck, both cards as they were."""
    first = _reversed_source(tmp_path)[0]
    clock = FixedClock(datetime.now(UTC).replace(microsecond=0) - timedelta(days=3))
    with Flashcore.open(sqlite_url, clock=clock, create=True, timezone="UTC") as fc:
        _add(fc, first)
        shown = {c["card_id"]: (c["front"], c["suspended"]) for c in fc.cards()}
        assert len(shown) == 4 and not any(s for _f, s in shown.values())
        study_in_flashcore(fc, clock, days=2, seed=1)
        out = tmp_path / "from-flashcore.apkg"
        export_anki(fc, out, with_scheduling=True)
        phone = _phone(tmp_path, out, "phone")
        moved = set(phone.col.find_cards("Beta-1")) | set(phone.col.find_cards("olol"))
        assert len(moved) == 2  # the note's two halves, one card each
        phone.col.set_deck(sorted(moved), phone.col.decks.id("Elsewhere"))
        back = ah.export(phone, tmp_path / "phone.apkg")

        clock.set(datetime.now(UTC) + timedelta(hours=1))
        _add(fc, back)
        cards = fc.cards()
        assert {c["card_id"]: (c["front"], c["suspended"]) for c in cards} == shown
        assert {c["deck"] for c in cards if "Beta-1" in c["front"]} == {"Elsewhere"}
        assert check(fc).problems == []


def test_a_reversed_note_s_first_half_exported_alone_keeps_both_sides(sqlite_url, tmp_path):
    """Review rv: only the deck the reversed note's first card was moved to is exported from
    the phone, so the package holds the export's first half without its other half. It was
    taken as the package's text: the reverse card came back blank and suspended. It stays as
    flashcore holds it; the original package with the note edited still updates it."""
    first, source, note = _reversed_source(tmp_path)
    col = source.col
    clock = FixedClock(datetime.now(UTC).replace(microsecond=0) - timedelta(days=3))
    with Flashcore.open(sqlite_url, clock=clock, create=True, timezone="UTC") as fc:
        _add(fc, first)
        shown = {c["card_id"]: (c["front"], c["suspended"]) for c in fc.cards()}
        study_in_flashcore(fc, clock, days=2, seed=1)
        out = tmp_path / "from-flashcore.apkg"
        export_anki(fc, out, with_scheduling=True)
        phone = _phone(tmp_path, out, "phone").col
        main = [
            c
            for c in phone.find_cards("Beta-1")
            if phone.get_card(c).note()["Front"] == note["Front"]
        ]
        assert len(main) == 1
        deck = phone.decks.id("Elsewhere")
        phone.set_deck(main, deck)
        back = tmp_path / "phone.apkg"
        options = ExportAnkiPackageOptions(with_scheduling=True, with_deck_configs=True)
        phone.export_anki_package(out_path=str(back), options=options, limit=DeckIdLimit(deck))

        clock.set(datetime.now(UTC) + timedelta(hours=1))
        _add(fc, back)
        assert {c["card_id"]: (c["front"], c["suspended"]) for c in fc.cards()} == shown
        assert check(fc).problems == []

        note["Front"] = "Beta-1 selective blockers end in?"  # the original deck, updated
        col.update_note(note)
        _add(fc, ah.export(source, tmp_path / "source-2.apkg"))
        fronts = sorted(c["front"] for c in fc.cards() if c["front"].startswith("Beta"))
        assert fronts == ["Beta-1 selective blockers end in?"]
        assert not any(c["suspended"] for c in fc.cards())


@pytest.mark.parametrize(
    "url_fixture", ["sqlite_url", pytest.param("pg_url", marks=pytest.mark.postgres)]
)
def test_a_reversed_note_s_side_deleted_in_anki_is_suspended_and_said(
    request, url_fixture, tmp_path
):
    """Review: the reversed note's second card, exported as a note of its own, deleted on the
    phone. The package note was held as flashcore holds it and the deletion went unsaid: the
    card stayed in the queue (and went back to the phone with the next export). Now it is
    suspended here, as a package note gone from its deck is, and said; nothing is lost (its
    text, schedule and history stay), the first card is untouched, a second add says nothing."""
    first = _reversed_source(tmp_path)[0]
    clock = FixedClock(datetime.now(UTC).replace(microsecond=0) - timedelta(days=3))
    with Flashcore.open(request.getfixturevalue(url_fixture), clock=clock, create=True,
                        timezone="UTC") as fc:  # fmt: skip
        _add(fc, first)
        shown = {c["card_id"]: (c["front"], c["suspended"]) for c in fc.cards()}
        study_in_flashcore(fc, clock, days=2, seed=1)
        answered = {cid: len(rows) for cid, rows in review_rows(fc).items()}
        out = tmp_path / "from-flashcore.apkg"
        export_anki(fc, out, with_scheduling=True)
        phone = _phone(tmp_path, out, "phone").col
        halves = {phone.get_card(c).nid for c in phone.find_cards("olol")}
        assert len(halves) == 2  # the note's two halves, one card each
        side = [n for n in halves if phone.get_note(n)["Front"] != "Beta-1 blockers end in?"]
        phone.remove_notes(side)
        back = tmp_path / "phone.apkg"
        phone.export_anki_package(
            out_path=str(back), limit=None,
            options=ExportAnkiPackageOptions(with_scheduling=True, with_deck_configs=True),
        )  # fmt: skip

        clock.set(datetime.now(UTC) + timedelta(hours=1))
        (report,) = fc.add_decks([back], with_scheduling=True)
        assert report.ok, report.problems
        assert report.removed == 1 and len(report.removed_keys) == 1
        assert report.removed_keys[0].endswith("@1")
        reverse = next(cid for cid, (front, _s) in shown.items() if front.startswith("-olol"))
        now = {c["card_id"]: (c["front"], c["suspended"]) for c in fc.cards()}
        assert now == {**shown, reverse: (shown[reverse][0], True)}
        rows = {cid: len(r) for cid, r in review_rows(fc).items()}
        assert all(rows.get(cid, 0) >= n for cid, n in answered.items())
        assert check(fc).problems == []

        (again,) = fc.add_decks([back], with_scheduling=True)
        assert (again.removed, again.removed_keys) == (0, [])
        assert {c["card_id"]: (c["front"], c["suspended"]) for c in fc.cards()} == now


@pytest.mark.parametrize(
    "url_fixture", ["sqlite_url", pytest.param("pg_url", marks=pytest.mark.postgres)]
)
def test_the_source_package_again_suspends_no_reverse_card(request, url_fixture, tmp_path):
    """The package a reversed note came from holds it whole (both templates, no `<key>@<ord>`
    note): taken again, updated or not, it deletes no side."""
    first, source, note = _reversed_source(tmp_path)
    clock = FixedClock(datetime.now(UTC).replace(microsecond=0) - timedelta(days=3))
    with Flashcore.open(request.getfixturevalue(url_fixture), clock=clock, create=True,
                        timezone="UTC") as fc:  # fmt: skip
        _add(fc, first)
        (again,) = fc.add_decks([first], with_scheduling=True)
        assert (again.removed, again.removed_keys) == (0, [])
        note["Back"] = "-olol (beta blockers)"
        source.col.update_note(note)
        (updated,) = fc.add_decks([ah.export(source, tmp_path / "source-2.apkg")])
        assert (updated.updated, updated.removed, updated.removed_keys) == (1, 0, [])
        assert not any(c["suspended"] for c in fc.cards())
