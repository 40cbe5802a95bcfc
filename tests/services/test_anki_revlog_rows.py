"""Every column of every review-log row an import computes in SQL (`importers.anki_revlog_sql`:
SQLite inserting from the attached package, or the rows read through Python on PostgreSQL) is
the row the row-by-row reference path writes (`review_of` then `imported_row`, as answers of
cards also answered here are imported), on a real Anki collection and on hand-made sequences
(filtered decks, lapses, relearning, manual rows, learning steps, no time taken)."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import delete, func, insert, select

from flashcore.importers.anki_package import open_package
from flashcore.importers.anki_package.types import RevlogEntry
from flashcore.importers.anki_revlog_sql import FIRST_ANSWERS_SQL, ROWS_SQL, TEMP_TABLES
from flashcore.importers.anki_scheduling import (
    AnkiClock,
    ReviewTrack,
    day_terms,
    is_answer,
    review_of,
)
from flashcore.services.anki_history import _CardWork, _decode, _row
from flashcore.services.check import check
from flashcore.storage import anki_sync, repos
from flashcore.storage.anki_attached import IMPORTED_COLUMNS
from flashcore.storage.answer_rows import REVIEW_LOG_COLUMNS, answer_rows, imported_select
from flashcore.storage.tables import imported_answers, review_logs
from flashcore.storage.types import from_micros
from flashcore.storage.uow import reading, run_write
from tests import anki_history as ah
from tests.services import test_anki_scheduling as scheduling
from tests.services.test_anki_scheduling import apply_fake, import_package, one_card, second_card

student = scheduling.student  # the fixtures
fc_now = scheduling.fc_now


def stored_rows(fc: Any) -> dict[int, dict[str, Any]]:
    """Every column but the row id of every review-log row, by revlog id; a chained row's due
    and last review before read from the card's previous row (its due after and time), as
    `repos.log_rows.before_state` reads them."""
    every = answer_rows(*REVIEW_LOG_COLUMNS)  # the imported answers' rows as readers see them
    with reading(fc.engine) as session:
        rows = (
            session.execute(
                select(every).order_by(every.c.card_id, every.c.id, every.c.reviewed_at)
            )
            .mappings()
            .all()
        )
    out: dict[int, dict[str, Any]] = {}
    previous: dict[int, dict[str, Any]] = {}
    for row in rows:
        values = {k: v for k, v in row.items() if k != "id"}
        if values["due_before"] is None:  # chained
            before = previous[values["card_id"]]
            values["due_before"] = before["due_after"]
            values["last_review_before"] = before["reviewed_at"]
        previous[values["card_id"]] = dict(row)
        out[values["anki_revlog_id"]] = values
    assert len(out) == len(rows)
    return out


def review_counts(fc: Any) -> dict[int, int]:
    """Each card's review-log rows."""
    with reading(fc.engine) as session:
        r = answer_rows("card_id").c
        return dict(session.execute(select(r.card_id, func.count()).group_by(r.card_id)).all())


def narrow_rows(fc: Any) -> int:
    """The answers kept in `imported_answers` (a first import's on SQLite, schema 0027)."""
    with reading(fc.engine) as session:
        return int(session.execute(select(func.count()).select_from(imported_answers)).scalar_one())


def chained_rows(fc: Any) -> int:
    with reading(fc.engine) as session:
        return len(session.execute(select(review_logs.c.id).where(
            review_logs.c.due_before.is_(None))).all())  # fmt: skip


def reference_rows(fc: Any, pkg: Any, card_ids: dict[int, int]) -> list[tuple[Any, ...]]:
    """The rows of the package's answers as the row-by-row path makes them, in time order."""
    settings = fc.settings
    zone, hour = settings.zone, settings.day_start_hour
    clock = AnkiClock.of(pkg.info)
    work: dict[int, _CardWork] = {}
    for card in pkg.cards():
        if card.id in card_ids:
            work[card.id] = item = _CardWork(card, card_ids[card.id], None)
            _decode(item)
    tracks: dict[int, ReviewTrack] = {}
    rows = []
    for entry in sorted(pkg.revlog(), key=lambda e: e.id):
        item = work.get(entry.card_id)
        if item is None or not is_answer(entry):
            continue
        review = review_of(entry, tracks.setdefault(entry.card_id, ReviewTrack()), clock, zone,
                           hour)  # fmt: skip
        retention = item.retention or settings.desired_retention
        rows.append(_row(fc.profile_id, item.card_id, review, retention))
    return rows


