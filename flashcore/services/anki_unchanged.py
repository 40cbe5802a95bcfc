"""An unchanged re-import of an Anki package, recognized before the package is opened and
skipped (`decks add FILE` again, nothing new on either side): its report is the one the full
re-import would give, remembered by the import before.

After each package import the collection remembers (`storage.import_prints`, a side file of
its media folder) the package file's digest with the import's options, the *stamp* of the
profile as the import left it (`repos.import_stamp`: its notes, cards, answers, anchors,
decks, topics, settings), the package's media files as the media folder then held them, and
the report a re-import of the same file would give. A later import of a file with the same
digest and options is skipped only when the profile's stamp and those media files are still
the same: any change made here since (an answer, a suspension, a setting, a deck load, a
media file deleted or edited) and any other file (a newer export brings newer history) mean
the import does its work. A changed flashcore (its version, the notes' conversion) does too.

An import is remembered only when what a re-import reports is certain from its own report:
no warnings (they come from notes converted), no notes of flashcore's own coming back, no
cards merged, updated or linked to answers given here, nothing removed, the file not written
again while it was read, and every media file the notes use in the media folder."""

from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from flashcore import __version__
from flashcore.importers.anki_package.digest import FileDigest, file_digest, file_stat
from flashcore.importers.anki_package.notes import SOURCE_VERSION
from flashcore.services.anki_history import SchedulingSummary
from flashcore.storage.import_prints import load_prints, save_prints

if TYPE_CHECKING:
    from flashcore.services.context import Collection
    from flashcore.services.deck_report import FileReport

_KEPT = 32  # entries the side file keeps at most


@dataclass(frozen=True, slots=True)
class PackagePrint:
    """A package file as an import of it into this profile with these options: `key` names
    its remembered entry, `file` is the file's digest when it was read."""

    key: str
    owner: str  # the collection and profile
    file: FileDigest


def package_print(
    fc: Collection, path: Path, *, with_scheduling: bool, prune: bool
) -> PackagePrint | None:
    """The print of importing `path` now (None when the file cannot be read: the import
    then says why)."""
    try:
        found = file_digest(path)
    except OSError:
        return None
    owner = _digest(fc.url, fc.profile_id)
    families = sorted(fc.settings.anki_topic_tags)
    key = _digest(owner, found.digest, with_scheduling, prune, families, __version__,
                  SOURCE_VERSION)  # fmt: skip
    return PackagePrint(key, owner, found)


def replay(
    fc: Collection,
    seen: PackagePrint | None,
    folder: Path,
    report: FileReport,
    owner: dict[str, str],
) -> bool:
    """Whether the import `seen` would change nothing (the same file imported last with the
    same options, nothing changed here since; `folder`: the collection's media folder): then
    `report` is filled as that re-import's and its decks are claimed in `owner` (deck key ->
    file)."""
    from flashcore.storage import repos
    from flashcore.storage.uow import reading

    if seen is None:
        return False
    entry = load_prints(folder).get(seen.key)
    if not isinstance(entry, dict) or entry.get("owner") != seen.owner:
        return False
    try:  # an entry the file holds damaged is no entry
        keys = [str(key) for key in entry["keys"]]
        shown = _shown(entry["report"])
        if any(key in owner for key in keys) or not _media_hold(folder, entry):
            return False
    except (KeyError, TypeError, ValueError, AttributeError):
        return False
    with reading(fc.engine) as session:
        if repos.import_stamp(session, fc.profile_id) != entry.get("stamp"):
            return False
    report.ok = True
    report.decks, report.unchanged, report.skipped, report.unsupported = shown[:4]
    report.suspended_cards, report.scheduling = shown[4:]
    for key in keys:
        owner[key] = report.path
    return True


