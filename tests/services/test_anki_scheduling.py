"""`decks add FILE --with-scheduling`: Anki's states, due days, FSRS memory, flags, presets and
revlog taken over; re-imports add each review once; answers on both sides are merged. Every
collection is made and studied by the real `anki` package (tests/anki_history.py)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from flashcore.core.clock import FixedClock
from flashcore.core.model import CardState, Rating
from flashcore.importers.anki_package import open_package
from flashcore.services import Flashcore
from flashcore.services.anki_scheduling import SchedulingSummary, apply_scheduling
from flashcore.services.check import check
from flashcore.storage import anki_sync
from flashcore.storage.answer_rows import REVIEW_LOG_COLUMNS, answer_rows
from flashcore.storage.tables import cards
from flashcore.storage.uow import reading, run_write
from tests import anki_history as ah


def import_package(fc: Any, package: Path, work: Path) -> tuple[SchedulingSummary, dict[int, int]]:
    """The notes (stand-in), then the scheduling, as `decks add FILE --with-scheduling` does."""
    work.mkdir(exist_ok=True)
    card_ids = ah.load_notes_standin(fc, package, work)
    with open_package(package, work_dir=work) as pkg:
        summary = run_write(fc.engine, lambda s: apply_scheduling(s, fc, pkg, card_ids, fc.now()))
    return summary, card_ids


def flashcore_cards(fc: Any) -> dict[int, Any]:
    with reading(fc.engine) as session:
        rows = session.execute(select(cards).where(cards.c.profile_id == fc.profile_id))
        return {r.id: r for r in rows}


def review_rows(fc: Any) -> dict[int, list[Any]]:
    with reading(fc.engine) as session:
        out: dict[int, list[Any]] = {}
        every = answer_rows(*REVIEW_LOG_COLUMNS)  # the review log and the imported answers
        query = select(every).order_by(every.c.reviewed_at, every.c.id)
        for r in session.execute(query):
            out.setdefault(r.card_id, []).append(r)
        return out


@pytest.fixture
def student(tmp_path: Path) -> ah.Student:
    """Sixteen notes studied in Anki over five sessions, the last 20 days ago."""
    made = ah.new_student(tmp_path / "anki" / "collection.anki2", notes=14)
    col = made.col
    untouched = [c for n in made.note_ids[12:14] for c in col.card_ids_of_note(n)]
    col.sched.suspend_cards(untouched)  # kept new through the rounds
    ah.study_days(made, [3, 4, 6])
    col = made.col
    col.sched.unsuspend_cards(untouched)
    # One card left in relearning, one in learning, one new; one flagged, one suspended.
    reviews = list(col.find_cards("is:review"))
    ah.answer_card(made, reviews[2], 1)
    ah.answer_card(made, untouched[0], 1)
    ah.shift_back(made, 20)
    col = made.col
    card = col.get_card(reviews[0])
    card.flags = 1
    col.update_card(card)
    col.sched.suspend_cards([reviews[1]])
    return made


@pytest.fixture
def fc_now(db_url: str) -> Any:
    clock = FixedClock(datetime.now(UTC).replace(microsecond=0) - timedelta(days=19, hours=-1))
    with Flashcore.open(db_url, clock=clock, create=True, timezone="UTC") as fc:
        yield fc


def test_states_due_days_memory_and_history_are_anki_s_and_check_finds_nothing(
    student, fc_now, tmp_path
):
    fc = fc_now
    (tmp_path / "anki").mkdir(exist_ok=True)
    package = ah.export(student, tmp_path / "phone.colpkg")
    wall = datetime.now(UTC)
    anki_due = ah.anki_due_dates(student.col, wall)
    summary, card_ids = import_package(fc, package, tmp_path / "work")

    assert summary.cards_added == len(anki_due)
    assert {CardState(c.state) for c in flashcore_cards(fc).values()} == set(CardState)
    assert summary.settings["desired_retention"] == "0.88"
    assert fc.settings.desired_retention == 0.88
    mine = flashcore_cards(fc)
    col = student.col
    for anki_id, flashcore_id in card_ids.items():
        anki = col.get_card(anki_id)
        card = mine[flashcore_id]
        if anki.type == 0:
            assert card.state == CardState.NEW
            continue
        assert card.state == anki.type
        # Due to the day: a review's due day as Anki shows it is the flashcore study day
        # (UTC, 4:00 on both sides); a (re)learning card's due instant is Anki's.
        assert card.due == anki_due[anki_id], anki_id
        memory = anki.memory_state
        assert card.stability == pytest.approx(memory.stability, rel=1e-4)
        assert card.difficulty == pytest.approx(memory.difficulty, rel=1e-4)
        assert card.reps == anki.reps and card.lapses == anki.lapses
        assert card.flagged == bool(anki.flags)
    logs = review_rows(fc)
    for anki_id, rids in ah.revlog_ids(col).items():
        rows = logs[card_ids[anki_id]]
        assert [r.anki_revlog_id for r in rows] == rids
        assert all(r.imported for r in rows)
    report = check(fc)
    assert report.problems == []


def test_an_unchanged_re_import_adds_nothing(student, fc_now, tmp_path):
    fc = fc_now
    package = ah.export(student, tmp_path / "phone.colpkg")
    first, _ = import_package(fc, package, tmp_path / "work")
    before = review_rows(fc)
    again, _ = import_package(fc, package, tmp_path / "work")
    assert again.reviews_added == 0 and again.cards_added == 0 and again.cards_updated == 0
    assert again.reviews_skipped == first.reviews_added
    assert review_rows(fc).keys() == before.keys()
    assert sum(map(len, review_rows(fc).values())) == sum(map(len, before.values()))


def test_a_re_import_adds_only_the_new_answers_beside_manual_rows_and_held_ones(
    student, fc_now, tmp_path
):
    """Cards whose revlog the review log holds whole are told apart by their ids' fingerprint;
    a card with a "set due date" row, and one answered again in Anki, are looked up row by
    row: only the new answer is added, the manual row is skipped."""
    fc = fc_now
    first, card_ids = import_package(fc, ah.export(student, tmp_path / "a.colpkg"), tmp_path / "w")
    col = student.col
    studied = [cid for cid, rids in ah.revlog_ids(col).items() if rids]
    col.sched.set_due_date([studied[0]], "3")  # a manual row (ease 0)
    ah.answer_card(student, studied[1], 3)
    before = sum(map(len, review_rows(fc).values()))
    again, _ = import_package(fc, ah.export(student, tmp_path / "b.colpkg"), tmp_path / "w2")
    assert (again.reviews_added, again.manual_skipped) == (1, 1)
    assert again.reviews_skipped == first.reviews_added
    rows = review_rows(fc)
    assert sum(map(len, rows.values())) == before + 1
    for anki_id, rids in ah.revlog_ids(student.col).items():
        assert [r.anki_revlog_id for r in rows.get(card_ids[anki_id], [])] == rids
    assert check(fc).problems == []


def test_a_first_import_counts_its_answers_and_manual_rows_as_a_re_import_looks_them_up(
    student, fc_now, db_url, tmp_path, monkeypatch
):
    """A first import (no revlog id in the review log) counts each card's answers from the
    rows it inserted, not row by row: the same counts, the same latest answer and the same
    states as an import into a profile that already holds another package's answers."""
    col = student.col
    studied = [cid for cid, rids in ah.revlog_ids(col).items() if rids]
    col.sched.set_due_date([studied[0]], "3")  # a manual row (ease 0)
    package = ah.export(student, tmp_path / "a.colpkg")
    answers = sum(map(len, ah.revlog_ids(col).values()))
    manual = col.db.scalar("select count() from revlog where ease = 0")
    first, card_ids = import_package(fc_now, package, tmp_path / "w")
    counts = (first.reviews_added, first.manual_skipped, first.reviews_skipped)
    assert counts == (answers, manual, 0)
    assert manual >= 1
    logs = review_rows(fc_now)
    states = flashcore_cards(fc_now)
    # The same package into a second profile, every answer looked up before it goes in (as
    # when the profile's review log holds revlog ids).
    fc_now.create_profile("other", timezone="UTC")
    looked_up = []
    monkeypatch.setattr(anki_sync, "holds_revlog_ids", lambda *_: looked_up.append(1) or True)
    with Flashcore.open(db_url, clock=fc_now.clock, profile="other", timezone="UTC") as fc:
        again, other_ids = import_package(fc, package, tmp_path / "w2")
        other_logs = review_rows(fc)
        other = flashcore_cards(fc)
    assert again.to_json() == first.to_json()
    assert looked_up or fc_now.engine.dialect.name != "sqlite"
    for anki_id, card_id in card_ids.items():
        mine, theirs = states[card_id], other[other_ids[anki_id]]
        assert mine.state == theirs.state and mine.due == theirs.due
        assert (mine.last_review, mine.reps, mine.lapses) == (
            theirs.last_review,
            theirs.reps,
            theirs.lapses,
        )
        shown = [
            (r.anki_revlog_id, due_before, r.lapses_before, r.elapsed_days, r.state_before)
            for r, due_before in dues_before(logs.get(card_id, []))
        ]
        assert shown == [
            (r.anki_revlog_id, due_before, r.lapses_before, r.elapsed_days, r.state_before)
            for r, due_before in dues_before(other_logs.get(other_ids[anki_id], []))
        ]
        assert all(due for _, due in dues_before(logs.get(card_id, [])))


