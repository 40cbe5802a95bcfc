"""Database fixtures of released schemas: make one, dump it, load it.

A fixture is `tests/migrations/fixtures/<revision>.json`: every row of every table of a database
at that revision, written once when the revision is released and never regenerated (it stands
for the databases students have on disk). Values are portable: datetimes as ISO 8601 in UTC with
an offset, dates as ISO dates, JSON columns as JSON; they are converted by the column types
reflected from the database they are loaded into, so one file serves SQLite and PostgreSQL.

Make the fixture of a new revision (the current head) with:

    python -m tests.migrations.fixtures            # writes fixtures/<head>.json
    python -m tests.migrations.fixtures 0001       # content made at head, then downgraded

The content is made with flashcore itself (decks, answers in every card state, suspended,
buried, flagged and leech cards, qbank imports with pull-forwards, an alias, two profiles),
then the database is downgraded to the wanted revision and dumped.
"""

from __future__ import annotations

import json
import sys
import tempfile
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import sqlalchemy as sa

from flashcore.storage.repos.answering import CHAINED, before_state
from flashcore.storage.tables import review_logs
from flashcore.storage.types import UTCDateTime, from_micros, pack_before, to_micros

FOLDER = Path(__file__).resolve().parent / "fixtures"
ROOT = Path(__file__).resolve().parents[2]
START = datetime(2026, 10, 20, 9, 0, tzinfo=UTC)


def fixture_paths() -> dict[str, Path]:
    """Revision -> fixture file, for every fixture there is."""
    return {p.stem: p for p in sorted(FOLDER.glob("*.json"))}


def read_fixture(path: Path) -> dict[str, Any]:
    data: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    return data


# ---------------------------------------------------------------- dump and load


def _reflect(engine: sa.Engine) -> sa.MetaData:
    meta = sa.MetaData()
    meta.reflect(engine)
    return meta


def _columns_and_keys(engine: sa.Engine, wanted: set[str] | None = None) -> dict[str, sa.Table]:
    """Each table (those in `wanted`, when given) with its columns, their reflected types and
    its primary key, in the database's order: what a dump reads. A full `MetaData.reflect`
    would also read every foreign key, index and constraint, most of a dump's time."""
    inspector = sa.inspect(engine)
    names = [n for n in inspector.get_table_names() if wanted is None or n in wanted]
    # one catalog query for all the tables where the dialect has one (PostgreSQL)
    all_columns = inspector.get_multi_columns(filter_names=names)
    all_keys = inspector.get_multi_pk_constraint(filter_names=names)
    meta = sa.MetaData()
    tables = {}
    for name in names:
        key = all_keys[(None, name)]["constrained_columns"]
        columns = [sa.Column(c["name"], c["type"]) for c in all_columns[(None, name)]]
        table = sa.Table(name, meta, *columns)
        if key:
            table.append_constraint(sa.PrimaryKeyConstraint(*key))
        tables[name] = table
    return tables


def _portable(value: Any, column: sa.Column[Any]) -> Any:
    if value is None:
        return None
    if _is_log_time(column) and isinstance(value, int):
        return from_micros(value).isoformat()
    if isinstance(column.type, sa.DateTime):
        aware = value if value.tzinfo is not None else value.replace(tzinfo=UTC)
        return aware.astimezone(UTC).isoformat()
    if isinstance(value, date):
        return value.isoformat()
    return value


# The review log's times, stored as integer microseconds on SQLite since schema 0012
# (`UTCMicros`), and the imported answers' due after (schema 0027): dumped and loaded as the
# datetimes they are.
_LOG_TIMES = {"reviewed_at", "due_before", "last_review_before", "buried_until_before", "due_after"}
_LOG_TIMES_OF = {"review_logs": _LOG_TIMES, "imported_answers": {"due_after"}}


def _is_log_time(column: sa.Column[Any]) -> bool:
    return column.name in _LOG_TIMES_OF.get(column.table.name, ()) and not isinstance(
        column.type, sa.DateTime
    )


