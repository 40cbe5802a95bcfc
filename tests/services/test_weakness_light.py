"""The driver-only weakness report (`services.weakness_light`) is the report the full path makes,
or nothing: a student's days with a moving clock (imports, flashcard answers in learning and in
review, the next day, a writer that keeps no scores, a paste giving the others' share, another
profile, a plan that follows the exam) compared, after every step, with `weakness.report` on
the same database, before and after the full report has kept what it makes. It is taken
wherever the kept scores answer (a test fails if it silently is not), and where it is taken
the full path writes nothing."""

from __future__ import annotations

import json
import random
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from flashcore.core.clock import FixedClock
from flashcore.core.model import Rating
from flashcore.services import Flashcore, kept_scores, matching, qbank, scored, weakness
from flashcore.services import weakness_light as light
from flashcore.services.study import answer, build_queue
from flashcore.storage.db import sqlite_path
from tests.services.test_summed_scores import history
from tests.weak_week import ACID_BASE, load_deck

START = datetime(2026, 11, 25, 15, tzinfo=UTC)


@pytest.fixture
def kept_for_small(monkeypatch: pytest.MonkeyPatch) -> None:
    """A small history's scores kept as a large one's are (every threshold that says so)."""
    for module in (matching, weakness, scored):
        monkeypatch.setattr(module, "SUM_IN_DATABASE_FROM", 0)


def _changes(path: Path) -> int:
    """Commits by other connections seen from a fresh one (PRAGMA data_version moves)."""
    conn = sqlite3.connect(path)
    try:
        return int(conn.execute("PRAGMA data_version").fetchone()[0])
    finally:
        conn.close()


def _answer(fc: Flashcore, clock: FixedClock, ratings: list[Rating], n: int = 6) -> int:
    done = 0
    for i, item in enumerate(build_queue(fc, limit=n).items):
        answer(fc, item.card_id, ratings[i % len(ratings)], duration_ms=4000)
        clock.advance(timedelta(seconds=30))
        done += 1
    return done


def _compare(fc: Flashcore, path: Path, name: str) -> bool:
    """The light report (if any) equals the full one, and the full path wrote nothing where the
    light one answered; whether it answered."""
    found = light.report(path, fc.profile, fc.now())
    probe = sqlite3.connect(path)
    try:
        before = probe.execute("PRAGMA data_version").fetchone()[0]
        full = weakness.report(fc)
        after = probe.execute("PRAGMA data_version").fetchone()[0]
    finally:
        probe.close()
    if found is not None:
        assert json.dumps(found) == json.dumps(full), name
        assert before == after, f"{name}: the full path wrote where the light one answered"
    return found is not None


@contextmanager
def _student(
    sqlite_url: str, tmp_path: Path, seed: int, *, half_life: str | None = None
) -> Iterator[tuple[Flashcore, FixedClock, Path]]:
    """A SQLite collection holding the starter-like deck and 300 attempts of history (seed
    `seed`), open; with its clock and file."""
    clock = FixedClock(START)
    path = sqlite_path(sqlite_url)
    assert path is not None
    with Flashcore.open(sqlite_url, clock=clock, timezone="UTC") as fc:
        load_deck(fc, tmp_path)
        if half_life is not None:
            fc.config_set("weakness_half_life_days", half_life)
        qbank.import_log(fc, history(random.Random(seed), clock.now().date(), 300), origin="a.csv")
        yield fc, clock, path


