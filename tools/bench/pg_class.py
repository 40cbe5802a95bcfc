"""Benchmark: a class on one PostgreSQL database.

    python -m tools.bench.pg_class [--students 100] [--cards 20000] [--reviews 100000]
                                   [--answering 20] [--seconds 60] [--pace 2.0]
                                   [--server postgresql+psycopg://postgres@127.0.0.1:5432]
                                   [--database flashcore_class] [--keep DIR] [--json]

What a school or a study group running one server for its students meets:

1. **Build**: one student's collection is the engine benchmark's synthetic collection
   (`tools.bench.engine`, `--cards` cards with `--reviews` review-log rows, cached with
   `--keep`); it is copied into a fresh PostgreSQL database (`--database`, dropped and
   re-created) as profile `student-000`, then cloned inside the server into `--students`
   profiles (`student-001`, ...), every id shifted so that each student owns their rows.
2. **Settle and size**: the class database is vacuumed and analysed, then checkpointed, as a
   server's autovacuum and checkpoints would have left it (CI servers run without autovacuum);
   its size on the server, per student and per review-log row.
3. **Answering**: `--answering` students answer at once, each in their own process on its
   own connection (loopback), through the product's reviewer session (`StudySession`: show,
   the quiet work the reviewer does while the student reads — `idle()` and `prepare()` after
   the card is shown and `prepare()` every second: it warms a new connection up for its first
   answer and rebuilds the ranking when due —, answer, next card), for `--seconds`
   seconds of wall time, a student reading each card for about `--pace` seconds (uniform
   0.5-1.5x, the quiet work included; `--pace 0` answers back to back, a stress case far
   beyond a class). Each answer's time is the `answer` call (one transaction: the card and its
   review-log row); "answer + next" adds choosing the next card. Each student's first answer
   is reported apart too.
4. **Nothing lost, nothing doubled**: per answering student, the review-log rows and the sum of
   the cards' repetitions grew by exactly the answers their process saw acknowledged.

The issue's target: answer p99 <= 20 ms with 20 students answering at once. The load average
is printed with the figures: on a busy machine they are not comparable.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tools.bench.engine import Options, ensure_built, log, percentile

SERVER = "postgresql+psycopg://postgres@127.0.0.1:5432"
P99_TARGET_MS = 20.0

ANSWERING = """
import json, random, sys, time
from datetime import timedelta
a = json.loads(sys.argv[1])
from flashcore.core.clock import FixedClock, parse_instant
from flashcore.core.model import Rating
from flashcore.services.collection import Flashcore
from flashcore.services.study import StudySession
clock = FixedClock(parse_instant(a["now"]))
fc = Flashcore.open(a["url"], clock=clock, profile=a["profile"])
rng = random.Random(a["seed"])
session = StudySession(fc)
q = session.queue(details=False)
answer_s, answer_next_s, quiet_s, cards, errors = [], [], [], [], []
while time.time() < a["start"]:
    time.sleep(0.005)
deadline = time.monotonic() + a["seconds"]
while q.items and time.monotonic() < deadline:
    card = q.items[0].card_id
    view = session.show(card)
    think = a["pace"] * rng.uniform(0.5, 1.5)
    # while the student reads, the reviewer's quiet work (tui.screens.review: a worker runs it
    # 0.1 s after the card is shown, and prepare() again every second): the WAL checkpoint
    # (SQLite) and prepare(), which warms the session's connection up before its first
    # answer and rebuilds the ranking when it is due
    t0 = time.perf_counter()
    session.idle()
    session.prepare()
    quiet = time.perf_counter() - t0
    quiet_s.append(quiet)
    left = think - quiet
    while left > 0:
        time.sleep(min(1.0, left))
        left -= 1.0
        if left > 0:
            t0 = time.perf_counter()
            session.prepare()
            quiet = time.perf_counter() - t0
            quiet_s.append(quiet)
            left -= quiet
    clock.advance(timedelta(seconds=8 + rng.random() * 8))
    x = rng.random()
    rating = Rating.AGAIN if x < 0.1 else Rating.HARD if x < 0.2 else Rating.GOOD
    t0 = time.perf_counter()
    try:
        session.answer(card, rating, duration_ms=round(think * 1000), expect_version=view.version)
    except Exception as exc:  # reported, never retried: the count check must see it
        errors.append(f"{type(exc).__name__}: {exc}")
        q = session.queue(details=False)
        continue
    t1 = time.perf_counter()
    cards.append(card)
    q = session.queue(details=False)
    answer_s.append(t1 - t0)
    answer_next_s.append(time.perf_counter() - t0)
