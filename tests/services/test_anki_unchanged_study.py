"""The re-import of an unchanged Anki package after the student studied here (issue 16): the
shortcut (services.anki_unchanged) holds when only flashcore-side study changed since, and the
full re-import is the ground truth. For each kind of change made here, the re-import runs as a
student's would (the shortcut when it applies), then the full re-import runs on the database it
left (the shortcut refused): that one must change no row (cards, review log, notes, topics,
Anki links, decks, profile) and report exactly what the shortcut reported. With and without
`--with-scheduling`, on SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

pytest.importorskip("anki.collection")

from sqlalchemy import select, text

from flashcore.core.model import Rating
from flashcore.services import anki_import, anki_unchanged, study
from flashcore.services.answering import undo
from flashcore.services.qbank import import_log
from flashcore.services.weights import refresh_weights
from flashcore.storage import tables
from tests import anki_history as ah
from tests.anki_packages import add_note, anking_notetype
from tests.conftest import write_deck

_TABLES = ("cards", "review_logs", "notes", "note_topics", "note_qids", "topics", "decks",
           "anki_cards", "profiles", "schedulers")  # fmt: skip


@dataclass(frozen=True, slots=True)
class Package:
    path: Path
    waiting: str  # the text of an AnKing note suspended in Anki, its question 5678
    new: str  # a note never studied in Anki
    reviewed: str  # a note studied in Anki
    rescheduled: int  # the Anki id of a card given a due date by hand (a manual revlog row)


@pytest.fixture(scope="module")
def package(tmp_path_factory: pytest.TempPathFactory) -> Package:
    """An Anki collection studied over days, with AnKing notes waiting (suspended) for a
    missed question, notes still new, a flag, a burial and a manual reschedule."""
    folder = tmp_path_factory.mktemp("anki")
    student = ah.new_student(folder / "collection.anki2", notes=8, cloze=3)
    ah.study_days(student, [3, 4, 6])
    col = student.col
    anking_notetype(col)
    waiting = add_note(
        col, "AnKingOverhaul (AnKing / AnKingMed)", "Step 1::AnKing",
        {"Text": "{{c1::Amiodarone}} causes {{c2::pulmonary fibrosis}}"},
        ["#AK_Step1_v12::#UWorld::Step::5678", "#AK_Step1_v12::^Systems::Pulmonary"],
    )  # fmt: skip
    col.sched.suspend_cards(col.get_note(waiting).card_ids())
    for i in range(4):
        add_note(col, "Basic", "Step 1::New", {"Front": f"Fresh {i}", "Back": f"New {i}"})
    studied = sorted(col.find_cards("deck:Step*Cardio -is:new"))
    col.set_user_flag_for_cards(1, studied[:1])
    col.sched.bury_cards(studied[1:2])
    col.sched.set_due_date(studied[2:3], "5")  # a manual row in the revlog
    col.sched.schedule_cards_as_new(studied[3:4])  # forgotten: new again, a manual row
    col.sched.bury_cards(studied[3:4])
    student.reopen()
    path = ah.export(student, folder / "studied.apkg")
    student.col.close()
    return Package(path, "Amiodarone", "Fresh 0", "Question 0", studied[2])


def _dump(fc: Any) -> dict[str, list[tuple[Any, ...]]]:
    out = {}
    with fc.engine.connect() as conn:
        for name in _TABLES:
            table = getattr(tables, name)
            rows = conn.execute(select(table)).all()
            out[name] = sorted(tuple(repr(v) for v in row) for row in rows)
    return out


def _differences(a: dict[str, list[Any]], b: dict[str, list[Any]]) -> list[Any]:
    """The rows of each table only one of the two dumps holds."""
    return [(name, sorted(set(a[name]) ^ set(b[name]))) for name in a if a[name] != b[name]]


def _card(fc: Any, fragment: str, *, ord_: int | None = None) -> int:
    for card in fc.cards():
        if fragment in card["front"] and (ord_ is None or card["ord"] == ord_):
            return int(card["card_id"])
    raise AssertionError(f"no card showing {fragment!r}")


def _nothing(fc: Any, pkg: Package, tmp_path: Path) -> None:
    pass


def _answer_reviewed(fc: Any, pkg: Package, tmp_path: Path) -> None:
    study.answer(fc, _card(fc, pkg.reviewed), Rating.GOOD)


def _answer_new_steps(fc: Any, pkg: Package, tmp_path: Path) -> None:
    card = _card(fc, pkg.new)
    study.answer(fc, card, Rating.AGAIN)  # into the learning steps
    fc.clock.advance(timedelta(minutes=2))
    study.answer(fc, card, Rating.GOOD)
    study.answer(fc, _card(fc, "Fresh 1"), Rating.EASY)


def _answer_then_undo(fc: Any, pkg: Package, tmp_path: Path) -> None:
    study.answer(fc, _card(fc, pkg.new), Rating.GOOD)
    study.answer(fc, _card(fc, pkg.reviewed), Rating.HARD)
    undo(fc, 2)


def _undo_one_of_two(fc: Any, pkg: Package, tmp_path: Path) -> None:
    study.answer(fc, _card(fc, pkg.new), Rating.GOOD)
    study.answer(fc, _card(fc, "Fresh 2"), Rating.GOOD)
    undo(fc, 1)


def _suspend(fc: Any, pkg: Package, tmp_path: Path) -> None:
    study.set_cards(fc, "suspend", [_card(fc, pkg.reviewed), _card(fc, pkg.new)])


def _unsuspend_waiting(fc: Any, pkg: Package, tmp_path: Path) -> None:
    study.set_cards(fc, "unsuspend", [_card(fc, pkg.waiting)])


def _scoped_suspend(fc: Any, pkg: Package, tmp_path: Path) -> None:
    study.change_cards_in_scope(fc, "suspend", deck="Step 1::New")


def _flag_and_bury(fc: Any, pkg: Package, tmp_path: Path) -> None:
    study.set_cards(fc, "flag", [_card(fc, pkg.reviewed)])
    study.set_cards(fc, "unflag", [c["card_id"] for c in fc.cards() if c["flagged"]][:1])
    study.set_cards(fc, "bury", [_card(fc, pkg.new)])
    study.set_cards(fc, "unbury", [c["card_id"] for c in fc.cards() if c["buried"]][:1])


def _qbank_miss(fc: Any, pkg: Package, tmp_path: Path) -> None:
    report = import_log(fc, b"5678\n", origin="block.txt", fmt="qids")
    assert report.unsuspended  # AnKing's waiting cards of question 5678 come back


def _setting(fc: Any, pkg: Package, tmp_path: Path) -> None:
    fc.config_set("desired_retention", "0.85")


def _study_limits(fc: Any, pkg: Package, tmp_path: Path) -> None:
    """The day's limits and the plan's mode, which no import reads (`plan_mode auto` sets
    `new_per_day` each study day): the shortcut holds (it ran the whole import)."""
    for key, value in (("new_per_day", "35"), ("reviews_per_day", "400"),
                       ("new_ignores_review_limit", "true"), ("learn_ahead_minutes", "0"),
                       ("bury_siblings", "false"), ("plan_mode", "auto")):  # fmt: skip
        fc.config_set(key, value)


def _toml_deck(fc: Any, pkg: Package, tmp_path: Path) -> None:
    deck = write_deck(tmp_path / "own.toml", '\n[[cards]]\nid = "o1"\nfront = "Q?"\nback = "A"\n',
                      name="Mine", key="mine")  # fmt: skip
    (report,) = fc.add_decks([deck])
    assert report.ok


def _card_deleted(fc: Any, pkg: Package, tmp_path: Path) -> None:
    card = _card(fc, "Drug 1", ord_=2)
    with fc.engine.begin() as conn:
        conn.execute(text("DELETE FROM cards WHERE id = :id"), {"id": card})


def _revlog_row_lost(fc: Any, pkg: Package, tmp_path: Path) -> None:
    """An answer carrying an Anki revlog id gone (as an undo removes an answer given here that
    came back from Anki): the full re-import brings that row again."""
    with fc.engine.begin() as conn:
        gone = conn.execute(text(
            "DELETE FROM review_logs WHERE id = (SELECT MAX(id) FROM review_logs"
            " WHERE anki_revlog_id IS NOT NULL)"
        )).rowcount  # fmt: skip
        if not gone:  # a first import's answers on SQLite are kept narrow (schema 0027)
            conn.execute(text(
                "DELETE FROM imported_answers WHERE anki_revlog_id ="
                " (SELECT MAX(anki_revlog_id) FROM imported_answers)"
            ))  # fmt: skip


def _days_later(fc: Any, pkg: Package, tmp_path: Path) -> None:
    fc.clock.advance(timedelta(days=3))
    study.answer(fc, _card(fc, pkg.reviewed), Rating.AGAIN)  # a lapse, relearning


Change = Callable[[Any, Package, Path], None]
# Each change, and whether the unchanged re-import's shortcut holds after it (the changes
# made in the profile's notes, decks or settings send the re-import through in full).
CHANGES: dict[str, tuple[Change, bool | tuple[bool, bool]]] = {
    "nothing": (_nothing, True),
    "answer a card studied in Anki": (_answer_reviewed, True),
    "answer new cards through the learning steps": (_answer_new_steps, True),
    "answer and undo": (_answer_then_undo, True),
    "answer two, undo one": (_undo_one_of_two, True),
    "suspend": (_suspend, True),
    "unsuspend a card Anki suspended": (_unsuspend_waiting, True),
    "suspend a deck (scoped)": (_scoped_suspend, True),
    "flag, unflag, bury, unbury": (_flag_and_bury, True),
    "a missed question unsuspends AnKing cards": (_qbank_miss, True),
    "a setting": (_setting, False),
    "the day's limits and the plan's mode": (_study_limits, True),
    "a TOML deck added": (_toml_deck, False),
    "a card deleted": (_card_deleted, False),
    "an answer carrying a revlog id lost": (_revlog_row_lost, (False, True)),  # (sched, notes)
    "days later, a lapse": (_days_later, True),
}


@pytest.fixture
def reads(monkeypatch: pytest.MonkeyPatch) -> list[Path]:
    seen: list[Path] = []
    original = anki_import.read_package

    def spy(fc: Any, path: Path, **kwargs: Any) -> Any:
        seen.append(path)
        return original(fc, path, **kwargs)

    monkeypatch.setattr(anki_import, "read_package", spy)
    return seen


@pytest.fixture(autouse=True)
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FLASHCORE_HOME", str(tmp_path / "home"))


@pytest.mark.parametrize("with_scheduling", [True, False], ids=["scheduling", "notes"])
@pytest.mark.parametrize("change", list(CHANGES))
def test_the_reimport_after_a_change_here_is_what_the_full_reimport_does(
    fc, package, tmp_path, reads, monkeypatch, change, with_scheduling
):
    make, expected = CHANGES[change]
    holds = expected if isinstance(expected, bool) else expected[not with_scheduling]
    fc.clock.set(datetime.now(UTC).replace(microsecond=0) + timedelta(days=1))  # after Anki's
    [first] = fc.add_decks([package.path], with_scheduling=with_scheduling)
    assert first.ok and first.added
    fc.clock.advance(timedelta(hours=2))
    make(fc, package, tmp_path)
    fc.clock.advance(timedelta(hours=1))
    refresh_weights(fc)  # the day's weights (any `decks add` refreshes them on a new day)
    before = _dump(fc)
    del reads[:]
    [quick] = fc.add_decks([package.path], with_scheduling=with_scheduling)
    skipped = not reads
    assert skipped == holds
    if skipped:
        assert _differences(_dump(fc), before) == []
    after_quick = _dump(fc)
    with monkeypatch.context() as patched:  # the ground truth: the full re-import
        patched.setattr(anki_unchanged, "replay", lambda *args, **kwargs: False)
        [full] = fc.add_decks([package.path], with_scheduling=with_scheduling)
    assert _differences(_dump(fc), after_quick) == []  # the full re-import changes nothing
    if skipped:
        assert quick.to_json() == full.to_json()


def test_a_card_rescheduled_by_hand_in_anki_is_not_taken_again_by_each_reimport(
    fc, package, tmp_path, monkeypatch
):
    """Found by the test above: the review log keeps no manual revlog row (set due date,
    reschedule), so every re-import found it new and took the card from Anki again: its
    version bumped, the flag and burial given here dropped, "1 updated from Anki" said. It
    is taken once; after, Anki's state being its anchor's, nothing is new."""
    monkeypatch.setattr(anki_unchanged, "replay", lambda *args, **kwargs: False)
    fc.clock.set(datetime.now(UTC).replace(microsecond=0) + timedelta(days=1))
    fc.add_decks([package.path], with_scheduling=True)
    with fc.engine.connect() as conn:
        card_id = conn.execute(
            select(tables.anki_cards.c.card_id).where(
                tables.anki_cards.c.anki_card_id == package.rescheduled
            )
        ).scalar_one()
    study.set_cards(fc, "flag", [card_id])
    study.set_cards(fc, "bury", [card_id])
    [again] = fc.add_decks([package.path], with_scheduling=True)
    assert again.scheduling is not None and not again.scheduling.changed
    [card] = [c for c in fc.cards() if c["card_id"] == card_id]
    assert card["flagged"] and card["buried"]
