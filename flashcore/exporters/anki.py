"""Anki `.apkg` export: flashcore notes -> one package file, built with genanki.

The writer is handed plain values (`ExportNote`, `ExportCard`, `ExportReview`) and never sees
the database. What Anki sees, and why:

Identity (frozen: Anki matches on these, so changing one duplicates notes in every student's
collection):
- note GUID = `genanki.guid_for(note.key)`; re-importing an edited note updates it in place. A
  note that came from an Anki package keeps its own GUID (`ExportNote.guid`).
- note types: `BASIC_MODEL_ID` ("flashcore Basic": Front, Back, Extra) and `CLOZE_MODEL_ID`
  ("flashcore Cloze": Text, Extra). Their fields, templates and ids never change; their `mod`
  is the fixed `MODEL_MOD`, so a student's own styling edit in Anki is newer and survives.
- deck id = `deck_id_for(name)`: the first 8 bytes of SHA-256 of `flashcore-deck:<name>`,
  taken modulo 2**30 and added to 2**30 (genanki's recommended id range). Anki matches decks
  by name; `Step 1::Immunology` keeps its hierarchy.
- each flashcore card becomes one Anki card: ord 0 for basic notes, ord N-1 for cloze
  deletion cN, exactly the cards flashcore has (not re-derived from the text).

Note mod time: every note's `mod` is its `modified_at`, not the export time. Anki updates a
note only when the incoming copy is newer, so re-exporting unchanged notes leaves them (and
any edit the student made in Anki) alone, and an edit made in flashcore replaces the note.

Tags (never with spaces; whitespace becomes `_`, `"` and control characters are dropped):
- the note's tags as given;
- each topic as a hierarchical tag under one `flashcore::` branch, so it never mixes with the
  student's own tag tree (AnKing's included): `Immunology::Hypersensitivity::Type I` ->
  `flashcore::Immunology::Hypersensitivity::Type_I`;
- each qid in AnKing's form (core.anking): `uworld:118154` ->
  `#AK_Step1_v12::#UWorld::Step::118154`, `uworld-comlex:7` -> `…::#UWorld::COMLEX::7`,
  `amboss:x1` -> `…::#AMBOSS::x1`, `nbme:form25-17` -> `…::#NBME::Form25::17`; another source
  is kept as written (`kaplan:7` -> `#kaplan::7`); a qid without a source is a UWorld id.

Fields: with `html=False` the text is escaped (`<`, `>`, `&` appear literally in Anki) and
newlines become `<br>`. Always, also for HTML, control characters other than tab and newline
are removed (a single `\\x1f`, Anki's field separator, made Anki reject a whole package) and
lone surrogates become U+FFFD.

Scheduling (`with_scheduling=True`): genanki writes new cards only, so each card's row in the
package's `collection.anki2` is updated afterwards, in the form Anki's own exports use:
- type/queue: new 0/0, learning 1/1, review 2/2, relearning 3/1; suspended -> queue -1;
  flagged -> flag 1 (red).
- due: new -> the note's position in the export; learning and relearning -> epoch seconds;
  review -> a day number counted from the package collection's creation day. The package
  declares its day as UTC with a 04:00 rollover (flashcore's default study day): crt is
  `COLLECTION_CRT` (2020-01-01 04:00 UTC), `creationOffset` 0, `rollover` 4. On import Anki
  shifts review days by (its own creation date - the package's), so a card due on study day D
  is due on D in the student's collection (a student whose zone is far from UTC may see a
  review on the neighbouring day).
- ivl: review -> days from the last review's study day to the due day; relearning -> the
  FSRS interval of its stability at its desired retention; learning and new -> 0.
- reps, lapses, left (remaining learning steps of Anki's default steps, 1m 10m / 10m),
  factor 2500 for answered review cards, and the FSRS memory state in the card's `data`:
  `{"pos": position, "s": stability, "d": difficulty, "dr": desired retention,
  "decay": 0.1542, "lrt": last review epoch seconds}` (Anki reads it as `card.memory_state`).
- revlog rows, one per review: id = the answer's own revlog id when it has one (imported from
  Anki, or brought back from it), else the review's epoch ms (moved on by 1 ms when two reviews
  share a millisecond or the millisecond is another answer's revlog id), ease = rating,
  ivl/lastIvl in days (positive) or seconds (negative), factor
  = Anki's FSRS form of difficulty ((d - 1) / 9 + 0.1) * 1000, time = duration capped at 60 s,
  type 0 learn / 1 review / 2 relearn (from the state before the review).
Anki applies scheduling only to cards it does not have yet: re-importing never changes the
schedule or history of a card the student already studies in Anki. Without scheduling every
card is new (no suspension, flags, memory state or history).

Files: the collection is built in a temporary SQLite file (no journal) and zipped into a
temporary file, both beside the target, then the zip is fsynced, moved over the target with
`os.replace` and the folder fsynced: at every moment the target is the old package or the new
one, complete. Both temporary files are removed on success and on error (genanki's own
`write_to_file` writes over the target and leaks a temporary database per export). A `kill -9`
cannot run that cleanup, so the temporary names carry the writer's pid
(`.<target>.<pid>.<random>.anki2.tmp` / `.apkg.tmp`) and every export first deletes the ones
in its folder whose process is gone (`remove_stale_temps`; `flashcore doctor` does the same
beside the database). The zip has fixed entry timestamps and deflate level 1, so the same
notes and `now` give byte-identical packages.
"""

