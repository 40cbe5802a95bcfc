"""A published batch keeps the latest day of its attempts (schema 0021), and the pull-forwards'
fresh misses read no attempt of a batch whose latest day is before their first day: the same
fresh misses as reading every batch imported since (a year of history imported today is not
read), on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import date, datetime, timedelta

from sqlalchemy import text

from flashcore.services import qbank
from flashcore.storage import repos
from flashcore.storage import today as today_repo
from flashcore.storage.uow import reading, run_write
from tests.conftest import NOW

TODAY = NOW.date()


def _log(days_ago: list[int], first: int) -> bytes:
    rows = [
        f"{first + i},incorrect,{(TODAY - timedelta(days=d)).isoformat()},Renal,Renal,"
        f"Acid-base,Topic {i % 3}"
        for i, d in enumerate(days_ago)
    ]
    return ("question_id,result,date,subject,system,category,topic\n" + "\n".join(rows)).encode()


def _latest(fc) -> dict[int, date | None]:
    with reading(fc.engine) as session:
        rows = session.execute(text("SELECT id, latest_on FROM qbank_batches")).all()
    return {int(b): (d if d is None or isinstance(d, date) else date.fromisoformat(d))
            for b, d in rows}  # fmt: skip


def _fresh(fc) -> list:
    with reading(fc.engine) as session:
        return today_repo.fresh_misses(
            session, fc.profile_id, TODAY - timedelta(days=2), TODAY,
            datetime(2026, 11, 20, tzinfo=NOW.tzinfo), [],
        )  # fmt: skip


def test_batches_keep_their_latest_day_and_fresh_misses_skip_older_ones(fc):
    old = qbank.import_log(fc, _log([40, 12, 9, 30], 1000), origin="history.csv").batch_id
    new = qbank.import_log(fc, _log([0, 1, 5, 1], 2000), origin="today.csv").batch_id
    assert _latest(fc) == {old: TODAY - timedelta(days=9), new: TODAY}
    skipped = _fresh(fc)
    assert sum(m.count for m in skipped) == 3  # today's and yesterday's, of the new batch

    def forget(s) -> None:  # as a batch published before schema 0021: read as before
        for batch_id in (old, new):
            repos.note_latest_day(s, batch_id, None)

    run_write(fc.engine, forget)
    assert _fresh(fc) == skipped

    def too_early(s) -> None:  # a batch said to end before the fresh days is not read
        repos.note_latest_day(s, new, TODAY - timedelta(days=3))

    run_write(fc.engine, too_early)
    assert _fresh(fc) == []


def test_an_import_folded_into_kept_sums_keeps_its_latest_day_from_memory(fc, monkeypatch):
    from flashcore.services import matching, weakness

    monkeypatch.setattr(matching, "SUM_IN_DATABASE_FROM", 0)
    monkeypatch.setattr(weakness, "SUM_IN_DATABASE_FROM", 0)
    qbank.import_log(fc, _log([40, 12], 1000), origin="history.csv")
    weakness.report(fc)  # the sums kept: the next import lists its rows for the fold
    read_back = []
    monkeypatch.setattr(repos, "batch_latest_day", lambda *a: read_back.append(a))
    new = qbank.import_log(fc, _log([3, 1, 7], 2000), origin="today.csv").batch_id
    assert _latest(fc)[new] == TODAY - timedelta(days=1) and not read_back


def test_fresh_misses_of_a_batch_held_in_memory_are_those_read_back(fc, monkeypatch):
    """The import counts its own batch's fresh misses from memory: the same groups, counts,
    latest days and logging times as reading them back, beside an earlier batch of the same
    day, grouped by question id or by text (a listed id, others, every id by its id)."""
    first = qbank.import_log(fc, _log([0, 1, 1, 2, 4], 1000), origin="a.csv").batch_id
    log = _log([0, 0, 1, 1, 2, 3, 9, 0], 1000) + b"\n1100,correct,2026-11-25,R,R,A,T\n"
    report = qbank.import_log(fc, log, origin="b.csv", again=True)
    assert report.added and first != report.batch_id
    with reading(fc.engine) as session:
        rows = session.execute(
            text("SELECT source, qid, outcome, on_date, topic, category, system, id"
                 " FROM qbank_attempts WHERE batch_id = :b ORDER BY fingerprint"),
            {"b": report.batch_id},
        ).all()  # fmt: skip
    held_rows = [(*r[:3], str(r[3]), *r[4:7]) for r in rows]
    held = today_repo.HeldBatch(report.batch_id, min(r[7] for r in rows), held_rows)
    since, logged = TODAY - timedelta(days=2), datetime(2026, 11, 20, tzinfo=NOW.tzinfo)
    for listed in ([], ["1001", "1003"], [str(q) for q in range(900, 1200)]):
        for most in (today_repo.LISTED_MAX, 0):  # 0: every miss grouped by its id
            monkeypatch.setattr(today_repo, "LISTED_MAX", most)
            with reading(fc.engine) as session:
                args = (session, fc.profile_id, since, TODAY, logged, listed)
                read_back = today_repo.fresh_misses(*args)
                from_memory = today_repo.fresh_misses(*args, held=held)
            assert from_memory == read_back and read_back
            assert {m.logged for m in read_back} == {
                m.logged for m in from_memory
            }  # both batches' logging times