session.close()
fc.close()
print(json.dumps({"answer": answer_s, "answer_next": answer_next_s, "quiet": quiet_s,
                  "cards": cards, "errors": errors}))
"""


@dataclass(frozen=True, slots=True)
class ClassOptions:
    students: int = 100
    cards: int = 20_000
    reviews: int = 100_000
    answering: int = 20
    seconds: float = 60.0
    pace: float = 2.0
    server: str = SERVER
    database: str = "flashcore_class"
    keep: Path | None = None
    json: bool = False
    reuse: bool = False


def parse_args(argv: Sequence[str] | None) -> ClassOptions:
    p = argparse.ArgumentParser(
        prog="python -m tools.bench.pg_class",
        description="A class of students on one PostgreSQL database: size and answer latency.",
        epilog="example: python -m tools.bench.pg_class --students 100 --answering 20",
    )
    p.add_argument("--students", type=int, default=100, help="profiles in the database")
    p.add_argument("--cards", type=int, default=20_000, help="cards per student")
    p.add_argument("--reviews", type=int, default=100_000, help="review-log rows per student")
    p.add_argument("--answering", type=int, default=20, help="students answering at once")
    p.add_argument("--seconds", type=float, default=60.0, help="answering time (wall)")
    p.add_argument("--pace", type=float, default=2.0,
                   help="seconds a student reads a card, on average (0: back to back)")  # fmt: skip
    p.add_argument("--server", default=SERVER, help="SQLAlchemy URL of the server, no database")
    p.add_argument("--database", default="flashcore_class",
                   help="database to (re)create for the class (dropped first)")  # fmt: skip
    p.add_argument("--keep", type=Path, help="cache one student's built collection here")
    p.add_argument("--json", action="store_true", help="print the results as one JSON document")
    p.add_argument("--reuse", action="store_true",
                   help="keep the class database of an earlier run when it has the same shape")  # fmt: skip
    a = p.parse_args(argv)
    if a.students < 1 or not 1 <= a.answering <= a.students or a.seconds <= 0 or a.pace < 0:
        p.error("need --students >= --answering >= 1, --seconds > 0 and --pace >= 0")
    if a.cards < 100 or a.reviews < a.cards:
        p.error("need --cards >= 100 and --reviews >= --cards")
    return ClassOptions(
        students=a.students, cards=a.cards, reviews=a.reviews, answering=a.answering,
        seconds=a.seconds, pace=a.pace, server=a.server.rstrip("/"), database=a.database,
        keep=a.keep.resolve() if a.keep else None, json=a.json, reuse=a.reuse,
    )  # fmt: skip


# ---------------------------------------------------------------- the class database


def recreate_database(server: str, name: str) -> str:
    """Drop and create `name` on the server; its URL."""
    from sqlalchemy import create_engine, text

    if not name.replace("_", "").isalnum():
        raise SystemExit(f"bench: database name {name!r}: letters, digits and _ only")
    admin = create_engine(f"{server}/postgres", isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
            conn.execute(text(f'CREATE DATABASE "{name}"'))
    finally:
        admin.dispose()
    return f"{server}/{name}"


def _copied_tables(metadata: Any) -> list[Any]:
    """The tables copied row by row, parents first: all but those the database's triggers
    keep (`topic_cards`, schema 0018: filled as the topics, cards and links are copied)."""
    from flashcore.storage.tables import topic_cards

    return [t for t in metadata.sorted_tables if t.name != topic_cards.name]


def _id_tables(metadata: Any) -> dict[str, Any]:
    """Tables whose primary key is one integer `id` column: their ids are shifted per student."""
    return {
        t.name: t
        for t in metadata.sorted_tables
        if [c.name for c in t.primary_key.columns] == ["id"]
    }


def copy_first_student(sqlite_path: Path, url: str) -> dict[str, int]:
    """Migrate the class database, copy one student's collection into it as `student-000`;
    the id span of every id table (max id + 1), the step between two students' ids."""
    from sqlalchemy import create_engine, func, insert, select

    from flashcore.storage.db import url_for_path
    from flashcore.storage.migrate import upgrade
    from flashcore.storage.tables import metadata

    target = create_engine(url)
    source = create_engine(url_for_path(sqlite_path))
    try:
        upgrade(target)
        ids = _id_tables(metadata)
        spans: dict[str, int] = {}
        with source.connect() as src, target.begin() as dst:
            for table in _copied_tables(metadata):
                if table.name in ids:
                    spans[table.name] = (
                        src.execute(select(func.max(table.c.id))).scalar() or 0
                    ) + 1
                rows = [dict(r._mapping) for r in src.execute(select(table))]
                if table.name == "profiles":
                    if len(rows) != 1:
                        raise SystemExit(f"bench: the built collection has {len(rows)} profiles")
                    rows[0]["name"] = "student-000"
                for start in range(0, len(rows), 5000):
                    dst.execute(insert(table), rows[start : start + 5000])
        return spans
    finally:
        source.dispose()
        target.dispose()


