"""`export anki --with-scheduling` writes the same bytes as before the export read the review
log as plain numbers (issue 19): a generated collection (the engine benchmark's, 300 cards and
4,000 answers, fixed clock) gives the package whose SHA-256 flashcore wrote before that change
(main at bed4286, which read each answer as a ReviewRecord of datetimes)."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime
from pathlib import Path

from flashcore.core.clock import FixedClock
from flashcore.services import Flashcore
from flashcore.services.export import export_anki
from flashcore.storage.db import url_for_path
from tools.bench import engine as bench

BEFORE = "8abec77b675e6c989a0b8d691bd0f15b48ada21c8dc73c04ad07ead6056a41ce"
NOW = 1_796_400_000


def test_an_export_with_scheduling_writes_the_bytes_it_wrote_before(tmp_path: Path):
    opts = bench.parse_args(["--cards", "300", "--reviews", "4000", "--no-anki"])
    plan = bench.plan_collection(opts, NOW, NOW + 3600)
    path = tmp_path / "collection.sqlite3"
    bench.write_collections(plan, opts, path, None, "America/New_York")
    clock = FixedClock(datetime.fromtimestamp(NOW, UTC))
    with Flashcore.open(url_for_path(path), clock=clock) as fc:
        export_anki(fc, tmp_path / "out.apkg", with_scheduling=True)
        export_anki(fc, tmp_path / "again.apkg", with_scheduling=True)
    written = (tmp_path / "out.apkg").read_bytes()
    assert hashlib.sha256(written).hexdigest() == BEFORE
    assert (tmp_path / "again.apkg").read_bytes() == written