def dues_before(rows: list[Any]) -> list[tuple[Any, Any]]:
    """A card's rows (in order) each with its due before (see `befores`)."""
    return [(row, due) for row, due, _ in befores(rows)]


def befores(rows: list[Any]) -> list[tuple[Any, Any, Any]]:
    """A card's rows (in order) each with its due and last review before: a chained row's (a
    first import's on SQLite), the previous row's due after and time."""
    out: list[tuple[Any, Any, Any]] = []
    for i, row in enumerate(rows):
        if row.due_before is None and i > 0:
            out.append((row, rows[i - 1].due_after, rows[i - 1].reviewed_at))
        else:
            out.append((row, row.due_before, row.last_review_before))
    return out


def test_a_first_import_writes_its_answers_narrow_and_leaves_the_review_log_as_it_was(
    student, fc_now, tmp_path
):
    """A first import on SQLite writes its answers into `imported_answers` (schema 0027), one
    row each, and nothing into the review log, whose indexes stay as they were."""
    fc = fc_now
    if fc.engine.dialect.name != "sqlite":
        pytest.skip("the rows are inserted by SQLite itself only")
    query = (
        "SELECT name, sql FROM sqlite_master WHERE type = 'index' AND tbl_name = 'review_logs'"
        " ORDER BY name"
    )
    with fc.engine.connect() as conn:
        before = conn.exec_driver_sql(query).all()
    summary, _ = import_package(fc, ah.export(student, tmp_path / "a.colpkg"), tmp_path / "w")
    assert summary.reviews_added > 0
    with fc.engine.connect() as conn:
        assert conn.exec_driver_sql(query).all() == before
        assert conn.exec_driver_sql("PRAGMA integrity_check").scalar() == "ok"
        assert conn.exec_driver_sql("SELECT COUNT(*) FROM review_logs").scalar() == 0
        held = conn.exec_driver_sql("SELECT COUNT(*) FROM imported_answers").scalar()
        assert held == summary.reviews_added


