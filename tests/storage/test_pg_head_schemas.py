"""The PostgreSQL schema the tests share (tests/pg_schemas.py): migrated once, it reaches each
test as a fresh migration leaves it, and a test that changed its shape never hands it on."""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import psycopg
import pytest
import sqlalchemy as sa

from flashcore.storage.db import make_engine
from flashcore.storage.migrate import HEAD, downgrade
from tests.conftest import PG_URL, pg_problem, pg_schema_url
from tests.pg_schemas import HeadSchemas

pytestmark = pytest.mark.postgres
PROFILE = "INSERT INTO profiles (name, settings, created_at) VALUES ('{}', '{{}}', now())"


@pytest.fixture(scope="module")
def own_schemas() -> Iterator[HeadSchemas]:
    """A HeadSchemas of this module's own (not the process's shared one)."""
    if pg_problem():
        pytest.skip(f"PostgreSQL unavailable: {pg_problem()}")
    own = HeadSchemas(PG_URL, pg_schema_url)
    yield own
    own.close()


@pytest.fixture
def schemas(own_schemas: HeadSchemas) -> Iterator[HeadSchemas]:
    """The module's HeadSchemas, checked in after each test as the `pg_head_url` fixture does."""
    yield own_schemas
    own_schemas.checkin()


def run(url: str, *statements: str) -> list[tuple[object, ...]]:
    engine = make_engine(url)
    try:
        with engine.begin() as conn:
            rows: list[tuple[object, ...]] = []
            for statement in statements:
                result = conn.exec_driver_sql(statement)
                rows = [tuple(r) for r in result] if result.returns_rows else []
            return rows
    finally:
        engine.dispose()


def fresh(url: str) -> tuple[object, ...]:
    """What a fresh migration shows: the head, no rows, ids from 1, every trigger."""
    tables = run(
        url,
        "SELECT tablename FROM pg_tables WHERE schemaname = current_schema()"
        " AND tablename <> 'alembic_version'",
    )
    rows = sum(len(run(url, f"SELECT 1 FROM {t}")) for (t,) in tables)
    triggers = run(
        url,
        "SELECT count(*) FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid"
        " WHERE c.relnamespace = current_schema()::regnamespace AND NOT t.tgisinternal",
    )[0][0]
    (version,) = run(url, "SELECT version_num FROM alembic_version")[0]
    (next_id,) = run(url, "SELECT nextval('profiles_id_seq')")[0]
    return version, len(tables), rows, triggers, next_id


def test_the_next_test_finds_the_same_schema_emptied_with_ids_from_one(schemas):
    url = schemas.checkout()
    migrated = schemas.migrated
    expected = fresh(url)
    assert expected[0] == HEAD and expected[2] == 0 and expected[4] == 1
    schemas.checkin()
    run(url, PROFILE.format("a"), PROFILE.format("b"))
    schemas.checkin()
    run(url, "SELECT setval('profiles_id_seq', 100, false)")  # moved, yet never handed out
    schemas.checkin()

    again = schemas.checkout()
    assert again == url and schemas.migrated == migrated  # no second migration
    assert fresh(again) == expected
    schemas.checkin()


def shape(schemas: HeadSchemas) -> object:
    """The shape checked after each test; None where the check itself fails (which drops
    the schema just as a different shape does)."""
    try:
        return schemas._look()[0]
    except psycopg.Error:
        return None


@pytest.mark.parametrize(
    "change",
    [
        "DROP TRIGGER {trigger} ON {table}",
        "ALTER TABLE {table} DISABLE TRIGGER {trigger}",
        "CREATE INDEX ix_probe ON profiles (name)",
        "ALTER TABLE profiles ADD COLUMN probe integer",
        "ALTER TABLE profiles ALTER COLUMN name DROP NOT NULL",
        "ALTER TABLE profiles DROP CONSTRAINT {constraint}",
        "CREATE TABLE probe (id integer)",
        "CREATE FUNCTION probe() RETURNS integer LANGUAGE sql AS 'SELECT 1'",
        "ALTER SEQUENCE profiles_id_seq INCREMENT BY 2",
        "REVOKE ALL ON profiles FROM PUBLIC, postgres",
        "UPDATE alembic_version SET version_num = '0023'",
        "DELETE FROM alembic_version",
        "DROP TABLE alembic_version",
    ],
)
def test_every_kind_of_change_to_the_schema_is_seen(schemas, change):
    url = schemas.checkout()
    (trigger, table), (constraint,) = (
        run(
            url,
            "SELECT t.tgname, c.relname FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid"
            " WHERE c.relnamespace = current_schema()::regnamespace AND NOT t.tgisinternal"
            " ORDER BY 1 LIMIT 1",
        )[0],
        run(
            url,
            "SELECT conname FROM pg_constraint WHERE conrelid = 'profiles'::regclass AND contype = 'u'",
        )[0],
    )
    statement = change.format(trigger=trigger, table=table, constraint=constraint)
    admin, schema = schemas._admin(), url.rsplit("%3D", 1)[1]
    assert shape(schemas) == schemas._shape
    with admin.transaction(force_rollback=True):  # DDL is transactional: undone after
        admin.execute(f"SET LOCAL search_path TO {schema}")
        admin.execute(statement)
        assert shape(schemas) != schemas._shape
    assert shape(schemas) == schemas._shape


def test_the_test_after_a_change_gets_a_new_migration_and_the_old_schema_goes(schemas):
    url = schemas.checkout()
    expected = fresh(url)
    engine = make_engine(url)
    try:
        downgrade(engine, "0023")
    finally:
        engine.dispose()
    schemas.checkin()

    again = schemas.checkout()
    assert again != url
    assert fresh(again) == expected
    gone = url.rsplit("%3D", 1)[1]
    assert not run(again, f"SELECT 1 FROM pg_namespace WHERE nspname = '{gone}'")


def test_a_lock_left_held_drops_the_schema_instead_of_waiting(schemas):
    url = schemas.checkout()
    schemas._admin().execute("SET lock_timeout = '200ms'")
    run(url, PROFILE.format("held"))
    engine = sa.create_engine(url)
    try:
        with engine.connect() as holder:
            holder.exec_driver_sql("SELECT * FROM profiles FOR UPDATE").all()
            schemas.checkin()  # a DELETE would wait for the holder: it gives up instead
        again = schemas.checkout()
        assert again != url and fresh(again)[2] == 0
    finally:
        engine.dispose()
    schemas.close()  # the holder gone, the schema it kept is dropped at last
    gone = url.rsplit("%3D", 1)[1]
    assert not run(PG_URL, f"SELECT 1 FROM pg_namespace WHERE nspname = '{gone}'")


def test_the_schema_of_a_process_that_died_is_dropped_and_a_living_ones_kept(own_schemas):
    living = own_schemas.checkout().rsplit("%3D", 1)[1]  # its process (this one) holds it
    dead = f"fc_head_dead_{uuid.uuid4().hex[:8]}"  # as a killed run leaves it: nobody holds it
    run(PG_URL, f"CREATE SCHEMA {dead}", f"CREATE TABLE {dead}.t (n integer)")
    other = HeadSchemas(PG_URL, pg_schema_url)
    try:
        other.checkout()  # its first migration sweeps
        names = {n for (n,) in run(PG_URL, "SELECT nspname FROM pg_namespace")}
        assert dead not in names and living in names
    finally:
        other.close()
