"""Loading deck files, listing decks and browsing cards."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from flashcore.core.card_sides import front_preview
from flashcore.core.errors import (
    AnkiPackageError,
    DamagedHistoryError,
    DeckFormatError,
    FlashcoreError,
    InputFileError,
    PackageMediaError,
    PartlyLoadedError,
    Problem,
)
from flashcore.core.introduction import NewOrder
from flashcore.core.model import CardState, DeckSpec
from flashcore.services.deck_list import DeckSummary as DeckSummary
from flashcore.services.deck_list import decks_and_counts as decks_and_counts
from flashcore.services.deck_list import list_decks as list_decks
from flashcore.services.deck_report import FileReport as FileReport
from flashcore.services.memory import no_cycle_collection
from flashcore.storage import repos
from flashcore.storage.bulk_cards import loading_cards
from flashcore.storage.checkpoint import Checkpoint, defer_checkpoint
from flashcore.storage.uow import WRITE_FAILURES, reading, run_write, transaction

if TYPE_CHECKING:
    from flashcore.services.anki_import import PackageRead
    from flashcore.services.anki_scheduling import SchedulingSummary
    from flashcore.services.anki_unchanged import ProfileStamp
    from flashcore.services.context import Collection

DECK_SUFFIXES = {".toml"}
ANKI_TEXT_SUFFIXES = {".txt", ".csv", ".tsv"}
ANKI_PACKAGE_SUFFIXES = {".apkg", ".colpkg"}
_BUNDLED = Path(__file__).resolve().parent.parent / "_bundled" / "decks"
_REPO_DECKS = Path(__file__).resolve().parent.parent.parent / "decks"


def bundled_decks_dir() -> Path:
    for candidate in (_BUNDLED, _REPO_DECKS):
        if candidate.is_dir() and any(candidate.glob("*.toml")):
            return candidate
    raise FlashcoreError("the bundled starter decks are missing from this installation")


def parse_file(path: Path) -> list[DeckSpec]:
    """Any supported deck file -> its decks. Raises InputFileError naming file and line."""
    if not path.exists():
        raise DeckFormatError([Problem(str(path), None, "no such file")])
    if path.is_dir():  # `expand` passes on a folder only when it holds no deck file
        raise DeckFormatError(
            [
                Problem(
                    str(path), None, "no deck file in this folder (.toml, or Anki's .txt/.csv/.tsv)"
                )
            ]
        )
    suffix = path.suffix.lower()
    if suffix in DECK_SUFFIXES:
        from flashcore.importers.deck_toml import parse_deck_file

        return [parse_deck_file(path)]
    if suffix in ANKI_TEXT_SUFFIXES:
        from flashcore.importers.text_deck import parse_text_deck

        return parse_text_deck(path)
    raise DeckFormatError(
        [
            Problem(
                str(path),
                None,
                "unknown deck file type (use .toml, Anki's .txt/.csv/.tsv, or an Anki package "
                ".apkg/.colpkg)",
            )
        ]
    )


def expand(paths: list[Path]) -> list[Path]:
    """The files to load: a folder stands for every deck file in it (TOML and Anki text, hidden
    files aside), or for itself when it holds none (`parse_file` then says so)."""
    out: list[Path] = []
    for path in paths:
        if path.is_dir():
            found = sorted(
                p
                for p in path.iterdir()
                if p.suffix.lower() in DECK_SUFFIXES | ANKI_TEXT_SUFFIXES | ANKI_PACKAGE_SUFFIXES
                and not p.name.startswith(".")
                and p.is_file()
            )
            out.extend(found or [path])
        else:
            out.append(path)
    return out


def add_decks(
    fc: Collection,
    paths: list[Path],
    *,
    prune: bool,
    with_scheduling: bool = False,
    show_progress: bool = False,
) -> list[FileReport]:
    """Load each file in its own transaction: a file with any problem changes nothing. With
    `with_scheduling`, an Anki package's scheduling and history come too, in the same
    transaction (services.anki_scheduling)."""
    with no_cycle_collection():
        return _add_decks(fc, paths, prune=prune, with_scheduling=with_scheduling,
                          show_progress=show_progress)  # fmt: skip


def _add_decks(
    fc: Collection,
    paths: list[Path],
    *,
    prune: bool,
    with_scheduling: bool,
    show_progress: bool,
) -> list[FileReport]:
    reports: list[FileReport] = []
    parsed: list[tuple[Path, list[DeckSpec] | None, FileReport]] = []
    packages: dict[str, PackageRead] = {}
    owner: dict[str, str] = {}
    checkpoints: list[Checkpoint] = []  # a package commit's, run meanwhile (storage.checkpoint)
    partly: PartlyLoadedError | None = None
    try:
        try:
            _read_all(fc, paths, reports, parsed, packages, owner, with_scheduling, prune)
            _write_all(fc, parsed, packages, prune=prune, with_scheduling=with_scheduling,
                       show_progress=show_progress, checkpoints=checkpoints)  # fmt: skip
        except PartlyLoadedError as exc:
            partly = exc  # the files loaded before it get their weights below, then it is raised
        finally:
            for package in packages.values():
                package.discard()  # after a commit the staged files are moved already
        if partly is not None:
            partly.reports = list(reports)
            _refresh_after(fc, reports)
            raise partly
        _refresh_after(fc, reports)
    finally:
        for checkpoint in checkpoints:
            checkpoint.wait()
    return reports


def _refresh_after(fc: Collection, reports: list[FileReport]) -> None:
    """The weights and the planner's statistics after the files loaded."""
    if any(r.ok for r in reports):
        from flashcore.services.weights import refresh_weights
        from flashcore.storage.db import refresh_statistics

        # An import that changed nothing leaves the weights as they are, unless they are
        # from an earlier study day (they decay daily): an unchanged AnKing re-import
        # spent ~1 s CPU recomputing the same weights.
        if any(r.added or r.deleted for r in reports):
            refresh_statistics(fc.engine)  # new cards: the planner's statistics, first
        refresh_weights(fc, force=any(_changed(r) for r in reports if r.ok))


