"""`flashcore decks add FILE.apkg|.colpkg` from the command line: the summary, JSON, errors."""

from __future__ import annotations

import zipfile

import pytest

pytest.importorskip("anki.collection")

from tests.anki_packages import add_image_occlusion, build_student_collection, export


@pytest.fixture(scope="module")
def packages(tmp_path_factory):
    base = tmp_path_factory.mktemp("anki")
    col, _made = build_student_collection(base / "col.anki2")
    add_image_occlusion(col)
    apkg = export(col, base / "AnKing_Step1.apkg", scheduling=True)
    col.export_collection_package(str(base / "mine.colpkg"), include_media=True, legacy=False)
    col.close()
    return {"apkg": apkg, "colpkg": base / "mine.colpkg"}


@pytest.mark.parametrize("kind", ["apkg", "colpkg"])
def test_decks_add_a_package_says_what_it_added_skipped_and_wrote(cli, packages, kind):
    cli.ok("init")
    out = cli.ok("decks", "add", packages[kind]).out
    assert f"{packages[kind]}: notes: 7 added, 1 skipped; media: 1 file written" in out
    assert "skipped 1 image occlusion note: flashcore cannot show this kind" in out
    again = cli.ok("decks", "add", packages[kind]).out
    assert f"{packages[kind]}: notes: 7 unchanged, 1 skipped; media: nothing new" in again
    [report] = cli.json("decks", "add", packages[kind])
    assert (report["added"], report["updated"], report["unchanged"]) == (0, 0, 7)
    assert report["skipped"] == 1 and report["unsupported"] == {"image occlusion": 1}
    cards = cli.json("cards", "--deck", "AnKing")
    assert sum(c["suspended"] for c in cards) == 2
    due = cli.ok("due").out
    assert "AnKing::Cardio" in due


def test_a_missed_anking_question_unsuspends_its_cards(cli, packages, tmp_path):
    cli.ok("init")
    cli.ok("decks", "add", packages["apkg"])
    (tmp_path / "missed.txt").write_text("5678\n")
    out = cli.ok("qbank", "import", tmp_path / "missed.txt", "--format", "qids").out
    assert "2 suspended cards of the missed questions unsuspended" in out
    due = cli.json("due")
    first_new = next(d for d in due if d["state"] == "new")
    assert first_new["reason"].startswith("new; unsuspended: missed uworld:5678")
    assert first_new["front"] == "[...] causes pulmonary fibrosis"  # as the reviewer shows it
    cli.ok("config", "set", "unsuspend_on_miss", "false")


@pytest.mark.parametrize(
    ("content", "problem"),
    [
        (b"not a zip at all", "not a zip file"),
        (None, "newer Anki"),
    ],
)
def test_a_bad_package_is_one_line_and_changes_nothing(cli, tmp_path, content, problem):
    cli.ok("init")
    bad = tmp_path / "bad.apkg"
    if content is None:
        with zipfile.ZipFile(bad, "w") as z:
            z.writestr("meta", b"\x08\x09")
            z.writestr("collection.anki21b", b"")
    else:
        bad.write_bytes(content)
    result = cli("decks", "add", bad)
    assert result.code == 1
    [line] = result.err_lines
    assert line.startswith(f"{bad}:") and problem in line and line.endswith("nothing was loaded")
    assert cli.json("cards") == []


def test_topic_families_are_a_setting(cli, packages):
    cli.ok("init")
    cli.ok("config", "set", "anki_topic_tags", "systems")
    cli.ok("decks", "add", packages["apkg"])
    topics = {t for c in cli.json("cards") for t in c["topics"]}
    assert topics == {
        "Cardiovascular::Arrhythmias::Atrial fibrillation",
        "Immunology::Hypersensitivity",
    }
    bad = cli("config", "set", "anki_topic_tags", "kaplan")
    assert bad.code != 0 and "unknown tag family 'kaplan'" in bad.err


def test_a_package_imported_again_with_scheduling_says_nothing_new_came(cli, packages):
    cli.ok("init")
    first = cli.ok("decks", "add", packages["apkg"], "--with-scheduling").out
    assert "scheduling: nothing new from Anki (11 still new)" in first  # never studied in Anki
    again = cli.ok("decks", "add", packages["apkg"], "--with-scheduling").out
    assert f"{packages['apkg']}: notes: 7 unchanged, 1 skipped; media: nothing new" in again
    [line] = [s.strip() for s in again.splitlines() if s.strip().startswith("scheduling:")]
    assert line == "scheduling: nothing new from Anki (11 still new)"


def test_export_says_which_notes_came_from_anki_and_what_anki_does_with_them(
    cli, packages, tmp_path
):
    cli.ok("init")
    cli.ok("decks", "add", packages["apkg"])
    out = cli.ok("export", "anki", "-o", tmp_path / "out.apkg")
    assert "7 of these notes came from Anki packages" in out.err
    assert "lists them as conflicting" in out.err
    summary = cli.json("export", "anki", "-o", tmp_path / "out.apkg")
    assert summary["from_packages"] == 7 and summary["notes"] >= 7
