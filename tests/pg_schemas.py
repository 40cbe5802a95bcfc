"""PostgreSQL schemas at the migration head for the tests: migrated once per pytest process
(one per xdist worker) by the real migrations, and emptied between tests.

Migrating a fresh schema costs a second or more per test on a loaded machine (every migration's
DDL, then a DROP SCHEMA), and the PostgreSQL variants are most of the suite; emptying the
tables a test wrote costs milliseconds. Measured on the shared 2-core machine at load 5-6, per
test: migrate + drop 1.0-1.5 s, a database cloned from a template and dropped 0.35 s,
TRUNCATE ... RESTART IDENTITY CASCADE of the 24 tables 0.5-0.6 s (it swaps every table's and
index's files), DELETE of the tables holding rows with the sequences restarted 0.02 s; the
check below that the test left the schema's shape alone 0.05-0.1 s.

A test gets the schema exactly as a fresh migration leaves it:
- after each test the schema's catalog (tables, columns, defaults, constraints, indexes,
  triggers, functions, sequences, privileges) and its alembic_version are compared with what the
  migrations made; a test that changed any of it (a downgrade, a dropped trigger) gets its schema
  dropped, and the next test a freshly migrated one;
- otherwise every table that holds rows (alembic_version aside) is emptied with its triggers and
  foreign keys off (`session_replication_role = replica`, which needs a superuser; without one,
  TRUNCATE ... CASCADE), and every sequence that moved restarts, as RESTART IDENTITY does;
- anything that fails while emptying (a lock a test left held) drops the schema instead.

Nothing is kept between runs: the schema is migrated from the migration scripts at the start of
each run, so a new migration is always in it.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Callable

import psycopg

# The schema's relations, read once per look (pg_class has no index on the namespace alone, and
# the server holds every helper's schemas).
_RELATIONS = """
WITH rels AS MATERIALIZED (
  SELECT oid, relname, relkind, relpersistence, relacl, reloptions
  FROM pg_class WHERE relnamespace = %(schema)s::regnamespace
)
"""

# The schema's shape, as one digest: whatever a test could change with DDL.
_CATALOG = """
SELECT md5(coalesce(string_agg(item, E'\\n' ORDER BY item), '')) FROM (
  SELECT 'schema ' || coalesce(n.nspacl::text, '') AS item
    FROM pg_namespace n WHERE n.oid = %(schema)s::regnamespace
  UNION ALL
  SELECT 'rel ' || c.relname || ' ' || c.relkind::text || ' ' || c.relpersistence::text || ' '
         || coalesce(c.relacl::text, '') || ' ' || coalesce(c.reloptions::text, '')
    FROM rels c
  UNION ALL
  SELECT 'col ' || c.relname || ' ' || a.attnum || ' ' || a.attname || ' '
         || format_type(a.atttypid, a.atttypmod) || ' ' || a.attnotnull || ' '
         || coalesce(pg_get_expr(d.adbin, d.adrelid), '') || ' ' || a.attidentity::text
         || a.attgenerated::text || ' ' || coalesce(a.attacl::text, '')
    FROM rels c
    JOIN pg_attribute a ON a.attrelid = c.oid
    LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum
    WHERE a.attnum > 0 AND NOT a.attisdropped
  UNION ALL
  SELECT 'con ' || coalesce(c.relname, '') || ' ' || k.conname || ' '
         || pg_get_constraintdef(k.oid) || ' ' || k.condeferrable || k.condeferred
         || k.convalidated
    FROM pg_constraint k LEFT JOIN rels c ON c.oid = k.conrelid
    WHERE k.connamespace = %(schema)s::regnamespace
  UNION ALL
  SELECT 'idx ' || pg_get_indexdef(i.indexrelid) || ' ' || i.indisvalid
    FROM rels c JOIN pg_index i ON i.indexrelid = c.oid
  UNION ALL
  SELECT 'trg ' || pg_get_triggerdef(t.oid) || ' ' || t.tgenabled::text
    FROM rels c JOIN pg_trigger t ON t.tgrelid = c.oid
    WHERE NOT t.tgisinternal
  UNION ALL
  SELECT 'fn ' || p.oid::regprocedure::text || ' ' || md5(pg_get_functiondef(p.oid))
    FROM pg_proc p WHERE p.pronamespace = %(schema)s::regnamespace AND p.prokind IN ('f', 'p')
  UNION ALL
  SELECT 'seq ' || c.relname || ' ' || s.seqtypid::regtype || ' ' || s.seqstart || ' '
         || s.seqincrement || ' ' || s.seqmin || ' ' || s.seqmax || ' ' || s.seqcycle
    FROM rels c JOIN pg_sequence s ON s.seqrelid = c.oid
  UNION ALL
  SELECT 'type ' || t.typname || ' ' || t.typtype::text || ' '
         || coalesce((SELECT string_agg(e.enumlabel, ',' ORDER BY e.enumsortorder)
                      FROM pg_enum e WHERE e.enumtypid = t.oid), '')
    FROM pg_type t WHERE t.typnamespace = %(schema)s::regnamespace AND t.typtype IN ('e', 'd')
) AS catalog
"""

_TABLES = """
SELECT c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
WHERE n.nspname = %(schema)s AND c.relkind IN ('r', 'p') AND c.relname <> 'alembic_version'
ORDER BY c.relname
"""

_SEQUENCES = """
SELECT c.relname, s.seqstart FROM pg_sequence s JOIN pg_class c ON c.oid = s.seqrelid
WHERE c.relnamespace = %(schema)s::regnamespace ORDER BY 1
"""

_PREFIX = "fc_head_"
# Advisory lock (this key, hashtext(schema name)) held by the process using a schema; apart
# from flashcore's own upgrade lock key (flashcore.storage.migrate.UPGRADE_LOCK_KEY).
_OWNER_KEY = 0x7E57

_SUPERUSER = "SELECT current_setting('is_superuser')"

# A test that left a transaction holding row locks would make the DELETE wait for ever.
_LOCK_TIMEOUT = "5s"


def _raw(url: str) -> str:
    return url.replace("postgresql+psycopg://", "postgresql://", 1)


class HeadSchemas:
    """One schema at head for one pytest process, handed to one test at a time."""

    def __init__(self, server_url: str, schema_url: Callable[[str], str]) -> None:
        self._server = _raw(server_url)
        self._schema_url = schema_url  # the URL of a schema, by its name
        self._conn: psycopg.Connection | None = None
        self._schema: str | None = None
        self._shape: tuple[str, str] = ("", "")
        self._tables: list[str] = []
        self._superuser = False
        self._look_sql = ""
        self._starts: dict[str, int] = {}
        self._left: list[str] = []  # schemas a leaked lock kept from being dropped
        self.migrated = 0  # how many schemas this process migrated (a test checks the reuse)

    def _admin(self) -> psycopg.Connection:
        if self._conn is None or self._conn.closed:
            self._conn = psycopg.connect(
                self._server, autocommit=True, options=f"-c lock_timeout={_LOCK_TIMEOUT}"
            )
        return self._conn

    def checkout(self) -> str:
        """The URL of a schema at head holding no rows."""
        if self._schema is None:
            self._schema = self._migrate_new()
        return self._schema_url(self._schema)

    def checkin(self) -> None:
        """After a test: empty the schema for the next one, or drop it if it changed shape."""
        schema = self._schema
        if schema is None:
            return
        try:
            shape, written, used = self._look()
            if shape != self._shape:
                raise _Changed
            self._empty(schema, written, used)
        except (_Changed, psycopg.Error):
            self._schema = None
            self._drop(schema)

    def close(self) -> None:
        if self._schema is not None:
            self._drop(self._schema)
            self._schema = None
        for schema in self._left:
            self._drop(schema, again=False)
        self._left.clear()
        if self._conn is not None:
            self._conn.close()

    # -- internals

    def _migrate_new(self) -> str:
        conn = self._admin()
        if not self.migrated:
            self._sweep()
        schema = f"{_PREFIX}{os.environ.get('PYTEST_XDIST_WORKER', 'main')}_{uuid.uuid4().hex[:8]}"
        # Held while this process lives: a schema whose lock is free belongs to nobody.
        conn.execute("SELECT pg_advisory_lock(%s, hashtext(%s))", (_OWNER_KEY, schema))
        conn.execute(f"CREATE SCHEMA {schema}")
        try:
            self._make(schema)
        except BaseException:
            self._drop(schema)
            raise
        return schema

    def _make(self, schema: str) -> None:
        from flashcore.storage.db import make_engine
        from flashcore.storage.migrate import ensure_schema

        conn = self._admin()
        engine = make_engine(self._schema_url(schema))
        try:
            ensure_schema(engine)
        finally:
            engine.dispose()
        self.migrated += 1
        self._tables = [str(t) for (t,) in conn.execute(_TABLES, {"schema": schema}).fetchall()]
        self._superuser = bool(conn.execute(_SUPERUSER).fetchone() == ("on",))
        written = ", ".join(
            f"(SELECT '{t}' WHERE EXISTS (SELECT FROM {schema}.{t}))" for t in self._tables
        )
        self._starts = {str(q): int(n) for q, n in conn.execute(_SEQUENCES, {"schema": schema})}
        # A sequence is as a migration leaves it when it has handed out nothing and stands at its
        # start (a setval(..., false) leaves is_called false too: pg_sequences would say NULL).
        moved = ", ".join(
            f"(SELECT '{q}' FROM {schema}.{q} WHERE is_called OR last_value <> {n})"
            for q, n in self._starts.items()
        )
        # One round trip after each test: the shape, and what the test wrote.
        self._look_sql = (
            f"{_RELATIONS} SELECT ({_CATALOG}),"
            f" (SELECT string_agg(version_num, ',' ORDER BY version_num)"
            f" FROM {schema}.alembic_version),"
            f" array_remove(ARRAY[{written or 'NULL'}]::text[], NULL),"
            f" array_remove(ARRAY[{moved or 'NULL'}]::text[], NULL)"
        )
        self._shape, written_now, used_now = self._look(schema)
        self._empty(schema, written_now, used_now)  # as a migration leaves it: nothing

    def _sweep(self) -> None:
        """Drop the schemas of test processes that died before dropping theirs."""
        conn = self._admin()
        rows = conn.execute(
            "SELECT nspname FROM pg_namespace WHERE nspname LIKE %s", (_PREFIX + "%",)
        ).fetchall()
        for (schema,) in rows:
            keys = (_OWNER_KEY, str(schema))
            (free,) = conn.execute(
                "SELECT pg_try_advisory_lock(%s, hashtext(%s))", keys
            ).fetchone() or (False,)
            if free:
                self._drop(str(schema), again=False)

    def _look(self, schema: str | None = None) -> tuple[tuple[str, str], list[str], list[str]]:
        """(shape, tables holding rows, sequences used) of the schema."""
        schema = schema or self._schema
        row = self._admin().execute(self._look_sql, {"schema": schema}).fetchone()
        assert row is not None
        digest, versions, written, used = row
        return (str(digest), str(versions)), list(written), list(used)

    def _empty(self, schema: str, written: list[str], used: list[str]) -> None:
        if not written and not used:
            return
        if not written:
            statements = []
        elif self._superuser:  # foreign keys and triggers off: any order, nothing recomputed
            statements = ["SET LOCAL session_replication_role = replica"]
            statements += [f"DELETE FROM {schema}.{table}" for table in written]
        else:
            statements = [f"TRUNCATE {', '.join(f'{schema}.{t}' for t in written)} CASCADE"]
        # As ALTER SEQUENCE ... RESTART leaves it, without rewriting the sequence's file.
        statements += [f"SELECT setval('{schema}.{q}', {self._starts[q]}, false)" for q in used]
        conn = self._admin()
        with conn.transaction():
            conn.execute("; ".join(statements))

    def _drop(self, schema: str, *, again: bool = True) -> None:
        conn = self._admin()
        try:
            conn.execute(f"DROP SCHEMA IF EXISTS {schema} CASCADE")
        except psycopg.Error:
            if again:  # a connection a test leaked holds it: try once more at the end
                self._left.append(schema)
            return
        conn.execute("SELECT pg_advisory_unlock(%s, hashtext(%s))", (_OWNER_KEY, schema))


class _Changed(Exception):
    """The schema no longer has the shape the migrations gave it."""
