"""How the reviewer writes: an answer, undo, bury, suspend or flag runs in a worker thread
while the screen shows it is saving; a busy database (another process holds the write lock,
a large `qbank import`) is retried until the write commits or, after `SAVE_LIMIT_S`, fails
with a message. After `SAVING_SHOWN_S` the screen says it is saving, and after
`SAVING_BUSY_S` why. An answer that committed fetches the next card in the same thread.

An answer to a card whose successor was read ahead (services.study_ahead: the session tells,
while the student reads, which card comes next) shows that card at once and is written behind
it (`_answer_behind`): the key never waits for the database. It is the same write, retried the
same way, once; until it is in, the keys that write (an answer to the new card, undo, bury...)
and those that leave the screen wait, kept in order, while Space still shows the answer. Should
it fail, the card it answered comes back, answer side up, to be answered again."""

from __future__ import annotations

import contextlib
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from rich.text import Text
from textual.worker import get_current_worker

from flashcore.core.errors import DatabaseBusyError, FlashcoreError, StaleCardError
from flashcore.services.answering import kept_answers
from flashcore.tui.session import GONE_NOTICE, STALE_NOTICE, one_line, plural

if TYPE_CHECKING:
    from textual.timer import Timer
    from textual.widgets import Static

    from flashcore.services.study import Ahead, AnswerResult, CardView, StudySession, TodayQueue
    from flashcore.tui.context import Context
    from flashcore.tui.next_card import CardTexts, NextCard
    from flashcore.tui.session import SessionRecord
    from flashcore.tui.widgets.answer_bar import AnswerBar
    from flashcore.tui.widgets.card_pane import CardPane

SAVING_SHOWN_S = 0.15  # a write taking longer says so on screen
SAVING_BUSY_S = 1.5  # ... and, past this, that another process holds the database
SAVE_LIMIT_S = 120.0  # a write still refused by a busy database after this gives up
SAVE_RETRY_S = 0.1  # between attempts (each already waits SQLite's busy timeout)
DONE_LOOK_TICKS = 5  # on "All done", seconds between looks for a new day or another's change
SAVING = Text("saving your answer…", style="bold yellow")
SAVING_BUSY = Text(
    "saving… another flashcore is writing (an import?); your answer waits for it and is kept",
    style="bold yellow",
)
BEHIND_BUSY = (
    "saving your last answer… another flashcore is writing (an import?); it waits and is kept"
)