def one_card(fc: Any) -> int:
    """A deck of one basic note; its card id."""
    from flashcore.core.model import DeckSpec, NoteKind, NoteSpec
    from flashcore.storage import repos

    spec = DeckSpec(
        "Default", "Default", (NoteSpec("g1", NoteKind.BASIC, {"front": "q", "back": "a"}),)
    )
    run_write(fc.engine, lambda s: repos.upsert_deck(s, fc.profile_id, spec, fc.now(), prune=False))
    return next(iter(flashcore_cards(fc)))


def apply_fake(fc: Any, pkg: Any, card_ids: dict[int, int]) -> SchedulingSummary:
    return run_write(fc.engine, lambda s: apply_scheduling(s, fc, pkg, card_ids, fc.now()))


def test_anki_s_rollover_hour_becomes_a_fresh_profile_s_and_due_days_line_up(fc):
    from tests.anki_fake import FakePackage, answers, review_card

    card_id = one_card(fc)
    last = fc.now() - timedelta(days=3)
    due = fc.now() + timedelta(days=5)
    pkg = FakePackage([review_card(7, due=due, ivl=8, s=9.0, d=4.0, last=last)],
                      answers(7, [last - timedelta(days=1), last], [-600, 8]), rollover=2)  # fmt: skip
    summary = apply_fake(fc, pkg, {7: card_id})
    assert summary.settings["day_start_hour"] == "2"
    assert fc.settings.day_start_hour == 2
    card = flashcore_cards(fc)[card_id]
    # Anki's due day begins at 2:00 (UTC): so does flashcore's study day it is due on.
    assert card.due == (due - timedelta(hours=2)).replace(hour=2, minute=0, second=0)
    assert check(fc).problems == []