def _native(value: Any, column: sa.Column[Any], dialect: sa.Dialect) -> Any:
    if value is None:
        return None
    if _is_log_time(column):
        return to_micros(datetime.fromisoformat(value))
    if isinstance(column.type, sa.DateTime):
        return UTCDateTime().process_bind_param(datetime.fromisoformat(value), dialect)
    if isinstance(column.type, sa.Date):
        return date.fromisoformat(value)
    if isinstance(column.type, sa.JSON):
        return value
    if not isinstance(value, str | int | float | bool):
        return json.dumps(value)  # a JSON column reflected as plain text
    return value


def dump(engine: sa.Engine, columns: dict[str, list[str]] | None = None) -> dict[str, Any]:
    """Every row of every table (in primary-key order), portable; only the tables and columns
    in `columns` when given (those of an older revision, say)."""
    tables: dict[str, Any] = {}
    with engine.connect() as conn:
        wanted = None if columns is None else set(columns)
        for name, table in sorted(_columns_and_keys(engine, wanted).items()):
            names = columns[name] if columns is not None else list(table.columns.keys())
            if name == "review_logs" and "packed_before" in table.c:
                tables[name] = {"columns": names, "rows": _packed_log(conn, names)}
                continue
            cols = [table.c[c] for c in names]
            order = list(table.primary_key.columns) or list(table.columns)
            rows = [
                [_portable(v, c) for v, c in zip(row, cols, strict=True)]
                for row in conn.execute(sa.select(*cols).order_by(*order))
            ]
            if name == "review_logs" and "chained" in table.c:
                _unchain(conn, table, names, rows)
            tables[name] = {"columns": names, "rows": rows}
    return tables


def _plain(value: Any) -> Any:
    return value.astimezone(UTC).isoformat() if isinstance(value, datetime) else value


def _packed_log(conn: sa.Connection, names: list[str]) -> list[list[Any]]:
    """The review log since schema 0014 (packed), read through its column types, as the values
    it stands for: every before-state value by name (a chained row's written out, `chained`
    as stored), the retention as a float, no sibling as `[]`; `packed_before` as its text. The
    columns of an earlier revision come out as that revision held them."""
    rows = []
    for row in conn.execute(sa.select(review_logs).order_by(review_logs.c.id)):
        stored = dict(row._mapping)
        given = before_state(conn, stored)
        given["chained"] = stored["due_before"] is None
        given["packed_before"] = pack_before(stored["packed_before"])
        rows.append([_plain(given[n]) for n in names])
    return rows


def _unchain(conn: sa.Connection, table: sa.Table, names: list[str], rows: list[list[Any]]) -> None:
    """Dumped review-log rows (in id order, schemas 0012 and 0013) with each chained row's
    before-state written out from the card's previous row: the logical content, whatever the
    storage."""
    c = table.c
    source = (c.step_after, c.stability_after, c.difficulty_after, c.due_after, c.reviewed_at,
              c.desired_retention)  # fmt: skip
    at_id = names.index("id")
    chained = {}
    for log_id, card_id in conn.execute(sa.select(c.id, c.card_id).where(c.chained.is_(True))):
        previous = conn.execute(
            sa.select(*source)
            .where(c.card_id == card_id, c.id < log_id)
            .order_by(c.id.desc())
            .limit(1)
        ).one()
        chained[log_id] = {
            name: _portable(value, col)
            for name, value, col in zip(CHAINED, previous, source, strict=True)
        }
    for row in rows:
        full = chained.get(row[at_id])
        if full is None:
            continue
        for column in CHAINED:
            if column in names:
                row[names.index(column)] = full[column]


# Tables the database's own triggers keep (schema 0018: each topic's cards; schema 0024: the
# kept index's generation, counted up as topics and links are loaded).
FILLED_BY_TRIGGERS = ("topic_cards", "topic_index_cache")


