"""Shared fixtures: a frozen clock, and databases on SQLite and on the PostgreSQL server.

PostgreSQL tests use FLASHCORE_TEST_PG_URL (default: the local server). `db_url` hands them a
schema at the migration head, migrated once per process and emptied between tests
(tests/pg_schemas.py); `pg_url` a fresh empty schema of the test's own, dropped afterwards. The
connections an engine closes are kept for the next engine of the same URL, reset to a new
session (tests/pg_connections.py): a command run in this process starts no server process. Every
engine of a test process shares one compiled-statement cache (tests/compiled_cache.py). When
the server cannot be reached the PostgreSQL variants are skipped locally, but fail under CI=true
so a dead server never passes silently.
"""

from __future__ import annotations

import argparse
import os
import shutil
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from hypothesis import HealthCheck, settings

from flashcore.core.clock import FixedClock
from tests import alembic_scripts, compiled_cache, guard, migrated_template, pg_connections
from tests.pg_schemas import HeadSchemas

PG_URL = os.environ.get(
    "FLASHCORE_TEST_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)
NOW = datetime(2026, 11, 25, 9, 0, tzinfo=UTC)
ROOT = Path(__file__).resolve().parent.parent
DECKS = ROOT / "decks"


guard.install()
alembic_scripts.install()
migrated_template.install()
pg_connections.install()
compiled_cache.install()


def _temp_root_in_memory() -> None:
    """The tests' files (tmp_path) on the machine's RAM disk, /dev/shm, when it has room.

    Every commit of a collection fsyncs (`synchronous=FULL`), and the suite commits tens of
    thousands of times: on a disk each fsync waits milliseconds (7 ms measured on the shared
    CI-like machine), on tmpfs it returns at once. SQLite makes the same calls either way, so
    nothing a test checks changes; only the wait goes. pytest's own `PYTEST_DEBUG_TEMPROOT`
    (or `--basetemp`) still chooses another folder; a small /dev/shm (a container's 64 MB) is
    left alone, since one run writes about a gigabyte (the memory tests' 50 MB logs).
    """
    if os.environ.get("PYTEST_DEBUG_TEMPROOT"):
        return
    shm = Path("/dev/shm")
    try:
        roomy = shm.is_dir() and os.access(shm, os.W_OK) and shutil.disk_usage(shm).free > 4 << 30
    except OSError:
        return
    if roomy:
        os.environ["PYTEST_DEBUG_TEMPROOT"] = str(shm)


_temp_root_in_memory()


def _one_cli_parser_per_process() -> None:
    """`flashcore.cli.main` builds its argparse parser once per test process, not per call.

    A user's `flashcore` process calls `main` once; the tests call it in-process thousands of
    times, and building the parser (some forty subcommands, argparse looking up gettext
    catalogs for every one) took 50 ms a call at load 7, a third of tests/cli. Parsing does
    not change a parser, so each call still parses its own arguments from scratch; the parser
    itself is built (and its building tested: tests/cli/test_help.py) the first time.
    """
    import flashcore.cli as cli

    build = cli.build_parser
    kept: dict[str | None, argparse.ArgumentParser] = {}

    def build_parser(command: str | None = None) -> argparse.ArgumentParser:
        if command not in kept:  # the whole parser, or one command group's (cli.GROUPS)
            kept[command] = build(command)
        return kept[command]

    cli.build_parser = build_parser  # type: ignore[assignment]


_one_cli_parser_per_process()

# `qbank import` and `decks add` lower their process's CPU priority (flashcore.cli.priority),
# which cannot be undone: the tests call `flashcore.cli.main` in this process, so they keep it
# (tests/cli/test_priority.py sets it where it is the subject). Subprocesses inherit it.
os.environ.setdefault("FLASHCORE_BULK_NICE", "0")

# Property tests judge behaviour, not speed: on a loaded machine (CI shares two cores) drawing one
# input can take over a second, which Hypothesis would otherwise report as a failure.
settings.register_profile("flashcore", deadline=None, suppress_health_check=[HealthCheck.too_slow])
settings.load_profile("flashcore")


# Where most of the suite's time goes: real processes, pseudo-terminals, big inputs, every
# released schema. They run first (each file's tests stay together, in their order), and
# `--dist worksteal` (pyproject.toml) hands the rest out: a worker that runs dry takes the end
# of the other's queue, so the two finish within a short test of each other instead of one
# waiting for the other's last scenario.
HEAVY_FIRST = (
    "tests/scenarios/",
    "tests/reliability/",
    "tests/install/",
    "tests/test_bench_",
    "tests/test_simulate_",
    "tests/migrations/test_released_fixtures.py",
    "tests/tui/test_latency.py",
    # single tests of 20-100 s at load 10 (a full run's --durations): a tail if they came last
    "tests/cli/test_cli_plan.py",
    "tests/cli/test_cli_process.py",
    "tests/cli/test_priority.py",
    "tests/cli/test_hostile_fuzz.py",
    # services scenarios over days whose PostgreSQL variants take 40-90 s at load 15
    "tests/services/test_pull_forward_gate.py",
    "tests/services/test_pull_forward_share.py",
    "tests/services/test_leech_action.py",
    "tests/services/test_probe_cards.py",
    "tests/services/test_kept_scores.py",
    "tests/services/test_first_answers_flow.py",
    "tests/services/test_exam_plan.py",
    "tests/services/test_anki_chained_whole.py",
    "tests/services/test_first_report_of_day.py",
)


def pytest_runtest_setup(item: pytest.Item) -> None:
    """New SQLite collections come from the migrated template (tests/migrated_template.py),
    except in the tests about migrating one."""
    where = Path(item.path).resolve().relative_to(ROOT).as_posix()
    migrated_template.enable(not where.startswith(migrated_template.REAL_MIGRATIONS))


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    def light(item: pytest.Item) -> bool:
        where = Path(item.path).resolve().relative_to(ROOT).as_posix()
        return not where.startswith(HEAVY_FIRST)

    items.sort(key=light)  # stable: everything else keeps pytest's order


@pytest.fixture(autouse=True)
def only_sqlite_touches_open_databases() -> Iterator[None]:
    """Fail any test in which code opened, copied, renamed or deleted a database file (or its
    -wal/-shm) outside SQLite while this process held a connection to it (tests/guard.py)."""
    start = len(guard.violations)
    yield
    found = guard.violations[start:]
    del guard.violations[start:]
    if found:
        pytest.fail("only SQLite may touch an open database:\n" + "\n".join(found), False)


@pytest.fixture
def clock() -> FixedClock:
    return FixedClock(NOW)


def _pg_available() -> str | None:
    try:
        import psycopg

        raw = PG_URL.replace("postgresql+psycopg://", "postgresql://")
        with psycopg.connect(raw, connect_timeout=3):
            return None
    except Exception as exc:  # noqa: BLE001 - any failure means "not available"
        return str(exc).splitlines()[0] if str(exc) else type(exc).__name__


_PG_PROBLEM: list[str | None] = []


def pg_problem() -> str | None:
    if not _PG_PROBLEM:
        _PG_PROBLEM.append(_pg_available())
    return _PG_PROBLEM[0]


def pg_schema_url(schema: str) -> str:
    sep = "&" if "?" in PG_URL else "?"
    return f"{PG_URL}{sep}options=-csearch_path%3D{schema}"


def _need_pg() -> None:
    problem = pg_problem()
    if problem:
        if os.environ.get("CI"):
            pytest.fail(f"PostgreSQL unavailable under CI: {problem}")
        pytest.skip(f"PostgreSQL unavailable: {problem}")


@pytest.fixture
def pg_url() -> Iterator[str]:
    """A fresh, empty PostgreSQL schema for one test."""
    _need_pg()
    import sqlalchemy as sa

    schema = f"fc_test_{uuid.uuid4().hex[:12]}"
    engine = sa.create_engine(PG_URL)
    with engine.begin() as conn:
        conn.exec_driver_sql(f"CREATE SCHEMA {schema}")
    try:
        yield pg_schema_url(schema)
    finally:
        with engine.begin() as conn:
            conn.exec_driver_sql(f"DROP SCHEMA IF EXISTS {schema} CASCADE")
        engine.dispose()


@pytest.fixture(scope="session")
def pg_head_schemas() -> Iterator[HeadSchemas]:
    """This process's PostgreSQL schema at head (migrated at its first use, by the migrations)."""
    schemas = HeadSchemas(PG_URL, pg_schema_url)
    yield schemas
    schemas.close()


@pytest.fixture
def pg_head_url(pg_head_schemas: HeadSchemas) -> Iterator[str]:
    """A PostgreSQL schema at the migration head holding no rows, as a fresh migration leaves
    it; emptied after the test (or dropped, if the test changed its shape)."""
    _need_pg()
    url = pg_head_schemas.checkout()
    try:
        yield url
    finally:
        pg_head_schemas.checkin()


@pytest.fixture(scope="session", autouse=True)
def _template_folder(tmp_path_factory: pytest.TempPathFactory) -> None:
    """Where this process's migrated SQLite template is made, at its first use."""
    folder: list[Path] = []

    def make() -> Path:
        if not folder:
            folder.append(tmp_path_factory.mktemp("template"))
        return folder[0]

    migrated_template.where(make)


@pytest.fixture(scope="session")
def sqlite_template() -> Path:
    """A migrated SQLite file, made once per process and copied per test."""
    return migrated_template.template()


@pytest.fixture
def sqlite_url(tmp_path: Path, sqlite_template: Path) -> str:
    target = tmp_path / "fc.sqlite3"
    shutil.copy(sqlite_template, target)
    return f"sqlite:///{target}"


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def db_url(request: pytest.FixtureRequest) -> str:
    """Each test using this runs on SQLite and on PostgreSQL, on a database at the migration
    head holding no rows."""
    if request.param == "sqlite":
        return str(request.getfixturevalue("sqlite_url"))
    return str(request.getfixturevalue("pg_head_url"))


@pytest.fixture
def fc(db_url: str, clock: FixedClock) -> Iterator[object]:
    from flashcore.services import Flashcore

    collection = Flashcore.open(db_url, clock=clock, create=True, timezone="UTC")
    yield collection
    collection.close()


@pytest.fixture
def fc_sqlite(sqlite_url: str, clock: FixedClock) -> Iterator[object]:
    from flashcore.services import Flashcore

    collection = Flashcore.open(sqlite_url, clock=clock, create=True, timezone="UTC")
    yield collection
    collection.close()


def write_deck(path: Path, body: str, *, name: str = "Test::Deck", key: str = "test") -> Path:
    path.write_text(f'[deck]\nname = "{name}"\nkey = "{key}"\n\n' + body, encoding="utf-8")
    return path


TYPE_I_CARD = """
[[cards]]
id = "t1"
front = "Type I fact"
back = "IgE"
topics = ["Immunology::Hypersensitivity::Type I"]
qids = ["uworld:1001"]
"""  # one card whose question id a qbank log can miss


SMALL_DECK = """
[[cards]]
id = "t1-ige"
front = "Which antibody mediates type I hypersensitivity?"
back = "IgE"
topics = ["Immunology::Hypersensitivity::Type I"]
qids = ["uworld:1001"]

[[cards]]
id = "t1-cells"
cloze = "Allergen cross-links IgE on {{c1::mast cells}} and {{c2::basophils}}."
topics = ["Immunology::Hypersensitivity::Type I"]

[[cards]]
id = "t4-cells"
front = "Which cells mediate type IV hypersensitivity?"
back = "T cells"
topics = ["Immunology::Hypersensitivity::Type IV"]
"""


@pytest.fixture(autouse=True)
def no_background_jobs() -> Iterator[None]:
    """Automatic backups and checks start no process in the tests: the tests that are about
    them switch `background.MODE` to "inline" (the same work, at once) or "process"."""
    from flashcore.storage import background

    background.MODE[0] = "off"
    yield
    background.MODE[0] = "off"


@pytest.fixture
def inline_jobs() -> str:
    """Background safety work runs at once in the calling thread."""
    from flashcore.storage import background

    background.MODE[0] = "inline"
    return "inline"


@pytest.fixture
def every_missed_topic_pulls(monkeypatch: pytest.MonkeyPatch) -> None:
    """Fresh misses pull every missed topic's cards forward, whatever its flashcards say (as
    before issue 21's pull gate): for tests of a pull's mechanics, not of which topics pull
    (tests/services/test_pull_forward_gate.py)."""
    from flashcore.core import weakness

    monkeypatch.setattr(weakness, "PULL_FORWARD_WHERE", "all")
