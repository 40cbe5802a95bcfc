"""The kept sums of the question-bank attempts (repos.qbank_sums, schema 0015) answer exactly what
summing every attempt answers (`summed_groups`), on SQLite and PostgreSQL: after a sync, with
attempts added since, days later (the window moved, settled again), after a batch is removed;
and they step aside (None) when they cannot answer: another half-life, a day before their
settling allows, attempts removed."""

from __future__ import annotations

import math
from datetime import date, timedelta
from pathlib import Path

import pytest
from sqlalchemy import text

import tests.qbank_logs as logs
from flashcore.services import qbank
from flashcore.storage import repos
from flashcore.storage.repos.qbank_sums import cached_groups
from flashcore.storage.uow import reading, run_write
from tests.conftest import DECKS, write_deck

HALF_LIFE = 14.0
TODAY = date(2026, 11, 25)


def _deck(folder: Path) -> Path:
    paths = logs.starter_topic_paths(DECKS)[:40]
    body = "".join(
        f'\n[[cards]]\nid = "q{i}"\nfront = "Question {i}"\nback = "Answer {i}"\n'
        f'topics = ["{paths[i % len(paths)]}"]\nqids = ["uworld:{i}"]\n'
        for i in range(1, 31)
    )
    return write_deck(folder / "listed.toml", body, name="Listed", key="listed")


@pytest.fixture
def with_history(fc, tmp_path, monkeypatch):
    monkeypatch.setattr(logs, "QIDS", 120)  # ids that the deck's notes list, and others
    (report,) = fc.add_decks([_deck(tmp_path)])
    assert report.ok, report.problems
    paths = logs.starter_topic_paths(DECKS)[:40]
    taken: set = set()
    older = logs.make_history(1500, date(2026, 6, 1), TODAY, paths, seed=3, taken=taken)
    qbank.import_log(fc, older, origin="older.csv")
    fc.taken, fc.paths = taken, paths
    return fc


def _direct(fc, today: date, half_life: float = HALF_LIFE):
    with reading(fc.engine) as session:
        return repos.summed_groups(session, fc.profile_id, today, half_life)


def _cached(fc, today: date, half_life: float = HALF_LIFE):
    with reading(fc.engine) as session:
        return cached_groups(session, fc.profile_id, today, half_life)


def _sync(fc, today: date, half_life: float = HALF_LIFE) -> None:
    run_write(fc.engine, lambda s: repos.sync_sums(s, fc.profile_id, today, half_life))


def _same(got, expected) -> None:
    assert got is not None, "the kept sums did not answer"
    by_key = {(g.source, g.qid, *g.texts): g for g in expected}
    assert sorted((g.source, g.qid, *g.texts) for g in got) == sorted(by_key)
    for g in got:
        want = by_key[(g.source, g.qid, *g.texts)]
        for field in want._fields:
            a, b = getattr(g, field), getattr(want, field)
            if isinstance(b, float):
                assert math.isclose(a, b, rel_tol=1e-9, abs_tol=1e-12), (field, g, want)
            else:
                assert a == b, (field, g, want)


def test_kept_sums_answer_as_every_attempt_summed(with_history):
    fc = with_history
    assert _cached(fc, TODAY) is None  # nothing kept yet
    _sync(fc, TODAY)
    groups = _cached(fc, TODAY)
    _same(groups, _direct(fc, TODAY))
    assert any(g.qid for g in groups) and any(not g.qid for g in groups)
    assert any(g.recent_attempts for g in groups) and any(g.last_correct for g in groups)


def test_attempts_added_since_and_a_later_day_are_read_beside_the_sums(with_history):
    fc = with_history
    _sync(fc, TODAY)
    newer = logs.make_history(
        300, TODAY - timedelta(days=20), TODAY + timedelta(days=1), fc.paths, seed=4,
        taken=fc.taken,
    )  # fmt: skip
    qbank.import_log(fc, newer, origin="newer.csv")  # old days, recent days and tomorrow
    _same(_cached(fc, TODAY), _direct(fc, TODAY))
    later = TODAY + timedelta(days=9)  # the window moved over the per-day sums
    _same(_cached(fc, later), _direct(fc, later))
    _sync(fc, later)  # settled again: the days before the new settling day folded in
    _same(_cached(fc, later), _direct(fc, later))
    _same(_cached(fc, later + timedelta(days=40)), _direct(fc, later + timedelta(days=40)))


