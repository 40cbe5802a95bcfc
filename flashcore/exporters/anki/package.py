"""Writing the `.apkg`: the collection (decks, note types, notes, cards, review log) into a
temporary SQLite file beside the target, zipped and renamed into place; the leftovers of a
killed export removed."""

from __future__ import annotations

import dataclasses
import itertools
import json
import os
import re
import shutil
import sqlite3
import tempfile
import zipfile
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime, tzinfo
from pathlib import Path

import genanki

from flashcore.core.model import AnswerRow, ExportCard, NoteKind
from flashcore.exporters.anki.identity import (
    BASIC_MODEL,
    CLOZE_MODEL,
    MODEL_MOD,
    deck_id_for,
    guid_for,
)
from flashcore.exporters.anki.revlog import RevlogWriter
from flashcore.exporters.anki.schedule import (
    COLLECTION_CRT,
    ROLLOVER_HOUR,
    StudyDays,
    _ScheduleWriter,
)
from flashcore.exporters.anki.tags import clean_field, note_tags
from flashcore.exporters.anki.values import ExportNote, ExportPlan, ExportSummary
from flashcore.files import fsync_path, new_file_mode, process_alive

PROGRESS_EVERY = 1000


_ZIP_DATE = (1980, 1, 1, 0, 0, 0)


_COPY_CHUNK = 1 << 20


# The package collection's page cache while it is written (SQLite's default, 2 MB): every
# table is appended to, and the revlog's indexes sort fastest in runs this size (1M answers:
# 0.4 s at 2 MB, 1.1 s in one run at 32 MB).
_CACHE_KIB = 2 << 10


# `.<target>.<pid>.<mkstemp's 8 characters>.anki2.tmp` / `.apkg.tmp` (+ a journal, just in case)
_TEMP_NAME = re.compile(r"^\..+\.(?P<pid>[0-9]+)\.[a-z0-9_]{8}\.(?:anki2|apkg)\.tmp(?:-journal)?$")


def write_apkg(
    notes: Sequence[ExportNote],
    path: Path,
    *,
    with_scheduling: bool,
    now: datetime,
    progress: Callable[[int], None] | None = None,
    zone: tzinfo = UTC,
    day_start_hour: int = ROLLOVER_HOUR,
) -> ExportSummary:
    """Write `notes` to the Anki package `path` (replaced atomically); `progress(n)` is told
    every `PROGRESS_EVERY` notes and at the end. Review days are the study days of `zone` (a
    day starting at `day_start_hour`). Same input and `now` -> same bytes."""
    _check_keys(notes)
    plan = dataclasses.replace(ExportPlan.of(notes), zone=zone, day_start_hour=day_start_hour)
    return write_apkg_stream(
        plan,
        notes,
        path,
        with_scheduling=with_scheduling,
        now=now,
        progress=progress,
    )


def write_apkg_stream(
    plan: ExportPlan,
    notes: Iterable[ExportNote],
    path: Path,
    *,
    with_scheduling: bool,
    now: datetime,
    progress: Callable[[int], None] | None = None,
    answers: Iterable[Sequence[AnswerRow]] | None = None,
) -> ExportSummary:
    """`write_apkg` for notes read while writing (an export of a large history holds one
    slice of it at a time): `notes` must be what `plan` announced, in that order, else
    ValueError and the target is left as it was. With scheduling, the cards' answers come with
    them, or as `answers`: batches of every answer of the cards (named by `ExportCard.card_id`)
    by time then log id, iterated once after the last note. Same notes (and answers) and `now`
    -> the same bytes as `write_apkg` with the answers on their cards."""
    if now.tzinfo is None:
        raise ValueError("now must be timezone-aware")
    path = Path(path)
    remove_stale_temps(path.parent)
    with _temp_beside(path, ".anki2.tmp") as db_path, _temp_beside(path, ".apkg.tmp") as tmp:
        written, cards = _write_collection(
            plan, notes, db_path, with_scheduling, now, progress, answers
        )
        _zip_collection(db_path, tmp)
        os.chmod(tmp, new_file_mode())  # mkstemp made it 0o600: the umask decides
        fsync_path(tmp)
        size = tmp.stat().st_size
        os.replace(tmp, path)
        fsync_path(path.parent)
    return ExportSummary(notes=written, cards=cards, bytes=size, path=path)


