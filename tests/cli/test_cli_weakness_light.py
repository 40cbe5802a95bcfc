"""`flashcore weakness` answered by the driver-only read (`services.weakness_light`) prints the
bytes the full path prints, text and `--json`; as its own process it loads no SQLAlchemy
(the point of it: a test that fails when the light read is silently not taken), and keeps the
commands' side work (the health check's marker, the automatic backup). On PostgreSQL, and
wherever the light read declines, the full path answers as before."""

from __future__ import annotations

import json
import os
import random
import subprocess
import sys
from datetime import datetime
from pathlib import Path

import pytest

from flashcore.core.clock import FixedClock
from flashcore.services import Flashcore, matching, qbank, scored, weakness
from flashcore.services import weakness_light as light
from flashcore.storage.db import sqlite_path
from tests.cli.conftest import NOW_ISO
from tests.services.test_summed_scores import history
from tests.weak_week import load_deck

NOW = datetime.fromisoformat(NOW_ISO)
REPO = Path(__file__).resolve().parents[2]


@pytest.fixture
def kept_for_small(monkeypatch: pytest.MonkeyPatch) -> None:
    for module in (matching, weakness, scored):
        monkeypatch.setattr(module, "SUM_IN_DATABASE_FROM", 0)


def _collection(url: str, tmp_path: Path) -> None:
    """Decks, two logs and a report (the topic index and today's scores kept), at NOW."""
    with Flashcore.open(url, clock=FixedClock(NOW), create=True, timezone="UTC") as fc:
        load_deck(fc, tmp_path)
        rng = random.Random(11)
        for n in range(2):
            qbank.import_log(fc, history(rng, NOW.date(), 300), origin=f"h{n}.csv")
        weakness.report(fc)


def test_the_light_weakness_prints_the_full_paths_bytes(
    cli, kept_for_small, sqlite_url, tmp_path, monkeypatch
):
    _collection(sqlite_url, tmp_path)
    taken: list[bool] = []
    real = light.report

    def spied(*args, **kwargs):
        found = real(*args, **kwargs)
        taken.append(found is not None)
        return found

    monkeypatch.setattr(light, "report", spied)
    quick = [cli.ok("weakness", "--db", sqlite_url).out,
             cli.ok("weakness", "--db", sqlite_url, "--json").out,
             cli.ok("weakness", "--db", sqlite_url, "--limit", "3").out]  # fmt: skip
    assert taken == [True, True, True]
    monkeypatch.setattr(light, "report", lambda *args, **kwargs: None)  # the full path
    full = [cli.ok("weakness", "--db", sqlite_url).out,
            cli.ok("weakness", "--db", sqlite_url, "--json").out,
            cli.ok("weakness", "--db", sqlite_url, "--limit", "3").out]  # fmt: skip
    assert quick == full
    assert json.loads(quick[1])["topics"]


def test_the_weakness_command_loads_no_sqlalchemy_when_the_kept_scores_answer(
    kept_for_small, sqlite_url, tmp_path
):
    _collection(sqlite_url, tmp_path)
    path = sqlite_path(sqlite_url)
    assert path is not None
    with Flashcore.open(sqlite_url, clock=FixedClock(NOW)) as fc:
        found = weakness.report(fc)
    script = (
        "import sys\n"
        "import flashcore.services.scored as s\n"
        "s.SUM_IN_DATABASE_FROM = 0\n"  # as the collection was kept (a small history)
        "from flashcore.cli import main\n"
        "code = main(['--db', sys.argv[1], 'weakness', '--json'])\n"
        "heavy = sorted(m for m in sys.modules if m.split('.')[0] in "
        "('sqlalchemy', 'alembic', 'textual', 'fsrs', 'rich'))\n"
        "print('LOADED', heavy, file=sys.stderr)\n"
        "sys.exit(code)\n"
    )
    env = dict(os.environ, FLASHCORE_NOW=NOW_ISO, FLASHCORE_HOME=str(tmp_path / "home"),
               PYTHONPATH=str(REPO))  # fmt: skip
    env.pop("FLASHCORE_PROFILE", None)
    done = subprocess.run([sys.executable, "-c", script, str(path)], env=env, cwd=REPO,
                          capture_output=True, text=True, timeout=120, check=False)  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert "LOADED []" in done.stderr, done.stderr
    assert json.loads(done.stdout) == found
    assert not list(path.parent.glob(f".{path.name}.*.open")), "the open marker stayed"


def test_the_light_weakness_schedules_the_backup_the_full_path_schedules(
    cli, kept_for_small, sqlite_url, tmp_path, monkeypatch
):
    from flashcore.storage import background

    _collection(sqlite_url, tmp_path)
    calls: list[tuple] = []
    monkeypatch.setattr(background, "start_snapshot", lambda *a, **k: calls.append((a, k)))
    cli.ok("weakness", "--db", sqlite_url)
    monkeypatch.setattr(light, "report", lambda *args, **kwargs: None)  # the full path
    cli.ok("weakness", "--db", sqlite_url)
    path = sqlite_path(sqlite_url)
    assert calls == [((path, NOW, "automatic"), {"if_due": True})] * 2


@pytest.mark.postgres
def test_weakness_on_postgresql_takes_the_full_path(cli, kept_for_small, pg_head_url, tmp_path):
    _collection(pg_head_url, tmp_path)
    assert light.database_file(pg_head_url) is None
    with Flashcore.open(pg_head_url, clock=FixedClock(NOW)) as fc:
        found = weakness.report(fc)
    assert cli.json("weakness", "--db", pg_head_url) == found