def assert_same_as_reference(fc: Any, pkg: Any, card_ids: dict[int, int]) -> int:
    """The stored rows compared column by column with the reference rows, written the same
    way into the same (emptied) review log; how many were compared."""
    by_sql = stored_rows(fc)
    reference = reference_rows(fc, pkg, card_ids)

    def rewrite(session: Any) -> None:
        session.execute(delete(review_logs))
        session.execute(delete(imported_answers))
        anki_sync.insert_imported(session, reference)

    run_write(fc.engine, rewrite)
    by_rows = stored_rows(fc)
    assert by_sql.keys() == by_rows.keys()
    for revlog_id, want in by_rows.items():
        assert by_sql[revlog_id] == want, revlog_id
    return len(by_rows)


def test_every_column_of_a_real_collection_s_rows_is_the_reference_path_s(
    student, fc_now, tmp_path: Path
):
    fc = fc_now
    package = ah.export(student, tmp_path / "phone.colpkg")
    summary, card_ids = import_package(fc, package, tmp_path / "work")
    assert summary.reviews_added > 20
    # A first import on SQLite writes its answers narrow, into `imported_answers` (on
    # PostgreSQL the rows go in through Python, whole, into the review log).
    sqlite = fc.engine.dialect.name == "sqlite"
    assert narrow_rows(fc) == (summary.reviews_added if sqlite else 0)
    assert chained_rows(fc) == 0
    # No imported answer was scheduled with a stability flashcore knows: none is an outcome
    # of the forgetting signal, chained or not.
    with reading(fc.engine) as session:
        since = fc.now() - timedelta(days=3650)
        assert repos.review_outcomes(session, fc.profile_id, since) == []
    with open_package(package, work_dir=tmp_path / "again") as pkg:
        compared = assert_same_as_reference(fc, pkg, card_ids)
    assert compared == summary.reviews_added
    assert check(fc).problems == []


def hard_sequences(fc: Any) -> tuple[Any, dict[int, int]]:
    """Filtered-deck answers first and later, lapses in review and in filtered decks,
    relearning, a review row first, learning steps in seconds, manual rows (not answers:
    no row) between answers, an answer with no time taken."""
    from tests.anki_fake import FakePackage, review_card

    start = fc.now() - timedelta(days=60)
    cards = {7: one_card(fc), 8: second_card(fc)}

    def row(card: int, day: float, ease: int, ivl: int, kind: int, ms: int = 4000) -> RevlogEntry:
        at = int((start + timedelta(days=day)).timestamp() * 1000) + card
        factor = 0 if kind == 0 else 300 + 100 * ease
        return RevlogEntry(at, card, -1, ease, ivl, 0, factor, ms, kind)

    revlog = [
        row(7, 0, 1, -60, 3), row(7, 0.01, 3, 1, 3), row(7, 1, 0, 4, 4), row(7, 2, 1, -600, 1),
        row(7, 2.01, 3, 1, 2), row(7, 4, 3, 5, 1, 0), row(7, 9, 1, 2, 3), row(7, 9.5, 0, 0, 5),
        row(7, 12, 4, 20, 1),
        row(8, 1, 1, -600, 1), row(8, 1.01, 3, 3, 2), row(8, 5, 2, 7, 1), row(8, 6, 1, -60, 0),
        row(8, 6.02, 3, -86400, 0), row(8, 7.1, 3, 4, 0), row(8, 11, 1, 1, 1),
    ]  # fmt: skip
    last = start + timedelta(days=12)
    pkg = FakePackage([review_card(7, due=fc.now(), ivl=20, s=20.0, d=5.0, last=last),
                       review_card(8, due=fc.now(), ivl=1, s=1.0, d=7.0, last=last)], revlog)  # fmt: skip
    return pkg, cards


def test_every_column_of_hard_sequences_is_the_reference_path_s(fc):
    pkg, cards = hard_sequences(fc)
    summary = apply_fake(fc, pkg, cards)
    assert (summary.reviews_added, summary.manual_skipped) == (14, 2)
    assert assert_same_as_reference(fc, pkg, cards) == 14


