"""A package note that leaves the package and comes back (AnKing drops a note in one version and
restores it in the next; or a package from another collection that lacks it, then one that has
it) gets its cards back as the package has them: found living with it (issue rv7), a note's
cards suspended as AnKing ships them were unsuspended when the note came back, because its
return unsuspended every card the drop had suspended, and the drop suspends every card."""

from __future__ import annotations

from tests.anki_packages import build_student_collection, export


def _suspended(fc, guid: str) -> list[bool]:
    return [c["suspended"] for c in fc.cards() if c["note_key"].endswith(":" + guid)]


def test_a_note_back_in_the_package_keeps_the_suspension_the_package_gives(fc, tmp_path):
    col, made = build_student_collection(tmp_path / "col.anki2")
    first = export(col, tmp_path / "v1.apkg", scheduling=True)
    [report] = fc.add_decks([first])
    assert report.ok, report.problems
    waiting, studied = made.guids["suspended"], made.guids["basic"]
    assert _suspended(fc, waiting) == [True, True]  # AnKing's cards waiting for a miss
    assert _suspended(fc, studied) == [False]

    col.remove_notes([made.note_ids["suspended"], made.note_ids["basic"]])
    second = export(col, tmp_path / "v2.apkg", scheduling=True)
    col.close()
    [dropped] = fc.add_decks([second])
    assert dropped.ok, dropped.problems
    assert _suspended(fc, waiting) == [True, True]
    assert _suspended(fc, studied) == [True]  # gone from the package: suspended, kept

    [back] = fc.add_decks([first])  # both notes are back
    assert back.ok, back.problems
    assert _suspended(fc, studied) == [False]
    assert _suspended(fc, waiting) == [True, True]