def test_a_profile_with_answers_keeps_its_rollover_and_says_so(fc):
    from flashcore.services import study
    from tests.anki_fake import FakePackage, review_card

    card_id = one_card(fc)
    study.answer(fc, card_id, Rating.GOOD)
    fc.clock.advance(timedelta(days=1))
    pkg = FakePackage([review_card(7, due=fc.now(), ivl=8, s=9.0, d=4.0, last=fc.now())],
                      rollover=2, params=(1.0,) * 21)  # fmt: skip
    summary = apply_fake(fc, pkg, {7: card_id})
    assert fc.settings.day_start_hour == 4
    assert any("day starts at 2:00" in w for w in summary.warnings)
    assert any("not accepted by fsrs" in w for w in summary.warnings)


def test_undo_never_takes_back_an_imported_answer(fc):
    from flashcore.core.errors import FlashcoreError
    from flashcore.services import study
    from tests.anki_fake import FakePackage, answers, review_card

    card_id = one_card(fc)
    last = fc.now() - timedelta(days=2)
    pkg = FakePackage([review_card(7, due=fc.now(), ivl=2, s=3.0, d=5.0, last=last)],
                      answers(7, [last - timedelta(days=1), last], [-600, 2]))  # fmt: skip
    apply_fake(fc, pkg, {7: card_id})
    with pytest.raises(FlashcoreError, match="nothing to undo"):
        study.undo(fc)
    before = flashcore_cards(fc)[card_id]
    study.answer(fc, card_id, Rating.GOOD)
    study.undo(fc)
    after = flashcore_cards(fc)[card_id]
    assert (after.due, after.stability, after.reps) == (before.due, before.stability, before.reps)
    assert len(review_rows(fc)[card_id]) == 2 and check(fc).problems == []