def test_the_light_report_is_the_full_report_or_nothing(kept_for_small, tmp_path, sqlite_url):
    clock = FixedClock(START)
    rng = random.Random(7)
    path = sqlite_path(sqlite_url)
    assert path is not None

    def import_(rows: int, *, keeps: bool = True) -> None:
        with pytest.MonkeyPatch.context() as m:
            if not keeps:
                m.setattr(kept_scores, "kept", lambda *args: None)
            assert qbank.import_log(fc, history(rng, clock.now().date(), rows), origin="h.csv")

    def settings_on(key: str, value: str) -> None:
        fc.config_set(key, value)

    # (what happens, whether the light report answers right after it, before any full report)
    steps = [
        ("import", True, lambda: import_(300)),
        ("import the same day", True, lambda: import_(120)),
        ("answers, new cards", True, lambda: _answer(fc, clock, [Rating.AGAIN, Rating.GOOD])),
        ("a learning card due", True, lambda: clock.advance(timedelta(minutes=11))),
        ("next day", False, lambda: clock.advance(timedelta(days=1))),
        ("answers", True, lambda: _answer(fc, clock, [Rating.GOOD, Rating.EASY], 12)),
        ("five days on", False, lambda: clock.advance(timedelta(days=5))),
        ("leeches at one lapse", True, lambda: settings_on("leech_threshold", "1")),
        ("reviews, some lapsed", True, lambda: _answer(fc, clock, [Rating.AGAIN, Rating.GOOD], 12)),
        ("an import keeping nothing", False, lambda: import_(90, keeps=False)),
        ("a setting the report reads", True, lambda: settings_on("weakness_max_retention", "0.95")),
        ("a half-life", False, lambda: settings_on("weakness_half_life_days", "10")),
        ("an alias", False, lambda: qbank.add_alias(fc, "Metabolic acidosis", ACID_BASE)),
        ("import", True, lambda: import_(60)),
    ]
    with Flashcore.open(sqlite_url, clock=clock, timezone="UTC") as fc:
        load_deck(fc, tmp_path)
        assert light.report(path, "default", clock.now()) is None  # nothing imported
        assert weakness.report(fc) == {"topics": [], "gaps": [], "leeches": []}
        import_(400)
        assert _compare(fc, path, "first import") is False  # the index not kept yet
        for name, answers_at_once, step in steps:
            step()
            assert _compare(fc, path, name) is answers_at_once, name
            assert _compare(fc, path, f"{name}, again") is True, name  # what it kept answers
        last = weakness.report(fc)
        assert last["topics"] and last["gaps"]
        assert any(r["due"] for r in last["topics"]), "no due card counted"
        assert any(r["forgetting_vs_average"] is not None for r in last["topics"]), "no lapse"
        assert last["leeches"], "no leech of a weak topic listed"
        # Another profile: its own report, or nothing; never the default profile's.
        fc.create_profile("second", timezone="UTC")
    with Flashcore.open(sqlite_url, clock=clock, profile="second") as other:
        assert light.report(path, "second", clock.now()) is None  # nothing imported there
        load_deck(other, tmp_path)
        qbank.import_log(other, history(rng, clock.now().date(), 200), origin="o.csv")
        _compare(other, path, "other profile")
        assert _compare(other, path, "other profile, again") is True
        assert light.report(path, "nobody", clock.now()) is None


def test_the_light_report_declines_what_it_does_not_read(kept_for_small, tmp_path, sqlite_url):
    with _student(sqlite_url, tmp_path, 3) as (fc, clock, path):
        weakness.report(fc)
        assert _compare(fc, path, "kept") is True
        # Misses giving the others' share, one listed by a card, others whose texts name a
        # topic (the learned matcher) or nothing.
        rows = [("118200", "Renal", "Acid-base", "Metabolic acidosis", 81),
                ("305", "Renal", "Acid-base", "Metabolic acidosis", 74),
                ("306", "Renal", "Renal", "Nephron physiology", 22),
                ("308", "Immunology", "Hypersensitivity", "Type I hypersensitivity", 35),
                ("307", "Nowhere", "Nothing", "Unheard of", 60)]  # fmt: skip
        log = "".join(f"{n} - {q}\tSubject\t{s}\t{c}\t{t}\t{p}%\t60 sec\n"
                      for n, (q, s, c, t, p) in enumerate(rows, 1))  # fmt: skip
        qbank.import_log(fc, log.encode(), origin="p")
        assert _compare(fc, path, "shares") is True
        found = light.report(path, "default", clock.now())
        assert found is not None
        assert any(r["others_correct"] is not None for r in found["topics"])
        # A plan that follows the exam may set today's new cards.
        fc.config_set("plan_mode", "auto")
        assert _compare(fc, path, "plan auto") is False
    # A database the full path would upgrade, and one that is not there.
    conn = sqlite3.connect(path)
    conn.execute("UPDATE alembic_version SET version_num = '0027'")
    conn.commit()
    conn.close()
    assert light.report(path, "default", clock.now()) is None
    assert light.report(tmp_path / "missing.sqlite3", "default", clock.now()) is None
    assert not (tmp_path / "missing.sqlite3").exists()