def clone_students(url: str, students: int, spans: dict[str, int]) -> None:
    """Students 1..n-1 as copies of student 0, made inside the server (INSERT ... SELECT with
    every id and every reference shifted by the student's number times the table's span)."""
    from sqlalchemy import create_engine, literal, text

    from flashcore.storage.tables import metadata

    ids = _id_tables(metadata)
    engine = create_engine(url)
    try:
        for k in range(1, students):
            with engine.begin() as conn:
                for table in _copied_tables(metadata):
                    exprs = []
                    for col in table.columns:
                        refs = [fk.column.table.name for fk in col.foreign_keys]
                        if table.name == "profiles" and col.name == "name":
                            exprs.append(literal(f"student-{k:03d}").label(col.name))
                        elif col.name == "id" and table.name in ids:
                            exprs.append((col + k * spans[table.name]).label(col.name))
                        elif refs and refs[0] in ids:
                            exprs.append((col + k * spans[refs[0]]).label(col.name))
                        else:
                            exprs.append(col)
                    first = _first_student(table, ids, spans)
                    conn.execute(
                        table.insert().from_select(
                            [c.name for c in table.columns], _select(exprs).where(first)
                        )
                    )
            if k % 10 == 0 or k == students - 1:
                log(f"cloned {k + 1} of {students} students")
        with engine.begin() as conn:
            for name in ids:
                conn.execute(
                    text(
                        f"SELECT setval(pg_get_serial_sequence('{name}', 'id'), "
                        f"(SELECT coalesce(max(id), 0) + 1 FROM {name}), false)"
                    )
                )
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.execute(text("ANALYZE"))
    finally:
        engine.dispose()


def _select(exprs: list[Any]) -> Any:
    from sqlalchemy import select

    return select(*exprs)


def _first_student(table: Any, ids: dict[str, Any], spans: dict[str, int]) -> Any:
    """The condition picking student 0's rows of `table`."""
    if table.name == "profiles":
        return table.c.id < spans["profiles"]
    if "profile_id" in table.c:
        return table.c.profile_id < spans["profiles"]
    for col in table.columns:
        refs = [fk.column.table.name for fk in col.foreign_keys]
        if refs and refs[0] in ids:
            return col < spans[refs[0]]
    raise SystemExit(f"bench: cannot tell whose rows {table.name} holds: update the bench")


