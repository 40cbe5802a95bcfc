"""The package reader against packages the real Anki writes: current and legacy formats."""

from __future__ import annotations

import zipfile
from pathlib import Path

import pytest

pytest.importorskip("anki.collection")

from flashcore.core.errors import AnkiPackageError
from flashcore.importers.anki_package import (
    CardQueue,
    NoteTypeKind,
    PackageFormat,
    open_package,
)
from tests.anki_packages import (
    add_image_occlusion,
    as_anki2,
    build_student_collection,
    export,
)


@pytest.fixture(scope="module")
def packages(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    base = tmp_path_factory.mktemp("anki")
    col, _made = build_student_collection(base / "col.anki2")
    add_image_occlusion(col)
    out = {
        "latest": export(col, base / "latest.apkg", scheduling=True),
        "legacy": export(col, base / "legacy.apkg", legacy=True, scheduling=True),
    }
    out["anki2"] = as_anki2(out["legacy"], base / "anki2.apkg")
    col.export_collection_package(str(base / "whole.colpkg"), include_media=True, legacy=False)
    out["colpkg"] = base / "whole.colpkg"
    col.close()
    return out


@pytest.mark.parametrize(
    ("name", "fmt"),
    [
        ("latest", PackageFormat.LATEST),
        ("legacy", PackageFormat.LEGACY_2),
        ("anki2", PackageFormat.LEGACY_1),
        ("colpkg", PackageFormat.LATEST),
    ],
)
def test_every_format_reads_the_same_notes_cards_and_media(packages, tmp_path, name, fmt):
    with open_package(packages[name], work_dir=tmp_path / "work") as pkg:
        assert pkg.info.format is fmt
        assert pkg.info.is_colpkg == (name == "colpkg")
        kinds = {nt.name: nt.kind for nt in pkg.note_types().values()}
        notes = list(pkg.notes())
        cards = list(pkg.cards())
        media = {m.name for m in pkg.media()}
        written = pkg.extract_media(tmp_path / "media")
    assert kinds["Cloze"] is NoteTypeKind.CLOZE
    assert kinds["AnKingOverhaul (AnKing / AnKingMed)"] is NoteTypeKind.CLOZE
    assert kinds["Basic (and reversed card)"] is NoteTypeKind.STANDARD
    assert kinds["Image Occlusion"] is NoteTypeKind.IMAGE_OCCLUSION
    assert len(notes) == 8
    assert len(cards) == 12  # 1 + 2 + 1 + 2 + 2 (cloze) + 1 + 2 (AnKing) + 1 (occlusion)
    assert sum(c.queue == CardQueue.SUSPENDED for c in cards) == 2
    assert media == {"heart.png", "occl.png"}
    assert {m.name for m in written} == media
    assert (tmp_path / "media" / "heart.png").read_bytes().startswith(b"\x89PNG")
    assert list((tmp_path / "work").iterdir()) == []  # the extracted collection is gone
    anking = next(n for n in notes if "Atrial fibrillation" in n.fields[0])
    assert "#AK_Step1_v12::#UWorld::Step::1234" in anking.tags


def _zip(path: Path, members: dict[str, bytes]) -> Path:
    with zipfile.ZipFile(path, "w") as z:
        for name, data in members.items():
            z.writestr(name, data)
    return path


def _problem(path: Path, tmp_path: Path) -> str:
    with pytest.raises(AnkiPackageError) as caught:
        open_package(path, work_dir=tmp_path / "work")
    message = str(caught.value)
    assert message.startswith(str(path)), message
    assert "\n" not in message
    return message


def test_a_file_that_is_not_a_zip_is_refused_in_one_line(tmp_path):
    bad = tmp_path / "deck.apkg"
    bad.write_bytes(b"PK\x03\x04 truncated")
    assert "not a zip file" in _problem(bad, tmp_path)


def test_a_truncated_collection_is_refused(packages, tmp_path):
    with zipfile.ZipFile(packages["legacy"]) as src:
        data = src.read("collection.anki21")
    bad = _zip(tmp_path / "cut.apkg", {"collection.anki21": data[:3000]})
    assert "not a readable Anki database" in _problem(bad, tmp_path)


def test_a_foreign_sqlite_file_is_refused(tmp_path):
    import sqlite3

    db = tmp_path / "other.sqlite"
    with sqlite3.connect(db) as conn:
        conn.execute("CREATE TABLE t (x)")
    conn.close()
    bad = _zip(tmp_path / "foreign.apkg", {"collection.anki21": db.read_bytes()})
    assert "not a readable Anki database" in _problem(bad, tmp_path)


def test_an_unknown_meta_version_is_from_a_newer_anki(tmp_path):
    bad = _zip(tmp_path / "new.apkg", {"meta": b"\x08\x07", "collection.anki21b": b""})
    assert "newer Anki" in _problem(bad, tmp_path)


def test_a_newer_collection_schema_is_refused(packages, tmp_path):
    import sqlite3

    with zipfile.ZipFile(packages["legacy"]) as src:
        (tmp_path / "c.db").write_bytes(src.read("collection.anki21"))
    with sqlite3.connect(tmp_path / "c.db") as conn:
        conn.execute("UPDATE col SET ver = 19")
    conn.close()
    bad = _zip(tmp_path / "v19.apkg", {"collection.anki21": (tmp_path / "c.db").read_bytes()})
    assert "newer Anki" in _problem(bad, tmp_path)


@pytest.mark.parametrize("name", ["../evil.png", "/etc/passwd", "a\\b.png", ".."])
def test_a_media_name_with_a_path_part_is_refused(packages, tmp_path, name):
    import json

    with zipfile.ZipFile(packages["legacy"]) as src:
        members = {n: src.read(n) for n in src.namelist() if n != "meta"}
    members["media"] = json.dumps({"0": name}).encode()
    bad = _zip(tmp_path / "evil.apkg", members)
    assert "media name" in _problem(bad, tmp_path)
    assert not (tmp_path / "evil.png").exists()
