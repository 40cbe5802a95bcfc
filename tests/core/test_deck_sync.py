"""Deck-sync planning (core.decksync): what a reload of a deck file adds, changes, keeps and
removes, decided without a database."""

from __future__ import annotations

import pytest

from flashcore.core.decksync import (
    StoredNote,
    converted_hash,
    note_hash,
    plan_sync,
    source_fingerprint,
    source_of,
)
from flashcore.core.errors import StaleReadError
from flashcore.core.model import NoteKind, NoteSpec

DECK = "immuno"


def note(local_id: str, front: str = "Q", back: str = "A", **extra) -> NoteSpec:
    return NoteSpec(local_id, NoteKind.BASIC, {"front": front, "back": back}, **extra)


def stored(spec: NoteSpec, note_id: int, *, removed: bool = False, stale: bool = False):
    digest = "stale" if stale else note_hash(spec, DECK)
    return spec.key(DECK), StoredNote(note_id, digest, removed)


def test_a_first_load_plans_every_note_as_new():
    plan = plan_sync(DECK, [note("a"), note("b")], {})
    assert [n.key for n in plan.new] == ["immuno:a", "immuno:b"]
    assert plan.changed == () and plan.unchanged == 0 and plan.gone == ()


def test_reloading_the_same_file_changes_nothing():
    a, b = note("a"), note("b")
    plan = plan_sync(DECK, [a, b], dict([stored(a, 1), stored(b, 2)]))
    assert plan.new == () and plan.changed == () and plan.gone == ()
    assert plan.unchanged == 2


def test_an_edited_note_is_changed_and_keeps_its_id():
    old, new = note("a", back="old"), note("a", back="new")
    plan = plan_sync(DECK, [new], dict([stored(old, 7)]))
    (changed,) = plan.changed
    assert (changed.note_id, changed.spec, changed.was_removed) == (7, new, False)
    assert changed.content_hash == note_hash(new, DECK) != note_hash(old, DECK)


def test_topics_tags_and_question_ids_are_part_of_the_content():
    base = note("a")
    for edited in (note("a", topics=("Immunology",)), note("a", tags=("x",)),
                   note("a", qids=("uworld:1",))):  # fmt: skip
        assert note_hash(edited, DECK) != note_hash(base, DECK)
    assert note_hash(base, "other-deck") != note_hash(base, DECK)


def test_a_note_missing_from_the_file_is_gone_once():
    a, b = note("a"), note("b")
    plan = plan_sync(DECK, [a], dict([stored(a, 1), stored(b, 2)]))
    assert plan.gone == (("immuno:b", 2),)
    assert plan.newly_gone == (("immuno:b", 2),)
    again = plan_sync(DECK, [a], dict([stored(a, 1), stored(b, 2, removed=True)]))
    assert again.gone == (("immuno:b", 2),)
    assert again.newly_gone == (), "a note already marked removed is not removed again"


def test_a_removed_note_back_in_the_file_is_changed_even_with_the_same_content():
    a = note("a")
    plan = plan_sync(DECK, [a], dict([stored(a, 3, removed=True)]))
    (changed,) = plan.changed
    assert changed.was_removed and changed.note_id == 3
    assert plan.unchanged == 0


def test_a_source_fingerprint_stands_for_the_note_and_an_older_converted_one_is_replaced():
    spec = note("a", source_hash="anki:1")
    plan = plan_sync(DECK, [spec], {spec.key(DECK): StoredNote(3, "anki:1", False)})
    assert (plan.unchanged, plan.changed, plan.rehashed) == (1, (), ())
    older = StoredNote(3, converted_hash(spec, DECK), False)
    plan = plan_sync(DECK, [spec], {spec.key(DECK): older})
    assert (plan.unchanged, plan.changed, plan.rehashed) == (1, (), ((3, "anki:1"),))
    plan = plan_sync(DECK, [note("a", back="B", source_hash="anki:2")], {spec.key(DECK): older})
    assert [c.content_hash for c in plan.changed] == ["anki:2"]


def test_an_unconverted_note_that_no_longer_matches_what_is_stored_refuses_the_load():
    stub = NoteSpec("a", NoteKind.CLOZE, {}, source_hash="anki:1", stub=True)
    for held in ({}, {"immuno:a": StoredNote(3, "anki:0", False)},
                 {"immuno:a": StoredNote(3, "anki:1", True)}):  # fmt: skip
        with pytest.raises(StaleReadError):
            plan_sync(DECK, [stub], held)


def test_a_changed_source_that_converts_the_same_keeps_the_note_and_takes_the_new_fingerprint():
    spec = note("a")
    held = source_fingerprint("1" * 24, spec, DECK)
    assert source_of(held) == "1" * 24
    again = note("a", source_hash=source_fingerprint("2" * 24, spec, DECK))
    plan = plan_sync(DECK, [again], {spec.key(DECK): StoredNote(3, held, False)})
    assert (plan.unchanged, plan.changed) == (1, ())
    assert plan.rehashed == ((3, again.source_hash),)
    edited = note("a", back="B")
    edited = NoteSpec("a", NoteKind.BASIC, edited.fields,
                      source_hash=source_fingerprint("2" * 24, edited, DECK))  # fmt: skip
    plan = plan_sync(DECK, [edited], {spec.key(DECK): StoredNote(3, held, False)})
    assert [c.content_hash for c in plan.changed] == [edited.source_hash]