from __future__ import annotations

import bisect
import hashlib
import html
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
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from functools import lru_cache
from pathlib import Path
from typing import Any

import genanki

from flashcore.core import anking
from flashcore.core.fsrs_adapter import DEFAULT_FSRS_PARAMETERS
from flashcore.core.model import CardState, NoteKind, ReviewRecord
from flashcore.core.settings import Settings
from flashcore.files import fsync_path, new_file_mode, process_alive

BASIC_MODEL_ID = 1_287_866_490
CLOZE_MODEL_ID = 1_098_292_150
MODEL_MOD = 1_767_225_600  # 2026-01-01 00:00 UTC, when the note types were frozen
COLLECTION_CRT = 1_577_851_200  # 2020-01-01 04:00 UTC
ROLLOVER_HOUR = 4
FSRS_DECAY = DEFAULT_FSRS_PARAMETERS[20]  # 0.1542, FSRS-6's default decay
MAX_ANSWER_MS = 60_000  # Anki's default "maximum answer seconds"
PROGRESS_EVERY = 1000

_CRT_DAY = (COLLECTION_CRT - ROLLOVER_HOUR * 3600) // 86_400  # 2020-01-01 as a study day
_ZIP_DATE = (1980, 1, 1, 0, 0, 0)
_COPY_CHUNK = 1 << 20
_CACHE_KIB = 32 << 10  # the package collection's page cache while it is written (32 MB)
_ID_FILTER_LOG2 = 26  # 2**26 bits: see `_RevlogIds`
_ID_FILTER_BITS = 1 << _ID_FILTER_LOG2
_GOLDEN = 0x9E3779B97F4A7C15
_U64 = (1 << 64) - 1
_ROLLOVER_S = ROLLOVER_HOUR * 3600
_CONTROL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")
_FIELD_TROUBLE = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\ud800-\udfff]")
_SURROGATE = re.compile("[\ud800-\udfff]")
_TAG_DROP = re.compile('["\x00-\x1f\x7f-\x9f\ud800-\udfff]')
_WHITESPACE = re.compile(r"\s+")
# `.<target>.<pid>.<mkstemp's 8 characters>.anki2.tmp` / `.apkg.tmp` (+ a journal, just in case)
_TEMP_NAME = re.compile(r"^\..+\.(?P<pid>[0-9]+)\.[a-z0-9_]{8}\.(?:anki2|apkg)\.tmp(?:-journal)?$")
_TAG_WORK = re.compile(r'[\s"\x00-\x1f\x7f-\x9f\ud800-\udfff]|\A::|::\Z|::::|\A\Z')
_BASE91 = (
    "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789!#$%&()*+,-./:;<=>?@[]^_`{|}~"
)
_QBANKS = {"uworld": "UWorld", "amboss": "AMBOSS", "nbme": "NBME"}
_LEARN_STEPS = len(Settings().learning_steps)
_RELEARN_STEPS = len(Settings().relearning_steps)
_TYPE_QUEUE = {
    CardState.NEW: (0, 0),
    CardState.LEARNING: (1, 1),
    CardState.REVIEW: (2, 2),
    CardState.RELEARNING: (3, 1),
}
_REVLOG_TYPE = {
    CardState.NEW: 0,
    CardState.LEARNING: 0,
    CardState.REVIEW: 1,
    CardState.RELEARNING: 2,
}