def test_kept_sums_step_aside_when_they_cannot_answer(with_history):
    fc = with_history
    _sync(fc, TODAY)
    assert _cached(fc, TODAY, half_life=7.0) is None  # summed with another half-life
    assert _cached(fc, TODAY - timedelta(days=1)) is None  # settled too late for that day
    (batch,) = qbank.list_batches(fc)
    qbank.remove_batch(fc, batch["batch_id"])  # attempts gone: summed afresh
    assert _cached(fc, TODAY) is None
    _sync(fc, TODAY)
    _same(_cached(fc, TODAY), _direct(fc, TODAY))
    assert _cached(fc, TODAY) == []


def _state(fc):
    from flashcore.storage.repos.qbank_sums import _state as read_state

    with reading(fc.engine) as session:
        return read_state(session, fc.profile_id)


def test_an_import_folds_its_batch_into_the_kept_sums_and_they_still_answer_exactly(
    with_history, clock, tmp_path, monkeypatch
):
    from flashcore.services import write_steps
    from flashcore.storage.repos import qbank_fold

    fc = with_history
    _sync(fc, TODAY)
    # In short steps of 20 rows each, unseen: each step leaves what readers read exact (the
    # sums and the attempts after their last id, the batch's among them).
    monkeypatch.setattr(write_steps, "FIRST_ROWS", 20)
    monkeypatch.setattr(write_steps, "MIN_ROWS", 20)
    monkeypatch.setattr(write_steps, "MAX_ROWS", 20)
    steps = []
    fold = qbank_fold.fold_rows

    def checked(conn, *args, **kwargs):
        done = fold(conn, *args, **kwargs)
        steps.append(done)
        on = clock.now().date() + timedelta(days=5)
        _same(cached_groups(conn, fc.profile_id, on, HALF_LIFE),
              repos.summed_groups(conn, fc.profile_id, on, HALF_LIFE))  # fmt: skip
        return done

    monkeypatch.setattr(repos, "fold_rows", checked)
    for n, day in enumerate((TODAY, TODAY + timedelta(days=3), TODAY + timedelta(days=11))):
        clock.advance(timedelta(days=(day - clock.now().date()).days))
        newer = logs.make_history(
            200, day - timedelta(days=25), day + timedelta(days=1), fc.paths, seed=10 + n,
            taken=fc.taken,
        )  # fmt: skip
        before = _state(fc)
        del steps[:]
        qbank.import_log(fc, newer, origin=f"newer{n}.csv")
        after = _state(fc)
        # folded: the sums count the batch, so a reader reads none of its attempts
        assert len(steps) > 4 and all(steps)
        assert after.attempts == before.attempts + 200 and after.folding is None
        assert after.sums_upto > before.sums_upto and after.windows_upto > before.windows_upto
        with reading(fc.engine) as session:  # one row per (group, day) the batch reached
            pairs = session.execute(
                text("SELECT source, qid, topic, category, system, on_date FROM qbank_sums "
                     "WHERE on_date IS NOT NULL AND id > :top"), {"top": before.sums_upto},
            ).all()  # fmt: skip
            groups = session.execute(
                text("SELECT source, qid, topic, category, system FROM qbank_windows "
                     "WHERE id > :top"), {"top": before.windows_upto},
            ).all()  # fmt: skip
        assert pairs and len(pairs) == len(set(pairs))
        assert sorted(set(groups)) == sorted({p[:5] for p in pairs}) and len(groups) == len(
            set(groups)
        )
        assert after.last_attempt_id > before.last_attempt_id
        with reading(fc.engine) as session:
            assert repos.tallied_attempts(session, fc.profile_id) == after.attempts
        _same(_cached(fc, day), _direct(fc, day))
        _same(_cached(fc, day + timedelta(days=5)), _direct(fc, day + timedelta(days=5)))
        if n == 1:
            _sync(fc, day + timedelta(days=5))  # settled again between two imports
    # A note now lists another question id: the groups change, so the import does not fold
    # (the sums step aside until a sync sums them afresh), and every answer stays exact.
    fc.add_decks([_deck(tmp_path)])  # unchanged deck: nothing to see
    extra = write_deck(
        tmp_path / "extra.toml",
        '[[cards]]\nid = "x"\nfront = "X"\nback = "X"\nqids = ["uworld:100"]\n',
        name="Extra", key="extra",
    )  # fmt: skip
    fc.add_decks([extra])
    before = _state(fc)
    later = TODAY + timedelta(days=12)
    clock.advance(timedelta(days=1))
    newer = logs.make_history(150, later - timedelta(days=3), later, fc.paths, seed=30,
                              taken=fc.taken)  # fmt: skip
    qbank.import_log(fc, newer, origin="after-deck.csv")
    assert _state(fc) == before
    assert _cached(fc, later) is None
    _sync(fc, later)
    _same(_cached(fc, later), _direct(fc, later))


