"""Review: the front, then the answer with four graded buttons. The next card, read ahead while
the student reads, is shown by the answer's key and the answer written behind it; else (none
read ahead) the answer is committed, then the next card fetched in a worker (review_writes).

Phases: `loading` (the next card is being fetched), `saving` (an answer, undo, bury, suspend or
flag is being written, in a worker thread), `front`, `back`, `waiting` (only learning cards
due later are left: "next card in 4m", polled every second) and `done`.

The screen never freezes and never drops a key. Writes run in a worker: while another process
holds the write lock (a large `qbank import`), the answer waits for it there, retried until it
commits (a retry writes nothing twice: a busy database refused the whole transaction) or, after
`SAVE_LIMIT_S`, fails with a message and the card stays on screen to be answered again
(review_writes). After `SAVING_SHOWN_S` the screen says it is saving, and after `SAVING_BUSY_S`
why. Keys pressed while loading or saving are kept, in order, and replayed once the next card
is on screen (Space, 3, Space, 3 typed ahead answers two cards); quitting waits for the answer
in flight. While the student reads, a worker checkpoints the WAL, warms a new connection up
for its first answer and rebuilds the session's queue if another process changed the
collection (`StudySession.prepare`), off the key's path.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import datetime
from typing import TYPE_CHECKING, Any, ClassVar

from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.message import Message
from textual.screen import Screen
from textual.timer import Timer
from textual.widgets import Footer, Static
from textual.worker import Worker

from flashcore.core.errors import FlashcoreError
from flashcore.tui import collector
from flashcore.tui.context import Context
from flashcore.tui.next_card import CardTexts, NextCard, card_texts, fetch_next, meta_text
from flashcore.tui.queue_text import done_text, scope_text, waiting_text
from flashcore.tui.screens.help import HelpScreen
from flashcore.tui.screens.review_actions import ReviewActions
from flashcore.tui.screens.review_frames import KeyFrames
from flashcore.tui.screens.review_writes import ReviewWrites
from flashcore.tui.screens.session_end import SessionEndScreen
from flashcore.tui.session import SessionRecord, format_duration, plural
from flashcore.tui.widgets.answer_bar import AnswerBar
from flashcore.tui.widgets.bars import ProgressLine
from flashcore.tui.widgets.card_pane import CardLines, CardPane
from flashcore.tui.widgets.card_text import same_text

if TYPE_CHECKING:
    from flashcore.services.study import CardView, StudySession, TodayQueue

COLLECT_AFTER = 0.1  # seconds after a card is shown: the student is reading, nothing is drawn
PROMPT = Text("Space / Enter  show answer", style="bold")
BUSY_KEYS = ("loading", "saving")  # phases in which keys are kept for later
HEAD_WIDTH = 70  # the scope's cells at 80 columns (the timer takes 8, padding 2)
STATUS_S = 4.0  # how long a status ("Undone: Good") stays in the card's bottom border
STATUS_STYLES = {"information": "bold", "warning": "bold yellow", "error": "bold red"}


class ReviewScreen(ReviewActions, ReviewWrites, KeyFrames, Screen[None]):
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("space,enter", "reveal", "Show", priority=True),
        Binding("1", "rate(1)", "Answer", key_display="1-4"),
        Binding("2", "rate(2)", "Hard", show=False),
        Binding("3", "rate(3)", "Good", show=False),
        Binding("4", "rate(4)", "Easy", show=False),
        Binding("u", "undo", "Undo"),
        Binding("b", "bury", "Bury"),
        Binding("exclamation_mark", "suspend", "Suspend"),
        Binding("asterisk", "flag", "Flag"),
        Binding("o", "open_images", "Images", show=False),
        Binding("e", "end", "End", show=False),
        Binding("plus", "more_new", "More new", show=False),
        Binding("escape", "back", "Back"),
        Binding("question_mark", "help", "Help"),
        Binding("q", "quit", "Quit"),
    ]
    AUTO_FOCUS = "#card"

    class Said(Message):
        """A status was shown in the card's bottom border (tests read it)."""

        def __init__(self, text: str, severity: str) -> None:
            self.text = text
            self.severity = severity
            super().__init__()

    class ScopeFailed(Message):
        """The deck or topic to study could not be used (e.g. no such deck)."""

        def __init__(self, deck: str | None, topic: str | None, error: FlashcoreError) -> None:
            self.deck = deck
            self.topic = topic
            self.error = error
            super().__init__()

    def __init__(self, ctx: Context, *, deck: str | None = None, topic: str | None = None) -> None:
        super().__init__()
        self.ctx = ctx
        self.deck = deck
        self.topic = topic
        self.record = SessionRecord(deck, topic, ctx.ticks())
        self.phase = "loading"
        self.queue: TodayQueue | None = None
        self.view: CardView | None = None
        self.reason = ""
        self.weak_topic: str | None = None
        self.shown_at = ctx.ticks()
        self.cards_shown = 0  # counts every card put on screen (tests and timing use it)
        self.study: StudySession | None = None
        self._next_due: datetime | None = None
        self._collect_timer: Timer | None = None
        self._holding_gc = False
        self._budget_told = False
        self._kept_keys: list[tuple[Callable[..., Any], tuple[Any, ...]]] = []
        self._saving_timers: list[Timer] = []
        self._status_timer: Timer | None = None
        self._fetched: NextCard | None = None  # the next card, fetched with the last answer
        self._ahead_card: NextCard | None = None  # the card after this one, read ahead
        self._writing = False  # an answer is being written behind the card on screen
        self._behind_queue: TodayQueue | None = None  # the queue once that answer was in
        self._behind_timer: Timer | None = None
        self._replaying = False  # a kept key is being replayed (it is not kept again)
        self._texts: CardTexts | None = None  # the texts of the card on screen
        self._shown_texts: dict[Static, Text] = {}  # what _set_text last gave each widget
        self._notice_text = Text()  # what the card shows in the waiting and done phases
        self._quiet: Worker[None] | None = None  # the work done while the student reads
        self._done_ticks = 0  # seconds on "All done" (`_look_when_done`)
        self._load_failed = False  # "done" shows why the next card could not be loaded
        # The widgets, kept at hand: a card changes them without a query per widget.
        self._scope = Static(self._scope_text(), id="review-scope")
        self._timer = Static("00:00", id="review-timer")
        self._progress = ProgressLine(id="review-progress")
        # The card and the line under it keep their sizes from card to card: a key repaints
        # them, it does not lay the screen out (issue 19).
        self._card = CardPane(id="card")
        self._reason = Static(Text(), id="reason")
        self._saving = Static(Text(), id="saving")  # over the buttons while a save is slow
        self._keys = AnswerBar(id="answers")  # the prompt, or the four answer buttons

    # ------------------------------------------------------------ layout

    def compose(self) -> ComposeResult:
        with Horizontal(id="review-head", classes="titlebar"):
            yield self._scope
            yield self._timer
        yield self._progress
        with Vertical(id="review-body"):  # a readable column, centred on wide terminals
            yield self._card
            yield self._reason
            yield self._saving
            yield self._keys
        yield Footer(compact=True)

    def on_mount(self) -> None:
        self._set_phase("loading")
        self.set_interval(1.0, self._tick)
        self.load_next()

    # While a session is on screen the collector runs only while the student reads a card.
    def on_screen_resume(self) -> None:
        if not self._holding_gc:
            self._holding_gc = True
            collector.hold()

    def on_screen_suspend(self) -> None:
        self._release_gc()

    def _release_gc(self) -> None:
        if self._holding_gc:
            self._holding_gc = False
            collector.release()

    def _collect_soon(self) -> None:
        if self._collect_timer is not None:
            self._collect_timer.stop()
        self._collect_timer = self.set_timer(COLLECT_AFTER, self._collect)

    def _collect(self) -> None:
        self._collect_timer = None
        if self.phase in BUSY_KEYS:  # a card is on its way: wait until it is shown
            self._collect_soon()
        elif self._holding_gc:
            collector.collect()
            self._quiet_work(checkpoint=True)

    def _scope_text(self, queue: TodayQueue | None = None) -> Text:
        width = (self._scope.size.width if self.is_mounted else 0) or HEAD_WIDTH
        return scope_text(self.deck, self.topic, queue, width)

    def on_resize(self) -> None:
        self.call_after_refresh(lambda: self._set_text(self._scope, self._scope_text(self.queue)))

    def _set_scope(self) -> None:
        self._set_text(self._scope, self._scope_text(self.queue), layout=False)

    # ------------------------------------------------------------ loading

    @work(exclusive=True, group="review-load")
    async def load_next(self, prefer: int | None = None) -> None:
        self._set_phase("loading")
        try:
            if self.study is None:
                from flashcore.services.study import StudySession

                self.study = StudySession(
                    self.ctx.fc,
                    deck=self.deck,
                    topic=self.topic,
                    minutes=self.ctx.session_minutes,
                    exam_budget=True,
                )
            nxt = await asyncio.to_thread(
                fetch_next, self.ctx, self.deck, self.topic, prefer, self.study
            )
        except FlashcoreError as exc:
            if self.queue is None:
                self.post_message(self.ScopeFailed(self.deck, self.topic, exc))
            else:  # keys typed before it was seen are not for what comes next: dropped
                if not self._load_failed:  # said once; the retries keep it on the card
                    self.say(str(exc), severity="error")
                self._kept_keys = [k for k in self._kept_keys if k[0] == self.app.exit]
                self._load_failed = True  # tried again every few seconds (_look_when_done)
                self._show_notice(Text(str(exc), style="red"), "done")
            return
        collector.freeze_once()
        if self.queue is None:
            collector.settle()  # the session's queue is loaded: long-lived from here on
        self._apply(nxt)

    def _next_card(self) -> None:
        """Show the next card: the one the answer's worker fetched right after the answer
        committed (one trip to a thread per key, not two), else load it."""
        nxt, self._fetched = self._fetched, None
        if nxt is None:
            self.load_next()
        else:
            self._apply(nxt)

    def _fetch_after_write(self) -> None:
        """In the write's thread, once the answer is committed: the next card, as `load_next`
        would fetch it. Should it fail, the screen's own load fetches again and says why."""
        study = self.study
        if study is None:
            return
        try:
            self._fetched = fetch_next(self.ctx, self.deck, self.topic, None, study, outlook=False)
        except Exception:  # noqa: BLE001 - load_next (in _next_card) retries it and reports
            self._fetched = None

    def _apply(self, nxt: NextCard) -> None:
        self._load_failed = False
        self.queue = nxt.queue
        self._set_text(self._scope, self._scope_text(nxt.queue), layout=False)
        self._update_progress()
        if nxt.view is not None:
            self.weak_topic = nxt.weak_topic
            self._show_card(nxt.view, nxt.reason, nxt.texts)
            self._replay_keys()
            return
        self.view = None
        if self.study is not None and self.study.postponed and not self._budget_told:
            self._budget_told = True  # once: the session's time budget is used up
            n = self.record.postponed = self.study.postponed
            self.say(f"Time budget used: {plural(n, 'card')} postponed to tomorrow", timeout=8)
        self._next_due = nxt.queue.next_learning_due
        if self._next_due is not None:
            self._show_waiting()
        elif self.record.count and not (nxt.queue.new_held or nxt.queue.review_held):
            self.app.switch_screen(SessionEndScreen(self.ctx, self.record, finished=True))
            return
        else:
            self._show_done(nxt.tomorrow)
        self._replay_keys()

    # ------------------------------------------------------------ keys kept while busy

    def _busy_for(self, action: Callable[..., Any]) -> bool:
        """Whether `action` waits: any while loading or saving; all but Space while writing behind."""
        if self.phase in BUSY_KEYS:
            return True
        return self._writing and action != self.action_reveal

    def _keep(self, action: Callable[..., Any], *args: Any) -> bool:
        """While busy for it (or behind a key kept before it), keep the key for later (True);
        else False: act now."""
        if (self._replaying or not self._kept_keys) and not self._busy_for(action):
            return False
        self._kept_keys.append((action, args))
        return True

    def _replay_keys(self) -> None:
        """The keys pressed meanwhile, in order, until one must wait again."""
        while self._kept_keys and self.is_attached:
            action, args = self._kept_keys[0]
            if self._busy_for(action):
                return
            self._kept_keys.pop(0)
            replaying, self._replaying = self._replaying, True
            try:
                action(*args)
            finally:
                self._replaying = replaying

    def _update_progress(self) -> None:
        queue = self.queue
        left = 0 if queue is None else queue.new + queue.learning + queue.review
        done = self.record.count
        self._progress.set_progress(done, done + left)

    # ------------------------------------------------------------ showing

    def _set_text(self, widget: Static, text: Text, *, layout: bool = True) -> None:
        """`widget` shows `text`, updated (and repainted) only when it differs from what it
        shows: the header and the why line often stay the same from card to card."""
        if not same_text(self._shown_texts.get(widget), text):
            self._shown_texts[widget] = text
            widget.update(text, layout=layout)

    def _set_reason(self, text: Text) -> None:
        """The why line under the card: two lines high whatever the text takes (app.tcss), so
        a new reason repaints it and never lays the screen out."""
        self._set_text(self._reason, text, layout=False)

    def _show_card(self, view: CardView, reason: str, texts: CardTexts | None = None) -> None:
        self.view = view
        self.reason = reason
        self._texts = texts if texts is not None else card_texts(view, reason)
        self._set_reason(self._texts.why)
        if self._card.scroll_y:
            self._card.scroll_home(animate=False)
        self.shown_at = self.ctx.ticks()
        self.cards_shown += 1
        self._set_phase("front")
        self._collect_soon()

    def _show_meta(self) -> None:
        """The card again, its deck line changed (flagged)."""
        if self.phase in ("front", "back"):
            self._show_lines(self.phase)

    def _reveal(self) -> None:
        if self.view is None or self._texts is None:
            return
        self._set_phase("back")

    def _show_waiting(self) -> None:
        self._show_notice(self._waiting_text(), "waiting")

    def _waiting_text(self) -> Text:
        return waiting_text(self._next_due, self.ctx.fc.now())

    def _show_done(self, tomorrow: TodayQueue | None) -> None:
        from flashcore.tui.screens.session_end import outlook_text

        outlook = "…" if tomorrow is None else outlook_text(tomorrow)
        text = done_text(self.queue, self.deck, self.topic, outlook, answered=self.record.count)
        self._show_notice(text, "done")
        if tomorrow is None:
            self._outlook_later()

    def _show_notice(self, text: Text, phase: str) -> None:
        self.view = None
        self._notice_text = text
        self._set_reason(Text())
        self._set_phase(phase)
        self._collect_soon()

    def _card_lines(self, phase: str) -> CardLines | None:
        """What the card shows in `phase`: the front; the front, a rule and the answer with
        the extra (a cloze: its text with the answers, in place of the front); a notice."""
        if phase in ("waiting", "done"):
            return CardLines(notice=self._notice_text)
        view, texts = self.view, self._texts
        if view is None or texts is None:
            return None
        meta = meta_text(view)
        if phase == "front":
            return CardLines(meta=meta, front=texts.front)
        if view.kind == "cloze":
            return CardLines(meta=meta, front=texts.answer, extra=texts.extra)
        return CardLines(meta=meta, front=texts.front, back=texts.answer, extra=texts.extra)

    def _show_lines(self, phase: str) -> None:
        lines = self._card_lines(phase)
        if lines is not None:
            self._card.show(lines)

    def _set_phase(self, phase: str) -> None:
        """Show what `phase` shows: the card's lines and, under them, the prompt (front), the
        answer buttons (back) or nothing (a notice). Both change their content, never their
        size: no layout. `loading` changes nothing on screen (the next card replaces this one
        within milliseconds); it only makes card keys wait."""
        self.phase = phase
        if phase in BUSY_KEYS:
            return
        self._stop_saving()
        if self._saving.display:
            self._saving.display = False  # after a slow save only: one layout
        self._show_lines(phase)
        view = self.view
        if phase == "back" and view is not None:
            self._keys.show_outcomes({r: o.label for r, o in view.outcomes.items()})
        else:
            self._keys.show_prompt(PROMPT if phase == "front" else Text())

    # ------------------------------------------------------------ status

    def say(
        self,
        message: str,
        *,
        severity: str = "information",
        timeout: float = STATUS_S,
    ) -> None:
        """A short status ("Undone: Good", "Flagged") in the card's bottom border, where it
        covers neither the card, its why line nor the key hints (a toast would); an error
        stays longer. Never markup."""
        line = " ".join(message.split())
        self._card.border_subtitle = Text(f" {line} ", style=STATUS_STYLES.get(severity, "bold"))
        if self._status_timer is not None:
            self._status_timer.stop()
        self._status_timer = self.set_timer(timeout, self._clear_status)
        self.post_message(self.Said(line, severity))

    def _clear_status(self) -> None:
        self._status_timer = None
        self._card.border_subtitle = None

    def _tick(self) -> None:
        elapsed = self.ctx.ticks() - self.record.started
        self._timer.update(format_duration(elapsed), layout=False)  # a fixed width (app.tcss)
        if self._holding_gc and self.phase not in BUSY_KEYS:
            collector.idle_tick()  # its own redraws' garbage, on a screen left as it is
        if self.phase == "waiting" and self._next_due is not None:
            if self.ctx.fc.now() >= self._next_due:
                self.load_next()
            else:
                self._notice_text = self._waiting_text()
                self._show_lines("waiting")
                self._look_when_done()  # another terminal's change: a raised limit, an import
        elif self.phase in ("front", "back"):
            self._quiet_work()  # an import that finished while the student reads
        elif self.phase == "done":
            self._look_when_done()  # a new study day, or cards an import brought

    # ------------------------------------------------------------ actions

    def action_reveal(self) -> None:
        if self._keep(self.action_reveal):
            return
        if self.phase == "front":
            self._reveal()

    def on_answer_bar_chosen(self, message: AnswerBar.Chosen) -> None:
        self.action_rate(int(message.rating))

    def action_end(self) -> None:
        if self._keep(self.action_end):
            return
        finished = self.phase == "done"
        self.app.switch_screen(SessionEndScreen(self.ctx, self.record, finished=finished))

    def on_unmount(self) -> None:
        self._release_gc()
        if self.study is not None:
            self.study.close()  # its connection; nothing is pending (every answer committed)

    def action_back(self) -> None:
        if self._keep(self.action_back):
            return
        self.app.pop_screen()

    def action_help(self) -> None:
        self.app.push_screen(HelpScreen())

    def action_quit(self) -> None:
        if not self.defer_quit():
            self.app.exit()

    def defer_quit(self) -> bool:
        """While an answer is saving, quitting waits for it (True: deferred). Asked again
        meanwhile (Ctrl+C twice), it does not wait."""
        if not (self.phase == "saving" or self._writing) or any(
            a == self.app.exit for a, _ in self._kept_keys
        ):
            return False
        self.say("quitting once your answer is saved (Ctrl+C again: quit now)")
        self._kept_keys.append((self.app.exit, ()))
        return True