_CSS = """.card {
 font-family: arial;
 font-size: 20px;
 text-align: center;
 color: black;
 background-color: white;
}
.extra { font-size: 16px; color: #555; }
.cloze { font-weight: bold; color: blue; }
.nightMode .cloze { color: lightblue; }
"""

BASIC_MODEL = genanki.Model(
    BASIC_MODEL_ID,
    "flashcore Basic",
    fields=[{"name": "Front"}, {"name": "Back"}, {"name": "Extra"}],
    templates=[
        {
            "name": "Card 1",
            "qfmt": "{{Front}}",
            "afmt": "{{FrontSide}}\n\n<hr id=answer>\n\n{{Back}}"
            '{{#Extra}}<div class="extra">{{Extra}}</div>{{/Extra}}',
        }
    ],
    css=_CSS,
)
CLOZE_MODEL = genanki.Model(
    CLOZE_MODEL_ID,
    "flashcore Cloze",
    fields=[{"name": "Text"}, {"name": "Extra"}],
    templates=[
        {
            "name": "Cloze",
            "qfmt": "{{cloze:Text}}",
            "afmt": '{{cloze:Text}}{{#Extra}}<div class="extra">{{Extra}}</div>{{/Extra}}',
        }
    ],
    css=_CSS,
    model_type=genanki.Model.CLOZE,
)


# One flashcore review-log row (the core's value, under the name this module has always used).
ExportReview = ReviewRecord


@dataclass(frozen=True, slots=True)
class ExportCard:
    """One card: `ord` is 0 for a basic note and N for cloze deletion cN."""

    ord: int
    state: CardState
    due: datetime
    step: int | None
    stability: float | None
    difficulty: float | None
    last_review: datetime | None
    reps: int
    lapses: int
    desired_retention: float | None
    suspended: bool
    flagged: bool
    reviews: tuple[ExportReview, ...] = ()

    @classmethod
    def unstudied(cls, ord_: int, due: datetime, *, suspended: bool = False) -> ExportCard:
        """A card never answered: new, no memory state, no history."""
        return cls(ord_, CardState.NEW, due, None, None, None, None, 0, 0, None, suspended, False)


@dataclass(frozen=True, slots=True)
class ExportNote:
    """One note: basic (fields front, back, extra?) or cloze (fields text, extra?)."""

    key: str
    kind: NoteKind
    fields: dict[str, str]
    deck_name: str
    html: bool
    tags: tuple[str, ...]
    topics: tuple[str, ...]
    qids: tuple[str, ...]
    modified_at: datetime
    cards: tuple[ExportCard, ...]
    guid: str | None = None  # the note's own Anki GUID (from a package); else from its key


@dataclass(frozen=True, slots=True)
class ExportPlan:
    """What a package holds, known before its notes are read: the number of notes expected
    (for progress: the notes written are counted as they come), the deck names in the order of
    their first note, and the note kinds."""

    notes: int
    decks: tuple[str, ...]
    kinds: frozenset[NoteKind]
    # The revlog ids the answers already have (`ExportReview.revlog_id`), ascending: no other
    # answer is given one of them.
    revlog_ids: Sequence[int] = ()

    @classmethod
    def of(cls, notes: Sequence[ExportNote]) -> ExportPlan:
        decks = tuple(dict.fromkeys(note.deck_name for note in notes))
        own = sorted(
            {
                review.revlog_id
                for note in notes
                for card in note.cards
                for review in card.reviews
                if review.revlog_id is not None
            }
        )
        return cls(len(notes), decks, frozenset(note.kind for note in notes), own)