def test_the_light_file_is_the_file_the_collection_opens(tmp_path, monkeypatch):
    from flashcore.services.collection import resolve_url

    monkeypatch.setenv("FLASHCORE_HOME", str(tmp_path / "home"))
    monkeypatch.chdir(tmp_path)
    for given in [None, "", "fc.sqlite3", "sub/../fc.sqlite3", "~/x.sqlite3", "a b@:c#d.db",
                  f"sqlite:///{tmp_path}/fc.sqlite3", "sqlite:///rel.sqlite3"]:  # fmt: skip
        assert light.database_file(given) == sqlite_path(resolve_url(given)[0]), given
    for given in ["sqlite://", "sqlite:///:memory:", "sqlite:///x.db?mode=ro",
                  "sqlite+pysqlite:///x.db", "postgresql://u@h/db", "fc?.sqlite3",
                  "a%20b.db"]:  # fmt: skip
        assert light.database_file(given) is None, given


def test_a_locked_database_goes_to_the_full_path_at_once(kept_for_small, tmp_path, sqlite_url):
    """Another program holding the file's lock (exclusive locking mode): the light read gives
    way within a moment, so that `weakness` waits the full path's busy timeout only, not one
    of its own first (it took 10 s longer to say `database is locked`)."""
    import time

    with _student(sqlite_url, tmp_path, 5) as (fc, clock, path):
        weakness.report(fc)
    holder = sqlite3.connect(path, isolation_level=None)
    try:
        holder.execute("PRAGMA locking_mode=EXCLUSIVE")
        holder.execute("BEGIN EXCLUSIVE")
        holder.execute("UPDATE profiles SET name = name")
        started = time.monotonic()
        assert light.report(path, "default", clock.now()) is None
        assert time.monotonic() - started < 2.0
    finally:
        holder.execute("ROLLBACK")
        holder.close()
    assert light.report(path, "default", clock.now()) is not None  # taken once the lock is gone


def test_a_before_state_the_full_path_cannot_decode_is_left_to_it(
    kept_for_small, tmp_path, sqlite_url
):
    """A review-log row whose packed before-state `types.unpack_before` refuses (a damaged
    row): the full path fails on it, so the light read must not answer (it read the stability
    alone and printed a report where Home and `w` show an error), nor fail otherwise."""
    with _student(sqlite_url, tmp_path, 9) as (fc, clock, path):
        assert _answer(fc, clock, [Rating.AGAIN, Rating.GOOD])
        weakness.report(fc)
        assert _compare(fc, path, "kept") is True
        for damaged in ['[null, 3.0]', '[1]', '{}', '[null, 3.0, "d", null, null]',
                        '[null, 3.0, null, null, "x"]']:  # fmt: skip
            conn = sqlite3.connect(path)
            conn.execute("UPDATE review_logs SET packed_before = ? WHERE id = "
                         "(SELECT max(id) FROM review_logs)", (damaged,))  # fmt: skip
            conn.commit()
            conn.close()
            with pytest.raises((ValueError, TypeError)):
                weakness.report(fc)
            assert light.report(path, "default", clock.now()) is None, damaged


def test_reviews_chained_across_the_window_start_are_read_too(
    kept_for_small, tmp_path, sqlite_url, monkeypatch
):
    """Reviews go on for weeks: a card's first answer in the lapses' window follows one
    given before the window (a chained row takes its stability from it). The light read reads
    those previous rows as the full path does (`repos.review_outcomes`' `_rows_before`); it
    gave way to the full path on every such day, which after a window's length of daily
    reviews (56 days at the default half-life) is nearly every day."""
    from flashcore.storage.light_read import LightReader

    read: list[int] = []
    real = LightReader.rows_before

    def counted(self, profile_id, since):
        found = real(self, profile_id, since)
        read.append(len(found))
        return found

    monkeypatch.setattr(LightReader, "rows_before", counted)
    # a half-life of 1 day: a window of 4 days
    with _student(sqlite_url, tmp_path, 4, half_life="1") as (fc, clock, path):
        for day in range(14):
            _answer(fc, clock, [Rating.GOOD, Rating.AGAIN, Rating.GOOD, Rating.EASY], 12)
            weakness.report(fc)  # the day's scores kept
            assert _compare(fc, path, f"day {day}") is True, day
            clock.advance(timedelta(days=1))
    assert any(read), "no chained answer before the window: the test reads nothing new"


