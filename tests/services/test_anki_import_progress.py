"""The progress bar of a first `--with-scheduling` import moves while the review log's one big
statement runs (SQLite's progress handler reports an estimate of the rows written), with the
answers staged ahead or not: the reports never go back, never pass the total, end on it, and
the rows are those an import without a bar writes."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

pytest.importorskip("anki.collection")

from flashcore.services import Flashcore, anki_scheduling, anki_stage
from flashcore.storage import anki_attached
from tests.services import test_anki_import_paths as paths
from tests.services.test_anki_import_same_content import _anking_package, _everything

clock = paths.clock


@pytest.fixture(autouse=True)
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FLASHCORE_HOME", str(tmp_path / "home"))


def _imported(url: str, package: Path) -> Any:
    with Flashcore.open(url, clock=clock, create=True, timezone="UTC") as fc:
        [report] = fc.add_decks([package], with_scheduling=True)
        assert report.ok, report.problems
        assert report.scheduling is not None and report.scheduling.reviews_added > 1000
        return _everything(fc)


@pytest.mark.parametrize("staged", [True, False])
def test_the_bar_moves_while_the_review_log_is_written_and_the_rows_stay_the_same(
    staged: bool, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(anki_stage, "spare_core", lambda: staged)
    package = _anking_package(tmp_path)
    without = _imported(f"sqlite:///{tmp_path / 'without.sqlite3'}", package)
    seen: list[tuple[int, int]] = []
    real = anki_scheduling.apply_scheduling

    def with_bar(session: Any, fc: Any, pkg: Any, card_ids: Any, now: Any, **kw: Any) -> Any:
        kw["progress"] = lambda done, total: seen.append((done, total))
        return real(session, fc, pkg, card_ids, now, **kw)

    monkeypatch.setattr(anki_scheduling, "apply_scheduling", with_bar)
    monkeypatch.setattr(anki_attached, "_STEPS", 500)  # the small package's statement reports
    shown = _imported(f"sqlite:///{tmp_path / 'with.sqlite3'}", package)
    assert shown == without
    total = seen[-1][1]
    assert seen[-1] == (total, total)
    assert all(t == total for _d, t in seen)
    done = [d for d, _t in seen]
    assert done == sorted(done) and done[-1] == total
    during = [d for d in done[:-1] if 0 < d < total]
    assert len(set(during)) >= 5  # it moved while the statement ran, not only at the end