@dataclass(frozen=True, slots=True)
class ExportSummary:
    notes: int
    cards: int
    bytes: int
    path: Path


@lru_cache(maxsize=1024)
def deck_id_for(name: str) -> int:
    """The Anki deck id of a deck name; stable forever (see the module docstring)."""
    digest = hashlib.sha256(f"flashcore-deck:{name}".encode()).digest()
    return (1 << 30) + int.from_bytes(digest[:8], "big") % (1 << 30)


def guid_for(key: str) -> str:
    """The Anki note GUID of a flashcore note key; stable forever. Equal to
    `genanki.guid_for(key)` (SHA-256's first 8 bytes in Anki's base 91), computed faster."""
    value = int.from_bytes(hashlib.sha256(key.encode()).digest()[:8], "big")
    digits: list[str] = []
    while value:
        value, digit = divmod(value, 91)
        digits.append(_BASE91[digit])
    return "".join(reversed(digits))


def clean_field(text: str, *, is_html: bool) -> str:
    """Field text as Anki should store it (see the module docstring)."""
    if _FIELD_TROUBLE.search(text):
        text = text.replace("\r\n", "\n").replace("\r", "\n")
        text = _SURROGATE.sub("\ufffd", _CONTROL.sub("", text))
    if not is_html:
        text = html.escape(text, quote=False).replace("\n", "<br>")
    return text


@lru_cache(maxsize=8192)
def clean_tag(tag: str) -> str:
    """A tag Anki accepts: whitespace inside a part becomes `_`; quotes, control characters
    and empty `::` parts are dropped."""
    if not _TAG_WORK.search(tag):
        return tag
    tag = _TAG_DROP.sub("", _WHITESPACE.sub(" ", tag))
    parts = (part.strip() for part in tag.split("::"))
    return "::".join(part.replace(" ", "_") for part in parts if part)


def qid_tag(qid: str) -> str:
    """A question id as AnKing tags it (`uworld:118154` ->
    `#AK_Step1_v12::#UWorld::Step::118154`; core.anking), so Anki-side searches and add-ons
    find it; a bank AnKing does not tag as `#<bank>::<id>`."""
    ankings = anking.qid_tag(qid)
    if ankings is not None:
        return clean_tag(ankings)
    source, _, number = qid.partition(":")
    if not number:
        source, number = "uworld", source
    source = source.strip()
    return clean_tag(f"#{_QBANKS.get(source.lower(), source)}::{number}")


TOPIC_TAG_ROOT = "flashcore"  # topics are tagged under this branch of Anki's tag tree


def topic_tag(topic: str) -> str:
    """`Immunology::Hypersensitivity::Type I` -> `flashcore::Immunology::Hypersensitivity::Type_I`."""
    return clean_tag(f"{TOPIC_TAG_ROOT}::{topic}")


def note_tags(note: ExportNote) -> list[str]:
    """The note's Anki tags: its tags, its topics (under `flashcore::`), its qids (where
    Anki tools look for them); unique, in that order."""
    out: list[str] = []
    seen: set[str] = set()
    candidates = itertools.chain(
        (clean_tag(t) for t in note.tags),
        (topic_tag(t) for t in note.topics),
        (qid_tag(q) for q in note.qids),
    )
    for tag in candidates:
        if tag and tag.lower() not in seen:
            seen.add(tag.lower())
            out.append(tag)
    return out


def study_date(instant: datetime) -> date:
    """The study day (UTC, rollover at 04:00) containing `instant`."""
    return (instant.astimezone(UTC) - timedelta(hours=ROLLOVER_HOUR)).date()


def review_day(instant: datetime) -> int:
    """A review card's `due`: days from the package collection's creation day."""
    return _day_number(instant) - _CRT_DAY


def fsrs_interval(stability: float, retention: float) -> int:
    """Whole days until retrievability falls to `retention` (FSRS-6 curve, default decay)."""
    factor: float = 0.9 ** (-1 / FSRS_DECAY) - 1
    days: float = stability / factor * (retention ** (-1 / FSRS_DECAY) - 1)
    return max(1, round(days))