def _read_all(
    fc: Collection,
    paths: list[Path],
    reports: list[FileReport],
    parsed: list[tuple[Path, list[DeckSpec] | None, FileReport]],
    packages: dict[str, PackageRead],
    owner: dict[str, str],
    with_scheduling: bool,
    prune: bool,
) -> None:
    every = expand(paths)
    for at, path in enumerate(every):
        report = FileReport(path=str(path), ok=False)
        reports.append(report)
        try:
            if path.suffix.lower() in ANKI_PACKAGE_SUFFIXES and path.is_file():
                from flashcore.services import anki_unchanged as unchanged
                from flashcore.services.anki_import import media_dir, read_package

                seen = unchanged.package_print(fc, path, with_scheduling=with_scheduling,
                                               prune=prune)  # fmt: skip
                # Judged on the profile as it stands now: not after a package of this command
                # read in full, whose write comes first (a note it moves, a preset it sets).
                if not packages and unchanged.replay(fc, seen, media_dir(fc), report, owner):
                    parsed.append((path, None, report))
                    continue
                package = read_package(fc, path, with_scheduling=with_scheduling, prune=prune)
                package.seen = seen
                packages[str(path)] = package
                if at < len(every) - 1:
                    # Its media staged before the next file is read: a failing file claims no key.
                    package.wait_media()
                specs = package.specs
                report.skipped = dict(package.report.skipped)
                report.unsupported = dict(package.report.unsupported)
                report.warnings = package.report.warnings[:50]
            else:
                specs = parse_file(path)
        except InputFileError as exc:
            report.problems = [str(p) for p in exc.problems]
            parsed.append((path, None, report))
            continue
        except OSError as exc:
            report.problems = [f"{path}: cannot read: {exc.strerror or exc}"]
            parsed.append((path, None, report))
            continue
        clash = [s.key for s in specs if s.key in owner and owner[s.key] != str(path)]
        if clash:
            report.problems = [
                f"{path}: deck key {k!r} is also declared by {owner[k]}" for k in clash
            ]
            parsed.append((path, None, report))
            continue
        for spec in specs:
            owner[spec.key] = str(path)
        parsed.append((path, specs, report))


