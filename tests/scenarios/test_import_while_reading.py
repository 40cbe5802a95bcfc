"""A missed-question log imported from a second terminal while the reviewer shows a card (both
backends): the reviewer's session keeps the card it shows, the answer to it lands once, and
while the student reads the next moment's work (`StudySession.prepare`, which the reviewer
runs every second) picks the import up, so the next card is the weak topic's, as `due` in
the other terminal says, and the reviewer's counts are those of every other surface.

On SQLite another process's commit is seen at once (`data_version`); PostgreSQL has no such
counter, so the session looks for news every `PG_LOOK_SECONDS` (set to 0 here: the test
does not wait on the wall clock)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from flashcore.core.model import Rating
from flashcore.services.study import StudySession
from tests.scenarios import surfaces
from tests.weak_week import TYPE_I, load_deck, paste

ROOT = Path(__file__).resolve().parents[2]


def _cli(db: str, now: str, home: Path, *args: object) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("FLASHCORE_")}
    env |= {
        "FLASHCORE_HOME": str(home),
        "FLASHCORE_NOW": now,
        "FLASHCORE_BULK_NICE": "0",
        "PYTHONPATH": os.pathsep.join(p for p in (str(ROOT), env.get("PYTHONPATH", "")) if p),
    }
    done = subprocess.run(
        [sys.executable, "-m", "flashcore", *(str(a) for a in args), "--db", db],
        env=env, capture_output=True, text=True, timeout=300, check=False,
    )  # fmt: skip
    assert done.returncode == 0, f"flashcore {args}: {done.stderr}"
    assert "Traceback" not in done.stderr, done.stderr
    return done


@pytest.fixture
def pg_looks_at_once(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(StudySession, "PG_LOOK_SECONDS", 0.0)


def test_an_import_while_a_card_is_shown_reaches_the_next_card(
    fc, db_url, clock, tmp_path, pg_looks_at_once
):
    ids = load_deck(fc, tmp_path)
    type_i = {ids["type1-a"], ids["type1-b"]}
    now = clock.now().isoformat()
    home = tmp_path / "home"
    session = StudySession(fc)
    try:
        first = session.queue(details=False).items[0]
        view = session.show(first.card_id)
        before = session.queue(details=False)

        log = tmp_path / "paste.tsv"
        row = ("Allergy & Immunology", "Hypersensitivity reactions", "Type I hypersensitivity")
        log.write_bytes(paste(*[(str(700 + n), *row) for n in range(6)]))
        _cli(db_url, now, home, "qbank", "import", log)

        # the student reads the card: the reviewer's quiet-moment work sees the import
        assert session.prepare(), "the session did not notice the import while the card showed"
        result = session.answer(first.card_id, Rating.GOOD, expect_version=view.version)
        assert result.card_id == first.card_id
        # its own answer is no news: the quiet moment after it rebuilds nothing
        assert not session.prepare()

        due = json.loads(_cli(db_url, now, home, "due", "--json", "--limit", "3").stdout)
        stats = json.loads(_cli(db_url, now, home, "stats", "--json").stdout)
        head = session.queue(details=False)
        nxt = head.items[0]
        # the weak topic's cards come first, in the reviewer as in the other terminal
        assert nxt.card_id == due[0]["card_id"], (nxt, due)
        assert nxt.card_id in type_i, (nxt, due)
        assert TYPE_I in due[0]["reason"], due[0]["reason"]
        # the reviewer's header equals what every other surface counts
        counts = (head.new, head.learning, head.review)
        assert counts == surfaces.due(fc)
        today = stats["queue"]["today"]
        assert counts == (today["new"], today["learning"], today["review"])
        assert before.new - 1 == head.new
        assert stats["today"]["reviews"] == 1
    finally:
        session.close()


def test_the_reviewer_sees_an_import_within_a_second_or_two_on_the_real_clock(
    fc, db_url, clock, tmp_path
):
    """As a student does it: paste in the other terminal, switch back, press the key. Found
    by hand on PostgreSQL: the session looked for news every 5 s, so a key 2 s after the
    paste showed the card read before it; now it looks every second, as SQLite's counter
    is read every second. The shipped intervals, the real clock: the reviewer's quiet moment
    looks just before the paste, and its tick 1.2 s later must see it."""
    import time

    from flashcore.services import Flashcore, qbank

    load_deck(fc, tmp_path)
    session = StudySession(fc)
    try:
        first = session.queue(details=False).items[0]
        session.show(first.card_id)
        session._stamp_looked = 0.0  # the quiet moment before the paste looks for news
        assert not session.prepare()
        row = ("Allergy & Immunology", "Hypersensitivity reactions", "Type I hypersensitivity")
        with Flashcore.open(db_url, clock=clock) as other:  # the second terminal
            qbank.import_log(
                other, paste(*[(str(800 + n), *row) for n in range(6)]), origin="paste"
            )
        # the reviewer's last look came a hair before the import's commit (however long the
        # import took on this machine)
        looked = session._stamp_looked = time.monotonic()
        time.sleep(1.2)
        assert time.monotonic() - looked < 3.0
        assert session.prepare(), "the session did not notice the import 1.2 s later"
    finally:
        session.close()