def load(engine: sa.Engine, fixture: dict[str, Any]) -> None:
    """Insert the fixture's rows into the empty tables of `engine` (at the fixture's revision),
    parents first; on PostgreSQL move each id sequence past the loaded ids. A table that the
    database's triggers fill as the others are loaded (FILLED_BY_TRIGGERS) is loaded last,
    emptied first: it holds the fixture's rows, as written."""
    meta = _reflect(engine)
    last = [t for t in meta.sorted_tables if t.name in FILLED_BY_TRIGGERS]
    with engine.begin() as conn:
        for table in [t for t in meta.sorted_tables if t not in last] + last:
            if table.name == "alembic_version":
                continue
            data = fixture["tables"].get(table.name)
            if data is None or not data["rows"]:
                continue
            cols = [table.c[c] for c in data["columns"]]
            if table in last:
                conn.execute(table.delete())
            rows = [
                {c.name: _native(v, c, engine.dialect) for v, c in zip(row, cols, strict=True)}
                for row in data["rows"]
            ]
            conn.execute(table.insert(), rows)
            if engine.dialect.name == "postgresql" and "id" in table.c:
                conn.execute(
                    sa.text(
                        "SELECT setval(pg_get_serial_sequence(:t, 'id'), (SELECT MAX(id) FROM "
                        f'"{table.name}"))'
                    ),
                    {"t": table.name},
                )


# ---------------------------------------------------------------- making content


def released_database(
    request: Any, tmp_path: Path, revision: str, then: str | None = None
) -> tuple[str, dict[str, Any]]:
    """A database at `revision` holding that release's fixture rows (upgraded by Alembic to
    `then` afterwards, when given), on the backend the requesting fixture's param names
    ("sqlite": a file in `tmp_path`; else the test's PostgreSQL schema); returns its URL and the
    fixture. SQLite: this process's file made so, copied (tests/sqlite_templates.py)."""
    from flashcore.storage.migrate import migrations_dir
    from tests import sqlite_templates

    fixture = read_fixture(FOLDER / f"{revision}.json")
    if request.param == "sqlite":

        def make(url: str) -> None:
            _released(url, revision, fixture, then)

        key = ("released", str(migrations_dir()), revision, then)
        url = sqlite_templates.copied(key, make, tmp_path / "released.sqlite3")
    else:
        url = str(request.getfixturevalue("pg_url"))
        _released(url, revision, fixture, then)
    return url, fixture


def _released(url: str, revision: str, fixture: dict[str, Any], then: str | None) -> None:
    """A new database (file or schema) at `revision`, the fixture loaded, upgraded to `then`."""
    from flashcore.storage.db import make_engine, sqlite_path
    from flashcore.storage.migrate import upgrade
    from tests import sqlite_templates

    path = sqlite_path(url)
    if path is not None:
        sqlite_templates.at_revision(path, revision)
    engine = make_engine(url, create=True)
    try:
        if path is None:
            upgrade(engine, revision)
        load(engine, fixture)
        if then is not None:
            upgrade(engine, then)
    finally:
        engine.dispose()