def remove_stale_temps(folder: Path) -> list[Path]:
    """Delete the temporary files of exports into `folder` whose process is gone (killed
    mid-export); returns what was removed. Another live export's files are left alone."""
    removed: list[Path] = []
    try:
        entries = list(folder.iterdir())
    except OSError:
        return removed
    for entry in entries:
        match = _TEMP_NAME.match(entry.name)
        if match is None or _alive(int(match["pid"])):
            continue
        try:
            entry.unlink()
        except FileNotFoundError:
            continue  # another export removed it first
        removed.append(entry)
    return removed


def _alive(pid: int) -> bool:
    if pid == os.getpid():
        return True  # this process's own export (another thread) is still running
    return process_alive(pid)


def _check_keys(notes: Sequence[ExportNote]) -> None:
    seen: set[str] = set()
    for note in notes:
        if note.key in seen:
            raise ValueError(f"note key {note.key!r} appears twice; keys must be unique")
        seen.add(note.key)


@contextmanager
def _temp_beside(path: Path, suffix: str) -> Iterator[Path]:
    """A temporary file in `path`'s folder, named after this process (`_TEMP_NAME`), removed
    on exit (with any SQLite journal)."""
    prefix = f".{path.name}.{os.getpid()}."
    fd, name = tempfile.mkstemp(dir=path.parent, prefix=prefix, suffix=suffix)
    os.close(fd)
    tmp = Path(name)
    try:
        yield tmp
    finally:
        for leftover in (tmp, Path(f"{name}-journal")):
            leftover.unlink(missing_ok=True)


_NOTE_INSERT = "INSERT INTO notes VALUES(?,?,?,?,?,?,?,?,?,?,?)"
_CARD_INSERT = "INSERT INTO cards VALUES(?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)"


def _write_note(
    cursor: sqlite3.Cursor, note: ExportNote, position: int, deck_id: int, id_gen: Iterator[int]
) -> list[tuple[ExportCard, int]]:
    """The note and its cards as new cards, the rows genanki's `Note.write_to_db` writes (in
    its order, so the file is the same), with the note's own mod time where genanki puts the
    export's; its cards with the row id each was given."""
    model, fields = _model_and_fields(note)
    ords = [_anki_ord(note, card) for card in note.cards]
    if len(set(ords)) < len(ords):
        raise ValueError(f"note {note.key!r}: two cards with the same ord")
    mod = int(note.modified_at.timestamp())
    tags = " " + " ".join(note_tags(note)) + " "
    guid = note.guid or guid_for(note.key)
    sort_field = fields[model.sort_field_index]
    note_id = next(id_gen)
    flds = "\x1f".join(fields)
    cursor.execute(
        _NOTE_INSERT, (note_id, guid, model.model_id, mod, -1, tags, flds, sort_field, 0, 0, "")
    )
    written = []
    for card, ord_ in zip(note.cards, ords, strict=True):
        card_id = next(id_gen)
        new = (card_id, note_id, deck_id, ord_, mod, -1, 0, 0, position, 0, 0, 0, 0, 0, 0, 0, 0, "")
        cursor.execute(_CARD_INSERT, new)
        written.append((card, card_id))
    return written


def _model_and_fields(note: ExportNote) -> tuple[genanki.Model, list[str]]:
    def field(name: str, required: bool = True) -> str:
        if required and name not in note.fields:
            raise ValueError(f"note {note.key!r}: {note.kind.value} note without field {name!r}")
        return clean_field(note.fields.get(name, ""), is_html=note.html)

    if note.kind is NoteKind.CLOZE:
        return CLOZE_MODEL, [field("text"), field("extra", False)]
    return BASIC_MODEL, [field("front"), field("back"), field("extra", False)]


def _anki_ord(note: ExportNote, card: ExportCard) -> int:
    if note.kind is NoteKind.CLOZE:
        if card.ord < 1:
            raise ValueError(f"note {note.key!r}: cloze card ord {card.ord} (must be 1 or more)")
        return card.ord - 1
    if card.ord != 0:
        raise ValueError(f"note {note.key!r}: basic card ord {card.ord} (must be 0)")
    return 0


