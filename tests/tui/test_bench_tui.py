"""The pseudo-terminal benchmark (`python -m tools.bench.tui`) on the small test deck: it
drives the real reviewer process and measures something sane. Nothing here is timed against a
target; the numbers only have to be consistent."""

from __future__ import annotations

import shutil
import sys

import pytest

from tools.bench import tui as bench_tui
from tools.bench.engine import child_env

from .conftest import NOW

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="needs a POSIX pseudo-terminal")


def test_plain_drops_escape_sequences_and_keeps_the_text():
    drawn = b"\x1b[?1049h\x1b[1;1H\x1b[1mShow\x1b[0m \x1b]0;title\x07answer\x1b(B!"
    assert bench_tui.plain(drawn) == b"Show answer!"


def test_session_measures_every_answer_with_engine_inside_the_total(tmp_path, deck_template):
    db = tmp_path / "t.sqlite3"
    shutil.copy(deck_template, db)
    (tmp_path / "home").mkdir()

    session = bench_tui.review_session(db, NOW.isoformat(), answers=3, scratch=tmp_path)

    assert 1 <= len(session.answers) <= 3
    assert 0 < session.enter_to_card < 10
    for a in session.answers:
        assert 0 < a.reveal < 10
        assert 0 < a.total < 10
        # the engine's time between the key and the paint: the next card read ahead is shown
        # at once and the answer written behind it (0), else the answer and the fetch
        assert 0 <= a.engine <= a.total
        assert a.main_cpu is not None and a.main_cpu >= 0  # the key's own CPU was sampled
        assert "tui:apply" in a.milestones
    stats = bench_tui.session_stats(session)
    assert stats["answered"] == len(session.answers)
    answers = stats["engine_calls"].get("session.answer") or stats["engine_calls"]["answer"]
    assert answers["count"] >= len(session.answers) - 1  # each written (the last maybe not yet)
    assert stats["breakdown"]["all"]["count"] >= 1
    assert "tui:layout+render" in session.answers[-1].milestones  # the frame of the next card
    assert stats["layouts_per_answer"] >= 0  # counted (a why line of another height lays out)
    # The automatic collector is off during a session: only the reviewer's own collections
    # (generation 1 or 2, while a card is read) run.
    assert stats["gc_during"]["gen0"]["count"] == 0


def test_first_paint_comes_before_the_usable_home_screen(tmp_path, deck_template):
    db = tmp_path / "t.sqlite3"
    shutil.copy(deck_template, db)
    env = child_env(tmp_path, db, NOW.isoformat())
    command = [sys.executable, "-m", "flashcore.cli", "review"]

    paint = bench_tui.first_paint(command, env)

    assert 0 < paint["first_byte"] <= paint["loading_screen"] <= paint["home_ready"] < 30_000


def test_answers_beside_another_process_importing_qbank_logs(tmp_path, deck_template):
    """The benchmark's importing case: a second process imports missed-question logs into the
    same collection while the reviewer answers; every import succeeds, its windows are timed,
    and every answer still reaches the next card."""
    db = tmp_path / "t.sqlite3"
    shutil.copy(deck_template, db)
    (tmp_path / "home").mkdir()
    env = child_env(tmp_path, db, NOW.isoformat())

    loop = bench_tui.ImportLoop(env, tmp_path, attempts=500)
    try:
        session = bench_tui.review_session(db, NOW.isoformat(), answers=3, scratch=tmp_path)
    finally:
        windows, failures = loop.stop()

    assert failures == []
    assert windows and all(0 < hi - lo < 60 for lo, hi in windows)
    assert 1 <= len(session.answers) <= 3
    assert all(0 < a.total < 30 for a in session.answers)
