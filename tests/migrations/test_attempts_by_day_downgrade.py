"""Schema 0023's downgrade restores the unique (profile_id, fingerprint) index, keeping the
first of attempts that share a fingerprint. Schema 0023 keeps no such rows out by itself (the
import does), so a duplicate is possible (a fault, an import that did not look): here an import
that skipped its look at the stored attempts wrote a log again, over 24 days, counted like new
in the tallies, the batch's `added` and the kept sums. After the downgrade every count that held
the duplicates agrees with the rows left: `check` finds no tally to mend, the weakness report is
the one summed afresh from the attempts, each batch's `added` is its attempts. SQLite and
PostgreSQL."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa

from flashcore.services import matching, qbank, qbank_import, weakness
from flashcore.services.check import check
from flashcore.storage import qbank_stage, repos
from flashcore.storage.migrate import HEAD, downgrade, read_revision, upgrade
from flashcore.storage.uow import run_write
from tests.qbank_logs import make_log


def _counts(fc: Any) -> tuple[int, int, int, list[tuple[int, int]]]:
    """(attempts, distinct fingerprints, the tallies' attempts, each batch's added and rows)."""
    with fc.engine.connect() as conn:
        attempts, distinct = conn.execute(
            sa.text("SELECT count(*), count(DISTINCT fingerprint) FROM qbank_attempts")
        ).one()
        tallied = conn.execute(sa.text("SELECT sum(attempts) FROM qbank_tallies")).scalar()
        batches = conn.execute(
            sa.text(
                "SELECT b.added, (SELECT count(*) FROM qbank_attempts a WHERE a.batch_id = b.id)"
                " FROM qbank_batches b ORDER BY b.id"
            )
        ).all()
    return int(attempts), int(distinct), int(tallied or 0), [tuple(b) for b in batches]


def _fresh_report(fc: Any) -> Any:
    """The weakness report with the kept sums forgotten: summed from the attempts."""
    run_write(fc.engine, lambda s: repos.clear_sums(s, fc.profile_id))
    return weakness.report(fc)


def test_the_downgrade_takes_the_duplicates_out_of_every_count(fc, monkeypatch):
    monkeypatch.setattr(matching, "SUM_IN_DATABASE_FROM", 1)  # sums kept for this small history
    monkeypatch.setattr(weakness, "SUM_IN_DATABASE_FROM", 1)
    monkeypatch.setattr(qbank_import, "MEMORY_BYTES", 0)  # staged: the look below is skipped
    first = qbank.import_log(fc, make_log(60, seed=3), origin="a.csv")
    assert first.added == 60
    weakness.report(fc)
    monkeypatch.setattr(qbank_stage.Stage, "_stored_from", lambda self, day: False)
    again = qbank.import_log(fc, make_log(70, seed=3), origin="b.csv")  # 60 again, 10 new
    assert again.added == 70
    held = weakness.report(fc)
    with fc.engine.connect() as conn:  # the sums are kept, duplicates in them
        assert conn.execute(sa.text("SELECT count(*) FROM qbank_sums_state")).scalar() == 1
    assert _counts(fc)[0] == _counts(fc)[2] == 60 + again.added  # duplicates, counted
    assert check(fc).tally_problems == []

    downgrade(fc.engine, "0022")
    assert read_revision(fc.engine) == "0022"
    attempts, distinct, tallied, batches = _counts(fc)
    assert attempts == distinct == tallied < 60 + again.added
    assert all(added == rows for added, rows in batches), batches
    upgrade(fc.engine, HEAD)  # no row changes: the product (at head) reads the downgraded rows
    assert check(fc).tally_problems == []
    kept = weakness.report(fc)
    assert kept == _fresh_report(fc)
    assert kept != held