def _write_all(
    fc: Collection,
    parsed: list[tuple[Path, list[DeckSpec] | None, FileReport]],
    packages: dict[str, PackageRead],
    *,
    prune: bool,
    with_scheduling: bool = False,
    show_progress: bool = False,
    checkpoints: list[Checkpoint] | None = None,
) -> None:
    if any(specs is not None for _, specs, _ in parsed):
        from flashcore.services.backup import restore_point  # only imports need it

        # SQLite: a snapshot of the collection as it is, taken in the background; the import
        # waits only until its state is pinned (~0.1 s), then writes while it is copied.
        restore_point(fc, "before decks add")
    now = fc.now()
    for _path, maybe_specs, report in parsed:
        if maybe_specs is None:
            continue

        package = packages.get(str(_path))

        def work(
            session: Any,
            specs: list[DeckSpec] = maybe_specs,
            package: PackageRead | None = package,
        ) -> tuple[list[repos.LoadCounts], SchedulingSummary | None, int, ProfileStamp | None]:
            with loading_cards(session, fc.profile_id, _incoming_cards(specs)):
                return _write_file(session, specs, package)

        def _write_file(
            session: Any, specs: list[DeckSpec], package: PackageRead | None
        ) -> tuple[list[repos.LoadCounts], SchedulingSummary | None, int, ProfileStamp | None]:
            homes, returning, back, gone = None, None, 0, []
            if package is not None and checkpoints is not None:
                defer_checkpoint(session)  # its log is checkpointed after, meanwhile
            if package is not None:
                # flashcore's own notes, exported to Anki and coming back: not added again
                from flashcore.services import anki_identity as identity
                from flashcore.services.anki_unchanged import stamp_after_import

                returning = identity.exported_guids(session, fc.profile_id)
                gone = identity.suspend_deleted_sides(session, fc.profile_id, specs, returning, now)
                specs, back = identity.without_returning(session, fc.profile_id, specs, returning)
                homes = identity.adopt_moved_notes(session, fc.profile_id, specs, now)
            counts = [repos.upsert_deck(session, fc.profile_id, s, now, prune=prune) for s in specs]
            counts += gone
            scheduled = None
            if package is not None and with_scheduling:
                from flashcore.services.anki_scheduling import import_from_package

                if homes is None or not identity.homes_hold(homes, specs, counts):
                    homes = repos.package_note_homes(session, fc.profile_id)
                note_ids = {guid: note_id for guid, (note_id, _deck) in homes.items()}
                assert package.source is not None  # open until `commit` or `discard`
                assert returning is not None
                scheduled = import_from_package(
                    session, fc, package.source, now, note_ids | returning.notes,
                    show_progress=show_progress, ords=returning.ords, answers=package.answers,
                )  # fmt: skip
            if (scheduled is not None and scheduled.changed) or any(
                c.cards_added or c.updated for c in counts
            ):
                # The new cards' introduction order, this file's among them. A reload that
                # changed nothing leaves it as it is (no card's place moves needlessly).
                repos.renumber_new_cards(session, fc.profile_id, NewOrder(fc.settings.new_order))
            stamp = None
            if package is not None:  # the profile as left: its re-import's shortcut
                stamp = stamp_after_import(session, fc.profile_id, with_scheduling=with_scheduling)
            return counts, scheduled, back, stamp

        try:
            try:  # the media, copied meanwhile, staged whole before the write lock is taken
                written = package.write(fc, work) if package else run_write(fc.engine, work)
                results, report.scheduling, report.own_notes, stamp = written
            except DamagedHistoryError as exc:
                raise AnkiPackageError([Problem(str(_path), None, str(exc))]) from None
            except PackageMediaError as exc:  # rolled back: nothing of the file written
                report.problems = [str(p) for p in exc.problems]
                continue
        except WRITE_FAILURES as exc:
            if not any(r.ok for _, _, r in parsed):
                raise  # nothing of this command was written: the error says so as it is
            partly = PartlyLoadedError(report.path, exc)
            partly.not_tried = _failed_after_loading(parsed, report, exc)
            raise partly from exc
        if package is not None and checkpoints is not None and fc.engine.dialect.name == "sqlite":
            checkpoints.append(Checkpoint(fc.engine))
        if package is not None:
            report.media_added = package.commit()
            report.suspended_cards = sum(len(n.suspended) for s in maybe_specs for n in s.notes)
        report.ok = True
        report.decks = [s.name for s in maybe_specs]
        for counts in results:
            report.added += counts.added
            report.updated += counts.updated
            report.unchanged += counts.unchanged
            report.kept_older += counts.kept_older
            report.removed += counts.removed
            report.deleted += counts.deleted
            report.cards_added += counts.cards_added
            report.removed_keys.extend(counts.removed_keys or [])
        if package is not None:
            from flashcore.services.anki_unchanged import remember

            remember(package.seen, package.media, report, stamp, names=package.names,
                     missing=package.missing, used=package.report.media,
                     keys=[spec.key for spec in package.specs])  # fmt: skip