def write_apkg(
    notes: Sequence[ExportNote],
    path: Path,
    *,
    with_scheduling: bool,
    now: datetime,
    progress: Callable[[int], None] | None = None,
) -> ExportSummary:
    """Write `notes` to the Anki package `path` (replaced atomically); `progress(n)` is told
    every `PROGRESS_EVERY` notes and at the end. Same input and `now` -> same bytes."""
    _check_keys(notes)
    return write_apkg_stream(
        ExportPlan.of(notes),
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
) -> ExportSummary:
    """`write_apkg` for notes read while writing (an export of a large history holds one
    slice of it at a time): `notes` must be what `plan` announced, in that order, else
    ValueError and the target is left as it was. Same notes and `now` -> the same bytes as
    `write_apkg`."""
    if now.tzinfo is None:
        raise ValueError("now must be timezone-aware")
    path = Path(path)
    remove_stale_temps(path.parent)
    with _temp_beside(path, ".anki2.tmp") as db_path, _temp_beside(path, ".apkg.tmp") as tmp:
        written, cards = _write_collection(plan, notes, db_path, with_scheduling, now, progress)
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


class _Card(genanki.Card):  # type: ignore[misc]
    """A genanki card that remembers the row id it was written with."""

    def __init__(self, anki_ord: int, source: ExportCard) -> None:
        super().__init__(anki_ord)
        self.source = source
        self.row_id = 0

    def write_to_db(self, cursor: sqlite3.Cursor, *args: Any) -> None:
        super().write_to_db(cursor, *args)
        self.row_id = int(cursor.lastrowid or 0)


class _Note(genanki.Note):  # type: ignore[misc]
    """A genanki note with flashcore's cards and mod time, its fields already sanitized."""

    def __init__(self, note: ExportNote, position: int) -> None:
        model, fields = _model_and_fields(note)
        super().__init__(
            model=model,
            fields=fields,
            tags=note_tags(note),
            guid=note.guid or guid_for(note.key),
            due=position,
        )
        self.mod = int(note.modified_at.timestamp())
        self.flashcore_cards = [_Card(_anki_ord(note, c), c) for c in note.cards]
        if len({card.ord for card in self.flashcore_cards}) < len(self.flashcore_cards):
            raise ValueError(f"note {note.key!r}: two cards with the same ord")

    @property
    def cards(self) -> list[_Card]:
        return self.flashcore_cards

    def _check_invalid_html_tags_in_fields(self) -> None:
        """Fields are cleaned by `clean_field`; HTML given as HTML is the author's."""

    def write_to_db(self, cursor: sqlite3.Cursor, timestamp: float, *args: Any) -> None:
        # genanki stamps note and card mod with the export time; use the note's own.
        super().write_to_db(cursor, self.mod, *args)


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
) -> tuple[int, int]:
    """Build the package collection in `db_path`; the numbers of notes and cards written."""
    conn = sqlite3.connect(db_path)
    cursor = conn.cursor()  # closed with the connection, even when a progress call raises
    try:
        conn.execute("PRAGMA journal_mode=OFF")
        conn.execute("PRAGMA synchronous=OFF")
        # The revlog is written card by card, so its rows (keyed by time) land all over its
        # table: a cache that holds the table keeps that in memory. It changes no byte.
        conn.execute(f"PRAGMA cache_size=-{_CACHE_KIB}")
        id_gen = itertools.count(int(now.timestamp() * 1000))
        _write_decks_and_models(plan, cursor, id_gen)
        schedules = _ScheduleWriter(cursor, plan.revlog_ids if with_scheduling else ())
        cards = 0
        keys: set[str] = set()
        planned_decks = set(plan.decks)
        position = 0
        for position, note in enumerate(notes, start=1):
            _check_planned(plan, planned_decks, note, position, keys)
            anki_note = _Note(note, position)
            anki_note.write_to_db(cursor, 0.0, deck_id_for(note.deck_name), id_gen)
            cards += len(anki_note.cards)
            if with_scheduling:
                for card in anki_note.cards:
                    schedules.add(card, position)
            if position % PROGRESS_EVERY == 0:
                schedules.flush()
                if progress is not None:
                    progress(position)
        schedules.flush()
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
    plan: ExportPlan, cursor: sqlite3.Cursor, id_gen: Iterator[int]
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
    cursor.execute("UPDATE col SET crt = ?, conf = ?", (COLLECTION_CRT, json.dumps(conf)))


