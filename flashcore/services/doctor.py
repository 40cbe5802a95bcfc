"""`flashcore doctor`: an integrity check, then repairs of what a crash, a bug or a hand edit
can leave behind, with a count per kind of fix. A second run finds nothing.

1. `PRAGMA integrity_check` on a SQLite file, through a read-only connection. A damaged file is
   never written to: the report names the newest backup that passes its own check, and the
   command to restore it.
2. Rows whose parent is gone (review rows of a deleted card, and on SQLite every other
   `foreign_key_check` violation) are deleted.
3. Impossible due dates (NULL, not in the stored format, before 2000 or after 9999) are
   recomputed: from the review log for a studied card, `now` for a new one.
4. Broken text in notes and decks (NUL characters, lone surrogates, bytes that are not UTF-8)
   is cleaned.
5. Cards whose reps, lapses or FSRS state disagree with their review log are rewritten from the
   log (`flashcore.services.check`), in every profile.
6. Temporary files left beside a SQLite database and in its backup folder by a backup, restore
   or export that was killed (their process is gone) are deleted. An export into another
   folder is cleaned up by the next export into that folder. So are those an Anki import left
   in the media folder when it was killed while it wrote `.anki-imports.json`
   (`.anki-imports.json.<pid>.tmp`).

A SQLite collection is backed up before the first repair is written.
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass, field, replace
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from flashcore.core import fsrs_adapter
from flashcore.core.errors import DatabaseError, FlashcoreError
from flashcore.core.model import CardState, Schedule
from flashcore.core.settings import load_stored
from flashcore.core.text import clean_text as clean_text  # the rule doctor applies to text
from flashcore.services import backup as backups
from flashcore.services.check import check
from flashcore.storage import backup as files
from flashcore.storage import repairs, repos
from flashcore.storage.backup import Backup
from flashcore.storage.db import sqlite_path
from flashcore.storage.uow import reading, run_write

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    from flashcore.services.context import Collection

ORPHAN_REVIEWS = "orphan review rows"
IMPOSSIBLE_DUE = "impossible due dates"
BROKEN_TEXT = "notes or decks with broken text"
DISAGREEING = "cards disagreeing with their review log"
STALE_TEMPS = "temporary files left by a killed backup or export"
STALE_PRINTS = "temporary .anki-imports.json files left by an interrupted Anki import"


@dataclass(slots=True)
class DoctorReport:
    database: str
    integrity: list[str] = field(default_factory=list)  # [] when sound or not checked
    checked: bool = True  # False on PostgreSQL (the server checks its own pages)
    fixes: dict[str, int] = field(default_factory=dict)
    unrepaired: list[str] = field(default_factory=list)
    backup: Backup | None = None  # taken before the first repair
    good_backup: Backup | None = None  # offered when the database is damaged

    @property
    def damaged(self) -> bool:
        return bool(self.integrity)

    def restore_command(self) -> str | None:
        if self.good_backup is None:
            return None
        return f"flashcore backup restore {self.good_backup.id} --db {self.database}"

    def to_json(self) -> dict[str, Any]:
        return {
            "database": self.database,
            "integrity": "not checked (PostgreSQL)"
            if not self.checked
            else ("ok" if not self.integrity else self.integrity),
            "damaged": self.damaged,
            "fixes": self.fixes,
            "unrepaired": self.unrepaired,
            "backup": None if self.backup is None else self.backup.to_json(),
            "good_backup": None if self.good_backup is None else self.good_backup.to_json(),
            "restore_command": self.restore_command(),
        }


def examine(url: str) -> DoctorReport:
    """The integrity check, read-only; never opens the collection (which could write)."""
    path = sqlite_path(url)
    if path is None:
        return DoctorReport(database=url.split("@")[-1], checked=False)
    if not path.is_file():
        raise DatabaseError(f"no database at {path}: run `flashcore init --db {path}` first")
    if not files.is_sqlite_file(path):
        problem = "not a SQLite database (another kind of file, or a damaged header)"
        report = DoctorReport(database=str(path), integrity=[problem])
    else:
        report = DoctorReport(database=str(path), integrity=_integrity(path))
    if report.damaged:
        report.good_backup = backups.newest_good_backup(path)
    else:
        files.clear_damage(path)  # what a background quick_check recorded no longer holds
    return report


def _integrity(path: Path) -> list[str]:
    """`PRAGMA integrity_check` through a read-only connection: its problems ([] when sound).
    Only corruption is damage: a check that cannot run for another reason (a read-only folder
    where the -shm cannot be made, a full or failing disk, a lock) raises DatabaseError with
    SQLite's words, which the command line turns into advice; the file is not called damaged."""
    try:
        conn = files.open_readonly(path)
        try:
            return files.check_connection(conn, full=True)
        finally:
            conn.close()
    except sqlite3.Error as exc:
        name = getattr(exc, "sqlite_errorname", "")
        if name.startswith(_DAMAGE):
            return [str(exc)]
        why = str(exc)
        if name.startswith("SQLITE_CANTOPEN"):
            why += "; is its folder read-only? SQLite needs to make a -shm file beside it"
        raise DatabaseError(f"cannot run the integrity check on {path} ({why})") from None


