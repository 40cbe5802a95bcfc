"""Re-importing an Anki package: notes unchanged since they were loaded (by their source
fingerprint) are not converted again; what changed is, and nothing is lost on the way."""

from __future__ import annotations

import pytest

pytest.importorskip("anki.collection")

from sqlalchemy import text

from flashcore.core.decksync import converted_hash
from flashcore.core.html_text import strip_marks
from flashcore.importers.anki_package import notes as anki_notes
from flashcore.services import study
from flashcore.services.anki_import import media_dir, read_package
from tests.anki_packages import build_student_collection, export


@pytest.fixture(autouse=True)
def home(tmp_path, monkeypatch):
    monkeypatch.setenv("FLASHCORE_HOME", str(tmp_path / "home"))


@pytest.fixture
def converted(monkeypatch) -> list[str]:
    """The GUIDs of the notes the import converts (spied on the converter)."""
    seen: list[str] = []
    original = anki_notes._Builder.note

    def spy(self, note, *args, **kwargs):
        seen.append(note.guid)
        return original(self, note, *args, **kwargs)

    monkeypatch.setattr(anki_notes._Builder, "note", spy)
    return seen


def test_an_unchanged_reimport_converts_no_note_and_an_edited_one_only(fc, tmp_path, converted):
    col, made = build_student_collection(tmp_path / "col.anki2")
    first = export(col, tmp_path / "first.apkg", scheduling=True)
    [report] = fc.add_decks([first])
    assert report.added == 7 and len(converted) == 7
    converted.clear()
    [again] = fc.add_decks([first])
    assert (again.added, again.updated, again.unchanged) == (0, 0, 7)
    assert converted == []
    note = col.get_note(made.note_ids["basic"])
    note["Back"] = "Mast cells and basophils"
    col.update_note(note)
    second = export(col, tmp_path / "second.apkg", scheduling=True)
    col.close()
    [edited] = fc.add_decks([second])
    assert (edited.added, edited.updated, edited.unchanged) == (0, 1, 6)
    assert converted == [made.guids["basic"]]
    [card] = [c for c in fc.cards() if c["note_key"].endswith(made.guids["basic"])]
    assert strip_marks(study.show(fc, card["card_id"]).back[0].text) == "Mast cells and basophils"


def test_choosing_other_topic_families_converts_the_notes_again(fc, tmp_path, converted):
    col, _made = build_student_collection(tmp_path / "col.anki2")
    package = export(col, tmp_path / "p.apkg", scheduling=False)
    col.close()
    fc.add_decks([package])
    converted.clear()
    before = {c["note_key"]: c["topics"] for c in fc.cards()}
    fc.config_set("anki_topic_tags", "pathoma")
    [again] = fc.add_decks([package])
    assert len(converted) == 7
    after = {c["note_key"]: c["topics"] for c in fc.cards()}
    assert {t for ts in after.values() for t in ts} == {"Pathoma::Ch8 Cardiac Pathology"}
    # only the notes whose topics changed are rewritten; the others convert the same
    moved = sum(before[k] != after[k] for k in after)
    assert again.added == 0 and (again.updated, again.unchanged) == (moved, 7 - moved)
    assert 0 < moved < 7


def test_a_missing_media_file_of_an_unchanged_note_is_written_again(fc, tmp_path, converted):
    col, _made = build_student_collection(tmp_path / "col.anki2")
    package = export(col, tmp_path / "p.apkg", scheduling=False)
    col.close()
    fc.add_decks([package])
    image = media_dir(fc) / "heart.png"
    content = image.read_bytes()
    image.unlink()
    converted.clear()
    [again] = fc.add_decks([package])
    assert converted == [] and again.media_added == 1
    assert image.read_bytes() == content


def test_notes_fingerprinted_as_converted_count_unchanged_and_take_the_source_fingerprint(
    fc, tmp_path
):
    """A collection an older flashcore loaded holds each note's converted fingerprint: its
    first re-import converts the notes, finds them unchanged, and keeps the source's."""
    col, _made = build_student_collection(tmp_path / "col.anki2")
    package = export(col, tmp_path / "p.apkg", scheduling=False)
    col.close()
    fc.add_decks([package])
    with fc.engine.begin() as conn:
        assert all(h.startswith("src:") for h in _hashes(conn))
        conn.execute(text("UPDATE notes SET content_hash = 'older'"))
    read = read_package(fc, package)  # nothing matches 'older': every note converted
    try:
        older = {
            f"{spec.key}:{n.local_id}": converted_hash(n, spec.key)
            for spec in read.specs
            for n in spec.notes
        }
    finally:
        read.discard()
    with fc.engine.begin() as conn:
        for key, digest in older.items():
            conn.execute(
                text("UPDATE notes SET content_hash = :h WHERE key = :k"), {"h": digest, "k": key}
            )
    [upgraded] = fc.add_decks([package])
    assert (upgraded.added, upgraded.updated, upgraded.unchanged) == (0, 0, 7)
    with fc.engine.begin() as conn:
        hashes = _hashes(conn)
    assert len(hashes) == 7 and all(h.startswith("src:") for h in hashes)


def _hashes(conn) -> list[str]:
    return list(conn.execute(text("SELECT content_hash FROM notes")).scalars())