def remember(
    seen: PackagePrint | None,
    folder: Path,
    report: FileReport,
    stamp: str | None,
    *,
    names: tuple[str, ...],
    missing: frozenset[str],
    used: set[str],
    keys: list[str],
) -> None:
    """After an import committed (its media moved into `folder`): remember it, when what a
    re-import reports is certain (see the module). `names`: the package's media files;
    `missing`: those the folder lacked when the package was read; `used`: the media names the
    notes converted use (and those of `missing` the others use); `keys`: its decks' keys."""
    shown = _as_unchanged(report)
    if seen is None or stamp is None or shown is None:
        return
    try:
        if file_stat(Path(report.path)) != (seen.file.size, seen.file.mtime_ns):
            return  # written again while it was read: which content came in is unknown
    except OSError:
        return
    present: dict[str, list[int]] = {}
    absent: list[str] = []
    for name in names:
        try:
            info = os.stat(folder / name)
        except OSError:
            absent.append(name)
            continue
        present[name] = [info.st_size, info.st_mtime_ns]
    # A file still absent must have been absent before and be used by no note (else a
    # re-import would write it).
    if not set(absent) <= missing or not used.isdisjoint(absent):
        return
    entries = {
        key: entry
        for key, entry in load_prints(folder).items()
        if isinstance(entry, dict) and (entry.get("owner") != seen.owner or entry.get("stamp") == stamp)
    }  # fmt: skip
    entries.pop(seen.key, None)  # the newest last: the oldest go first past `_KEPT`
    entries[seen.key] = {
        "owner": seen.owner,
        "stamp": stamp,
        "keys": keys,
        "present": present,
        "absent": absent,
        "report": shown,
    }
    save_prints(folder, dict(list(entries.items())[-_KEPT:]))


def _as_unchanged(report: FileReport) -> dict[str, Any] | None:
    """What a re-import of the same file reports once `report`'s import committed (nothing
    added, updated or taken: every note unchanged, every answer already here), or None when
    that is not certain from `report` (see the module)."""
    s = report.scheduling
    if (
        not report.ok or report.problems or report.warnings or report.own_notes
        or report.removed or report.deleted or report.removed_keys
    ):  # fmt: skip
        return None
    if s is not None and (s.cards_updated or s.cards_merged or s.reviews_linked or s.warnings):
        return None
    scheduling = None
    if s is not None:
        scheduling = {
            "cards_skipped": s.cards_added + s.cards_skipped,
            "cards_new": s.cards_new,
            "reviews_skipped": s.reviews_added + s.reviews_skipped,
            "manual_skipped": s.manual_skipped,
        }
    return {
        "decks": list(report.decks),
        "unchanged": report.added + report.updated + report.unchanged,
        "skipped": dict(report.skipped),
        "unsupported": dict(report.unsupported),
        "suspended_cards": report.suspended_cards,
        "scheduling": scheduling,
    }


def _shown(shown: dict[str, Any]) -> tuple[Any, ...]:
    """A remembered report's values (decks, unchanged, skipped, unsupported, suspended cards,
    scheduling), checked as they are read."""
    counts = shown["scheduling"]
    return (
        [str(name) for name in shown["decks"]],
        int(shown["unchanged"]),
        {str(k): int(v) for k, v in shown["skipped"].items()},
        {str(k): int(v) for k, v in shown["unsupported"].items()},
        int(shown["suspended_cards"]),
        None if counts is None else _summary(counts),
    )


def _summary(counts: dict[str, Any]) -> SchedulingSummary:
    return SchedulingSummary(
        cards_skipped=int(counts["cards_skipped"]),
        cards_new=int(counts["cards_new"]),
        reviews_skipped=int(counts["reviews_skipped"]),
        manual_skipped=int(counts["manual_skipped"]),
    )


def _media_hold(folder: Path, entry: dict[str, Any]) -> bool:
    """Whether the package's media files are as the import left them: the same size and
    modification time, the absent ones still absent."""
    for name, (size, mtime) in entry["present"].items():
        try:
            info = os.stat(folder / name)
        except OSError:
            return False
        if info.st_size != size or info.st_mtime_ns != mtime:
            return False
    return not any(os.path.lexists(folder / name) for name in entry["absent"])


def _digest(*parts: object) -> str:
    return hashlib.blake2b(repr(parts).encode(), digest_size=16).hexdigest()
