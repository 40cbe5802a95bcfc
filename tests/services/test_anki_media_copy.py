"""An Anki package's media files are staged by a thread of their own while the import goes on
(`services.anki_import.MediaCopy`); the import waits for them before it takes the write lock.
A media file that cannot be read (not zstd data) or written fails its package: the file
reported in one line, nothing written, nothing left in the media folder; the other files of the
same `decks add` still load. On SQLite and PostgreSQL."""

from __future__ import annotations

import zipfile
from pathlib import Path
from typing import Any

import pytest

pytest.importorskip("anki.collection")

from flashcore.importers.anki_package import AnkiPackage
from flashcore.services.anki_import import media_dir
from tests.anki_packages import build_student_collection, export


@pytest.fixture(autouse=True)
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FLASHCORE_HOME", str(tmp_path / "home"))


@pytest.fixture(scope="module")
def package(tmp_path_factory: pytest.TempPathFactory) -> Path:
    base = tmp_path_factory.mktemp("anki-media")
    col, _made = build_student_collection(base / "col.anki2")
    out = export(col, base / "student.apkg", scheduling=True)
    col.close()
    return out


def _with_bad_media(package: Path, out: Path) -> Path:
    """The package with each media member's bytes replaced by bytes zstd cannot read."""
    with zipfile.ZipFile(package) as src, zipfile.ZipFile(out, "w") as dst:
        for name in src.namelist():
            data = src.read(name)
            dst.writestr(name, b"not zstd at all" if name.isdigit() else data)
    return out


def _media_files(fc: Any) -> list[Path]:
    """What the media folder holds besides the re-import shortcut's memo (`anki_unchanged`)."""
    folder = media_dir(fc)
    found = sorted(folder.rglob("*")) if folder.exists() else []
    return [p for p in found if p.name != ".anki-imports.json"]


def test_the_media_files_are_staged_meanwhile_and_moved_when_the_import_commits(
    fc: Any, package: Path
) -> None:
    [report] = fc.add_decks([package], with_scheduling=True)
    assert report.ok, report.problems
    assert report.media_added > 0
    names = [p.name for p in _media_files(fc)]
    assert len(names) == report.media_added  # no work folder left beside them
    assert not any(name.startswith(".") for name in names)
    assert all((media_dir(fc) / name).stat().st_size > 0 for name in names)


def test_a_media_file_that_cannot_be_read_fails_the_import_and_changes_nothing(
    fc: Any, package: Path, tmp_path: Path
) -> None:
    bad = _with_bad_media(package, tmp_path / "bad.apkg")
    [report] = fc.add_decks([bad], with_scheduling=True)
    assert not report.ok
    assert len(report.problems) == 1 and report.problems[0].startswith(str(bad))
    assert "zstd" in report.problems[0]
    assert fc.cards() == []
    assert _media_files(fc) == []


def test_a_media_file_that_cannot_be_written_fails_its_file_only(
    fc: Any, package: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    real = AnkiPackage.extract_media
    failing = tmp_path / "failing.apkg"
    failing.write_bytes(package.read_bytes())

    def extract(self: AnkiPackage, dest: Path, wanted: Any = lambda _m: True) -> Any:
        if self.path == failing:
            raise OSError(28, "No space left on device")
        return real(self, dest, wanted)

    monkeypatch.setattr(AnkiPackage, "extract_media", extract)
    [bad, good] = fc.add_decks([failing, package])
    assert not bad.ok and bad.problems == [f"{failing}: cannot read: No space left on device"]
    assert good.ok, good.problems
    assert good.media_added > 0 and len(_media_files(fc)) == good.media_added
    assert fc.cards()


def test_the_media_are_waited_for_before_the_write_lock_is_taken(
    fc: Any, package: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The review found the copy awaited inside the write transaction: 150 MB of images held
    SQLite's write lock ~1 s longer, and a GB could pass a second terminal's busy timeout. While
    the import waits for its media, another process can still write."""
    import sqlite3

    from flashcore.services.anki_import import MediaCopy
    from flashcore.storage.db import sqlite_path

    path = sqlite_path(fc.url)
    if path is None:
        pytest.skip("SQLite's write lock (PostgreSQL locks rows)")
    real = MediaCopy.wait
    writers: list[str] = []

    def wait(self: MediaCopy) -> Any:
        other = sqlite3.connect(path, timeout=0)
        try:
            other.execute("BEGIN IMMEDIATE")  # refused while the import holds the write lock
            other.rollback()
            writers.append("could write")
        except sqlite3.OperationalError as exc:
            writers.append(str(exc))
        finally:
            other.close()
        return real(self)

    monkeypatch.setattr(MediaCopy, "wait", wait)
    [report] = fc.add_decks([package], with_scheduling=True)
    assert report.ok and report.media_added > 0
    assert writers == ["could write"]
