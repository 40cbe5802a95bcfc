"""Two Anki sources of the same notes (the desktop's AnKing deck updated through AnkiHub, an
older phone export): a package's copy of a note older than the one flashcore took (Anki's
`notes.mod`) keeps flashcore's text, as Anki's own importer does by default ("update notes: if
newer"). Before, found living with it, each import took its package's copy, so alternating the
two files swapped the notes' text back and forth; the reviews of both are still merged."""

from __future__ import annotations

from pathlib import Path

import pytest

pytest.importorskip("anki.collection")

from anki.collection import Collection

from tests.anki_packages import add_note, export

OLD, NEW = 1_760_000_000, 1_760_000_600  # seconds: the phone's copy, the desktop's


def _front(fc, guid: str) -> str:
    [card] = [c for c in fc.cards() if c["note_key"].endswith(":" + guid)]
    return card["front"]


def _set_mod(col: Collection, note_id: int, mod: int) -> None:
    col.db.execute("update notes set mod = ? where id = ?", mod, note_id)


def _phone_and_desktop(tmp_path: Path) -> tuple[Path, Path, str]:
    """The same note twice: an older copy (the phone's export) and a newer one (the desktop's,
    edited since), with a second note the same in both."""
    col = Collection(str(tmp_path / "col.anki2"))
    note_id = add_note(col, "Basic", "AnKing", {"Front": "Old wording of IgE", "Back": "mast"})
    same = add_note(col, "Basic", "AnKing", {"Front": "Kussmaul", "Back": "acidosis"})
    _set_mod(col, note_id, OLD)
    _set_mod(col, same, OLD)
    phone = export(col, tmp_path / "phone.apkg")
    note = col.get_note(note_id)
    note["Front"] = "New wording of IgE (AnkiHub)"
    col.update_note(note)
    _set_mod(col, note_id, NEW)
    desktop = export(col, tmp_path / "desktop.apkg")
    guid = note.guid
    col.close()
    return phone, desktop, guid


def test_an_older_package_copy_of_a_note_keeps_the_newer_text_taken_before(fc, tmp_path):
    phone, desktop, guid = _phone_and_desktop(tmp_path)
    [first] = fc.add_decks([desktop])
    assert first.ok, first.problems
    assert _front(fc, guid) == "New wording of IgE (AnkiHub)"

    [older] = fc.add_decks([phone])
    assert older.ok, older.problems
    assert _front(fc, guid) == "New wording of IgE (AnkiHub)"  # before: the phone's old text
    assert (older.kept_older, older.updated, older.unchanged) == (1, 0, 1)
    assert older.to_json()["kept_older"] == 1

    [again] = fc.add_decks([desktop])  # back and forth: nothing changes either way
    assert again.ok, again.problems
    assert (again.kept_older, again.updated, again.unchanged) == (0, 0, 2)
    [phone_again] = fc.add_decks([phone])
    assert (phone_again.kept_older, phone_again.updated) == (1, 0)
    assert _front(fc, guid) == "New wording of IgE (AnkiHub)"


def test_a_newer_package_copy_still_updates_the_note(fc, tmp_path):
    phone, desktop, guid = _phone_and_desktop(tmp_path)
    [first] = fc.add_decks([phone])
    assert first.ok, first.problems
    assert _front(fc, guid) == "Old wording of IgE"
    [newer] = fc.add_decks([desktop])
    assert (newer.updated, newer.kept_older) == (1, 0)
    assert _front(fc, guid) == "New wording of IgE (AnkiHub)"


def test_an_older_copy_of_a_note_back_in_the_package_brings_its_cards_back_with_the_newer_text(
    fc, tmp_path
):
    col = Collection(str(tmp_path / "col.anki2"))
    note_id = add_note(col, "Basic", "AnKing", {"Front": "Old wording", "Back": "b"})
    add_note(col, "Basic", "AnKing", {"Front": "Other", "Back": "b"})
    _set_mod(col, note_id, OLD)
    old = export(col, tmp_path / "old.apkg")
    note = col.get_note(note_id)
    note["Front"] = "New wording"
    col.update_note(note)
    _set_mod(col, note_id, NEW)
    new = export(col, tmp_path / "new.apkg")
    col.remove_notes([note_id])
    without = export(col, tmp_path / "without.apkg")
    col.close()
    for package in (new, without):
        [report] = fc.add_decks([package])
        assert report.ok, report.problems
    [card] = [c for c in fc.cards() if c["note_key"].endswith(":" + note.guid)]
    assert card["suspended"]  # gone from the package: suspended, kept
    [back] = fc.add_decks([old])
    assert back.ok, back.problems
    assert back.kept_older == 1
    [card] = [c for c in fc.cards() if c["note_key"].endswith(":" + note.guid)]
    assert (card["front"], card["suspended"]) == ("New wording", False)