def test_the_bulk_rows_are_what_review_of_gives_one_answer_at_a_time(student, fc_now, tmp_path):
    """The import computes its rows in SQLite; `review_of` is the same rule in Python (used
    for cards answered on both sides). Both must agree, value for value."""
    from flashcore.importers.anki_scheduling import AnkiClock, ReviewTrack, is_answer, review_of

    fc = fc_now
    package = ah.export(student, tmp_path / "phone.colpkg")
    _, card_ids = import_package(fc, package, tmp_path / "work")
    stored = {r.anki_revlog_id: (r, due, last)
              for rows in review_rows(fc).values() for r, due, last in befores(rows)}  # fmt: skip
    zone, hour = fc.settings.zone, fc.settings.day_start_hour
    tracks: dict[int, ReviewTrack] = {}
    compared = 0
    with open_package(package, work_dir=tmp_path / "again") as pkg:
        clock = AnkiClock.of(pkg.info)
        for entry in pkg.revlog():
            if not is_answer(entry) or entry.card_id not in card_ids:
                continue
            track = tracks.setdefault(entry.card_id, ReviewTrack())
            want = review_of(entry, track, clock, zone, hour)
            row, due_before, last_review_before = stored[entry.id]
            got = (row.reviewed_at, row.state_before, row.state_after, row.due_after,
                   row.elapsed_days, row.lapses_before, due_before, last_review_before,
                   row.duration_ms)  # fmt: skip
            assert got == (want.reviewed_at, want.state_before, want.state_after, want.due_after,
                           want.elapsed_days, want.lapses_before, want.due_before,
                           want.last_review_before, want.duration_ms), entry  # fmt: skip
            assert row.difficulty_after == pytest.approx(want.difficulty_after)
            compared += 1
    assert compared == sum(map(len, ah.revlog_ids(student.col).values()))


def test_the_summary_line_names_what_happened_then_what_stayed():
    phone = SchedulingSummary(cards_updated=5, reviews_added=12, cards_skipped=33_567,
                              cards_new=14_388, reviews_skipped=973_576)  # fmt: skip
    assert phone.line() == (
        "scheduling: cards: 5 updated from Anki; reviews: 12 added from Anki "
        "(33,567 cards unchanged, 14,388 still new, 973,576 reviews already here)"
    )
    same = SchedulingSummary(cards_skipped=33_572, cards_new=14_388, reviews_skipped=973_588)
    assert same.line() == (
        "scheduling: nothing new from Anki "
        "(33,572 cards unchanged, 14,388 still new, 973,588 reviews already here)"
    )
    assert SchedulingSummary().line() == "scheduling: nothing new from Anki"
    one = SchedulingSummary(reviews_added=1, cards_skipped=1, cards_new=2, reviews_skipped=1)
    assert one.line() == (
        "scheduling: reviews: 1 added from Anki "
        "(1 card unchanged, 2 still new, 1 review already here)"
    )


def test_a_card_buried_in_anki_is_buried_here_until_the_next_study_day(fc):

    from flashcore.services import study
    from tests.anki_fake import FakePackage, answers, review_card

    card_id = one_card(fc)
    last = fc.now() - timedelta(days=8)
    buried = review_card(7, due=fc.now(), ivl=8, s=9.0, d=4.0, last=last)._replace(queue=-3)
    pkg = FakePackage([buried], answers(7, [last - timedelta(days=1), last], [-600, 8]))
    apply_fake(fc, pkg, {7: card_id})
    card = flashcore_cards(fc)[card_id]
    assert card.state == CardState.REVIEW and card.buried_until == fc.rollover(fc.now())
    assert card_id not in {i.card_id for i in study.build_queue(fc).items}
    fc.clock.set(fc.rollover(fc.now()) + timedelta(minutes=1))
    assert card_id in {i.card_id for i in study.build_queue(fc).items}
    assert check(fc).problems == []


