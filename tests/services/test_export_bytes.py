"""`export anki` (with and without scheduling) writes the same bytes for the same database and
clock, and these bytes change only on purpose: a generated collection (the engine benchmark's,
300 cards and 4,000 answers, fixed clock) gives the packages whose SHA-256 are `EXPECTED` and
`WITHOUT_SCHEDULING`.

History of `EXPECTED` (each change kept every row of every table; only the file's layout moved):
- 8abec77b…: main at bed4286 (each answer read as a ReviewRecord of datetimes), kept when the
  export began to read the review log as plain numbers (issue 19).
- 726c88fa…: issue 19's 10-second export. The revlog is written after the cards, in time
  order (the order of its ids), and its two indexes are built at the end, where it was written
  card by card with its indexes in place: each row then landed at random in a table larger
  than the cache. Same rows in notes, cards, revlog, col and sqlite_master (compared with
  8abec77b's package); the package is smaller (its pages are full).
- 3f5c36c3…: review days counted in the profile's zone (the collection's is New York), not
  UTC (tests/scenarios/test_phone_time_zones.py). Compared with 726c88fa's package: only the
  day numbers moved, one day earlier — 53 of 300 cards' `due` (and 3 `ivl`), 23 revlog `ivl`
  and 20 `lastIvl` of 4,000 (answers given 23:00-04:00 in New York); every other column and
  row the same.
- b41ecce1…: the collection's config says the profile's offset (`localOffset` 300, New York's
  in winter), so that the package added back into flashcore reads its days in that zone
  (tests/scenarios/test_phone_time_zones.py). Compared with 3f5c36c3's package: only `col.conf`
  moved, by that one key; every other column and row the same."""

from __future__ import annotations

import hashlib
import sqlite3
import zipfile
from datetime import UTC, datetime
from pathlib import Path

from flashcore.core.clock import FixedClock
from flashcore.services import Flashcore
from flashcore.services.export import export_anki
from flashcore.storage.db import url_for_path
from tools.bench import engine as bench

EXPECTED = "b41ecce110602a407b5cff88d46f630fb8b3387f4eeec2b2a30a2265657bd697"
# What the package holds, whatever its layout: every row of every table and the schema, the
# same in 8abec77b's package and in 726c88fa's (c5864e2d…); New York's days since 3f5c36c3,
# its offset in the config since b41ecce1.
CONTENT = "e11cd3082ca8b53aac9159d874153280fa76c724160a71785371d827912c56bc"
# Without scheduling: what flashcore wrote through genanki's note and card objects (main at
# 6d3bb64); the rows are now written directly, in the same order, so the file is the same.
WITHOUT_SCHEDULING = "dd4055d58352a5f1fe56fb20b2a7aec3d4fb3300af3b5a10fc30692d8a6ccfb1"
NOW = 1_796_400_000


def _content(package: Path, folder: Path) -> str:
    with zipfile.ZipFile(package) as archive:
        archive.extract("collection.anki2", folder)
    conn = sqlite3.connect(folder / "collection.anki2")
    digest = hashlib.sha256()
    for table in ("col", "notes", "cards", "revlog", "graves"):
        for row in conn.execute(f"SELECT * FROM {table} ORDER BY rowid"):
            digest.update(repr(row).encode())
    for row in conn.execute("SELECT type, name, tbl_name, sql FROM sqlite_master ORDER BY name"):
        digest.update(repr(row).encode())
    conn.close()
    return digest.hexdigest()


def _collection(tmp_path: Path) -> Path:
    opts = bench.parse_args(["--cards", "300", "--reviews", "4000", "--no-anki"])
    plan = bench.plan_collection(opts, NOW, NOW + 3600)
    path = tmp_path / "collection.sqlite3"
    bench.write_collections(plan, opts, path, None, "America/New_York")
    return path


def test_an_export_without_scheduling_writes_the_bytes_it_wrote_before(tmp_path: Path):
    clock = FixedClock(datetime.fromtimestamp(NOW, UTC))
    with Flashcore.open(url_for_path(_collection(tmp_path)), clock=clock) as fc:
        export_anki(fc, tmp_path / "out.apkg")
    written = (tmp_path / "out.apkg").read_bytes()
    assert hashlib.sha256(written).hexdigest() == WITHOUT_SCHEDULING


def test_an_export_with_scheduling_writes_the_expected_bytes(tmp_path: Path):
    clock = FixedClock(datetime.fromtimestamp(NOW, UTC))
    with Flashcore.open(url_for_path(_collection(tmp_path)), clock=clock) as fc:
        export_anki(fc, tmp_path / "out.apkg", with_scheduling=True)
        export_anki(fc, tmp_path / "again.apkg", with_scheduling=True)
    written = (tmp_path / "out.apkg").read_bytes()
    assert hashlib.sha256(written).hexdigest() == EXPECTED
    assert (tmp_path / "again.apkg").read_bytes() == written
    assert _content(tmp_path / "out.apkg", tmp_path / "unzipped") == CONTENT
