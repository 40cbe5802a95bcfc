"""Reading an Anki package for `decks add`: its notes as decks, its media staged.

The package is read whole before anything is written: the collection is extracted into a
work folder inside the collection's media folder (`<database>.media/.import-<pid>-<n>/`), converted,
and the media files the imported notes use are staged there too, by a thread of their own
(`MediaCopy`) while the database is written (in `decks.add_decks`, one transaction per file):
the transaction waits for them before it commits, and fails (rolled back) when one cannot be
read or written. Only when it commits are the staged files moved into the media folder. A
package with any problem changes nothing and leaves no file behind; nothing is ever written
outside the collection's media folder.
"""

from __future__ import annotations

import hashlib
import itertools
import os
import shutil
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

from flashcore.core import anking
from flashcore.core.errors import InputFileError, PackageMediaError, Problem
from flashcore.core.model import DeckSpec
from flashcore.importers.anki_package import (
    AnkiPackage,
    MediaFile,
    media_name_problem,
    open_package,
)
from flashcore.importers.anki_package.notes import ConvertReport, convert
from flashcore.services.anki_stage import AnswerStaging, start_staging
from flashcore.storage import anki_sync
from flashcore.storage.uow import KeysBrokenError, reading, run_write

if TYPE_CHECKING:
    from flashcore.services.anki_unchanged import PackagePrint
    from flashcore.services.context import Collection

T = TypeVar("T")
MEDIA_SUFFIX = ".media"
# A first `--with-scheduling` import of a package with at least this many revlog rows has
# SQLite check its foreign keys once before the commit (`PackageRead.write`).
KEYS_AT_COMMIT_ROWS = 50_000
_READS = itertools.count()  # this process's packages read: each its own work folder


def media_dir(fc: Collection) -> Path:
    """Where this collection keeps media files: beside a SQLite file (`<name>.media/`, as Anki
    keeps `collection.media/`), else in flashcore's data folder (`media/`)."""
    from flashcore.storage.db import default_db_path, sqlite_path

    db = sqlite_path(fc.url)
    if db is not None:
        return db.parent / (db.stem + MEDIA_SUFFIX)
    return default_db_path().parent / "media"


def media_files(fc: Collection, names: Sequence[str]) -> tuple[list[Path], list[str]]:
    """The files of the media folder a card's images name, and the names not found there. A
    name with a path part never leaves the folder: it is reported missing."""
    folder = media_dir(fc)
    found: list[Path] = []
    missing: list[str] = []
    for name in names:
        path = folder / name
        if media_name_problem(name) is None and path.is_file():
            found.append(path)
        else:
            missing.append(name)
    return found, missing


class MediaCopy:
    """The media files of a package a predicate wants, copied into a folder by a thread of its
    own (started at once), while the import writes the database: decompressing and writing
    them (AnKing's few hundred MB) hold no lock Python's other threads need. `wait` for the
    names copied (raises `PackageMediaError` when one could not be); `stop` ends it early."""

    def __init__(
        self, pkg: AnkiPackage, dest: Path, wanted: Callable[[MediaFile], bool], where: str
    ) -> None:
        self._where = where
        self._stopped = threading.Event()
        self._copied: list[str] = []
        self._error: BaseException | None = None
        self._thread = threading.Thread(
            target=self._run, args=(pkg, dest, wanted), name="flashcore-anki-media", daemon=True
        )
        self._thread.start()

    def _run(self, pkg: AnkiPackage, dest: Path, wanted: Callable[[MediaFile], bool]) -> None:
        try:
            copied = pkg.extract_media(dest, lambda m: not self._stopped.is_set() and wanted(m))
            self._copied = [m.name for m in copied]
        except BaseException as exc:  # noqa: BLE001 - handed to the thread that waits
            self._error = exc

    def wait(self) -> list[str]:
        self._thread.join()
        error = self._error
        if isinstance(error, InputFileError):
            raise PackageMediaError(error.problems)
        if isinstance(error, OSError):
            problem = f"cannot read: {error.strerror or error}"
            raise PackageMediaError([Problem(self._where, None, problem)])
        if error is not None:
            raise error
        return self._copied

    def stop(self) -> None:
        self._stopped.set()
        self._thread.join()


@dataclass(slots=True)
class PackageRead:
    """A package read and checked, its media staged; `commit` or `discard` it. The package
    stays open (`source`: its collection extracted once, its cards read once) for the
    scheduling import that may follow in the write transaction."""

    specs: list[DeckSpec]
    report: ConvertReport
    work: Path
    media: Path
    copying: MediaCopy | None  # the media files being staged (`wait_media`)
    source: AnkiPackage | None = None
    answers: AnswerStaging | None = None  # its review-log rows staged ahead (a first import)
    names: tuple[str, ...] = ()  # the package's media files
    missing: frozenset[str] = frozenset()  # those the media folder did not hold when read
    seen: PackagePrint | None = None  # the file's print, for `anki_unchanged.remember`
    staged: list[str] = field(default_factory=list)  # the media files staged (`wait_media`)
    keys_at_commit: bool = False  # its write checks the foreign keys once (`write`)

    def write(self, fc: Collection, work: Callable[[Any], T]) -> T:
        """`run_write` of the import (`work`), once the media are staged (before the write
        lock is taken: a GB of them would keep a reviewer's answers waiting). A big first
        import (`keys_at_commit`, see `checks_keys_at_commit`) has SQLite check the foreign
        keys once, whole, before the commit instead of at each of its million rows
        (`storage.uow.writing`); should the check find a row without its parent (a write
        that counted on an ON DELETE action of the database, which does not run while the
        keys are off), the import is written again the usual way: the same result."""
        self.wait_media()
        if not self.keys_at_commit:
            return run_write(fc.engine, work)
        before = fc.settings
        try:
            return run_write(fc.engine, work, keys_at_commit=True)
        except KeysBrokenError:
            fc.use_settings(before)  # (the preset's settings were rolled back with it)
            return run_write(fc.engine, work)

    def wait_media(self) -> None:
        """Wait until the media files are staged (before the import takes the write lock, so a
        large copy never keeps other writers waiting: raises `PackageMediaError` when one could
        not be)."""
        if self.copying is not None:
            self.staged = self.copying.wait()
            self.copying = None

    def commit(self) -> int:
        """Move the staged media into the media folder; the number of files moved."""
        self.wait_media()
        moved = 0
        for name in self.staged:
            os.replace(self.work / "media" / name, self.media / name)
            moved += 1
        self.discard()
        return moved

    def discard(self) -> None:
        if self.copying is not None:
            self.copying.stop()
            self.copying = None
        if self.answers is not None:
            self.answers.close()
            self.answers = None
        if self.source is not None:
            self.source.close()
            self.source = None
        shutil.rmtree(self.work, ignore_errors=True)