def test_filtered_and_lapsing_answers_in_bulk_are_what_review_of_gives(fc):
    """The rows the import computes in SQL for the harder sequences, value for value as
    `review_of` gives them: a card whose first answer was Again in a filtered deck (no lapse:
    it was new), lapses in review and filtered decks, relearning, a review row first."""
    from flashcore.importers.anki_package.types import RevlogEntry
    from flashcore.importers.anki_scheduling import AnkiClock, ReviewTrack, review_of
    from tests.anki_fake import FakePackage, review_card

    start = fc.now() - timedelta(days=60)
    first = one_card(fc)
    second = second_card(fc)

    def row(card: int, day: float, ease: int, ivl: int, kind: int) -> RevlogEntry:
        at = int((start + timedelta(days=day)).timestamp() * 1000) + card
        return RevlogEntry(at, card, -1, ease, ivl, 0, 500 if kind else 0, 4000, kind)

    revlog = [
        row(7, 0, 1, -60, 3), row(7, 0.01, 3, 1, 3), row(7, 2, 1, -600, 1), row(7, 2.01, 3, 1, 2),
        row(7, 4, 3, 5, 1), row(7, 9, 1, 2, 3), row(7, 12, 4, 20, 1),
        row(8, 1, 1, -600, 1), row(8, 1.01, 3, 3, 2), row(8, 5, 2, 7, 1), row(8, 6, 1, -60, 0),
    ]  # fmt: skip
    last = start + timedelta(days=12)
    pkg = FakePackage([review_card(7, due=fc.now(), ivl=20, s=20.0, d=5.0, last=last),
                       review_card(8, due=fc.now(), ivl=7, s=7.0, d=5.0, last=last)], revlog)  # fmt: skip
    apply_fake(fc, pkg, {7: first, 8: second})
    stored = {r.anki_revlog_id: r for rows in review_rows(fc).values() for r in rows}
    clock, zone, hour = AnkiClock.of(pkg.info), fc.settings.zone, fc.settings.day_start_hour
    tracks: dict[int, ReviewTrack] = {}
    for entry in sorted(revlog, key=lambda e: e.id):
        want = review_of(entry, tracks.setdefault(entry.card_id, ReviewTrack()), clock, zone, hour)
        got = stored[entry.id]
        assert (got.state_before, got.state_after, got.lapses_before, got.due_before,
                got.last_review_before, got.due_after, got.elapsed_days) == (
            want.state_before, want.state_after, want.lapses_before, want.due_before,
            want.last_review_before, want.due_after, want.elapsed_days), entry  # fmt: skip
    assert [r.lapses_before for r in review_rows(fc)[first]] == [0, 0, 0, 1, 1, 1, 2]


def second_card(fc: Any) -> int:
    """A second basic note beside `one_card`'s; its card id."""
    from flashcore.core.model import DeckSpec, NoteKind, NoteSpec
    from flashcore.storage import repos

    spec = DeckSpec(
        "Other", "Other", (NoteSpec("g2", NoteKind.BASIC, {"front": "q2", "back": "a2"}),)
    )
    run_write(fc.engine, lambda s: repos.upsert_deck(s, fc.profile_id, spec, fc.now(), prune=False))
    return max(flashcore_cards(fc))


def _card_rows(fc: Any) -> dict[int, tuple[Any, ...]]:
    """Every card of the profile with its anchor, by its Anki card id (the columns an import
    writes)."""
    from flashcore.storage.tables import anki_cards

    c, a = cards.c, anki_cards.c
    columns = (
        a.anki_card_id, c.state, c.step, c.due, c.stability, c.difficulty, c.last_review,
        c.reps, c.lapses, c.desired_retention, c.flagged, c.buried_until, c.version,
        c.suspended, a.anchor_at, a.state, a.step, a.due, a.stability, a.difficulty,
        a.last_review, a.reps, a.lapses,
    )  # fmt: skip
    query = (
        select(*columns)
        .join(anki_cards, anki_cards.c.card_id == c.id)
        .where(c.profile_id == fc.profile_id)
    )
    with reading(fc.engine) as session:
        return {row[0]: tuple(row[1:]) for row in session.execute(query)}


