"""An unchanged re-import of an Anki package is recognized and skipped (services.anki_unchanged):
it reports what the full re-import reports, and any change made here since, or another file,
or other options, make the import do its work."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

pytest.importorskip("anki.collection")

from flashcore.core.errors import FlashcoreError
from flashcore.core.model import Rating
from flashcore.services import anki_import, anki_unchanged, study
from flashcore.services.anki_import import media_dir
from flashcore.storage.import_prints import PRINTS_FILE
from tests import anki_history as ah
from tests.anki_packages import add_note, build_student_collection, export, export_deck


@pytest.fixture(autouse=True)
def home(tmp_path, monkeypatch):
    monkeypatch.setenv("FLASHCORE_HOME", str(tmp_path / "home"))


@pytest.fixture
def reads(monkeypatch) -> list[Path]:
    """The packages opened and read (spied on `read_package`)."""
    seen: list[Path] = []
    original = anki_import.read_package

    def spy(fc, path, **kwargs):
        seen.append(path)
        return original(fc, path, **kwargs)

    monkeypatch.setattr(anki_import, "read_package", spy)
    return seen


def _history(tmp_path: Path) -> tuple[ah.Student, Path]:
    student = ah.new_student(tmp_path / "anki" / "collection.anki2", notes=8, cloze=3)
    ah.study_days(student, [3, 4, 6])
    return student, ah.export(student, tmp_path / "history.apkg")


def _notes_only(tmp_path: Path) -> Path:
    (tmp_path / "anki").mkdir(exist_ok=True)
    col, _made = build_student_collection(tmp_path / "anki" / "col.anki2")
    path = export(col, tmp_path / "student.apkg", scheduling=True)
    col.close()
    return path


def _shown(report: Any) -> dict[str, Any]:
    return report.to_json()


@pytest.mark.parametrize("kind", ["history", "notes"])
def test_an_unchanged_reimport_is_skipped_and_reports_what_the_full_one_does(
    fc, tmp_path, reads, monkeypatch, kind
):
    package = _history(tmp_path)[1] if kind == "history" else _notes_only(tmp_path)
    [first] = fc.add_decks([package], with_scheduling=True)
    assert first.ok and first.added
    with monkeypatch.context() as patched:  # the full re-import, its shortcut refused (and
        patched.setattr(
            anki_unchanged, "replay", lambda *args, **kwargs: False
        )  # not remembered: the
        patched.setattr(
            anki_unchanged, "remember", lambda *args, **kwargs: None
        )  # first's prediction
        [full] = fc.add_decks([package], with_scheduling=True)
    assert reads == [package, package]
    assert full.added == 0 and full.unchanged == first.added
    [quick] = fc.add_decks([package], with_scheduling=True)
    assert reads == [package, package]  # not opened again
    assert _shown(quick) == _shown(full)


def test_the_shortcut_first_remembered_is_the_one_the_full_reimport_gives(fc, tmp_path, reads):
    """The second import (the first re-import) is the one skipped: its report is predicted by
    the first import and equals the full one's (the test above); here it is skipped."""
    _student, package = _history(tmp_path)
    [first] = fc.add_decks([package], with_scheduling=True)
    [again] = fc.add_decks([package], with_scheduling=True)
    assert reads == [package]
    assert again.scheduling is not None and first.scheduling is not None
    assert again.scheduling.reviews_skipped == first.scheduling.reviews_added > 0
    assert again.scheduling.reviews_added == 0 and again.unchanged == first.added


def test_an_answer_given_here_since_keeps_the_shortcut_with_the_full_reimports_report(
    fc, tmp_path, reads, monkeypatch
):
    """Issue 16: the full re-import of the same file after an answer here changes nothing
    (the card has nothing new from Anki: flashcore's state stays), so the shortcut holds;
    tests/services/test_anki_unchanged_study.py holds it to that for every kind of study."""
    _student, package = _history(tmp_path)
    fc.add_decks([package], with_scheduling=True)
    fc.clock.set(datetime.now(UTC) + timedelta(days=1))  # Anki studied at the wall clock
    card_id = min(c["card_id"] for c in fc.cards())
    study.answer(fc, card_id, Rating.GOOD)
    [again] = fc.add_decks([package], with_scheduling=True)
    assert reads == [package]  # skipped
    with monkeypatch.context() as patched:
        patched.setattr(anki_unchanged, "replay", lambda *args, **kwargs: False)
        [full] = fc.add_decks([package], with_scheduling=True)
    assert reads == [package, package]
    assert full.ok and full.added == 0 and not full.scheduling.changed
    assert _shown(again) == _shown(full)