def same_shape(url: str, opts: ClassOptions) -> bool:
    """Whether the database holds a class of this many students of this many cards."""
    from alembic.script import ScriptDirectory
    from sqlalchemy import create_engine, text
    from sqlalchemy.exc import SQLAlchemyError

    from flashcore.storage.migrate import alembic_config

    head = ScriptDirectory.from_config(alembic_config()).get_current_head()
    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            revision = conn.execute(text("SELECT version_num FROM alembic_version")).scalar()
            students = conn.execute(text("SELECT count(*) FROM profiles")).scalar()
            cards = conn.execute(text("SELECT count(*) FROM cards")).scalar()
    except SQLAlchemyError:
        return False
    finally:
        engine.dispose()
    if revision != head:
        log(f"the class database is at schema {revision}, not {head}: rebuilding it")
        return False
    return students == opts.students and cards == opts.students * opts.cards


def settle(url: str) -> str:
    """What a server's autovacuum would have done by the time a class studies: VACUUM (ANALYZE)
    the class database (the build's and earlier runs' dead rows, the visibility map, fresh
    statistics), then a CHECKPOINT so that the build's WAL is not flushed inside the answering
    window. Returns the server's `autovacuum` setting (CI servers run with it off)."""
    from sqlalchemy import create_engine, text
    from sqlalchemy.exc import DBAPIError

    engine = create_engine(url, isolation_level="AUTOCOMMIT")
    try:
        with engine.connect() as conn:
            setting = str(conn.execute(text("SHOW autovacuum")).scalar())
            conn.execute(text("VACUUM (ANALYZE)"))
            try:
                conn.execute(text("CHECKPOINT"))
            except DBAPIError:  # needs superuser or pg_checkpoint: the window may meet one
                log("CHECKPOINT refused (not a superuser); measuring without it")
    finally:
        engine.dispose()
    return setting


def sizes(url: str, database: str) -> dict[str, int]:
    from sqlalchemy import create_engine, text

    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            total = conn.execute(text("SELECT pg_database_size(:d)"), {"d": database}).scalar()
            logs = conn.execute(text("SELECT count(*) FROM review_logs")).scalar()
            log_bytes = conn.execute(text("SELECT pg_total_relation_size('review_logs')")).scalar()
            cards = conn.execute(text("SELECT count(*) FROM cards")).scalar()
    finally:
        engine.dispose()
    return {
        "database_bytes": int(total or 0),
        "review_logs": int(logs or 0),
        "review_log_bytes": int(log_bytes or 0),
        "cards": int(cards or 0),
    }


# ---------------------------------------------------------------- answering


def counts(url: str, profiles: Sequence[str]) -> dict[str, tuple[int, int]]:
    """Per profile: (review-log rows, sum of the cards' repetitions)."""
    from sqlalchemy import create_engine, text

    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            rows = conn.execute(
                text(
                    "SELECT p.name, "
                    "(SELECT count(*) FROM review_logs r WHERE r.profile_id = p.id), "
                    "(SELECT coalesce(sum(c.reps), 0) FROM cards c WHERE c.profile_id = p.id) "
                    "FROM profiles p WHERE p.name = ANY(:names)"
                ),
                {"names": list(profiles)},
            ).all()
    finally:
        engine.dispose()
    return {name: (int(logs), int(reps)) for name, logs, reps in rows}


