"""A qbank import's write-ahead log is checkpointed beside its fold and weights (issue 19q3,
storage.checkpoint): the import's connection takes no automatic checkpoint (a step's commit
that filled the log copied it all on the import's thread, ~0.05-0.1 s at 100,000 rows), a
PASSIVE checkpoint starts in a thread of its own once the batch is published and the import
waits for it before it returns; a copy that fails starts none; the pool's connections keep
their automatic checkpoint; PostgreSQL has none of it."""

from __future__ import annotations

from pathlib import Path
from typing import Any, ClassVar

import pytest
import sqlalchemy as sa

from flashcore.services import qbank, qbank_import
from flashcore.storage import db as storage_db
from flashcore.storage import qbank_stage
from tests.conftest import TYPE_I_CARD, write_deck

DECK = TYPE_I_CARD

ROWS = [f"{1000 + i},incorrect,2026-11-2{i % 3},Immunology,Allergy,Topic {i}\n" for i in range(30)]
LOG = ("question_id,result,date,subject,system,topic\n" + "".join(ROWS)).encode()


@pytest.fixture
def deck_fc(fc: Any, tmp_path: Path) -> Any:
    (report,) = fc.add_decks([write_deck(tmp_path / "d.toml", DECK)])
    assert report.ok, report.problems
    return fc


class _Recorder:
    """Checkpoint stand-in: notes when it starts (and how many batches are published then)
    and when it is waited for."""

    events: ClassVar[list[str]] = []

    def __init__(self, engine: Any) -> None:
        self.engine = engine
        with engine.connect() as conn:
            published = conn.execute(
                sa.text("SELECT count(*) FROM qbank_batches WHERE pending_from IS NULL")
            ).scalar_one()
        self.events.append(f"start, published {published}")

    def wait(self) -> None:
        self.events.append("wait")


def test_the_log_is_checkpointed_beside_once_the_batch_is_published(deck_fc, monkeypatch):
    _Recorder.events = []
    monkeypatch.setattr(qbank_import, "Checkpoint", _Recorder)
    autocheckpoint: list[int] = []
    save = qbank_stage.HeldStage.save_rows

    def saving(self: Any, conn: Any, *args: Any) -> int:
        if conn.dialect.name == "sqlite":
            pragma = conn.exec_driver_sql("PRAGMA wal_autocheckpoint").scalar_one()
            autocheckpoint.append(pragma)
        return save(self, conn, *args)

    monkeypatch.setattr(qbank_stage.HeldStage, "save_rows", saving)
    report = qbank.import_log(deck_fc, LOG, origin="log.csv")
    assert report.added == 30
    if deck_fc.engine.dialect.name == "sqlite":
        assert autocheckpoint and set(autocheckpoint) == {0}  # the copy filled the log
        assert _Recorder.events == ["start, published 1", "wait"]
        with deck_fc.engine.connect() as conn:  # the pool's connections keep theirs
            pages = conn.exec_driver_sql("PRAGMA wal_autocheckpoint").scalar_one()
        assert pages == storage_db.AUTOCHECKPOINT_PAGES
    else:
        assert _Recorder.events == []


def test_a_copy_that_fails_starts_no_checkpoint(deck_fc, monkeypatch):
    _Recorder.events = []
    monkeypatch.setattr(qbank_import, "Checkpoint", _Recorder)

    def failing(self: Any, *args: Any) -> int:
        raise OSError("disk full")

    monkeypatch.setattr(qbank_stage.HeldStage, "save_rows", failing)
    with pytest.raises(OSError, match="disk full"):
        qbank.import_log(deck_fc, LOG, origin="log.csv")
    assert _Recorder.events == []
    assert qbank.list_batches(deck_fc) == []


def test_the_real_checkpoint_leaves_the_import_as_it_was(deck_fc):
    report = qbank.import_log(deck_fc, LOG, origin="log.csv")
    assert report.added == 30 and report.batch_id is not None
    again = qbank.import_log(deck_fc, LOG, origin="log.csv", again=True)
    assert again.added == 0 and again.duplicates == 30
