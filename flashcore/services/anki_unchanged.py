"""An unchanged re-import of an Anki package, recognized before the package is opened and
skipped (`decks add FILE` again, nothing new in the file, nothing an import reads changed
here): its report is the one the full re-import would give, remembered by the import before.

After each package import the collection remembers (`storage.import_prints`, a side file of
its media folder) the package file's digest with the import's options, the *stamp* of the
profile as the import left it (`repos.import_stamp`: its notes, which cards exist and their
links and anchors to Anki, the answers carrying an Anki revlog id, decks, topics, settings),
the package's media files as the media folder then held them, and the report a re-import of
the same file would give. A later import of a file with the same digest and options is skipped
only when the profile's stamp and those media files are still the same: a note, deck, topic or
setting changed here since, a media file deleted or edited, and any other file (a newer export
brings newer history) mean the import does its work. A changed flashcore (its version, the
notes' conversion) does too.

Study here since does not (issue 16: a student answers daily and re-imports the same file):
answers, undos, suspensions, flags, burials, a missed question's unsuspension leave the stamp
as it is, because the full re-import of the same file changes none of what they changed and
writes nothing else. The notes import touches no card of a note it finds unchanged; the
scheduling import takes nothing for a card the package brings nothing new for (every revlog id
of its answers held, its rows that are not answers taken before: `anki_history._taken_before`),
so flashcore's state, flag, suspension and burial of it stay, and an answer given here since is
only looked for among rows the package does not hold. One thing it reports moves: a card
without an anchor (new in Anki) counts "still new" until it is answered here, then "unchanged".
The import remembers those cards (`SchedulingSummary.unanchored_new`), and the shortcut counts
them again against the answers given here now (`repos.answered_unanchored`); a card studied in
Anki but kept without an anchor for answers given here (`unanchored_studied`) that has lost them
(undone) would be taken from Anki by the full import: the shortcut is refused then.
`tests/services/test_anki_unchanged_study.py` holds the full re-import to that for each kind of
change made here.

An import is remembered only when what a re-import reports is certain from its own report:
no warnings (they come from notes converted), no notes of flashcore's own coming back, no
cards merged, updated or linked to answers given here, nothing removed, the file not written
again while it was read, and every media file the notes use in the media folder."""

from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass, replace
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


@dataclass(frozen=True, slots=True)
class ProfileStamp:
    """The profile as an import left it: `digest` (`repos.import_stamp`), and the cards
    without an anchor answered here (`repos.answered_unanchored`; with scheduling only)."""

    digest: str
    answered: frozenset[int]


def stamp_after_import(session: Any, profile_id: int, *, with_scheduling: bool) -> ProfileStamp:
    """Read in the import's transaction, after its writes."""
    from flashcore.storage import repos

    answered = repos.answered_unanchored(session, profile_id) if with_scheduling else set()
    return ProfileStamp(repos.import_stamp(session, profile_id), frozenset(answered))


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
    scheduling = shown[5]
    with reading(fc.engine) as session:
        if repos.import_stamp(session, fc.profile_id) != entry.get("stamp"):
            return False
        if scheduling is not None:
            try:
                scheduling = _recounted(scheduling, entry["unanchored"],
                                        repos.answered_unanchored(session, fc.profile_id))  # fmt: skip
            except (KeyError, TypeError, ValueError, AttributeError):
                return False
            if scheduling is None:
                return False
    report.ok = True
    report.decks, report.unchanged, report.skipped, report.unsupported = shown[:4]
    report.suspended_cards, report.scheduling = shown[4], scheduling
    for key in keys:
        owner[key] = report.path
    return True


def remember(
    seen: PackagePrint | None,
    folder: Path,
    report: FileReport,
    stamp: ProfileStamp | None,
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
    unanchored = _unanchored(report, stamp.answered)
    if report.scheduling is not None and unanchored is None:
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
        if isinstance(entry, dict)
        and (entry.get("owner") != seen.owner or entry.get("stamp") == stamp.digest)
    }  # fmt: skip
    entries.pop(seen.key, None)  # the newest last: the oldest go first past `_KEPT`
    entries[seen.key] = {
        "owner": seen.owner,
        "stamp": stamp.digest,
        "unanchored": unanchored,
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
        or report.removed or report.deleted or report.removed_keys or report.kept_older
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


def _unanchored(report: FileReport, answered: frozenset[int]) -> dict[str, Any] | None:
    """The package's cards without an anchor, as remembered (id ranges), when the report's
    count of them is what `_recounted` gives (else None: nothing remembered)."""
    s = report.scheduling
    if s is None:
        return None
    new, studied = set(s.unanchored_new), set(s.unanchored_studied)
    if not studied <= answered or len(new - answered) != s.cards_new:
        return None
    return {"new": _ranges(new), "studied": _ranges(studied)}


def _recounted(
    summary: SchedulingSummary, unanchored: dict[str, Any], answered: set[int]
) -> SchedulingSummary | None:
    """The remembered scheduling report with the cards without an anchor counted again
    against the answers given here now (`answered`): such a card new in Anki is "still new"
    until answered here, then unchanged. None when a card studied in Anki, kept without an
    anchor for its answers here, lost them (the full import takes Anki's state for it)."""
    if not _expanded(unanchored["studied"]) <= answered:
        return None
    new = len(_expanded(unanchored["new"]) - answered)
    kept = summary.cards_skipped + summary.cards_new
    return replace(summary, cards_skipped=kept - new, cards_new=new)


def _ranges(ids: set[int]) -> list[list[int]]:
    """Ids as [first, last] runs (a package's cards are mostly consecutive rows)."""
    runs: list[list[int]] = []
    for card_id in sorted(ids):
        if runs and runs[-1][1] == card_id - 1:
            runs[-1][1] = card_id
        else:
            runs.append([card_id, card_id])
    return runs


def _expanded(runs: list[list[int]]) -> set[int]:
    return {card_id for first, last in runs for card_id in range(int(first), int(last) + 1)}


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