@pytest.mark.parametrize("fsrs", [True, False], ids=["fsrs", "sm2"])
def test_a_first_import_s_states_by_sql_are_what_the_card_by_card_path_writes(
    fsrs, tmp_path, monkeypatch
):
    """On SQLite a first import writes the states and anchors of cards with a usable FSRS state
    (and of new cards) by SQL from the attached package; the same package imported card by
    card (`_settle`) gives every card the same columns: review, learning, relearning and new
    cards, flagged, suspended, buried, in a filtered deck, and (SM-2) cards without FSRS
    memory, which stay on the card-by-card path."""
    import flashcore.services.anki_scheduling as scheduling

    made = ah.new_student(tmp_path / "anki" / "collection.anki2", notes=14, fsrs=fsrs)
    col = made.col
    new = [c for n in made.note_ids[10:14] for c in col.card_ids_of_note(n)]
    col.sched.suspend_cards(new)  # kept new through the rounds
    ah.study_days(made, [4, 5, 6])
    col = made.col
    col.sched.unsuspend_cards(new)
    reviews = list(col.find_cards("is:review"))
    ah.answer_card(made, reviews[2], 1)  # relearning
    ah.answer_card(made, new[0], 1)  # learning
    card = col.get_card(reviews[0])
    card.flags = 3
    col.update_card(card)
    col.sched.suspend_cards([reviews[1]])
    col.sched.bury_cards([reviews[3], new[1]])
    filtered = col.decks.new_filtered("Cram")
    deck = col.decks.get(filtered)
    deck["terms"] = [["is:review", 3, 0]]
    col.decks.save(deck)
    col.sched.rebuild_filtered_deck(filtered)
    ah.shift_back(made, 3)
    package = ah.export(made, tmp_path / "a.colpkg")
    clock = FixedClock(datetime.now(UTC).replace(microsecond=0) - timedelta(days=2))

    def imported(url: str, work: Path) -> tuple[dict[str, Any], dict[int, tuple[Any, ...]]]:
        with Flashcore.open(url, clock=clock, create=True, timezone="UTC") as fc:
            summary, _ = import_package(fc, package, work)
            return summary.to_json(), _card_rows(fc)

    taken: list[int] = []
    real = scheduling._first_states

    def counted(attached: Any, fc: Any, settle: Any, *args: Any) -> Any:
        left = real(attached, fc, settle, *args)
        taken.append(len(settle) - len(left))
        return left

    monkeypatch.setattr(scheduling, "_first_states", counted)
    by_sql = imported(f"sqlite:///{tmp_path / 'a.sqlite3'}", tmp_path / "w1")
    monkeypatch.setattr(scheduling, "_first_states", lambda _a, _f, settle, *_: settle)
    card_by_card = imported(f"sqlite:///{tmp_path / 'b.sqlite3'}", tmp_path / "w2")
    assert by_sql == card_by_card
    assert taken and taken[0] > 0
    if fsrs:
        assert taken[0] == len(by_sql[1])  # every card taken by SQL


def test_an_answer_an_anki_state_followed_is_not_undone_and_says_when_in_the_profiles_zone(fc):
    # Found by rv3: the refusal named the answer's time in UTC without a zone ("its answer of
    # 2026-11-25 09:00"), where every other time the student reads is in the profile's zone.
    from flashcore.core.errors import FlashcoreError
    from flashcore.services import study
    from flashcore.storage.tables import anki_cards

    fc.config_set("timezone", "Asia/Kolkata")
    card_id = one_card(fc)
    study.answer(fc, card_id, Rating.GOOD)  # 09:00 UTC: 14:30 in Kolkata
    later = fc.now() + timedelta(minutes=30)  # an import's newer state from Anki, taken over
    with fc.engine.begin() as conn:
        conn.execute(anki_cards.insert().values(card_id=card_id, profile_id=fc.profile_id,
                                                anki_card_id=7, anchor_at=later))  # fmt: skip
    with pytest.raises(FlashcoreError) as refused:
        study.undo(fc)
    said = str(refused.value)
    assert f"card {card_id}: its answer of 2026-11-25 14:30 IST was followed by" in said