def make_content(url: str, folder: Path) -> datetime:
    """A collection with real content in every table; returns the clock's last instant."""
    from flashcore.core.clock import FixedClock
    from flashcore.core.model import Rating
    from flashcore.services import Flashcore, assess, exam, study
    from flashcore.services.qbank import add_alias, import_log
    from flashcore.services.study import answer, build_queue, set_cards

    clock = FixedClock(START)
    decks = ROOT / "decks"
    ratings = (Rating.GOOD, Rating.AGAIN, Rating.GOOD, Rating.EASY, Rating.HARD, Rating.GOOD)
    with Flashcore.open(url, clock=clock, create=True, timezone="America/New_York") as fc:
        fc.config_set("leech_threshold", "2")
        fc.config_set("new_per_day", "12")
        (report,) = fc.add_decks([decks / "immunology.toml"])
        assert report.ok, report.problems
        step = 0
        for _day in range(14):
            for item in build_queue(fc, limit=25).items:
                rating = ratings[(step * 7 + item.card_id) % len(ratings)]
                answer(fc, item.card_id, rating, duration_ms=4000 + step % 9 * 1000)
                step += 1
                clock.advance(timedelta(seconds=50))
            clock.advance(timedelta(hours=23, minutes=30))
        cards = fc.cards()
        by_state: dict[str, list[int]] = {}
        for card in cards:
            by_state.setdefault(card["state"], []).append(card["card_id"])
        new = [c["card_id"] for c in cards if c["state"] == "new"]
        set_cards(fc, "suspend", new[:2])
        set_cards(fc, "flag", new[2:4] + by_state.get("review", [])[:2])
        set_cards(fc, "bury", new[4:6])
        # fresh answers: learning and relearning cards exist right now
        for card_id in new[6:9]:
            answer(fc, card_id, Rating.AGAIN, duration_ms=7000)
        for card_id in by_state.get("review", [])[2:5]:
            answer(fc, card_id, Rating.AGAIN, duration_ms=9000)
        sample = decks / "samples"
        # missed.csv runs to 2026-11-16, later than this clock: an import refuses days after
        # tomorrow (since issue 20), so the imports happen the day after its last
        clock.set(max(clock.now(), datetime(2026, 11, 17, 9, 0, tzinfo=UTC)))
        import_log(fc, (sample / "uworld-paste.tsv").read_bytes(), origin="paste")
        import_log(fc, (sample / "missed.csv").read_bytes(), origin=str(sample / "missed.csv"))
        add_alias(fc, "Allergy shots", "Immunology::Hypersensitivity::Type I")
        if "qbank_sums" in tables_at_head():  # schema 0016: the sums a large history keeps
            from flashcore.storage import repos
            from flashcore.storage.uow import run_write

            today = clock.now().date()
            run_write(fc.engine, lambda w: repos.sync_sums(w, fc.profile_id, today, 30.0))
        if "topic_index_cache" in tables_at_head():  # schema 0024: the index a report keeps
            from flashcore.services import weakness

            weakness.report(fc)
        if "topic_scores_kept" in tables_at_head():  # schema 0026: a large history's scores
            from flashcore.services import matching, weakness

            limit = matching.SUM_IN_DATABASE_FROM  # kept from this small one's too
            matching.SUM_IN_DATABASE_FROM = weakness.SUM_IN_DATABASE_FROM = 0
            try:
                weakness.report(fc)
            finally:
                matching.SUM_IN_DATABASE_FROM = weakness.SUM_IN_DATABASE_FROM = limit
        if hasattr(study, "raise_new_limit"):  # schema 0006: today's raised new-card limit
            study.raise_new_limit(fc, topic="Immunology::Hypersensitivity::Type I", extra=3)
        if hasattr(exam, "set_exam"):  # schema 0007: an exam, and a self-assessment's report
            exam.set_exam(fc, date(2027, 1, 15), minutes_per_day=90, buffer_days=5)
            assess.add(fc, "NBME 31", 58, report=sample / "nbme-report.txt")
            assess.add(fc, "NBME 30", 54, taken_on=clock.now().date() - timedelta(days=9))
        fc.create_profile("alice", timezone="UTC")
    with Flashcore.open(url, clock=clock, profile="alice") as alice:
        deck = folder / "alice.toml"
        deck.write_text(
            '[deck]\nname = "Alice::Own"\nkey = "alice"\n\n[[cards]]\nid = "a1"\n'
            'front = "Ünïcode <b>tag</b> & \\"quotes\\""\nback = "multi\\nline"\n'
            'topics = ["Own::Topic"]\nqids = ["amboss:X12"]\n\n[[cards]]\nid = "a2"\n'
            'cloze = "{{c1::one}} {{c2::two}} {{c3::three}}"\ntags = ["own"]\n',
            encoding="utf-8",
        )
        (report,) = alice.add_decks([deck])
        assert report.ok, report.problems
        first = alice.cards()[0]["card_id"]
        answer(alice, first, Rating.GOOD, duration_ms=3000)
        if "anki_cards" in tables_at_head():  # schema 0008: a card's history taken from Anki
            _import_anki_history(alice, alice.cards()[1]["card_id"])
        if "imported_answers" in tables_at_head():  # schema 0027: a first import's answers
            from flashcore.services.export import export_anki

            export_anki(alice, folder / "alice.apkg", with_scheduling=True)
            alice.create_profile("bob", timezone="UTC")
    if "imported_answers" in tables_at_head():
        with Flashcore.open(url, clock=clock, profile="bob") as bob:
            (report,) = bob.add_decks([folder / "alice.apkg"], with_scheduling=True)
            assert report.ok, report.problems
    return clock.now()