class _ScheduleWriter:
    """Turns genanki's new cards into flashcore's states and adds their history, in batches."""

    def __init__(self, cursor: sqlite3.Cursor, reserved: Sequence[int]) -> None:
        self.cursor = cursor
        self.card_rows: list[tuple[int | str, ...]] = []
        self.revlog_rows: list[tuple[int, ...]] = []
        self.revlog_ids = _RevlogIds(cursor, reserved)

    def add(self, card: _Card, position: int) -> None:
        src = card.source
        ctype, queue = _TYPE_QUEUE[src.state]
        if src.suspended:
            queue = -1
        due, ivl, factor, left = position, 0, 0, 0
        if src.state is CardState.REVIEW:
            due, ivl, factor = review_day(src.due), _review_interval(src), 2500
        elif src.state is CardState.LEARNING:
            due, left = int(src.due.timestamp()), max(1, _LEARN_STEPS - (src.step or 0))
        elif src.state is CardState.RELEARNING:
            due, factor = int(src.due.timestamp()), 2500
            left = max(1, _RELEARN_STEPS - (src.step or 0))
            if src.stability is not None:
                ivl = fsrs_interval(src.stability, src.desired_retention or 0.9)
        flags = 1 if src.flagged else 0
        data = _card_data(src, position)
        row = (ctype, queue, due, ivl, factor, src.reps, src.lapses, left, flags, data)
        self.card_rows.append((*row, card.row_id))
        _add_revlog_rows(self.revlog_rows, src.reviews, card.row_id, self.revlog_ids)

    def flush(self) -> None:
        self.cursor.executemany(
            "UPDATE cards SET type = ?, queue = ?, due = ?, ivl = ?, factor = ?, reps = ?,"
            " lapses = ?, left = ?, flags = ?, data = ? WHERE id = ?",
            self.card_rows,
        )
        self.cursor.executemany(
            "INSERT INTO revlog VALUES (?, ?, -1, ?, ?, ?, ?, ?, ?)", self.revlog_rows
        )
        self.card_rows.clear()
        self.revlog_rows.clear()
        self.revlog_ids.flushed()


def _day_number(instant: datetime) -> int:
    """Study days (UTC, rollover at 04:00) since 1970-01-01; fast `study_date`."""
    return (int(instant.timestamp()) - ROLLOVER_HOUR * 3600) // 86_400


def _review_interval(card: ExportCard) -> int:
    if card.last_review is not None:
        return max(1, _day_number(card.due) - _day_number(card.last_review))
    if card.stability is not None:
        return fsrs_interval(card.stability, card.desired_retention or 0.9)
    return 1


def _card_data(card: ExportCard, position: int) -> str:
    """Anki's card `data` JSON (compact, as Anki writes it)."""
    if card.state is CardState.NEW:
        return ""
    parts = [f'"pos":{position}']
    s, d, dr = card.stability, card.difficulty, card.desired_retention
    if s is not None and d is not None:
        parts.append(f'"s":{round(s, 4)!r},"d":{round(d, 4)!r}')
    if dr is not None:
        parts.append(f'"dr":{round(dr, 4)!r}')
    if s is not None and d is not None:
        parts.append(f'"decay":{FSRS_DECAY!r}')
    if card.last_review is not None:
        parts.append(f'"lrt":{int(card.last_review.timestamp())}')
    return "{" + ",".join(parts) + "}"