def _write_collection(
    plan: ExportPlan,
    notes: Iterable[ExportNote],
    db_path: Path,
    with_scheduling: bool,
    now: datetime,
    progress: Callable[[int], None] | None,
    answers: Iterable[Sequence[AnswerRow]] | None,
) -> tuple[int, int]:
    """Build the package collection in `db_path`; the numbers of notes and cards written."""
    conn = sqlite3.connect(db_path)
    cursor = conn.cursor()  # closed with the connection, even when a progress call raises
    try:
        conn.execute("PRAGMA journal_mode=OFF")
        conn.execute("PRAGMA synchronous=OFF")
        conn.execute(f"PRAGMA cache_size=-{_CACHE_KIB}")
        id_gen = itertools.count(int(now.timestamp() * 1000))
        _write_decks_and_models(plan, cursor, id_gen, now if with_scheduling else None)
        days = StudyDays(plan.zone, plan.day_start_hour)
        schedules = _ScheduleWriter(cursor, days, now)
        revlog = RevlogWriter(cursor, plan.revlog_ids, days)
        if with_scheduling:
            revlog.begin()
        cards = 0
        keys: set[str] = set()
        planned_decks = set(plan.decks)
        deck_ids = {name: deck_id_for(name) for name in plan.decks}
        position = 0
        for position, note in enumerate(notes, start=1):
            _check_planned(plan, planned_decks, note, position, keys)
            written = _write_note(cursor, note, position, deck_ids[note.deck_name], id_gen)
            cards += len(written)
            if with_scheduling:
                for card, row_id in written:
                    schedules.add(card, row_id, position)
                    revlog.add_card(card, row_id)
            if position % PROGRESS_EVERY == 0:
                schedules.flush()
                if progress is not None:
                    progress(position)
        schedules.flush()
        if with_scheduling:
            revlog.finish(answers)
        conn.commit()
    finally:
        # A cursor left open (held by an exception's traceback) keeps the file open after
        # close(): the temporary file would then be deleted under a live descriptor.
        cursor.close()
        conn.close()
    if progress is not None and (not position or position % PROGRESS_EVERY):
        progress(position)
    return position, cards


def _check_planned(
    plan: ExportPlan, decks: set[str], note: ExportNote, position: int, keys: set[str]
) -> None:
    if note.key in keys:
        raise ValueError(f"note key {note.key!r} appears twice; keys must be unique")
    keys.add(note.key)
    if note.kind not in plan.kinds or note.deck_name not in decks:
        raise ValueError(f"note {note.key!r}: its deck or kind is not in the plan")


def _write_decks_and_models(
    plan: ExportPlan, cursor: sqlite3.Cursor, id_gen: Iterator[int], now: datetime | None
) -> None:
    decks = [genanki.Deck(deck_id_for(name), name) for name in plan.decks]
    for deck in decks:
        if NoteKind.BASIC in plan.kinds:
            deck.add_model(BASIC_MODEL)
        if NoteKind.CLOZE in plan.kinds:
            deck.add_model(CLOZE_MODEL)
    # Schema, collection row, decks and note types; the timestamp only sets the models' mod.
    genanki.Package(decks).write_to_db(cursor, MODEL_MOD, id_gen)
    (conf_text,) = cursor.execute("SELECT conf FROM col").fetchone()
    conf = json.loads(conf_text)
    conf.update(schedVer=2, creationOffset=0, rollover=ROLLOVER_HOUR)
    # With scheduling, the profile's offset at `now` (minutes west, as Anki keeps it; Anki
    # itself counts days in the machine's local time): a package added back into flashcore
    # reads its days in the zone they were written in (without it, UTC's: every review card a
    # day late from UTC+12 to +14).
    offset = None if now is None else now.astimezone(plan.zone).utcoffset()
    west = -int(offset.total_seconds()) // 60 if offset else 0
    if west:
        conf["localOffset"] = west
    cursor.execute("UPDATE col SET crt = ?, conf = ?", (COLLECTION_CRT, json.dumps(conf)))


def _zip_collection(db_path: Path, target: Path) -> None:
    """The package zip: fixed timestamps and attributes, deflate level 1, streamed."""
    with zipfile.ZipFile(target, "w") as archive:
        info = _entry("collection.anki2", db_path.stat().st_size)
        with db_path.open("rb") as src, archive.open(info, "w") as dst:
            shutil.copyfileobj(src, dst, _COPY_CHUNK)
        archive.writestr(_entry("media", 2), b"{}")


def _entry(name: str, size: int) -> zipfile.ZipInfo:
    info = zipfile.ZipInfo(name, date_time=_ZIP_DATE)
    info.compress_type = zipfile.ZIP_DEFLATED
    # ZipFile.open() takes the level from the entry: `compress_level` since Python 3.13.
    setattr(info, "compress_level" if hasattr(info, "compress_level") else "_compresslevel", 1)
    info.create_system = 3
    info.external_attr = 0o644 << 16
    info.file_size = size
    return info