def _failed_after_loading(
    parsed: list[tuple[Path, list[DeckSpec] | None, FileReport]],
    failed: FileReport,
    exc: BaseException,
) -> list[str]:
    """The reports once `failed` could not be written after earlier files were: it says why,
    and the files after it (not tried) say so; returns those files."""
    prefix = f"{failed.path}: "
    why = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
    failed.problems = [why if why.startswith(prefix) else prefix + why]
    after, not_tried = False, []
    for _path, specs, report in parsed:
        if after and specs is not None:
            report.problems = [f"{report.path}: not loaded: {failed.path} failed before it"]
            not_tried.append(report.path)
        after = after or report is failed
    return not_tried


def _incoming_cards(specs: list[DeckSpec]) -> int:
    """The cards a file's notes make, at most (a big first load sets triggers and indexes
    aside while it writes them: `storage.bulk_cards`); notes found unchanged make none."""
    return sum(len(n.ordinals or (0,)) for s in specs for n in s.notes if not n.stub)


def _changed(report: FileReport) -> bool:
    """Whether loading the file changed anything in the database."""
    counts = (report.added, report.updated, report.removed, report.deleted, report.cards_added)
    return any(counts) or (report.scheduling is not None and report.scheduling.changed)


def ensure_starter_decks(fc: Collection) -> list[FileReport] | None:
    """Load the bundled decks if this profile has never held a deck (only `review` calls it)."""
    with reading(fc.engine) as session:
        if repos.has_any_deck(session, fc.profile_id):
            return None
    return add_decks(fc, sorted(bundled_decks_dir().glob("*.toml")), prune=False)


def card_fronts(fc: Collection, card_ids: list[int]) -> dict[int, str]:
    """Each card's front as one line of terminal text (HTML shown as text, cloze blanks as
    `[...]`): what `due` and `cards` list beside a card, as the reviewer shows it."""
    with fc.engine.connect() as conn, transaction(conn, write=False):  # Core: `due`'s path
        texts = repos.card_texts(conn, card_ids)
    return {
        card_id: front_preview(kind, fields, ordinal, html=html)
        for card_id, (kind, fields, ordinal, html) in texts.items()
    }


def card_json(row: dict[str, Any]) -> dict[str, Any]:
    """The public JSON shape of a card (`cards --json`)."""
    return {
        "card_id": row["id"],
        "note_key": row["note_key"],
        "ord": row["ord"],
        "kind": row["kind"],
        "deck": row["deck"],
        "topics": row["topics"],
        "tags": list(row["tags"] or []) + (["leech"] if row["leech"] else []),
        "state": CardState(row["state"]).label,
        "due": _iso(row["due"]),
        "last_review": _iso(row["last_review"]),
        "stability": row["stability"],
        "difficulty": row["difficulty"],
        "reps": row["reps"],
        "lapses": row["lapses"],
        "desired_retention": row["desired_retention"],
        "suspended": row["suspended"],
        "buried": row["buried_until"] is not None,
        "flagged": row["flagged"],
        "leech": row["leech"],
        "front": front_preview(
            row["kind"], row["fields"] or {}, row["ord"], html=bool(row["html"])
        ),
    }


def _iso(value: Any) -> str | None:
    return None if value is None else value.isoformat()


def resolve_scope(
    fc: Collection, deck: str | None, topic: str | None
) -> tuple[str | None, str | None]:
    """A deck and topic as the command line names them (a full name, a parent, or a unique
    end: `Immunology`, `Type I`) as their full names; an unknown or ambiguous one is an error
    with the candidates."""
    from flashcore.core import topics as topic_keys
    from flashcore.core.scope import resolve

    if deck is None and topic is None:
        return deck, topic
    with reading(fc.engine) as session:
        if deck is not None:
            rows = repos.deck_rows(session, fc.profile_id)
            deck = resolve(deck, [name for _id, _key, name, _desc in rows], option="--deck",
                           listing="flashcore decks list", exact=[key for _id, key, _n, _d in rows])  # fmt: skip
        if topic is not None:
            paths = repos.topic_paths(session, fc.profile_id)
            topic = resolve(topic, paths, option="--topic", listing="flashcore topics list",
                            normalize=topic_keys.path_key)  # fmt: skip
    return deck, topic


def list_cards(fc: Collection, *, deck: str | None, topic: str | None) -> list[dict[str, Any]]:
    now = fc.now()
    from flashcore.services.weights import card_weakness

    with reading(fc.engine) as session:
        rows = repos.card_details(session, repos.card_scope(session, fc.profile_id, deck, topic))
        why = card_weakness(fc, session, {r["id"]: r["weight"] for r in rows})
    for row in rows:
        if row["buried_until"] is not None and row["buried_until"] <= now:
            row["buried_until"] = None
    return [card_json(r) | {"weakness": why.get(r["id"], "")} for r in rows]