class ReviewWrites:
    """The writes of ReviewScreen (mixed into it; the attributes below are the screen's)."""

    ctx: Context
    deck: str | None
    topic: str | None
    phase: str
    view: CardView | None
    queue: TodayQueue | None
    study: StudySession | None
    record: SessionRecord
    reason: str
    weak_topic: str | None
    app: Any
    _texts: CardTexts | None
    _kept_keys: list[tuple[Callable[..., Any], tuple[Any, ...]]]
    _ahead_card: tuple[Ahead, NextCard] | None
    _writing: bool
    _quiet: Any  # the worker of the work done while the student reads
    _done_ticks: int
    _load_failed: bool
    load_next: Callable[..., Any]
    _behind_queue: TodayQueue | None
    _behind_timer: Timer | None
    _keys: AnswerBar
    _card: CardPane
    _saving: Static
    _saving_timers: list[Timer]
    _fetched: NextCard | None
    _set_phase: Callable[..., None]
    _fetch_after_write: Callable[[], None]
    set_timer: Callable[..., Timer]
    run_worker: Callable[..., Any]
    call_after_refresh: Callable[..., Any]
    say: Callable[..., None]
    _apply: Callable[[NextCard], None]
    _show_done: Callable[[TodayQueue | None], None]
    _set_reason: Callable[[Text], None]
    _set_scope: Callable[[], None]
    _update_progress: Callable[[], None]
    _replay_keys: Callable[[], None]
    _invalidate: Callable[[], None]
    _clear_status: Callable[[], None]

    def _start_saving(self) -> None:
        self._set_phase("saving")
        self._saving_timers = [
            self.set_timer(SAVING_SHOWN_S, lambda: self._show_saving(SAVING)),
            self.set_timer(SAVING_BUSY_S, lambda: self._show_saving(SAVING_BUSY)),
        ]

    def _back_to(self, phase: str) -> None:
        """The phase a write started from, as it was (nothing changed on screen)."""
        self._set_phase(phase)

    def _show_saving(self, text: Text) -> None:
        if self.phase != "saving":
            return
        if self._keys.buttons_shown:  # above the buttons (one layout, a slow save only)
            self._saving.update(text)
            self._saving.display = True
        else:
            self._keys.show_prompt(text)  # in place of the prompt

    def _stop_saving(self) -> None:
        for timer in self._saving_timers:
            timer.stop()
        self._saving_timers = []

    def _write(
        self,
        write: Callable[[], Any],
        then: Callable[[Any], None],
        *,
        retry: bool = True,
        fetch: bool = False,
    ) -> None:
        """Run `write` in a worker thread while the screen shows it is saving; `then(outcome)`
        runs on the screen with its result, or the exception that ended it. With `fetch`, a
        write that succeeded also fetches the next card there (`_next_card` shows it)."""
        self._start_saving()
        self._fetched = None
        self.run_worker(
            lambda: self._write_in_thread(write, then, retry, fetch),
            thread=True,
            group="review-write",
            exit_on_error=False,
        )

    def _answer_behind(
        self, nxt: NextCard, write: Callable[[], Any], then: Callable[[Any], None]
    ) -> None:
        """Show `nxt` (read ahead) now and write the answer behind it: the worker starts once
        the new card's frame is out, so the two do not share the processor on the key's path.
        `then(outcome)` runs on the screen once the answer is in (or failed)."""
        self._writing = True
        self._behind_queue = None
        self._apply(nxt)
        self._behind_timer = self.set_timer(SAVING_BUSY_S, self._behind_busy)

        def start() -> None:
            self.run_worker(
                lambda: self._write_in_thread(write, then, True, self._after_behind),
                thread=True,
                group="review-write",
                exit_on_error=False,
            )

        self.call_after_refresh(start)

    def _quiet_work(self, *, checkpoint: bool = False) -> None:
        """While the student reads, in a worker thread: every so many answers the WAL
        checkpoint, the session's warm-up of a new connection for its first answer, and the
        session's rebuild when another process changed the collection (an import that
        finished), so that the next key finds the queue built."""
        study = self.study
        if study is None or (self._quiet is not None and not self._quiet.is_finished):
            return
        view = self.view

        def work() -> None:
            if checkpoint:
                study.idle()
            rebuilt = study.prepare()
            if rebuilt and view is not None and not self._writing:
                self._news_of_card(study, view)
            # Also while an answer is written behind the card: that answer's worker reads the
            # next card ahead once the answer is in, but never waits for the session, and this
            # rebuild may have held it then (the card shown had none: its key waited for the
            # write and the queue, ~150 ms beside an import). Until the answer is in, the
            # session reads nothing ahead (`ahead`: not the card it shows). A card that cannot
            # be read (removed meanwhile) is none: the next key takes the usual way.
            with contextlib.suppress(FlashcoreError):
                self._fetch_ahead(study)
            if rebuilt and not self._writing:
                queue = study.queue_held()  # the header's new counts
                if queue is not None:
                    self.app.call_from_thread(self._counts_news, view, queue)
            if rebuilt:  # another process changed the collection: are this session's answers in?
                looked = self.record.written()
                kept = kept_answers(study.fc, looked) if looked else looked
                if kept != looked:
                    self.app.call_from_thread(self._answers_gone, looked, kept)

        self._quiet = self.run_worker(work, thread=True, exit_on_error=False, group="idle")

    def _news_of_card(self, study: StudySession, view: CardView) -> None:
        """In the quiet work, after a rebuild for another process's change: the card on screen
        as it now is. Changed there (another reviewer answered it; buried, suspended or removed
        it), the screen moves on before the student answers it in vain; under settings changed
        there, its four outcomes are shown again."""
        try:
            again = study.show_again(view.card_id)
        except FlashcoreError:  # removed (`decks add --prune`)
            self.app.call_from_thread(self._card_gone, view)
            return
        if again is None:  # an answer is being written: the next quiet moment looks
            return
        if again.version != view.version:
            self.app.call_from_thread(self._card_gone, view)
        elif study.profile_changed():
            self.app.call_from_thread(self._outcomes_news, view, again)

    def _card_gone(self, view: CardView) -> None:
        """On the screen: the card read was changed by another process (`_news_of_card`):
        the next card, and why this one went."""
        reading = self.phase in ("front", "back") and not self._writing
        if self.view is view and reading:
            self._invalidate()
            self.say(f"card {GONE_NOTICE}", severity="warning")
            self.load_next()

    def _look_when_done(self) -> None:
        """On "All done", or waiting for a learning step (the reviewer left open overnight,
        another terminal pasting a log or raising the new-card limit): every `DONE_LOOK_TICKS`
        seconds a worker asks whether the study day rolled over or another process changed the
        collection (`prepare`), and if so the queue is loaded again: the new day's cards, or
        those the import brought."""
        study = self.study
        self._done_ticks += 1
        busy = self._quiet is not None and not self._quiet.is_finished
        if study is None or busy or self._done_ticks % DONE_LOOK_TICKS:
            return
        if self._load_failed:  # an error on screen (a clock set back, a busy database): retry
            self.load_next()
            return

        def work() -> None:
            if study.prepare():
                self.app.call_from_thread(self._load_if_done)

        self._quiet = self.run_worker(work, thread=True, exit_on_error=False, group="idle")

    def _outlook_later(self) -> None:
        """The done notice's "Due tomorrow", read in a worker once the notice is shown: it is
        tomorrow's first queue, a whole ranking (2.2 s at 200,000 new cards, issue 19r), which
        the last answer's fetch no longer builds between its key and the notice."""
        from flashcore.services.study import tomorrow

        fc, deck, topic, queue = self.ctx.fc, self.deck, self.topic, self.queue

        def work() -> None:
            outlook = tomorrow(fc, deck=deck, topic=topic)
            self.app.call_from_thread(self._outlook_in, queue, outlook)

        self.run_worker(work, thread=True, exit_on_error=False, group="outlook", exclusive=True)

    def _outlook_in(self, queue: TodayQueue | None, outlook: TodayQueue) -> None:
        if self.phase == "done" and self.queue is queue and not self._load_failed:
            self._show_done(outlook)  # the same notice, its outlook filled in

    def _load_if_done(self) -> None:
        if self.phase in ("done", "waiting"):
            self.load_next()

    def _counts_news(self, view: CardView | None, queue: TodayQueue) -> None:
        """On the screen, after a quiet moment rebuilt the queue (another terminal's import,
        a card suspended there, the study day's rollover): the header's and the progress
        bar's counts are the rebuilt queue's at once, as `due` in that terminal says, not only
        at the next key. Only while the same card is read and no answer is being written
        (the same card even if `_outcomes_news` just showed it again under the new settings:
        a limit changed elsewhere changes the counts too)."""
        reading = self.phase in ("front", "back") and not self._writing
        shown = self.view
        same = shown is view or (
            shown is not None
            and view is not None
            and (shown.card_id, shown.version) == (view.card_id, view.version)
        )
        if view is not None and same and reading:
            self.queue = queue
            self._set_scope()
            self._update_progress()

    def _answers_gone(self, looked: set[tuple[int, int]], kept: set[tuple[int, int]]) -> None:
        """On the screen: answers of this session are gone from the database (a backup was
        restored, or `flashcore undo` ran, in another terminal): the session counts what is
        kept, as `stats` does, and says so."""
        gone = self.record.drop_gone(looked, kept)
        if gone:
            self._update_progress()
            self.say(
                f"{plural(gone, 'answer')} of this session gone: a backup restore or undo elsewhere",
                severity="warning",
                timeout=10,
            )

    def _outcomes_news(self, view: CardView, again: CardView) -> None:
        """Another terminal changed the settings or the exam while this card is read (`config
        set desired_retention`): its four buttons say what the answer will now do. The same
        card, unchanged (a card changed elsewhere keeps its old view: its answer is refused)."""
        reading = self.phase in ("front", "back") and not self._writing
        if self.view is view and reading and again.version == view.version:
            self.view = again
            if self.phase == "back":
                self._set_phase("back")

    def _fetch_ahead(self, study: StudySession) -> None:
        """In a worker, while the student reads: the card after the one on screen, read ahead
        (services.study_ahead) with its texts, for the answer's key to show at once."""
        from flashcore.tui.next_card import NextCard, card_texts

        view = self.view
        if view is None:
            return
        found = study.ahead(view.card_id)
        kept = self._ahead_card
        if found is None or (kept is not None and kept[0] is found):
            return
        item = found.item
        texts = card_texts(found.view, item.reason)
        shown = self.view
        if shown is None or shown.card_id != found.after:  # a key moved on meanwhile: stale
            return
        self._ahead_card = (
            found,
            NextCard(found.queue, found.view, item.reason, None, item.weak_topic, texts),
        )

    def _take_ahead(self, view: CardView) -> NextCard | None:
        """At the answer's key: the card read ahead to follow `view`, if it still does."""
        kept, study = self._ahead_card, self.study
        if kept is None or study is None or kept[0].after != view.card_id:
            return None
        self._ahead_card = None
        return kept[1] if study.take_ahead(kept[0]) else None

    def _behind_busy(self) -> None:
        self._behind_timer = None
        if self._writing:
            self.say(BEHIND_BUSY, severity="warning", timeout=SAVE_LIMIT_S)

    def _after_behind(self) -> None:
        """In the write's thread, once an answer written behind is in: the card after the one
        on screen, read ahead, and the session's queue as it now holds it (the header's
        counts). Neither rebuilds the ranking (an import finished meanwhile): the quiet work
        does that while the student reads, and the next key does not wait for it."""
        study = self.study
        if study is None:
            return
        try:
            self._fetch_ahead(study)
            self._behind_queue = study.queue_held()
        except Exception:  # noqa: BLE001 - e.g. the next card removed by another process:
            # nothing read ahead, and the next key takes the usual way (it reads the queue)
            self._ahead_card = None
            self._behind_queue = None

    def _answered_behind(
        self,
        answered: tuple[CardView, CardTexts | None, str, str | None],
        outcome: AnswerResult | BaseException,
    ) -> None:
        """On the screen: the answer written behind the card on screen is in, or failed."""
        self._writing = False
        if self._behind_timer is not None:
            self._behind_timer.stop()
            self._behind_timer = None
        if not isinstance(outcome, BaseException):
            self.record.settle(
                outcome.card_id, outcome.review_id, outcome.reviewed_at, outcome.leeched
            )
            queue = self._behind_queue
            if queue is not None and self.view is not None:
                self.queue = queue
                self._set_scope()
                self._update_progress()
            if outcome.leeched is not None:
                self.say(outcome.leeched.short_text("the last card"), severity="warning")
            else:
                self._clear_behind_status()
            self._replay_keys()
            return
        self.record.pop()  # added at the key
        if isinstance(outcome, StaleCardError):
            self._invalidate()
            self._recount()
            self.say(f"last card {STALE_NOTICE}", severity="warning")
        elif isinstance(outcome, FlashcoreError) and not isinstance(outcome, DatabaseBusyError):
            self._invalidate()
            self._recount()
            self.say(f"your last answer was not saved: {one_line(outcome)}", severity="error")
        else:
            self._unsaved(answered, outcome)
        self._replay_keys()

    def _recount(self) -> None:
        """An answer written behind the card on screen was refused (another reviewer answered
        that card first): the progress bar stops counting it now, and a worker rebuilds the
        queue for the header's counts, which the card read ahead took without the other
        reviewer's change (its answer's card back in learning)."""
        self._update_progress()
        study, view = self.study, self.view
        if study is None:
            return

        def work() -> None:
            queue = study.queue(details=False)
            self.app.call_from_thread(self._counts_news, view, queue)

        self.run_worker(work, thread=True, exit_on_error=False, group="idle")

    def _unsaved(
        self,
        answered: tuple[CardView, CardTexts | None, str, str | None],
        outcome: BaseException,
    ) -> None:
        """The answer was not written: its card comes back, answer side up, to be answered
        again. Keys typed meanwhile were meant for the card that replaced it: dropped (a quit
        is kept)."""
        if self.study is not None:
            self.study.drop_ahead()
        self._ahead_card = None
        self._kept_keys = [k for k in self._kept_keys if k[0] == self.app.exit]
        view, texts, reason, weak_topic = answered
        self.view, self._texts, self.reason, self.weak_topic = view, texts, reason, weak_topic
        if texts is not None:
            self._set_reason(texts.why)
        self._set_phase("back")
        self.say(
            f"your answer was not saved; answer again, or quit ({one_line(outcome)})",
            severity="error",
            timeout=15,
        )

    def _clear_behind_status(self) -> None:
        """A 'saving your last answer' status goes once the answer is in."""
        subtitle = self._card.border_subtitle
        if subtitle is not None and BEHIND_BUSY in str(subtitle):
            self._clear_status()

    def _write_in_thread(
        self,
        write: Callable[[], Any],
        then: Callable[[Any], None],
        retry: bool,
        fetch: bool | Callable[[], None],
    ) -> None:
        worker = get_current_worker()
        give_up = time.monotonic() + SAVE_LIMIT_S
        while True:
            try:
                outcome = write()
            except DatabaseBusyError as exc:  # refused whole: nothing was written
                if retry and time.monotonic() < give_up and not worker.is_cancelled:
                    time.sleep(SAVE_RETRY_S)
                    continue
                outcome = exc
            except Exception as exc:  # noqa: BLE001 - handed to the screen, which says it
                outcome = exc
            break
        if fetch and not isinstance(outcome, BaseException) and not worker.is_cancelled:
            # the answer is in whatever this does: the screen must hear it (`then`); should it
            # fail, the next key loads its card the usual way
            with contextlib.suppress(Exception):
                (self._fetch_after_write if fetch is True else fetch)()
        if not worker.is_cancelled:  # the app is still there (Ctrl+C does not wait for this)
            self.app.call_from_thread(then, outcome)
