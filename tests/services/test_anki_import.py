"""`decks add FILE.apkg|.colpkg`: Anki packages made by the real Anki, imported through the
service on SQLite and PostgreSQL."""

from __future__ import annotations

from pathlib import Path

import pytest

pytest.importorskip("anki.collection")

from flashcore.core.html_text import strip_marks
from flashcore.core.model import Rating
from flashcore.services import study
from flashcore.services.anki_import import media_dir
from tests.anki_packages import add_image_occlusion, build_student_collection, export


@pytest.fixture(autouse=True)
def home(tmp_path, monkeypatch):
    """PostgreSQL collections keep media in FLASHCORE_HOME: a test's own folder."""
    monkeypatch.setenv("FLASHCORE_HOME", str(tmp_path / "home"))


@pytest.fixture(scope="module")
def made(tmp_path_factory):
    base = tmp_path_factory.mktemp("anki")
    col, made = build_student_collection(base / "col.anki2")
    add_image_occlusion(col)
    latest = export(col, base / "student.apkg", scheduling=True)
    legacy = export(col, base / "student-legacy.apkg", scheduling=True, legacy=True)
    col.close()
    return made, {"latest": latest, "legacy": legacy}


def _by_text(fc) -> dict[str, dict]:
    out = {}
    for card in fc.cards():
        view = study.show(fc, card["card_id"])
        front = strip_marks("".join(s.text for s in view.front))
        out[front] = card | {"view": view}
    return out


@pytest.mark.parametrize("fmt", ["latest", "legacy"])
def test_a_students_package_imports_as_anki_makes_its_cards(fc, made, fmt):
    _made, packages = made
    [report] = fc.add_decks([packages[fmt]])
    assert report.ok, report.problems
    assert (report.added, report.updated) == (7, 0)
    assert report.unsupported == {"image occlusion": 1}
    assert report.media_added == 1
    assert (media_dir(fc) / "heart.png").read_bytes().startswith(b"\x89PNG")
    assert not (media_dir(fc) / "occl.png").exists()  # only what imported notes show
    cards = _by_text(fc)
    # 1 basic + 2 reversed + 1 optional (off) + 2 optional (on) + 2 cloze + 1 + 2 AnKing
    assert len(cards) == 11
    assert "What does IgE bind?" in cards  # HTML as terminal text
    assert "Deep, rapid breaths of metabolic acidosis" in cards  # the reversed card
    assert "P2Y12 blocker" in cards and "Irreversible COX inhibitor" not in cards
    assert "[...] inhibits vitamin K epoxide reductase" in cards  # a cloze card per deletion
    anking = next(c for t, c in cards.items() if t.startswith("[...] shows an"))
    view = anking["view"]
    assert "• no P waves" in strip_marks(view.front[-1].text)
    assert "[image: heart.png]" in strip_marks(view.front[-1].text)
    assert view.images == ("heart.png",)
    assert "H₂O and Ca²⁺" in view.extra and "alert" not in view.extra
    assert "First Aid:" in strip_marks(view.extra)
    assert "Cardiovascular::Arrhythmias::Atrial fibrillation" in anking["topics"]
    assert "Pathoma::Ch8 Cardiac Pathology" in anking["topics"]
    suspended = [c for c in cards.values() if c["suspended"]]
    assert len(suspended) == 2
    assert all(c["note_key"].startswith("AnKing::Cardio:") for c in suspended)


def test_question_ids_follow_ankings_tags(fc, made):
    from flashcore.storage.tables import note_qids
    from flashcore.storage.uow import reading

    _made, packages = made
    fc.add_decks([packages["latest"]])
    with reading(fc.engine) as session:
        qids = {f"{s}:{q}" for s, q in session.execute(note_qids.select().with_only_columns(
            note_qids.c.source, note_qids.c.qid))}  # fmt: skip
    assert qids == {
        "uworld:1234", "uworld:1235", "uworld-comlex:1234", "amboss:-aaDMQ", "nbme:form25-17",
        "uworld:5678",
    }  # fmt: skip


def test_reimport_changes_nothing_and_an_edit_in_anki_updates_in_place(fc, tmp_path):
    col, made = build_student_collection(tmp_path / "col.anki2")
    first = export(col, tmp_path / "first.apkg", scheduling=True)
    [report] = fc.add_decks([first])
    assert report.added == 7
    basic = next(c for c in fc.cards() if c["note_key"].endswith(made.guids["basic"]))
    study.answer(fc, basic["card_id"], Rating.GOOD)
    [again] = fc.add_decks([first])
    assert (again.added, again.updated, again.unchanged) == (0, 0, 7)
    note = col.get_note(made.note_ids["basic"])
    note["Back"] = "Mast cells, basophils <b>and eosinophils</b>"
    note.tags.append("#AK_Step1_v12::#UWorld::Step::999")
    col.update_note(note)
    # the student moves the cloze note to another deck in Anki
    cloze_cards = col.get_note(made.note_ids["cloze"]).card_ids()
    col.set_deck(cloze_cards, col.decks.id("Step 1::Pharm"))
    second = export(col, tmp_path / "second.apkg", scheduling=True)
    col.close()
    [edited] = fc.add_decks([second])
    assert (edited.added, edited.updated) == (0, 2), edited
    assert edited.removed == 0
    cards = fc.cards()
    assert len(cards) == 11  # no duplicate
    after = next(c for c in cards if c["card_id"] == basic["card_id"])
    assert after["reps"] == 1  # flashcore's scheduling stays
    view = study.show(fc, basic["card_id"])
    assert strip_marks(view.back[0].text) == "Mast cells, basophils and eosinophils"
    moved = [c for c in cards if c["note_key"].endswith(made.guids["cloze"])]
    assert {c["deck"] for c in moved} == {"Step 1::Pharm"}


