"""Schema upgrades keep every row. There is one released revision so far, so the upgrade under
test is a probe revision added on top of it in a copy of migrations/: it rebuilds `cards` (on
SQLite a batch rebuild of the parent of review_logs, the operation that cascade-deletes history
when foreign keys are on). An upgrade keeps the content hash of every table and leaves
`foreign_key_check` empty, after a verified backup; a probe made to fail leaves schema, version
and content as they were, on SQLite and PostgreSQL."""

from __future__ import annotations

import shutil
import sqlite3
from datetime import timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa
from alembic.script import ScriptDirectory

import flashcore.storage.migrate as migrate
from flashcore.core.model import Rating
from flashcore.services import Flashcore
from flashcore.services.qbank import add_alias, import_log
from flashcore.services.study import answer
from flashcore.storage import backup as files
from flashcore.storage.db import make_engine, sqlite_path
from tests.conftest import DECKS, SMALL_DECK, write_deck
from tests.reliability.conftest import schema_columns, table_hashes, write_hot_deck

PROBE = "9901"
PROBE_REVISION = '''"""reliability probe: rebuild cards with one more column"""

import sqlalchemy as sa
from alembic import op

revision = "{revision}"
down_revision = "{down}"
branch_labels = None
depends_on = None


def upgrade():
    sqlite = op.get_bind().dialect.name == "sqlite"
    # A table rebuilt on SQLite loses its triggers, and the others' triggers that name it stop
    # the rename: a rebuild drops every trigger first and creates them again after (schema 0018
    # keeps topic_cards by triggers on cards, topics and note_topics).
    triggers = []
    if sqlite:
        triggers = op.get_bind().exec_driver_sql(
            "SELECT name, sql FROM sqlite_master WHERE type = 'trigger'"
        ).fetchall()
        for name, _ in triggers:
            op.execute(f"DROP TRIGGER {{name}}")
    with op.batch_alter_table("cards", recreate="always" if sqlite else "auto") as batch:
        batch.add_column(sa.Column("probe", sa.Integer(), nullable=True))
    for _, sql in triggers:
        op.execute(sql)
    op.execute("UPDATE cards SET probe = reps")
    {fail}


def downgrade():
    with op.batch_alter_table("cards") as batch:
        batch.drop_column("probe")
'''


def _probe_migrations(tmp_path: Path, monkeypatch, *, fail: bool) -> None:
    """flashcore's migrations plus the probe on top, made the head."""
    target = tmp_path / "migrations"
    shutil.copytree(migrate.migrations_dir(), target, ignore=shutil.ignore_patterns("__pycache__"))
    down = ScriptDirectory.from_config(migrate.alembic_config()).get_current_head()
    fail_line = 'raise RuntimeError("probe revision fails on purpose")' if fail else "pass"
    (target / "versions" / f"{PROBE}_probe.py").write_text(
        PROBE_REVISION.format(revision=PROBE, down=down, fail=fail_line), encoding="utf-8"
    )
    monkeypatch.setattr(migrate, "migrations_dir", lambda: target)
    monkeypatch.setattr(migrate, "HEAD", PROBE)


def _real_content(fc: Flashcore, tmp_path: Path, clock) -> None:
    fc.add_decks([write_deck(tmp_path / "small.toml", SMALL_DECK), write_hot_deck(tmp_path)])
    ids = sorted(c["card_id"] for c in fc.cards())
    for step, card_id in enumerate(ids[:12]):
        answer(fc, card_id, (Rating.AGAIN, Rating.GOOD, Rating.EASY)[step % 3])
        clock.advance(timedelta(minutes=3))
    import_log(fc, (DECKS / "samples" / "uworld-paste.tsv").read_bytes(), origin="paste")
    add_alias(fc, "Type I hypersensitivity", "Immunology::Hypersensitivity::Type I")
    fc.config_set("new_per_day", "30")
    fc.create_profile("alice", timezone="UTC")


def _version(engine: sa.Engine) -> str:
    with engine.connect() as conn:
        return str(conn.execute(sa.text("SELECT version_num FROM alembic_version")).scalar_one())


def _foreign_key_problems(engine: sa.Engine) -> list[tuple]:
    if engine.dialect.name != "sqlite":
        return []  # PostgreSQL enforces every foreign key on every statement
    with engine.connect() as conn:
        return [tuple(r) for r in conn.exec_driver_sql("PRAGMA foreign_key_check")]


@pytest.fixture
def with_content(db_url, clock, tmp_path):
    with Flashcore.open(db_url, clock=clock, create=True, timezone="UTC") as fc:
        _real_content(fc, tmp_path, clock)
    return db_url


def test_opening_an_up_to_date_database_changes_no_row(with_content, clock):
    engine = make_engine(with_content)
    try:
        before = table_hashes(engine)
        assert migrate.ensure_schema(engine, now=clock.now()) is None
        assert table_hashes(engine) == before
        assert _foreign_key_problems(engine) == []
    finally:
        engine.dispose()


def test_an_upgrade_keeps_every_row_and_backs_up_first(with_content, clock, tmp_path, monkeypatch):
    engine = make_engine(with_content)
    try:
        old_version = _version(engine)
        columns = schema_columns(engine)
        before = table_hashes(engine, columns)
        assert before["review_logs"][0] >= 12 and before["qbank_attempts"][0] > 0
        _probe_migrations(tmp_path, monkeypatch, fail=False)
        with Flashcore.open(with_content, clock=clock) as fc:
            backup = fc.backup
        assert _version(engine) == PROBE
        after = table_hashes(engine, columns)
        assert after.pop("alembic_version") != before.pop("alembic_version")
        assert after == before
        assert _foreign_key_problems(engine) == []
        with engine.connect() as conn:
            mismatched = conn.exec_driver_sql("SELECT COUNT(*) FROM cards WHERE probe != reps")
            assert mismatched.scalar_one() == 0
    finally:
        engine.dispose()
    path = sqlite_path(with_content)
    if path is None:
        assert backup is None  # PostgreSQL: pg_dump is the user's backup
        return
    assert backup is not None and Path(backup).parent == files.backup_folder(path)
    assert Path(backup).name.startswith(f"{path.stem}-{clock.now():%Y%m%d-%H%M%S}")
    assert Path(backup) == files.list_backups(path)[0].path  # the newest
    copy = make_engine(f"sqlite:///{backup}")
    try:
        assert _version(copy) == old_version
        copied = table_hashes(copy, columns)
        copied.pop("alembic_version")
        assert copied == before
    finally:
        copy.dispose()


def test_a_failing_revision_leaves_schema_version_and_rows_unchanged(
    with_content, clock, tmp_path, monkeypatch
):
    engine = make_engine(with_content)
    try:
        old_version = _version(engine)
        columns = schema_columns(engine)
        before = table_hashes(engine)
        _probe_migrations(tmp_path, monkeypatch, fail=True)
        with pytest.raises(RuntimeError, match="fails on purpose"):
            Flashcore.open(with_content, clock=clock)
        assert _version(engine) == old_version
        assert schema_columns(engine) == columns
        assert table_hashes(engine) == before
        assert _foreign_key_problems(engine) == []
    finally:
        engine.dispose()
    path = sqlite_path(with_content)
    if path is not None:
        made = files.list_backups(path)[0]  # the backup taken before the attempt is good
        assert made.taken_at == clock.now().replace(microsecond=0)
        assert files.check_file(made.path) == []
        with sqlite3.connect(made.path) as conn:
            assert conn.execute("SELECT version_num FROM alembic_version").fetchall() == [
                (old_version,)
            ]
        conn.close()