def tables_at_head() -> set[str]:
    from flashcore.storage.tables import metadata

    return set(metadata.tables)


def _import_anki_history(fc: Any, card_id: int) -> None:
    """A card reviewed twice in Anki, imported with its scheduling (no `anki` needed)."""
    from flashcore.services.anki_scheduling import apply_scheduling
    from flashcore.storage.uow import run_write
    from tests.anki_fake import FakePackage, answers, review_card

    now = fc.now()
    first, last = now - timedelta(days=6), now - timedelta(days=5)
    card = review_card(77, due=now + timedelta(days=4), ivl=9, s=9.5, d=5.2, last=last)
    package = FakePackage([card], answers(77, [first, last], [-600, 9]))
    run_write(fc.engine, lambda s: apply_scheduling(s, fc, package, {77: card_id}, now))


def make_fixture(revision: str) -> Path:
    from flashcore.storage.db import make_engine
    from flashcore.storage.migrate import downgrade, read_revision

    with tempfile.TemporaryDirectory() as tmp:
        url = f"sqlite:///{Path(tmp) / 'fixture.sqlite3'}"
        now = make_content(url, Path(tmp))
        engine = make_engine(url)
        try:
            downgrade(engine, revision)
            assert read_revision(engine) == revision
            tables = dump(engine)
        finally:
            engine.dispose()
    tables.pop("alembic_version")
    counts = {name: len(t["rows"]) for name, t in tables.items()}
    empty = [name for name, n in counts.items() if not n]
    assert not empty, f"tables without content: {empty}"
    head = {
        "revision": revision,
        "made_with": f"python -m tests.migrations.fixtures {revision}",
        "now": now.isoformat(),
        "counts": counts,
    }
    # One row a line, so a fixture reads and diffs well.
    lines = [json.dumps(head, ensure_ascii=False)[:-1] + ', "tables": {']
    for i, (name, table) in enumerate(tables.items()):
        lines.append(f'{json.dumps(name)}: {{"columns": {json.dumps(table["columns"])}, "rows": [')
        lines.append(",\n".join(json.dumps(row, ensure_ascii=False) for row in table["rows"]))
        lines.append("]}" + ("," if i < len(tables) - 1 else ""))
    lines.append("}}")
    FOLDER.mkdir(exist_ok=True)
    target = FOLDER / f"{revision}.json"
    target.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return target


if __name__ == "__main__":
    from flashcore.storage.migrate import HEAD

    wanted = sys.argv[1] if len(sys.argv) > 1 else HEAD
    made = make_fixture(wanted)
    print(f"{made}: {read_fixture(made)['counts']}")


def trigger_names(conn: sa.Connection, containing: str = "") -> set[str]:
    """The triggers of the connection's schema whose names contain `containing`."""
    if conn.dialect.name == "sqlite":
        query = "SELECT name FROM sqlite_master WHERE type = 'trigger'"
    else:
        query = (
            "SELECT DISTINCT trigger_name FROM information_schema.triggers "
            "WHERE trigger_schema = current_schema()"
        )
    return {str(n) for n in conn.exec_driver_sql(query).scalars() if containing in str(n)}
