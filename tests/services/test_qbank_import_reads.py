"""What an import reads besides its log (issue 19: work proportional to the log, not to the
collection): the topic index a report kept (SQLite) instead of every listed note; no look at
its batch for the suspended cards a miss brings back when the profile has none; and, where
the weights score a large history from the kept sums, one learned matcher for the scores and
the pull-forwards. The weights and pull-forwards are those of a refresh that reads everything."""

from __future__ import annotations

import sys
from typing import Any

import pytest
from sqlalchemy import event

from flashcore.services import matching, pullforward, qbank, weakness, weights
from flashcore.services.context import today_for
from flashcore.storage import today as today_repo
from flashcore.storage.repos import topic_index as topics_repo
from tests.services.test_qbank_import import MIXED, deck_fc, log
from tests.services.test_qbank_import_index import _weights

__all__ = ["deck_fc"]  # fixtures

# Misses of the last two days (they pull cards forward), one matched by its question id, the
# others by their texts alone.
FRESH = log(
    [
        "1001,incorrect,2026-11-24,Immunology,Allergy,Type I hypersensitivity",
        "2002,incorrect,2026-11-24,Hematology,Heme,Sickle cell disease",
        "2003,incorrect,2026-11-25,Hematology,Heme,Sickle cell disease",
        "2004,correct,2026-11-25,Pathology,General,Emphysema",
    ]
)


def test_an_import_after_a_report_matches_with_the_index_the_report_kept(
    deck_fc: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    qbank.import_log(deck_fc, MIXED, origin="mixed.csv")
    weakness.report(deck_fc)  # SQLite: the index kept (storage.index_cache)
    reads: list[int] = []
    stored_index = topics_repo.stored_index

    def counted(*args: Any, **kwargs: Any) -> Any:
        reads.append(1)
        return stored_index(*args, **kwargs)

    monkeypatch.setattr(topics_repo, "stored_index", counted)
    report = qbank.import_log(deck_fc, FRESH, origin="fresh.csv")
    assert report.added == 4
    sqlite = deck_fc.engine.dialect.name == "sqlite"
    assert bool(reads) != sqlite  # PostgreSQL keeps no index: read each time
    after = _weights(deck_fc)
    monkeypatch.undo()
    weights.refresh_weights(deck_fc)
    assert _weights(deck_fc) == after


def test_an_import_into_a_profile_without_suspended_cards_looks_for_none_in_its_batch(
    deck_fc: Any,
) -> None:
    looked: list[str] = []

    def seen(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        if "note_qids" in statement and "qbank_attempts" in statement:
            looked.append(statement)

    event.listen(deck_fc.engine, "before_cursor_execute", seen)
    try:
        report = qbank.import_log(deck_fc, MIXED, origin="mixed.csv")
    finally:
        event.remove(deck_fc.engine, "before_cursor_execute", seen)
    assert report.added == 5 and report.unsuspended == 0
    assert not looked


def test_the_pull_forwards_resolve_with_the_matcher_the_summed_scores_learned(
    deck_fc: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(matching, "SUM_IN_DATABASE_FROM", 0)  # scored from the kept sums
    monkeypatch.setattr(weakness, "SUM_IN_DATABASE_FROM", 0)
    qbank.import_log(deck_fc, MIXED, origin="mixed.csv")
    weakness.report(deck_fc)  # the sums kept
    callers: list[str] = []
    learned_matcher = matching.learned_matcher

    def counted(*args: Any, **kwargs: Any) -> Any:
        callers.append(sys._getframe(1).f_code.co_name)
        return learned_matcher(*args, **kwargs)

    monkeypatch.setattr(matching, "learned_matcher", counted)
    qbank.import_log(deck_fc, FRESH, origin="fresh.csv")
    assert "_summed" in callers  # the scores learned one...
    assert "choose" not in callers  # ...which the pull-forwards resolved with
    monkeypatch.setattr(matching, "learned_matcher", learned_matcher)
    today = today_for(deck_fc)
    with deck_fc.engine.connect() as conn:
        stored = today_repo.pulled_forward(conn, deck_fc.profile_id, today)
        afresh = pullforward.choose(conn, deck_fc, today)
        conn.rollback()
    assert stored == afresh