# Statements the light read runs its own way, each with why (everything else it runs, values
# bound, must be a statement the full path runs on the same state).
_LIGHT_ONLY = (
    "SELECT profiles.id, profiles.settings, profiles.weights_day FROM profiles",  # 2 reads there
    # the imported answers read apart (storage.light_imported): answer_rows' union there
    "SELECT ia.card_id, cards.note_id, max(ia.anki_revlog_id) FROM imported_answers AS ia",
    "SELECT ia.kind, (SELECT q.anki_revlog_id FROM imported_answers AS q",
    "SELECT review_logs.id, review_logs.card_id, cards.note_id",  # answer_rows' union there
    "SELECT review_logs.state_before, count(*)",  # review_counts_since: the union there
)


def _statement(sql: str) -> str:
    import re

    sql = re.sub(r"\s+", " ", sql).strip().replace('"key"', "key")
    return re.sub(r" AS ([a-z]+)_\d+\b", r" AS \1", sql)  # SQLAlchemy's numbered labels


def test_the_light_reads_are_the_repositories_statements(kept_for_small, tmp_path, sqlite_url):
    """Each read of `storage.light_read` is a copy of its repository's statement: every one it
    runs (values bound, labels aside) is one the full path runs on the same state, but the few
    it runs its own way (`_LIGHT_ONLY`). A repository changed without its copy fails here,
    whether or not the differential tests' states would show it."""
    from sqlalchemy import event
    from sqlalchemy.engine import Engine

    from flashcore.storage import light_read

    with _student(sqlite_url, tmp_path, 6, half_life="1") as (fc, clock, path):
        log = "".join(f"{n} - {q}\tSubject\tRenal\tAcid-base\t{t}\t{p}%\t60 sec\n"
                      for n, (q, t, p) in enumerate([("118200", "Metabolic acidosis", 81),
                                                     ("307", "Unheard of", 60)], 1))  # fmt: skip
        for _day in range(8):
            _answer(fc, clock, [Rating.GOOD, Rating.AGAIN, Rating.GOOD, Rating.EASY], 12)
            clock.advance(timedelta(days=1))
        qbank.import_log(fc, log.encode(), origin="p")
        weakness.report(fc)  # today's scores kept
    light_sql: list[str] = []
    real_connect = sqlite3.connect

    def traced(*args, **kwargs):
        conn = real_connect(*args, **kwargs)
        conn.set_trace_callback(light_sql.append)
        return conn

    with pytest.MonkeyPatch.context() as m:
        m.setattr(light_read.sqlite3, "connect", traced)
        found = light.report(path, "default", clock.now())
    assert found is not None
    full_sql: list[str] = []

    def on_connect(dbapi_connection, _record):
        dbapi_connection.set_trace_callback(full_sql.append)

    event.listen(Engine, "connect", on_connect)
    try:
        with Flashcore.open(sqlite_url, clock=clock) as fc:
            assert weakness.report(fc) == found
    finally:
        event.remove(Engine, "connect", on_connect)
    full = {_statement(s) for s in full_sql}
    ran = [_statement(s) for s in light_sql]
    ran = [s for s in ran if not s.startswith(("PRAGMA", "BEGIN", "ROLLBACK"))]
    own = [s for s in ran if s not in full and not s.startswith(_LIGHT_ONLY)]
    assert own == [], "light reads that are no repository's statement"
    for read in ("prev.stability_after", "qbank_attempts.others IS NOT NULL", "FROM pull_forwards",
                 "GROUP BY qbank_tallies.topic", "FROM topic_index_cache", "FROM cards WHERE",
                 "FROM topic_scores_kept", "FROM topic_cards", "cards.leech IS 1"):  # fmt: skip
        assert any(read in s for s in ran), f"the state read nothing with {read!r}"