def test_the_sums_folded_by_the_database_and_in_python_agree(with_history, monkeypatch):
    from flashcore.storage.repos import qbank_sums

    fc = with_history
    _sync(fc, TODAY)
    newer = logs.make_history(
        300, TODAY - timedelta(days=20), TODAY + timedelta(days=1), fc.paths, seed=5,
        taken=fc.taken,
    )  # fmt: skip
    qbank.import_log(fc, newer, origin="newer.csv")  # per-day rows, and tomorrow's
    for day in (TODAY, TODAY + timedelta(days=6)):
        by_database = _cached(fc, day)
        with monkeypatch.context() as m:  # SQLite without its math functions
            m.setattr(qbank_sums, "can_decay", lambda conn: False)
            _same(_cached(fc, day), by_database)
        _same(by_database, _direct(fc, day))


def test_a_fold_left_unseen_by_an_import_that_died_is_removed_by_the_next(with_history):
    import socket

    fc = with_history
    _sync(fc, TODAY)
    state = _state(fc)
    lost = [(("", "", "Lost", "", ""), TODAY, 9, 9)]

    def start(owner):
        def work(s):
            begun = repos.begin_fold(s, fc.profile_id, owner, state.listed, 0, 10**9,
                                     alive=lambda o: True)  # fmt: skip
            assert begun is not None and repos.fold_rows(
                s, fc.profile_id, owner, repos.stored_days(s, fc.profile_id, lost), ()
            )

        run_write(fc.engine, work)

    start("elsewhere:1:abc")  # another host's fold, alive as far as anyone here can tell
    _same(_cached(fc, TODAY), _direct(fc, TODAY))  # its rows unseen
    newer = logs.make_history(100, TODAY - timedelta(days=3), TODAY, fc.paths, seed=21,
                              taken=fc.taken)  # fmt: skip
    qbank.import_log(fc, newer, origin="a.csv")
    assert _state(fc).last_attempt_id == state.last_attempt_id  # not folded: read by id
    _same(_cached(fc, TODAY), _direct(fc, TODAY))
    _sync(fc, TODAY)  # summed afresh: the unseen rows gone, the fold no longer anyone's
    state = _state(fc)
    assert state.folding is None
    start(f"{socket.gethostname()}:999999999:gone")  # a fold of a process that died here
    newer = logs.make_history(100, TODAY - timedelta(days=3), TODAY, fc.paths, seed=22,
                              taken=fc.taken)  # fmt: skip
    qbank.import_log(fc, newer, origin="b.csv")
    after = _state(fc)
    assert after.attempts == state.attempts + 100 and after.folding is None  # folded
    with reading(fc.engine) as session:
        assert not session.execute(text("SELECT id FROM qbank_sums WHERE topic = 'Lost'")).all()
    _same(_cached(fc, TODAY), _direct(fc, TODAY))