def _same(path: Path, media: MediaFile) -> bool:
    """Whether `path` already holds this media file (by size and SHA-1 when the package says
    them; a legacy package says neither, so its files are written again)."""
    if media.sha1 is None or media.size is None:
        return False
    try:
        if path.stat().st_size != media.size:
            return False
        return hashlib.sha1(path.read_bytes(), usedforsecurity=False).digest() == media.sha1
    except OSError:
        return False


def _present(folder: Path, name: str) -> bool:
    return media_name_problem(name) is None and (folder / name).is_file()


def _stored_hashes(fc: Collection) -> tuple[dict[str, str], dict[str, tuple[int, str]]]:
    """The fingerprints of the notes earlier packages loaded (`convert`'s `stored`), and the
    modification times of the copies taken (its `taken`), read together."""
    from flashcore.storage import repos

    with reading(fc.engine) as session:
        hashes = repos.package_note_hashes(session, fc.profile_id)
        return hashes, repos.package_note_mods(session, fc.profile_id)


def checks_keys_at_commit(fc: Collection, pkg: AnkiPackage) -> bool:
    """Whether a `--with-scheduling` import of `pkg` writes with SQLite's foreign keys
    checked once before the commit (`PackageRead.write`): a first import (the profile's
    review log holds no revlog id) of a big history (`KEYS_AT_COMMIT_ROWS`) into a review
    log of fewer rows. Checked at each row, a million review-log rows cost ~0.4 s CPU more;
    the check at the commit reads every row of the database (~0.15 s a million rows), and
    so does the look here for a row that lacks its parent already (in a database of fewer
    rows)."""
    from flashcore.storage.db import sqlite_path

    if sqlite_path(fc.url) is None:
        return False
    rows = pkg.counts().revlog
    if rows < KEYS_AT_COMMIT_ROWS:
        return False
    with reading(fc.engine) as session:
        if anki_sync.holds_revlog_ids(session, fc.profile_id):
            return False
        # a database already holding a row without its parent would fail the check at the
        # commit whatever the import wrote, and the import would be written twice
        return anki_sync.review_log_size(session) <= rows and not anki_sync.keys_broken(session)


def topic_families(fc: Collection) -> frozenset[anking.TopicFamily]:
    return frozenset(anking.TopicFamily(f) for f in fc.settings.anki_topic_tags)


def read_package(
    fc: Collection,
    path: Path,
    *,
    families: frozenset[anking.TopicFamily] | None = None,
    with_scheduling: bool = False,
    prune: bool = False,
) -> PackageRead:
    """Read `path` (raises AnkiPackageError naming the file) and stage its media. The
    package is left open in the result (closed by its `commit` or `discard`). With
    `with_scheduling`, a first import's review-log rows are made meanwhile in a thread
    (`services.anki_stage`); without `prune` (which deletes notes, counting on the database's
    cascade), a big one's foreign keys are checked at the commit (`checks_keys_at_commit`)."""
    media = media_dir(fc)
    work = media / f".import-{os.getpid()}-{next(_READS)}"  # one a package (several at once)
    shutil.rmtree(work, ignore_errors=True)
    pkg = None
    answers = None
    try:
        pkg = open_package(path, work_dir=work, keep_file=True)
        keys_at_commit = with_scheduling and not prune and checks_keys_at_commit(fc, pkg)
        if with_scheduling:
            answers = start_staging(fc, pkg, work)
        decks = {deck_id: deck.name for deck_id, deck in pkg.decks().items()}
        names = tuple(m.name for m in pkg.media())
        missing = frozenset(name for name in names if not _present(media, name))
        stored, taken = _stored_hashes(fc)
        specs, report = convert(
            str(path),
            pkg.note_types(),
            decks,
            pkg.notes(),
            pkg.cards(),
            families=topic_families(fc) if families is None else families,
            stored=stored,
            missing=missing,
            taken=taken,
        )
        wanted = report.media
        copying = MediaCopy(pkg, work / "media",
                            lambda m: m.name in wanted and not _same(media / m.name, m),
                            str(path))  # fmt: skip
    except BaseException:
        if answers is not None:
            answers.close()
        if pkg is not None:
            pkg.close()
        shutil.rmtree(work, ignore_errors=True)
        raise
    return PackageRead(specs, report, work, media, copying, pkg, answers, names, missing,
                       keys_at_commit=keys_at_commit)  # fmt: skip