_DAMAGE = ("SQLITE_CORRUPT", "SQLITE_NOTADB")


def repair(fc: Collection, report: DoctorReport) -> DoctorReport:
    """Find and fix everything in `report`'s sound database; counts go in `report.fixes`."""
    if report.damaged:
        raise DatabaseError(f"{report.database} is damaged; doctor does not write to it")
    now = fc.now()
    profiles = _profiles(fc, report)
    with reading(fc.engine) as session:
        orphans = repairs.orphans(session)
        dues = repairs.impossible_dues(session)
        texts = repairs.broken_texts(session)
    if orphans or dues or texts:
        report.backup = backups.backup_before_write(fc)
        if orphans:
            deleted = run_write(fc.engine, lambda s: repairs.delete_orphans(s, orphans))
            _count(report, {_orphan_label(table): n for table, n in deleted.items()})
        if dues:
            policies = {p.profile_id: p.policy for p in profiles}
            report.fixes[IMPOSSIBLE_DUE] = _fix_dues(fc, dues, policies, now)
        if texts:
            report.fixes[BROKEN_TEXT] = run_write(
                fc.engine, lambda s: repairs.write_texts(s, texts)
            )
    for profile_fc in profiles:
        found = check(profile_fc)
        fixable = [p for p in found.problems if not _unrepairable(p)]
        report.unrepaired += [
            f"profile {profile_fc.profile!r}, card {p['card_id']}: {p['message']}"
            for p in found.problems
            if _unrepairable(p)
        ]
        if fixable:
            if report.backup is None:
                report.backup = backups.backup_before_write(fc)
            repaired = check(profile_fc, repair=True).repaired
            report.fixes[DISAGREEING] = report.fixes.get(DISAGREEING, 0) + repaired
    report.fixes[STALE_TEMPS] = len(_remove_stale_temps(fc))
    report.fixes[STALE_PRINTS] = len(_remove_stale_prints(fc))
    report.fixes = {k: v for k, v in report.fixes.items() if v}
    return report


def _remove_stale_temps(fc: Collection) -> list[Path]:
    """Leftovers of killed backups, restores and exports beside a SQLite database."""
    from flashcore.exporters.anki import remove_stale_temps

    path = sqlite_path(fc.url)
    if path is None:
        return []
    try:
        return [
            *files.remove_stale_temps(files.backup_folder(path)),
            *files.remove_stale_temps(path.parent, prefix=f".{path.name}.restore."),
            *remove_stale_temps(path.parent),
        ]
    except OSError:
        return []  # a read-only folder: nothing a repair can do, nothing lost


def _remove_stale_prints(fc: Collection) -> list[Path]:
    """Leftovers of an Anki import's record (`.anki-imports.json`) whose writer was killed
    before its rename, in the collection's media folder (SQLite or PostgreSQL)."""
    from flashcore.services.anki_import import media_dir
    from flashcore.storage.import_prints import remove_stale_scratch

    return remove_stale_scratch(media_dir(fc))


def _count(report: DoctorReport, counts: dict[str, int]) -> None:
    for label, n in counts.items():
        report.fixes[label] = report.fixes.get(label, 0) + n


def _orphan_label(table: str) -> str:
    return (
        ORPHAN_REVIEWS
        if table in ("review_logs", "imported_answers")
        else f"orphan rows in {table}"
    )


def _unrepairable(problem: dict[str, Any]) -> bool:
    return str(problem.get("message", "")).startswith("log cannot be replayed")


def _fix_dues(
    fc: Collection,
    cards: list[repairs.BadDue],
    policies: dict[int, fsrs_adapter.Policy],
    now: datetime,
) -> int:
    """New cards become due now; studied cards get the schedule their log gives (cards of a
    profile with unreadable settings are left for the user: see `unrepaired`)."""
    with reading(fc.engine) as session:
        history = repairs.answer_histories(session, [c.card_id for c in cards])

    def work(session: Session) -> int:
        done = 0
        for card_id, profile_id, state, version in (
            (c.card_id, c.profile_id, c.state, c.version) for c in cards
        ):
            past = history.get(card_id, [])
            if state == int(CardState.NEW) or not past:
                schedule = Schedule(CardState.NEW, now)
            elif profile_id in policies:
                schedule = fsrs_adapter.replay(card_id, now, past, policies[profile_id])
            else:
                continue
            retention = past[-1].retention if past else None
            done += repos.save_schedule(
                session, card_id, version, schedule, now, retention=retention
            )
        return done

    return run_write(fc.engine, work)


# ---------------------------------------------------------------- profiles


def _profiles(fc: Collection, report: DoctorReport) -> list[Collection]:
    """`fc` seen as each profile of the database, for the per-profile log check."""
    out = []
    with reading(fc.engine) as session:
        rows = repairs.profile_settings(session)
    for pid, name, raw in rows:
        try:
            settings, _warnings = load_stored(raw)  # out of range: the defaults
        except (TypeError, ValueError, FlashcoreError) as exc:
            report.unrepaired.append(f"profile {name!r}: unreadable settings ({exc})")
            continue
        out.append(replace(fc, profile_id=pid, profile=name, settings=settings, _policy=None))
    return out