def answer_at_once(opts: ClassOptions, url: str, now_iso: str, work: Path) -> dict[str, Any]:
    profiles = [f"student-{k:03d}" for k in range(opts.answering)]
    before = counts(url, profiles)
    env = dict(os.environ)
    root = str(Path(__file__).resolve().parents[2])
    env["PYTHONPATH"] = os.pathsep.join(p for p in (root, env.get("PYTHONPATH", "")) if p)
    env["FLASHCORE_HOME"] = str(work / "home")
    start = time.time() + 3.0 + 0.15 * opts.answering  # every process open and ready
    procs = []
    for i, profile in enumerate(profiles):
        args = {"url": url, "profile": profile, "now": now_iso, "seed": 1000 + i,
                "seconds": opts.seconds, "pace": opts.pace, "start": start}  # fmt: skip
        out = (work / f"{profile}.out").open("w+b")
        err = (work / f"{profile}.err").open("w+b")
        cmd = [sys.executable, "-c", ANSWERING, json.dumps(args)]
        procs.append((profile, subprocess.Popen(cmd, stdout=out, stderr=err, env=env), out, err))
    load_during = []
    while any(p.poll() is None for _, p, _, _ in procs):
        time.sleep(1.0)
        if time.time() > start:
            load_during.append(os.getloadavg()[0])
    results: dict[str, Any] = {}
    failures = []
    for profile, proc, out, err in procs:
        out.seek(0)
        err.seek(0)
        if proc.returncode != 0:
            tail = err.read().decode(errors="replace").strip().splitlines()[-3:]
            failures.append(f"{profile} exited {proc.returncode}: {' | '.join(tail)}")
        else:
            results[profile] = json.loads(out.read())
        out.close()
        err.close()
    after = counts(url, profiles)
    answer = [s for r in results.values() for s in r["answer"]]
    answer_next = [s for r in results.values() for s in r["answer_next"]]
    lost = doubled = 0
    for profile, r in results.items():
        acknowledged = len(r["cards"])
        for grew in (
            after[profile][0] - before[profile][0],
            after[profile][1] - before[profile][1],
        ):
            lost += max(0, acknowledged - grew)
            doubled += max(0, grew - acknowledged)
    errors = [e for r in results.values() for e in r["errors"]]

    def spread(values: list[float]) -> dict[str, float]:
        if not values:
            return {}
        return {f"p{p}": round(percentile(values, p) * 1000, 2) for p in (50, 95, 99)} | {
            "max": round(max(values) * 1000, 2)
        }

    # Each student's first answer of the session (on a new connection: what the warm-up is
    # for) apart from the others; the quiet work is what a student's reading time hides.
    first = [r["answer"][0] for r in results.values() if r["answer"]]
    later = [s for r in results.values() for s in r["answer"][1:]]
    quiet = [s for r in results.values() for s in r.get("quiet", [])]
    first_quiet = [r["quiet"][0] for r in results.values() if r.get("quiet")]
    return {
        "answers": len(answer),
        "answers_per_second": round(len(answer) / opts.seconds, 1),
        "answer_ms": spread(answer),
        "answer_next_ms": spread(answer_next),
        "first_answer_ms": spread(first),
        "later_answer_ms": spread(later),
        "quiet_ms": spread(quiet),
        "first_quiet_ms": spread(first_quiet),
        "lost": lost,
        "doubled": doubled,
        "errors": errors[:10],
        "error_count": len(errors),
        "failed_processes": failures,
        "load_during": round(statistics.mean(load_during), 2) if load_during else None,
    }


# ---------------------------------------------------------------- run and report


