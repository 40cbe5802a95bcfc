"""A first `--with-scheduling` import's review-log rows staged ahead in a thread while the notes
are read (`services.anki_stage`), then copied: every row of every table the same as the
import's own statement writes; staged rows made for another day-start hour are not used; the
staged statement gives the first import's rows, in the same order, on hand-made sequences;
two packages in one `decks add` each keep their own work folder."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

pytest.importorskip("anki.collection")

from sqlalchemy import select

from flashcore.importers.anki_package import open_package
from flashcore.importers.anki_revlog_sql import (
    COPY_STAGED_SQL,
    FIRST_ANSWERS_SQL,
    STAGE_ROWS_SQL,
    STAGED_COLUMNS,
    TEMP_TABLES,
)
from flashcore.importers.anki_scheduling import AnkiClock, day_terms
from flashcore.services import Flashcore, anki_import, anki_stage
from flashcore.services.check import check
from flashcore.storage.tables import imported_answers, review_logs
from flashcore.storage.uow import reading
from tests.services import test_anki_import_paths as paths
from tests.services.test_anki_revlog_rows import hard_sequences
from tests.services.test_anki_scheduling import apply_fake

clock = paths.clock
SPARE_CORE = anki_stage.spare_core  # the real one (the fixture below replaces it)


@pytest.fixture(autouse=True)
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FLASHCORE_HOME", str(tmp_path / "home"))
    monkeypatch.setattr(anki_stage, "spare_core", lambda: True)  # whatever the machine's load


def imported_rows(url: str, package: Path) -> dict[str, list[tuple[Any, ...]]]:
    """`package` imported with scheduling into a fresh profile (its answers in, `check`
    clean): every row of every table it wrote (`_rows`)."""
    with Flashcore.open(url, clock=clock, create=True, timezone="UTC") as fc:
        [report] = fc.add_decks([package], with_scheduling=True)
        assert report.ok, report.problems
        assert report.scheduling is not None and report.scheduling.reviews_added > 20
        assert check(fc).problems == []
        return _rows(fc)


def _rows(fc: Any) -> dict[str, list[tuple[Any, ...]]]:
    rows = paths._rows(fc)
    with reading(fc.engine) as session:
        rows["review_logs"] = [tuple(r) for r in session.execute(
            select(review_logs).order_by(review_logs.c.id))]  # fmt: skip
        rows["imported_answers"] = [tuple(r) for r in session.execute(
            select(imported_answers).order_by(*imported_answers.primary_key))]  # fmt: skip
    return rows


def staged_and_direct(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> tuple[Any, Any]:
    """The studied package imported twice into fresh SQLite files, with its answers staged
    (the stage's rows used) and without (none staged): the rows of each."""
    package = paths._studied_package(tmp_path)
    staged, used = _imported(f"sqlite:///{tmp_path / 'a.sqlite3'}", package, monkeypatch,
                             stage=True)  # fmt: skip
    assert used == [True]
    direct, used = _imported(f"sqlite:///{tmp_path / 'b.sqlite3'}", package, monkeypatch,
                             stage=False)  # fmt: skip
    assert used == []
    return staged, direct


def _imported(url: str, package: Path, monkeypatch: pytest.MonkeyPatch, *, stage: bool,
              hour_off: int = 0) -> tuple[dict[str, list[tuple[Any, ...]]], list[bool]]:  # fmt: skip
    """`package` imported with scheduling into a fresh profile; its rows, and for each staging
    started whether its rows were used."""
    used: list[bool] = []
    real = anki_stage.AnswerStaging.result

    def spied(self: anki_stage.AnswerStaging, zone: Any, hour: int) -> Any:
        staged = real(self, zone, hour)
        used.append(staged is not None)
        return staged

    def started(fc: Any, pkg: Any, folder: Path) -> anki_stage.AnswerStaging | None:
        if not stage:
            return None
        staging = anki_stage.start_staging(fc, pkg, folder)
        assert staging is not None
        if hour_off:  # made for another day-start hour than the import's
            staging.close()
            zone, hour = staging.key
            staging = anki_stage.AnswerStaging(
                pkg.database_file, folder, AnkiClock.of(pkg.info), zone, (hour + hour_off) % 24
            )
        return staging

    monkeypatch.setattr(anki_stage.AnswerStaging, "result", spied)
    monkeypatch.setattr(anki_import, "start_staging", started)
    return imported_rows(url, package), used


def test_a_first_import_s_staged_answers_give_every_row_its_own_statement_gives(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    staged, direct = staged_and_direct(tmp_path, monkeypatch)
    assert staged == direct
    assert staged["imported_answers"] and staged["anki_cards"]


def test_answers_staged_for_another_day_start_hour_are_not_used(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    package = paths._studied_package(tmp_path)
    other, used = _imported(f"sqlite:///{tmp_path / 'a.sqlite3'}", package, monkeypatch,
                            stage=True, hour_off=5)  # fmt: skip
    assert used == [False]
    direct, _ = _imported(f"sqlite:///{tmp_path / 'b.sqlite3'}", package, monkeypatch,
                          stage=False)  # fmt: skip
    assert other == direct


def test_no_staging_on_postgresql_nor_for_a_re_import(
    db_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    package = paths._studied_package(tmp_path)
    with Flashcore.open(db_url, clock=clock, create=True, timezone="UTC") as fc:
        with open_package(package, work_dir=tmp_path / "work") as pkg:
            staging = anki_stage.start_staging(fc, pkg, tmp_path / "work")
            assert (staging is None) == (fc.engine.dialect.name != "sqlite")
            if staging is not None:
                staging.close()
        [report] = fc.add_decks([package], with_scheduling=True)
        assert report.ok, report.problems
        with open_package(package, work_dir=tmp_path / "again") as pkg:
            assert anki_stage.start_staging(fc, pkg, tmp_path / "again") is None


def test_no_staging_without_an_idle_core(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, sqlite_url: str
) -> None:
    package = paths._studied_package(tmp_path)
    monkeypatch.setattr(anki_stage, "spare_core", lambda: False)
    with (
        Flashcore.open(sqlite_url, clock=clock, create=True, timezone="UTC") as fc,
        open_package(package, work_dir=tmp_path / "work") as pkg,
    ):
        assert anki_stage.start_staging(fc, pkg, tmp_path / "work") is None


@pytest.mark.parametrize(("load", "idle"), [(1.2, True), (1.6, False), (6.0, False)])
def test_an_idle_core_is_one_the_load_average_leaves(
    load: float, idle: bool, monkeypatch: pytest.MonkeyPatch
) -> None:
    """On 2 cores, the import's own process running (load ~1): idle; busier: not."""
    monkeypatch.setattr(anki_stage.os, "sched_getaffinity", lambda _pid: {0, 1}, raising=False)
    monkeypatch.setattr(anki_stage.os, "getloadavg", lambda: (load, 1.0, 1.0), raising=False)
    assert SPARE_CORE() is idle
    monkeypatch.delattr(anki_stage.os, "getloadavg")  # Windows has none
    assert SPARE_CORE() is False


def test_the_staged_statement_gives_the_first_import_s_rows_in_card_order(fc_sqlite: Any) -> None:
    """On hand-made sequences (filtered decks, lapses, relearning, manual rows, learning
    steps): the answers staged (every card's, keyed by Anki's card id) and copied are the rows
    `FIRST_ANSWERS_SQL` gives, copied in `imported_answers`' key order (flashcore's card, then
    time) where flashcore's card ids do not follow Anki's."""
    fc = fc_sqlite
    pkg, cards = hard_sequences(fc)
    apply_fake(fc, pkg, cards)  # fills the helper tables in the package's database
    # flashcore's card ids in the other order than Anki's (as an AnKing import's mostly are)
    swapped = dict(zip(sorted(cards), sorted(cards.values(), reverse=True), strict=True))
    pkg.fill_temp("fc_cards", TEMP_TABLES["fc_cards"],
                  [(cid, card_id, 0.85) for cid, card_id in swapped.items()])  # fmt: skip
    terms = day_terms(AnkiClock.of(pkg.info))
    first = list(pkg.sql(FIRST_ANSWERS_SQL, (*terms, fc.profile_id)))
    list(pkg.sql("ATTACH DATABASE ':memory:' AS anki_stage"))
    list(pkg.sql(f"CREATE TABLE anki_stage.answers ({STAGED_COLUMNS}) WITHOUT ROWID"))
    list(pkg.sql(f"INSERT INTO anki_stage.answers {STAGE_ROWS_SQL}", terms))
    list(pkg.sql("CREATE INDEX temp.fc_cards_card_id ON fc_cards (card_id)"))
    copied = list(pkg.sql(COPY_STAGED_SQL, (fc.profile_id,)))
    assert len(first) == 14
    assert sorted(copied) == sorted(first)
    # in `imported_answers`' key order (flashcore's card, then revlog id), whatever Anki's
    assert [(r[0], r[1]) for r in copied] == sorted((r[0], r[1]) for r in first)
    assert [r[0] for r in first] != sorted(r[0] for r in first)  # (Anki's order is not)


def test_two_packages_in_one_import_each_keep_their_own_work_folder(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The second package read no longer removes the first's extracted collection (and
    staged answers): both import with their history (it failed with 'no such table:
    revlog')."""
    studied = paths._studied_package(tmp_path)
    kinds = paths._kinds_package(tmp_path)
    with Flashcore.open(f"sqlite:///{tmp_path / 'a.sqlite3'}", clock=clock, create=True,
                        timezone="UTC") as fc:  # fmt: skip
        reports = fc.add_decks([studied, kinds], with_scheduling=True)
        assert [r.ok for r in reports] == [True, True], [r.problems for r in reports]
        assert reports[0].scheduling is not None and reports[0].scheduling.reviews_added > 20
        assert check(fc).problems == []
