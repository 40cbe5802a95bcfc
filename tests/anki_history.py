"""Anki collections with real scheduling and review history, made by the real `anki` package (a
test dependency only), and a stand-in for the notes import until it lands.

Anki answers cards only at the wall clock. To give a collection days of history, it is studied
now and then moved back in time as a whole (`shift_back`): its creation time, every revlog id,
every card's last-review time (`data.lrt`) and every intraday (re)learning due move back by the
same whole days, so the collection is exactly one studied that many days earlier (review dues
are day numbers counted from the creation day and move with it). Answer, move back a few days,
answer what is due, ... gives a history of many days, all made by Anki's own scheduler.
"""

from __future__ import annotations

import json
import random
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from anki.collection import Collection, ExportAnkiPackageOptions

DAY = 86_400


@dataclass
class Student:
    """An Anki collection and what was made in it."""

    path: Path
    col: Collection
    note_ids: list[int] = field(default_factory=list)
    shifted_days: int = 0

    def reopen(self) -> None:
        self.col.close()
        self.col = Collection(str(self.path))


def new_student(path: Path, *, notes: int = 12, cloze: int = 4, retention: float = 0.88,
                fsrs: bool = True) -> Student:  # fmt: skip
    path.parent.mkdir(parents=True, exist_ok=True)
    col = Collection(str(path))
    col.set_config("fsrs", fsrs)
    student = Student(path, col)
    for i in range(notes):
        deck = "Step 1::Pharm" if i % 2 else "Step 1::Cardio"
        note = col.new_note(col.models.by_name("Basic"))
        note["Front"] = f"Question <b>{i}</b>"
        note["Back"] = f"Answer {i}"
        col.add_note(note, col.decks.id(deck))
        student.note_ids.append(note.id)
    for i in range(cloze):
        note = col.new_note(col.models.by_name("Cloze"))
        note["Text"] = f"{{{{c1::Drug {i}}}}} blocks {{{{c2::receptor {i}}}}}"
        col.add_note(note, col.decks.id("Step 1::Pharm"))
        student.note_ids.append(note.id)
    conf = col.decks.config_dict_for_deck_id(col.decks.id("Step 1::Pharm"))
    conf["desiredRetention"] = retention
    col.decks.update_config(conf)
    return student


def answer_due(student: Student, choose: Callable[[int, int], int], *, limit: int = 500) -> int:
    """Answer every card Anki offers now (all decks), the button chosen by `choose(card id,
    reps so far)`; how many answers."""
    col = student.col
    col.decks.select(col.decks.id("Step 1"))
    answered = 0
    while answered < limit:
        card = col.sched.getCard()
        if card is None:
            break
        col.sched.answerCard(card, choose(card.id, card.reps))
        answered += 1
    return answered


def shift_back(student: Student, days: int) -> None:
    """Move the whole collection `days` days back in time (see the module docstring)."""
    col = student.col
    seconds = days * DAY
    col.db.execute("update col set crt = crt - ?", seconds)
    col.db.execute("update revlog set id = id - ?", seconds * 1000)
    col.db.execute(
        "update cards set due = due - ? where due > 1000000000 and type in (1, 3)", seconds
    )
    for cid, data in col.db.all("select id, data from cards where data != ''"):
        value = json.loads(data)
        if "lrt" in value:
            value["lrt"] -= seconds
            col.db.execute(
                "update cards set data = ? where id = ?",
                json.dumps(value, separators=(",", ":")),
                cid,
            )
    student.shifted_days += days
    student.reopen()


def mixed(seed: int) -> Callable[[int, int], int]:
    """Mostly Good, some Again, Hard and Easy: the same choices for the same seed."""

    def choose(card_id: int, reps: int) -> int:
        draw = random.Random(f"{seed}:{card_id}:{reps}").random()
        return 1 if draw < 0.15 else 2 if draw < 0.25 else 4 if draw < 0.35 else 3

    return choose


def answer_card(student: Student, card_id: int, ease: int) -> None:
    """Answer one card now, whether or not it is due (as the browser's "study now" would)."""
    card = student.col.get_card(card_id)
    card.start_timer()
    student.col.sched.answerCard(card, ease)


