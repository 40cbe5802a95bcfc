"""The review app: thin. It holds the context, opens Home (and a session when the command line
named a deck or topic) and turns a bad deck/topic into an error for the command line.

Safety work never delays it: once Home is up, the automatic backup is started in a background
process when one may be due (the reviewer keeps its keys), and every few seconds the app reaps
finished background jobs and looks (one stat) for damage a background quick check recorded,
which it shows once.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar

from textual import events
from textual.app import App
from textual.binding import Binding, BindingType

from flashcore.tui import collector
from flashcore.tui.context import Context, open_with_system_viewer
from flashcore.tui.screens.loading import LoadingScreen

if TYPE_CHECKING:
    from flashcore.services.collection import Flashcore
    from flashcore.services.qbank import ImportReport
    from flashcore.tui.screens.review import ReviewScreen


SAFETY_WATCH_S = 2.0  # seconds between looks at background jobs and recorded damage
SAFETY_AFTER_S = 5.0  # background work starts once Home is loaded, or this long after opening


class FlashcoreApp(App[None]):
    CSS_PATH = "app.tcss"
    TITLE = "flashcore"
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("ctrl+c", "quit", "Quit", show=False, priority=True),
    ]
    ENABLE_COMMAND_PALETTE = False

    def __init__(
        self,
        ctx: Context | None,
        *,
        deck: str | None = None,
        topic: str | None = None,
        opener: Callable[[], Flashcore] | None = None,
        ticks: Callable[[], float] = time.monotonic,
    ) -> None:
        super().__init__()
        self._ctx = ctx
        self.opener = opener
        self.ticks = ticks
        self.opened: Flashcore | None = None
        self.scope = (deck, topic)
        self.session_minutes: float | None = None  # for the context made once opened
        self.error: BaseException | None = None
        self._opening = False
        self.jobs: list[Any] = []  # background processes started by this app (reaped)
        self._damage_shown = False
        # Pastes waiting for their box: pasted while the collection opened, or while another
        # paste was being read or asked about. Each is asked about in turn, after the one before
        # has been imported (so the same log pasted twice is refused as imported before).
        self._pastes: list[str] = []
        self._paste_busy = False
        self._safety_started = False

    @property
    def ctx(self) -> Context:
        assert self._ctx is not None, "the collection is not open yet"
        return self._ctx

    def on_mount(self) -> None:
        if self._ctx is not None:
            self._start()
            self.set_interval(SAFETY_WATCH_S, self._watch_safety)
            return
        # Paint first: open the collection (SQLAlchemy, migrations, starter decks) in a thread
        # once the loading screen is out.
        self.push_screen(LoadingScreen())

    def on_loading_screen_painted(self, message: LoadingScreen.Painted) -> None:
        if self._ctx is None and self.opened is None and not self._opening:
            self._opening = True
            self.run_worker(self._open, thread=True, exit_on_error=False)

    def _open(self) -> None:
        assert self.opener is not None
        try:
            fc = self.opener()
        except Exception as exc:  # noqa: BLE001 - handed to the command line, printed as one line
            self.call_from_thread(self._failed, exc)
            return
        if self.scope != (None, None):  # `--deck Immunology`: the deck's full name
            from flashcore.core.errors import FlashcoreError
            from flashcore.services.decks import resolve_scope

            try:
                self.scope = resolve_scope(fc, *self.scope)
            except FlashcoreError as exc:
                fc.close()
                self.call_from_thread(self._failed, exc)
                return
        self.call_from_thread(self._opened, fc)

    def _opened(self, fc: Flashcore) -> None:
        # What opening loaded (SQLAlchemy, the migrations, the engine) lives as long as the app:
        # out of the collector's way, so collections while Home loads stay short.
        collector.settle()
        self.opened = fc
        self._ctx = Context(fc, self.ticks, self.session_minutes)
        self.pop_screen()
        self._start()
        self.set_interval(SAFETY_WATCH_S, self._watch_safety)
        self._next_paste()
        # Once Home shows its numbers (or a session has started instead), not before: the
        # background work would compete with Home's own loading for the disk.
        self.set_timer(SAFETY_AFTER_S, self.start_safety_work)

    def on_home_screen_loaded(self, message: Any) -> None:
        self.start_safety_work()

    def start_safety_work(self) -> None:
        """Start the review-start backup and a due quick check in the background (once); the
        keys never wait for either."""
        if self._safety_started or self._ctx is None:
            return
        self._safety_started = True
        self.run_worker(self._schedule_backup, thread=True, exit_on_error=False)

    def _schedule_backup(self) -> None:
        from flashcore.core.errors import FlashcoreError
        from flashcore.services.backup import schedule_backup
        from flashcore.services.health import start_pending_checks

        start_pending_checks()  # a quick check of a large file, left for after the first paint
        try:
            job = schedule_backup(self.ctx.fc, "review start")
        except (FlashcoreError, OSError):
            return  # it is tried again when the reviewer quits, or after the next command
        if job is not None:
            self.call_from_thread(self.jobs.append, job)

    def _watch_safety(self) -> None:
        from flashcore.services.health import recorded_problem

        self.jobs = [job for job in self.jobs if job.poll() is None]  # reap the finished
        if self._damage_shown:
            return
        problem = recorded_problem(self.ctx.fc)
        if problem is not None:
            self._damage_shown = True
            self.notify(problem, severity="error", timeout=30, markup=False)

    def _failed(self, exc: BaseException) -> None:
        self.error = exc
        self.exit(return_code=1)

    def _start(self) -> None:
        # Imported here so the first paint does not wait for every screen's widgets.
        from flashcore.tui.screens.home import HomeScreen
        from flashcore.tui.screens.review import ReviewScreen

        try:
            home = HomeScreen(self.ctx)
        except Exception as exc:  # noqa: BLE001 - not a blank screen: the command line prints it
            self._failed(exc)  # in one line (`flashcore: error: ...`), with --debug's traceback
            return
        self.push_screen(home)
        deck, topic = self.scope
        if deck is not None or topic is not None:
            self.push_screen(ReviewScreen(self.ctx, deck=deck, topic=topic))

    async def action_quit(self) -> None:
        """Ctrl+C: quit, but a reviewer saving an answer finishes it first (a second Ctrl+C
        does not wait)."""
        defer = getattr(self.screen, "defer_quit", None)
        if defer is not None and defer():
            return
        self.exit()

    def on_paste(self, event: events.Paste) -> None:
        """A missed-question log pasted into the app: read as `qbank import -` reads it (a dry
        run, in a worker), then asked about (screens.paste_import)."""
        from flashcore.tui.screens.paste_import import PasteImportScreen

        if not event.text.strip():
            return
        self._pastes.append(event.text)
        if self._ctx is None:  # still opening the collection: read once open
            return
        if self._paste_busy:
            if isinstance(self.screen, PasteImportScreen):
                self.notify("Paste kept: asked about after this one", timeout=6, markup=False)
            return
        self._next_paste()

    def _next_paste(self) -> None:
        """Reads the first waiting paste (a dry run in a worker), if any and none is in hand."""
        self._paste_busy = bool(self._pastes)
        if self._pastes:
            pasted = self._pastes.pop(0)
            self.run_worker(lambda: self._read_paste(pasted), thread=True, group="paste")

    def _read_paste(self, pasted: str) -> None:
        from flashcore.services.qbank import import_log

        try:
            report = import_log(self.ctx.fc, pasted.encode(), origin="the paste", dry_run=True)
        except Exception as exc:  # noqa: BLE001 - said in one line, never a traceback
            self.call_from_thread(self._paste_failed, exc)
            return
        self.call_from_thread(self._ask_paste, report, pasted)

    def _ask_paste(self, report: ImportReport, pasted: str) -> None:
        from flashcore.tui.screens.paste_import import PasteImportScreen

        def answered(yes: bool | None) -> None:
            if yes:
                self.run_worker(lambda: self._import_paste(pasted), thread=True, group="paste")
            else:
                self._next_paste()

        self.push_screen(PasteImportScreen(report, pasted), answered)

    def _import_paste(self, pasted: str) -> None:
        from flashcore.services.qbank import import_log
        from flashcore.tui.screens.paste_import import done_text

        try:
            report = import_log(self.ctx.fc, pasted.encode(), origin="the paste")
        except Exception as exc:  # noqa: BLE001 - said in one line, never a traceback
            self.call_from_thread(self._paste_failed, exc)
            return
        self.call_from_thread(self.notify, done_text(report), timeout=12, markup=False)
        self.call_from_thread(self._next_paste)

    def _paste_failed(self, exc: BaseException) -> None:
        from flashcore.core.errors import FlashcoreError, IdenticalLogError

        if isinstance(exc, IdenticalLogError):  # (the command line's message names --again)
            why = f"it was imported before (batch {exc.batch_id}, {exc.imported_at}); nothing added"
        elif isinstance(exc, FlashcoreError):
            why = str(exc)
        else:
            why = f"it could not be read ({exc})"
        self.notify(
            f"The paste was not imported: {why}", severity="error", timeout=12, markup=False
        )
        self._next_paste()

    def on_review_screen_scope_failed(self, message: ReviewScreen.ScopeFailed) -> None:
        # Only the session the command line asked for ends the app (`review --deck D`); a
        # session started from Home (all decks included) goes back to Home with the error.
        if self.scope != (None, None) and (message.deck, message.topic) == self.scope:
            self.error = message.error
            self.exit(return_code=1)
            return
        self.notify(str(message.error), severity="error", markup=False)
        self.pop_screen()


def make_app(
    fc: Flashcore,
    *,
    deck: str | None = None,
    topic: str | None = None,
    ticks: Callable[[], float] = time.monotonic,
    minutes: float | None = None,
    open_files: Callable[[Sequence[Path]], None] = open_with_system_viewer,
) -> FlashcoreApp:
    """The app for `fc`, shared by the command line and the tests. `ticks` times answers and
    the session (monotonic; scheduling uses `fc.clock`); `open_files` opens a card's images."""
    return FlashcoreApp(
        Context(fc, ticks, minutes, open_files), deck=deck, topic=topic, ticks=ticks
    )


def make_lazy_app(
    opener: Callable[[], Flashcore],
    *,
    deck: str | None = None,
    topic: str | None = None,
    ticks: Callable[[], float] = time.monotonic,
    minutes: float | None = None,
) -> FlashcoreApp:
    """The app that paints first and opens the collection (`opener`) in a worker thread."""
    app = FlashcoreApp(None, deck=deck, topic=topic, opener=opener, ticks=ticks)
    app.session_minutes = minutes
    return app
