"""`flashcore export anki` from a real collection, opened with the real Anki."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest

from flashcore.cli import main
from flashcore.core.model import Rating
from flashcore.services import study
from tests.conftest import SMALL_DECK, write_deck

anki_collection = pytest.importorskip("anki.collection")
from anki.import_export_pb2 import ImportAnkiPackageOptions  # noqa: E402


def _import(col_path, apkg, *, scheduling):
    col = anki_collection.Collection(str(col_path))
    request = anki_collection.ImportAnkiPackageRequest(
        package_path=str(apkg),
        options=ImportAnkiPackageOptions(
            with_scheduling=scheduling, merge_notetypes=True, update_notes=1
        ),
    )
    col.import_anki_package(request)
    return col


def test_export_carries_cards_tags_and_fsrs_state_into_anki(fc_sqlite, clock, tmp_path, capsys,
                                                           monkeypatch):  # fmt: skip
    fc = fc_sqlite
    fc.add_decks([write_deck(tmp_path / "d.toml", SMALL_DECK, key="imm")])
    for card in fc.cards():
        study.answer(fc, card["card_id"], Rating.GOOD)
    clock.advance(timedelta(minutes=10))
    for card in fc.cards():
        study.answer(fc, card["card_id"], Rating.GOOD)
    ours = {c["note_key"] + f"#{c['ord']}": c for c in fc.cards()}
    monkeypatch.setenv("FLASHCORE_NOW", clock.now().isoformat())
    out = tmp_path / "step1.apkg"
    assert main(["--db", fc.url, "export", "anki", "-o", str(out), "--with-scheduling",
                 "--json"]) == 0  # fmt: skip
    summary = json.loads(capsys.readouterr().out)
    assert summary["notes"] == 3 and summary["cards"] == 4
    col = _import(tmp_path / "a.anki2", out, scheduling=True)
    try:
        assert col.note_count() == 3 and col.card_count() == 4
        assert "Test::Deck" in [d.name for d in col.decks.all_names_and_ids()]
        cloze_note = col.get_note(col.find_notes("basophils")[0])
        assert len(cloze_note.cards()) == 2
        assert "flashcore::Immunology::Hypersensitivity::Type_I" in cloze_note.tags
        basic = col.get_note(col.find_notes("tag:#AK_Step1_v12::#UWorld::Step::1001")[0])
        assert basic.fields[1] == "IgE"
        revlog = col.db.scalar("select count() from revlog")
        assert revlog == sum(c["reps"] for c in ours.values())
        buried = sum(c["buried"] for c in ours.values())
        assert buried == 1 and col.db.scalar("select count() from cards where queue = -3") == 1
        for cid in col.find_cards(""):
            card = col.get_card(cid)
            # review, as in flashcore; a cloze card buried as its sibling was answered is
            # buried in Anki too (queue -3: Anki unburies it at its next day)
            assert card.type == 2 and card.queue in (2, -3)
            stability = card.memory_state.stability
            assert any(
                abs(stability - c["stability"]) / c["stability"] < 0.01 for c in ours.values()
            )
    finally:
        col.close()


def test_reexport_after_an_edit_updates_the_note_in_anki(fc_sqlite, clock, tmp_path):
    from flashcore.services.export import export_anki

    fc = fc_sqlite
    deck = write_deck(tmp_path / "d.toml", SMALL_DECK, key="imm")
    fc.add_decks([deck])
    first = tmp_path / "one.apkg"
    export_anki(fc, first)
    col_path = tmp_path / "a.anki2"
    _import(col_path, first, scheduling=False).close()
    clock.advance(timedelta(hours=1))
    deck.write_text(deck.read_text().replace('back = "IgE"', 'back = "IgE (reaginic antibody)"'))
    fc.add_decks([deck])
    second = tmp_path / "two.apkg"
    export_anki(fc, second)
    col = _import(col_path, second, scheduling=False)
    try:
        assert col.note_count() == 3
        note = col.get_note(col.find_notes("tag:#AK_Step1_v12::#UWorld::Step::1001")[0])
        assert note.fields[1] == "IgE (reaginic antibody)"
    finally:
        col.close()


def test_export_to_a_missing_folder_is_one_line_error(fc_sqlite, tmp_path, capsys):
    fc = fc_sqlite
    fc.add_decks([write_deck(tmp_path / "d.toml", SMALL_DECK, key="imm")])
    code = main(["--db", fc.url, "export", "anki", "-o", str(tmp_path / "nope" / "x.apkg")])
    err = capsys.readouterr().err
    assert code == 1 and err.count("\n") == 1 and "does not exist" in err