def test_a_first_import_s_narrow_answers_read_as_the_rows_written_whole_on_hard_sequences(fc):
    """The first import's statement (SQLite on the attached package) writes each answer as an
    `imported_answers` row (schema 0027: Anki's values, its study day and due after): read
    through `answer_rows`, each is, column by column, the review-log row the other imports'
    statement writes whole (itself checked against the reference path above), the previous
    answer's values (first answer, elapsed days, due and last review before, lapses) found
    where read."""
    pkg, cards = hard_sequences(fc)
    apply_fake(fc, pkg, cards)  # fills the helper tables in the package's database
    pkg.fill_temp("fc_known", TEMP_TABLES["fc_known"], [])
    params = (*day_terms(AnkiClock.of(pkg.info)), fc.profile_id, anki_sync.IMPORTED_REASON)
    whole = list(pkg.sql(ROWS_SQL, params))
    narrow = list(pkg.sql(FIRST_ANSWERS_SQL, params[:3]))
    assert len(narrow) == len(whole) == 14

    with fc.engine.connect() as conn:  # both written as the imports write them, read back
        conn.execute(delete(review_logs))  # the fake import's, written through Python
        anki_sync.insert_stored(conn, whole)
        due = [c.name for c in imported_answers.c].index("due_after")
        conn.execute(insert(imported_answers), [
            dict(zip((c.name for c in imported_answers.c),
                     (*row[:due], from_micros(row[due]), *row[due + 1:]), strict=True))
            for row in narrow
        ])  # fmt: skip
        written = conn.execute(select(*(review_logs.c[n] for n in IMPORTED_COLUMNS))).all()
        read = conn.execute(imported_select(IMPORTED_COLUMNS)).all()
        conn.rollback()
    key = IMPORTED_COLUMNS.index("anki_revlog_id")
    assert sorted(map(tuple, read), key=lambda r: r[key]) == sorted(
        map(tuple, written), key=lambda r: r[key]
    )


def test_a_first_import_s_due_days_skip_an_interval_no_date_holds(fc):
    """A first import takes the due days of every answer in the package, of cards it does not
    import too: one of those with an interval of ages (past year 9999) is left out, not an
    error; the others' dues are there."""
    from flashcore.services.anki_scheduling import _day_tables
    from tests.anki_fake import FakePackage, answers, review_card

    last = fc.now() - timedelta(days=3)
    kept = answers(7, [last - timedelta(days=1), last], [-600, 8])
    ages = answers(99, [last + timedelta(seconds=1)], [10**9])  # a card of a kind not imported
    pkg = FakePackage([review_card(7, due=fc.now(), ivl=8, s=9.0, d=4.0, last=last)],
                      kept + ages)  # fmt: skip
    clock = AnkiClock.of(pkg.info)
    from flashcore.importers.anki_revlog_sql import TEMP_TABLES

    pkg.fill_temp("fc_cards", TEMP_TABLES["fc_cards"], [(7, 1, 0.9)])  # the imported card
    _day_tables(pkg, fc, clock, every=True)
    shift, base = day_terms(clock)
    due_days = {(e.id // 1000 - shift) // 86400 - base + e.interval for e in kept[1:]}
    assert {day for (day, _) in pkg.sql("SELECT day, due FROM temp.fc_due")} == due_days


def test_a_first_import_s_answers_hold_in_any_order_sqlite_gives_them(
    student, fc_now, tmp_path: Path, monkeypatch: Any
):
    """A first import's statement has no ORDER BY (SQLite's plan reads the package's revlog in
    its table's order): its narrow rows are keyed by card and revlog id, and a card's previous
    answer is found by that key when read, so rows inserted newest first read the same: every
    row is still the reference path's."""
    fc = fc_now
    if fc.engine.dialect.name != "sqlite":
        pytest.skip("the first import's statement runs on SQLite only (attached package)")
    insert_rows = anki_sync.AttachedCollection.insert_imported_answers

    def reversed_rows(self: Any, select: str, params: Any, **options: Any) -> int:
        newest_first = f"SELECT * FROM ({select}) ORDER BY 2 DESC"  # by revlog id
        return insert_rows(self, newest_first, params, **options)

    monkeypatch.setattr(anki_sync.AttachedCollection, "insert_imported_answers", reversed_rows)
    package = ah.export(student, tmp_path / "phone.colpkg")
    summary, card_ids = import_package(fc, package, tmp_path / "work")
    assert narrow_rows(fc) == summary.reviews_added > 0
    with open_package(package, work_dir=tmp_path / "again") as pkg:
        assert assert_same_as_reference(fc, pkg, card_ids) == summary.reviews_added


def test_a_first_import_s_staged_rows_hold_in_any_order_the_copy_gives_them(
    tmp_path: Path, monkeypatch: Any
):
    """The answers staged ahead (`services.anki_stage`) are copied without an ORDER BY too:
    copied newest first they are stored exactly as the import's own statement stores them."""
    from flashcore.services import anki_scheduling, anki_stage
    from tests.services.test_anki_staged_answers import staged_and_direct

    monkeypatch.setenv("FLASHCORE_HOME", str(tmp_path / "home"))
    monkeypatch.setattr(anki_stage, "spare_core", lambda: True)
    newest_first = f"SELECT * FROM ({anki_scheduling.COPY_STAGED_SQL}) ORDER BY 1 DESC"
    monkeypatch.setattr(anki_scheduling, "COPY_STAGED_SQL", newest_first)
    staged, direct = staged_and_direct(tmp_path, monkeypatch)
    assert staged == direct
