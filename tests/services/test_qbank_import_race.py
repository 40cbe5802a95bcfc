"""Two imports into one profile at once store each attempt once (schema 0023: no unique index
on the fingerprints keeps duplicates out; the imports take turns and the second looks for
duplicates again once the first is published), on SQLite and PostgreSQL, with the log held in
memory and staged in a temporary table."""

from __future__ import annotations

import threading
from typing import Any

import pytest

from flashcore.services import Flashcore, qbank, qbank_import
from flashcore.storage import repos
from tests.services.test_qbank_import import MIXED, deck_fc, log, stored, way

__all__ = ["deck_fc", "way"]  # fixtures

MORE = log(
    [
        "1002,incorrect,2026-11-20,Hematology,Heme,Sickle cell disease",  # in MIXED
        "1005,incorrect,2026-11-22,Pathology,General,Gap topic",  # in MIXED
        "1006,incorrect,2026-11-23,Pathology,General,Another gap",
        "1007,correct,2026-11-23,Pathology,General,Emphysema",
    ]
)


def test_two_imports_at_once_store_each_attempt_once(
    deck_fc: Any, db_url: str, clock: Any, way: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    other = Flashcore.open(db_url, clock=clock, timezone="UTC")
    copying, waiting, release = threading.Event(), threading.Event(), threading.Event()
    pending = repos.pending_batches

    def seen_pending(*args: Any, **kwargs: Any) -> Any:
        found = pending(*args, **kwargs)
        if found and threading.current_thread().name == "second":
            waiting.set()  # the second import has read its log and waits for its turn
        return found

    monkeypatch.setattr(qbank_import.repos, "pending_batches", seen_pending)

    def progress(phase: str, _done: int, _total: int) -> None:
        if phase == "saving" and not copying.is_set():
            copying.set()  # the first import has claimed its batch: hold it there
            release.wait(30)

    reports: dict[str, Any] = {}
    errors: list[BaseException] = []

    def run(name: str, fc: Any, data: bytes, **kw: Any) -> None:
        try:
            reports[name] = qbank.import_log(fc, data, origin=f"{name}.csv", **kw)
        except BaseException as exc:  # noqa: BLE001 - asserted on below, in the test thread
            errors.append(exc)

    first = threading.Thread(
        target=run, args=("first", deck_fc, MIXED), kwargs={"progress": progress}
    )
    second = threading.Thread(target=run, args=("second", other, MORE), name="second")
    try:
        first.start()
        assert copying.wait(30)
        second.start()
        assert waiting.wait(30)  # it summarized its log while the first batch was unseen
        release.set()
        first.join(30)
        second.join(30)
    finally:
        release.set()
        other.close()
    assert not errors, errors
    assert (reports["first"].added, reports["first"].duplicates) == (5, 1)
    assert (reports["second"].added, reports["second"].duplicates) == (2, 2)
    rows = stored(deck_fc)
    assert len(rows) == 7
    assert len({r[-1] for r in rows}) == 7  # no fingerprint twice