def test_a_setting_changed_here_since_makes_the_reimport_do_its_work(fc, tmp_path, reads):
    package = _notes_only(tmp_path)
    fc.add_decks([package])
    fc.config_set("anki_topic_tags", "pathoma")
    [again] = fc.add_decks([package])
    assert reads == [package, package]
    assert again.updated  # the notes' topics read again with the families chosen


def test_a_media_file_deleted_here_since_is_written_again(fc, tmp_path, reads):
    package = _notes_only(tmp_path)
    fc.add_decks([package])
    image = media_dir(fc) / "heart.png"
    image.unlink()
    [again] = fc.add_decks([package])
    assert reads == [package, package]
    assert again.media_added == 1 and image.is_file()


def test_scheduling_asked_after_a_notes_only_import_and_a_newer_export_bring_their_history(
    fc, tmp_path, reads
):
    student, package = _history(tmp_path)
    [notes] = fc.add_decks([package])
    assert notes.scheduling is None
    [scheduled] = fc.add_decks([package], with_scheduling=True)
    assert reads == [package, package]
    assert scheduled.scheduling is not None and scheduled.scheduling.reviews_added > 0
    for card_id in student.col.find_cards("")[:2]:  # answered in Anki since (on the phone)
        ah.answer_card(student, card_id, 3)
    newer = ah.export(student, tmp_path / "newer.apkg")
    [phone] = fc.add_decks([newer], with_scheduling=True)
    assert reads == [package, package, newer]
    assert phone.scheduling is not None and phone.scheduling.reviews_added == 2


@pytest.mark.parametrize(
    "content",
    [
        "{not json",
        '{"version": 1, "entries": []}',
        None,  # each entry's fields of the wrong kind
    ],
)
def test_a_damaged_side_file_costs_only_the_shortcut(fc, tmp_path, reads, content):
    package = _notes_only(tmp_path)
    fc.add_decks([package])
    side = media_dir(fc) / PRINTS_FILE
    if content is None:
        data = json.loads(side.read_text())
        for entry in data["entries"].values():
            entry["present"], entry["report"]["scheduling"] = 5, {"cards_new": "x"}
        content = json.dumps(data)
    side.write_text(content)
    [again] = fc.add_decks([package])
    assert reads == [package, package]  # read and imported as usual
    assert again.ok and again.added == 0 and again.unchanged == 7
    [third] = fc.add_decks([package])  # remembered again, whole
    assert reads == [package, package]
    assert _shown(third) == _shown(again)


def test_a_package_after_one_read_in_full_in_the_same_command_is_read_too(fc, tmp_path, reads):
    """Found in review: every file of a command is looked at before the first is written, so
    a package skipped as unchanged was judged on the profile as it stood before an earlier
    package of the same command wrote. A note moved in Anki from Cardio to Renal, Renal
    exported again: `decks add renal2.apkg cardio1.apkg` reported cardio1 "3 unchanged" while
    its full import (or the same two files one command each) moves the note back."""
    from anki.collection import Collection as AnkiCollection

    col = AnkiCollection(str(tmp_path / "anki.anki2"))
    moved = add_note(col, "Basic", "Cardio", {"Front": "cardio 0", "Back": "a"})
    for i in (1, 2):
        add_note(col, "Basic", "Cardio", {"Front": f"cardio {i}", "Back": "a"})
    add_note(col, "Basic", "Renal", {"Front": "renal", "Back": "a"})
    cardio1 = export_deck(col, "Cardio", tmp_path / "cardio1.apkg")
    renal1 = export_deck(col, "Renal", tmp_path / "renal1.apkg")
    col.set_deck(col.find_cards(f"nid:{moved}"), col.decks.id("Renal"))
    renal2 = export_deck(col, "Renal", tmp_path / "renal2.apkg")
    col.close()
    fc.add_decks([renal1, cardio1])  # cardio1 remembered last: its entry stands
    del reads[:]
    try:
        reports = fc.add_decks([renal2, cardio1])
    except FlashcoreError:
        reports = None  # the full import's own refusal (the deck changed while read)
    assert reads == [renal2, cardio1]  # cardio1 judged after renal2's write, not before
    if reports is not None:
        assert reports[1].updated == 1
