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


def _card_ids(fc, guid: str) -> list[int]:
    return [c["card_id"] for c in fc.cards() if c["note_key"].endswith(":" + guid)]


def test_a_card_set_by_hand_keeps_its_suspension_when_its_note_leaves_and_comes_back(fc, tmp_path):
    """Suspending or unsuspending a card by hand makes it yours: a card suspended by hand stays
    suspended, and an AnKing waiting card unsuspended by hand comes back unsuspended, when their
    note leaves the package and returns (before, the first came back unsuspended)."""
    from flashcore.services.study import set_cards

    col, made = build_student_collection(tmp_path / "col.anki2")
    first = export(col, tmp_path / "v1.apkg", scheduling=True)
    [report] = fc.add_decks([first])
    assert report.ok, report.problems
    mine, waiting = made.guids["basic"], made.guids["suspended"]
    set_cards(fc, "suspend", _card_ids(fc, mine))
    taken = _card_ids(fc, waiting)[0]
    set_cards(fc, "unsuspend", [taken])

    col.remove_notes([made.note_ids["basic"], made.note_ids["suspended"]])
    second = export(col, tmp_path / "v2.apkg", scheduling=True)
    col.close()
    [dropped] = fc.add_decks([second])
    assert dropped.ok, dropped.problems
    assert dropped.removed == 2
    assert _suspended(fc, mine) == [True] and _suspended(fc, waiting) == [True, True]

    [back] = fc.add_decks([first])
    assert back.ok, back.problems
    assert _suspended(fc, mine) == [True]  # before: unsuspended
    other = _card_ids(fc, waiting)[1]
    now = {c["card_id"]: c["suspended"] for c in fc.cards() if c["card_id"] in (taken, other)}
    assert now == {taken: False, other: True}


def test_a_card_unsuspended_by_hand_while_its_note_is_gone_stays_as_set(fc, tmp_path):
    from flashcore.services.study import set_cards

    col, made = build_student_collection(tmp_path / "col.anki2")
    first = export(col, tmp_path / "v1.apkg", scheduling=True)
    assert fc.add_decks([first])[0].ok
    mine = made.guids["basic"]
    col.remove_notes([made.note_ids["basic"]])
    second = export(col, tmp_path / "v2.apkg", scheduling=True)
    col.close()
    assert fc.add_decks([second])[0].ok
    assert _suspended(fc, mine) == [True]
    set_cards(fc, "unsuspend", _card_ids(fc, mine))
    set_cards(fc, "suspend", _card_ids(fc, mine))  # yours while gone: kept at the return
    assert fc.add_decks([first])[0].ok
    assert _suspended(fc, mine) == [True]