def study_days(student: Student, rounds: list[int], seed: int = 1) -> int:
    """Answer what is due, then move back `rounds[i]` days, for each round; answers given."""
    total = 0
    for i, gap in enumerate(rounds):
        total += answer_due(student, mixed(seed + i))
        shift_back(student, gap)
    return total


def export(student: Student, out: Path, *, legacy: bool = False) -> Path:
    options = ExportAnkiPackageOptions(
        with_scheduling=True, with_deck_configs=True, with_media=True, legacy=legacy
    )
    student.col.export_anki_package(out_path=str(out), options=options, limit=None)
    return out


def anki_due_dates(col: Collection, now: datetime) -> dict[int, datetime]:
    """Each studied card's due as Anki sees it: for a review card the *date* (in UTC, with
    Anki's 4:00 rollover) of today + (due - today), for a learning card the instant."""
    today = col.sched.today
    rollover = col.get_config("rollover", 4) or 0
    anki_today = (now.astimezone(UTC) - timedelta(hours=rollover)).date()
    out: dict[int, Any] = {}
    for cid, due, odue, odid in col.db.all("select id, due, odue, odid from cards where type != 0"):
        value = odue if odid else due
        if value > 1_000_000_000:
            out[cid] = datetime.fromtimestamp(value, UTC)
        else:
            day = anki_today + timedelta(days=value - today)
            out[cid] = datetime(day.year, day.month, day.day, rollover, tzinfo=UTC)
    return out


def revlog_ids(col: Collection) -> dict[int, list[int]]:
    """Answers (ease 1-4) by card, revlog ids in time order."""
    out: dict[int, list[int]] = {}
    for rid, cid in col.db.all("select id, cid from revlog where ease between 1 and 4 order by id"):
        out.setdefault(cid, []).append(rid)
    return out


def load_notes_standin(fc: Any, package: Path, work_dir: Path) -> dict[int, int]:
    """Stand-in for the notes and cards import (issue 16's other half): Basic and Cloze notes
    become flashcore notes keyed `<Anki deck>:<GUID>`; Anki card id -> flashcore card id."""
    from sqlalchemy import select

    from flashcore.core.model import DeckSpec, NoteKind, NoteSpec
    from flashcore.importers.anki_package import NoteTypeKind, open_package
    from flashcore.services.anki_scheduling import package_card_ids
    from flashcore.storage import repos
    from flashcore.storage.tables import notes
    from flashcore.storage.uow import run_write

    with open_package(package, work_dir=work_dir) as pkg:
        kinds = {nid: nt.kind for nid, nt in pkg.note_types().items()}
        decks = pkg.decks()
        home: dict[int, str] = {}
        anki_cards = list(pkg.cards())
        for card in anki_cards:
            home.setdefault(card.note_id, decks[card.home_deck_id].name)
        by_deck: dict[str, list[NoteSpec]] = {}
        guid_of: dict[int, str] = {}
        cloze_notes: set[int] = set()
        for note in pkg.notes():
            guid_of[note.id] = note.guid
            cloze = kinds[note.notetype_id] is NoteTypeKind.CLOZE
            if cloze:
                cloze_notes.add(note.id)
            fields = {"text": note.fields[0]} if cloze else {
                "front": note.fields[0], "back": note.fields[1]
            }  # fmt: skip
            spec = NoteSpec(note.guid, NoteKind.CLOZE if cloze else NoteKind.BASIC, fields)
            by_deck.setdefault(home[note.id], []).append(spec)
    now = fc.now()

    def work(session: Any) -> dict[int, int]:
        for name, specs in by_deck.items():
            repos.upsert_deck(session, fc.profile_id,
                              DeckSpec(name=name, key=name, notes=tuple(specs), html=True), now,
                              prune=False)  # fmt: skip
        rows = session.execute(
            select(notes.c.key, notes.c.id).where(notes.c.profile_id == fc.profile_id)
        )
        by_key = dict(rows.all())
        note_ids = {guid: by_key[f"{home[nid]}:{guid}"] for nid, guid in guid_of.items()}
        with open_package(package, work_dir=work_dir) as again:
            return package_card_ids(session, again, note_ids)

    return run_write(fc.engine, work)