def test_tag_families_that_become_topics_are_the_students_choice(fc, made):
    _made, packages = made
    fc.config_set("anki_topic_tags", "pathoma")
    fc.add_decks([packages["latest"]])
    topics = {t for c in fc.cards() for t in c["topics"]}
    assert topics == {"Pathoma::Ch8 Cardiac Pathology"}


@pytest.mark.parametrize("content", [b"", b"PK\x03\x04garbage", b"SQLite format 3\x00" + b"x" * 50])
def test_a_damaged_package_changes_nothing_and_writes_no_file(fc, tmp_path, content):
    bad = tmp_path / "bad.apkg"
    bad.write_bytes(content)
    [report] = fc.add_decks([bad])
    assert not report.ok
    assert len(report.problems) == 1 and report.problems[0].startswith(str(bad))
    assert fc.cards() == []
    folder = media_dir(fc)
    assert not folder.exists() or list(folder.iterdir()) == []


def test_a_media_name_climbing_out_of_the_folder_is_refused(fc, made, tmp_path):
    import json
    import zipfile

    _made, packages = made
    evil = tmp_path / "evil.apkg"
    with zipfile.ZipFile(packages["legacy"]) as src, zipfile.ZipFile(evil, "w") as dst:
        for name in src.namelist():
            data = src.read(name)
            if name == "media":
                data = json.dumps({"0": "../../escaped.png", "1": "occl.png"}).encode()
            dst.writestr(name, data)
    [report] = fc.add_decks([evil])
    assert not report.ok and "path part" in report.problems[0]
    assert fc.cards() == []
    assert not list(Path(tmp_path).rglob("escaped.png"))


def test_export_after_import_keeps_the_notes_anki_guids_and_ankings_qid_tags(fc, made, tmp_path):
    from anki.collection import Collection, ImportAnkiPackageOptions, ImportAnkiPackageRequest

    made_notes, packages = made
    fc.add_decks([packages["latest"]])
    out = tmp_path / "back.apkg"
    from flashcore.services.export import export_anki

    export_anki(fc, out)
    col = Collection(str(tmp_path / "fresh.anki2"))
    try:
        col.import_anki_package(
            ImportAnkiPackageRequest(
                package_path=str(out), options=ImportAnkiPackageOptions(merge_notetypes=True)
            )
        )
        guids = {col.get_note(nid).guid for nid in col.find_notes("")}
        assert {made_notes.guids[k] for k in ("basic", "cloze", "anking", "suspended")} <= guids
        anking = col.get_note(col.find_notes("Atrial")[0])
        assert "#AK_Step1_v12::#UWorld::Step::1234" in anking.tags
        assert "#AK_Step1_v12::#UWorld::COMLEX::1234" in anking.tags
        assert "#AK_Step1_v12::#NBME::Form25::17" in anking.tags
        # the reversed card went out as a note of its own: 11 cards, none lost
        assert col.card_count() == 11
    finally:
        col.close()


@pytest.mark.parametrize(("scheduling", "order"), [(True, "deck"), (False, "interleaved")])
def test_new_cards_come_in_ankis_new_card_order_within_the_deck(fc, tmp_path, scheduling, order):
    """Anki's new-card order is each new card's position (repositioned here against the
    order the notes were added in): flashcore introduces the deck's new cards in it."""
    from anki.collection import Collection

    col = Collection(str(tmp_path / "order.anki2"))
    for word in ["alpha", "bravo", "charlie", "delta", "echo"]:
        note = col.new_note(col.models.by_name("Basic"))
        note["Front"], note["Back"] = word, word.upper()
        col.add_note(note, col.decks.id("Order"))
    wanted = ["delta", "bravo", "echo", "alpha", "charlie"]
    card_of = {col.get_card(cid).note()["Front"]: cid for cid in col.find_cards("deck:Order")}
    col.sched.reposition_new_cards([card_of[w] for w in wanted], starting_from=1, step_size=1,
                                   randomize=False, shift_existing=False)  # fmt: skip
    package = export(col, tmp_path / "order.apkg", scheduling=scheduling)
    col.close()
    fc.config_set("new_order", order)
    [report] = fc.add_decks([package])
    assert report.ok, report.problems
    fronts = {c["card_id"]: c["front"] for c in fc.cards()}
    assert [fronts[i.card_id] for i in study.build_queue(fc, deck="Order").items] == wanted
