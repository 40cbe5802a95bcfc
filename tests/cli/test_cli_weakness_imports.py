"""`flashcore weakness` as its own process imports what the report needs and nothing heavy
that it never uses: each module below was once loaded by every command that opened a
collection, and Python's start and imports were about half of what the command cost at
200,000 cards (issue 19f). Behaviour, not timing: which modules are in `sys.modules`."""

from __future__ import annotations

import os
import shutil
import sqlite3
import subprocess
import sys

from tests.cli.test_cli_process import probe_report
from tests.conftest import write_deck
from tests.weak_week import DECK, QID, TYPE_I, paste

NOW = "2026-11-25T09:00:00+00:00"

# Never needed to read a report from SQLite: the ORM, PostgreSQL's dialect (with its asyncpg
# driver), the migrations, the TUI, the deck and Anki importers and exporters (FSRS is
# needed: the forgetting curve's constants are fsrs's own).
HEAVY = (
    "sqlalchemy.orm",
    "sqlalchemy.dialects.postgresql",
    "psycopg",
    "alembic",
    "textual",
    "rich",
    "genanki",
    "zstandard",
    "flashcore.storage.models",
    "flashcore.tui",
    "flashcore.importers",
    "flashcore.exporters",
    "flashcore.services.decks",
    "flashcore.services.qbank_import",
    # the other commands' modules and their parsers (cli.GROUPS: only the command's own group)
    "flashcore.cli.decks",
    "flashcore.cli.study",
    "flashcore.cli.qbank",
    "flashcore.cli.collection",
    "flashcore.cli.export",
    "flashcore.cli.safety",
    "flashcore.cli.plan",
    # what only loading decks, the forecast and self-assessments make values of (their
    # dataclasses were most of what the report's imports cost beyond SQLAlchemy)
    "flashcore.core.decksync",
    "flashcore.core.cloze",
    "flashcore.core.forecast",
    "flashcore.core.budget",
    "flashcore.core.assessment",
    "statistics",
)

PROBE = """
import sys
from flashcore.cli import main
code = main(sys.argv[1:])
heavy = sys.stdin.read().split()
loaded = sorted(m for m in sys.modules if any(m == h or m.startswith(h + ".") for h in heavy))
print("LOADED", code, ",".join(loaded))
"""


def _run(tmp_path, *args: str, now: str = NOW) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k not in {"FLASHCORE_DB", "FLASHCORE_PROFILE"}}
    env.update(FLASHCORE_NOW=now, FLASHCORE_HOME=str(tmp_path / "home"))
    return subprocess.run(
        [sys.executable, "-c", PROBE, *args],
        input=" ".join(HEAVY),
        capture_output=True,
        text=True,
        env=env,
        cwd=tmp_path,
        timeout=120,
    )


def test_weakness_loads_no_module_it_does_not_use(tmp_path, sqlite_template):
    db = tmp_path / "w.sqlite3"
    shutil.copy(sqlite_template, db)
    log = tmp_path / "paste.tsv"
    log.write_bytes(
        paste(
            (QID, "Renal", "Acid-base disorders", "Metabolic acidosis"),
            ("501", "Infectious diseases", "Gram-negative cocci", "Neisseria gonorrhoeae"),
            ("601", "Allergy", "Hypersensitivity reactions", "Type I hypersensitivity"),
        )
    )
    deck = write_deck(tmp_path / "week.toml", DECK, key="week")
    assert probe_report(_run(tmp_path, "--db", str(db), "decks", "add", str(deck)))[0] == 0
    assert probe_report(_run(tmp_path, "--db", str(db), "qbank", "import", str(log)))[0] == 0
    for args in ((), ("--json",)):
        done = _run(tmp_path, "--db", str(db), "weakness", *args)
        assert probe_report(done) == (0, []), done.stderr
        assert TYPE_I in done.stdout  # the report ran: its topics are printed


def test_the_days_first_weakness_runs_the_weight_refresh_without_the_orm(tmp_path, sqlite_template):
    """The next study day's first report runs the day's weight refresh (a write: the weights,
    the kept scores, the pull-forwards) on a plain connection: no ORM, no self-assessments'
    module when there are none (issue 19w4: ~0.1 CPU-s of the day's first command)."""
    db = tmp_path / "w.sqlite3"
    shutil.copy(sqlite_template, db)
    log = tmp_path / "paste.tsv"
    log.write_bytes(paste((QID, "Renal", "Acid-base disorders", "Metabolic acidosis")))
    deck = write_deck(tmp_path / "week.toml", DECK, key="week")
    assert probe_report(_run(tmp_path, "--db", str(db), "decks", "add", str(deck)))[0] == 0
    assert probe_report(_run(tmp_path, "--db", str(db), "qbank", "import", str(log)))[0] == 0
    done = _run(tmp_path, "--db", str(db), "weakness", "--json", now="2026-11-26T09:00:00+00:00")
    assert probe_report(done) == (0, []), done.stderr
    with sqlite3.connect(db) as conn:  # the refresh ran: the weights are the next day's
        assert conn.execute("SELECT weights_day FROM profiles").fetchone() == ("2026-11-26",)
