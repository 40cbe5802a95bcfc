"""A real collection on SQLite with a small deck (basic, cloze with two deletions, a hostile
card), at a fixed instant; and helpers to drive the app and wait for its workers."""

from __future__ import annotations

import asyncio
import inspect
import json
import shutil
from collections.abc import Iterator
from datetime import UTC, date, datetime
from pathlib import Path

import pytest

from flashcore.core.clock import FixedClock
from flashcore.services.collection import Flashcore

NOW = datetime(2026, 11, 25, 9, tzinfo=UTC)
DATA = Path(__file__).resolve().parent / "data"
DECK = DATA / "tui_deck.toml"
HOSTILE_CONTROLS = "\x1b[31mred\x1b[0m and bell\x07 and csi\x9b2J"


@pytest.hookimpl(tryfirst=True)
def pytest_pyfunc_call(pyfuncitem: pytest.Function) -> bool | None:
    """Run `async def` tests in a fresh event loop (Textual's pilot is async; no plugin needed)."""
    if not inspect.iscoroutinefunction(pyfuncitem.obj):
        return None
    names = pyfuncitem._fixtureinfo.argnames
    asyncio.run(pyfuncitem.obj(**{n: pyfuncitem.funcargs[n] for n in names}))
    return True


@pytest.fixture(scope="session")
def deck_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A collection with the test deck loaded, made once and copied for each test."""
    path = tmp_path_factory.mktemp("tui-template") / "t.sqlite3"
    collection = Flashcore.open(str(path), clock=FixedClock(NOW), create=True, timezone="UTC")
    reports = collection.add_decks([DECK])
    assert all(r.ok for r in reports), [r.problems for r in reports]
    with collection.engine.begin() as conn:
        # Terminal controls in card text, as an older flashcore stored them (the loader now
        # refuses them): the reviewer must still show them inert.
        conn.exec_driver_sql(
            "UPDATE notes SET fields = replace(fields, 'CONTROLS', ?)",
            (json.dumps(HOSTILE_CONTROLS)[1:-1],),
        )
    with collection.engine.connect() as conn:
        conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
    collection.close()
    return path


@pytest.fixture
def fc(tmp_path: Path, deck_template: Path) -> Iterator[Flashcore]:
    """A real collection (SQLite file under tmp_path) holding the test deck, at NOW."""
    target = tmp_path / "t.sqlite3"
    shutil.copy(deck_template, target)
    collection = Flashcore.open(str(target), clock=FixedClock(NOW), timezone="UTC")
    yield collection
    collection.close()


def add_misses(fc: Flashcore, qid: str = "1001", misses: int = 3) -> None:
    """`misses` missed attempts at uworld `qid` (the basic Type I card lists it), one a day,
    imported as `flashcore qbank import` does."""
    from flashcore.services.qbank import import_log

    for n in range(misses):
        import_log(
            fc,
            f"{qid}\n".encode(),
            origin=f"missed-{n}.txt",
            fmt="qids",
            source="uworld",
            on_date=date(2026, 11, 20 + n),
            again=True,
        )


@pytest.fixture
def weak_fc(fc: Flashcore) -> Flashcore:
    add_misses(fc)
    return fc


@pytest.fixture
def no_read_ahead(monkeypatch: pytest.MonkeyPatch) -> None:
    """The next card cannot be told before an answer (services.study_ahead: e.g. the last card
    due): the answer is written first, the screen saying so, then the next card read."""
    from flashcore.services.study import StudySession

    monkeypatch.setattr(StudySession, "ahead", lambda self, after: None)


def still() -> float:
    """A monotonic clock that stands still, so timers in snapshots never move."""
    return 1000.0


def screen_text(app) -> str:
    """What the terminal shows now, as plain text (one line per row)."""
    import io

    from rich.console import Console

    width, height = app.size
    console = Console(
        width=width,
        height=height,
        file=io.StringIO(),
        force_terminal=True,
        color_system=None,
        record=True,
        legacy_windows=False,
        safe_box=False,
    )
    screen = app.screen
    console.print(screen._compositor.render_update(full=True, screen_stack=app._background_screens))
    return console.export_text()


async def settle(pilot) -> None:
    """Let workers finish and the screen repaint (twice: a finished load may start another)."""
    for _ in range(2):
        await pilot.pause()
        await pilot.app.workers.wait_for_complete()
    await pilot.pause()


class Notes:
    """Collects the app's notifications through `run_test(message_hook=...)`: toasts, and the
    statuses the reviewer shows in the card's bottom border."""

    def __init__(self) -> None:
        self.messages: list[str] = []

    def __call__(self, message) -> None:
        from textual.notifications import Notify

        from flashcore.tui.screens.review import ReviewScreen

        if isinstance(message, Notify):
            self.messages.append(message.notification.message)
        elif isinstance(message, ReviewScreen.Said):
            self.messages.append(message.text)

    def __contains__(self, text: str) -> bool:
        return any(text in m for m in self.messages)