def run(opts: ClassOptions) -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix="fc-class-") as scratch:
        work = Path(scratch)
        cache = opts.keep or work / "build"
        cache.mkdir(parents=True, exist_ok=True)
        built = ensure_built(Options(cards=opts.cards, reviews=opts.reviews, anki=False), cache)
        now_iso = built.meta["now_iso"]
        started = time.perf_counter()
        url = f"{opts.server}/{opts.database}"
        if opts.reuse and same_shape(url, opts):
            log(f"reusing the class database {opts.database}")
        else:
            url = recreate_database(opts.server, opts.database)
            spans = copy_first_student(built.fc_path, url)
            copied = time.perf_counter() - started
            log(f"student-000 copied in {copied:.1f}s; cloning {opts.students - 1} more")
            clone_students(url, opts.students, spans)
        build_s = time.perf_counter() - started
        autovacuum = settle(url)
        size = sizes(url, opts.database)
        log(f"class built in {build_s:.1f}s; {opts.answering} students answering")
        load_before = os.getloadavg()[0]
        answering = answer_at_once(opts, url, now_iso, work)
    per_student = size["database_bytes"] / opts.students
    p99 = answering["answer_ms"].get("p99")
    return {
        "options": {k: (str(v) if isinstance(v, Path) else v) for k, v in vars_of(opts).items()},
        "build_seconds": round(build_s, 1),
        "size": size | {
            "per_student_mb": round(per_student / 1e6, 1),
            "per_review_log_row_bytes": round(size["review_log_bytes"] / max(1, size["review_logs"]), 1),
        },
        "answering": answering,
        "load_before": round(load_before, 2),
        "server_autovacuum": autovacuum,
        "targets": {
            "answer_p99_ms": {"limit": P99_TARGET_MS, "value": p99,
                              "met": p99 is not None and p99 <= P99_TARGET_MS},
            "nothing_lost_or_doubled": answering["lost"] == 0 and answering["doubled"] == 0
            and not answering["failed_processes"],
        },
    }  # fmt: skip


def vars_of(opts: ClassOptions) -> dict[str, Any]:
    return {name: getattr(opts, name) for name in opts.__slots__}


def render(r: dict[str, Any]) -> str:
    o, s, a = r["options"], r["size"], r["answering"]
    lines = [
        f"class on PostgreSQL: {o['students']} students x {o['cards']:,} cards, "
        f"{o['reviews']:,} review-log rows each (built in {r['build_seconds']} s)",
        f"  database {s['database_bytes'] / 1e6:,.0f} MB: {s['per_student_mb']} MB per student; "
        f"review log {s['review_log_bytes'] / 1e6:,.0f} MB for {s['review_logs']:,} rows "
        f"({s['per_review_log_row_bytes']} bytes a row with its indexes)",
        f"  {o['answering']} students answering at once for {o['seconds']} s, pace {o['pace']} s: "
        f"{a['answers']:,} answers ({a['answers_per_second']}/s)",
        f"  answer       p50 {a['answer_ms'].get('p50')} / p95 {a['answer_ms'].get('p95')} / "
        f"p99 {a['answer_ms'].get('p99')} / max {a['answer_ms'].get('max')} ms "
        f"(target p99 <= {P99_TARGET_MS:g} ms: {'met' if r['targets']['answer_p99_ms']['met'] else 'NOT met'})",
        f"  answer+next  p50 {a['answer_next_ms'].get('p50')} / p95 {a['answer_next_ms'].get('p95')} / "
        f"p99 {a['answer_next_ms'].get('p99')} / max {a['answer_next_ms'].get('max')} ms",
        f"  first answer of each student p50 {a['first_answer_ms'].get('p50')} / max "
        f"{a['first_answer_ms'].get('max')} ms; the others p99 {a['later_answer_ms'].get('p99')} ms",
        f"  quiet work while reading (prepare: the warm-up, a rebuild) p99 "
        f"{a['quiet_ms'].get('p99')} / max {a['quiet_ms'].get('max')} ms; the first card's max "
        f"{a['first_quiet_ms'].get('max')} ms",
        f"  lost {a['lost']}, doubled {a['doubled']}, answers refused {a['error_count']}, "
        f"failed processes {len(a['failed_processes'])}",
        f"  load average: {r['load_before']} before, {a['load_during']} during; the database "
        f"vacuumed and checkpointed first (server autovacuum {r['server_autovacuum']})",
    ]  # fmt: skip
    for failure in a["failed_processes"][:5]:
        lines.append(f"  ! {failure}")
    for error in a["errors"][:5]:
        lines.append(f"  ! {error}")
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    opts = parse_args(argv)
    results = run(opts)
    print(json.dumps(results, indent=2) if opts.json else render(results))
    ok = results["targets"]["nothing_lost_or_doubled"]
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