class _RevlogIds:
    """Unique revlog ids: the wanted id, or the smallest free one after it.

    The ids taken are the answers' own revlog ids (`reserved`, ascending), those already in
    the package's revlog and those waiting for the next flush. One bit per hash bucket
    (`_ID_FILTER_BITS`, 8 MB, where a dict of every id took ~100 MB at 1,000,000 reviews)
    says "free" for almost every id; only an id whose bit is set is looked up (the waiting
    set, the reserved ids, then the revlog's primary key). Ids found taken point past the
    run of taken ids they met (path compression), so thousands of reviews in one
    millisecond stay cheap."""

    def __init__(self, cursor: sqlite3.Cursor, reserved: Sequence[int] = ()) -> None:
        self.cursor = cursor
        self.bits = bytearray(_ID_FILTER_BITS // 8)
        self.waiting: set[int] = set()  # taken since the last flush
        self.next_after: dict[int, int] = {}  # for ids found taken: the first id worth trying
        self.reserved = reserved
        for taken in reserved:
            self._mark(taken)

    def take(self, wanted: int) -> int:
        bucket = _bucket(wanted)
        bit = 1 << (bucket & 7)
        if not self.bits[bucket >> 3] & bit:  # free: the common case, in line
            self.bits[bucket >> 3] |= bit
            self.waiting.add(wanted)
            return wanted
        candidate = wanted
        visited = []
        while self._taken(candidate):
            visited.append(candidate)
            candidate = self.next_after.get(candidate, candidate + 1)
        for taken in visited:
            self.next_after[taken] = candidate + 1
        self._mark(candidate)
        self.waiting.add(candidate)
        return candidate

    def flushed(self) -> None:
        """The waiting ids are now in the revlog."""
        self.waiting.clear()

    def _mark(self, taken: int) -> None:
        bucket = _bucket(taken)
        self.bits[bucket >> 3] |= 1 << (bucket & 7)

    def _taken(self, candidate: int) -> bool:
        bucket = _bucket(candidate)
        if not self.bits[bucket >> 3] & (1 << (bucket & 7)):
            return False
        if candidate in self.waiting or candidate in self.next_after:
            return True
        at = bisect.bisect_left(self.reserved, candidate)
        if at < len(self.reserved) and self.reserved[at] == candidate:
            return True
        found = self.cursor.execute("SELECT 1 FROM revlog WHERE id = ?", (candidate,))
        return found.fetchone() is not None


def _bucket(revlog_id: int) -> int:
    """A revlog id's bit in `_RevlogIds.bits`: its low bits mixed (Fibonacci hashing), so ids
    a whole number of days apart (histories that repeat a time of day) spread out."""
    return ((revlog_id * _GOLDEN) & _U64) >> (64 - _ID_FILTER_LOG2)


def _add_revlog_rows(
    out: list[tuple[int, ...]],
    reviews: Sequence[ExportReview],
    card_id: int,
    revlog_ids: _RevlogIds,
) -> None:
    """Append a card's revlog rows to `out` (1,000,000 reviews pass here: kept in line)."""
    last_ivl = 0
    review_state = CardState.REVIEW
    take = revlog_ids.take
    for review in reviews:
        rating = review.rating
        if not 1 <= rating <= 4:
            raise ValueError(f"review rating {rating} out of range 1-4")
        reviewed = review.reviewed_at.timestamp()
        rid = review.revlog_id or take(int(reviewed * 1000))
        due = review.due_after.timestamp()
        if review.state_after is review_state:
            # whole study days (UTC, rollover at 04:00) from the review to its due, at least 1
            ivl = (int(due) - _ROLLOVER_S) // 86_400 - (int(reviewed) - _ROLLOVER_S) // 86_400
            if ivl < 1:
                ivl = 1
        else:
            ivl = int(due - reviewed)  # seconds, negative
            ivl = -ivl if ivl >= 1 else -1
        # Anki's FSRS form of difficulty; 0 where the difficulty is unknown (an answer imported
        # from an SM-2 revlog).
        difficulty = review.difficulty_after
        factor = round(((difficulty - 1) / 9 + 0.1) * 1000) if difficulty >= 1 else 0
        taken = review.duration_ms or 0
        if taken < 0:
            taken = 0
        elif taken > MAX_ANSWER_MS:
            taken = MAX_ANSWER_MS
        out.append((rid, card_id, rating, ivl, last_ivl, factor, taken,
                    _REVLOG_TYPE[review.state_before]))  # fmt: skip
        last_ivl = ivl


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
