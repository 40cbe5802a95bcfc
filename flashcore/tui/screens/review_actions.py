"""What the reviewer's keys do to the card on screen: answer it, undo the last answer, bury,
suspend or flag it, open its images, raise today's new-card limit. Each write runs through the
screen's `_write` (a worker thread, retried while the database is busy) and ends in `then`."""

from __future__ import annotations

import asyncio
import dataclasses
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from textual import work

from flashcore.core.errors import DatabaseBusyError, FlashcoreError, StaleCardError
from flashcore.core.model import Rating
from flashcore.tui.session import STALE_NOTICE, Answered, one_line

if TYPE_CHECKING:
    from flashcore.services.study import CardView, StudySession, TodayQueue
    from flashcore.tui.context import Context
    from flashcore.tui.next_card import CardTexts, NextCard
    from flashcore.tui.session import SessionRecord


class ReviewActions:
    """The card actions of ReviewScreen (mixed into it; the attributes below are the screen's)."""

    ctx: Context
    deck: str | None
    topic: str | None
    phase: str
    view: CardView | None
    queue: TodayQueue | None
    reason: str
    weak_topic: str | None
    shown_at: float
    study: StudySession | None
    record: SessionRecord
    app: Any
    _keep: Callable[..., bool]
    _write: Callable[..., None]
    _back_to: Callable[[str], None]
    _replay_keys: Callable[[], None]
    _show_meta: Callable[[], None]
    _next_card: Callable[[], None]
    _texts: CardTexts | None
    _take_ahead: Callable[[CardView], NextCard | None]
    _answer_behind: Callable[..., None]
    _answered_behind: Callable[..., None]
    load_next: Callable[..., Any]
    say: Callable[..., None]
    notify: Callable[..., None]

    def action_rate(self, value: int) -> None:
        from flashcore.services.study import answer

        if self._keep(self.action_rate, value):
            return
        view = self.view
        if self.phase != "back" or view is None:
            return
        rating = Rating(value)
        duration_ms = max(0, int((self.ctx.ticks() - self.shown_at) * 1000))
        reason, weak_topic = self.reason, self.weak_topic
        study = self.study

        def write() -> Any:
            if study is not None:  # the session's connection; the card leaves its queue
                return study.answer(
                    view.card_id, rating, duration_ms=duration_ms,
                    expect_version=view.version, reason=reason,
                )  # fmt: skip
            return answer(
                self.ctx.fc, view.card_id, rating, duration_ms=duration_ms,
                expect_version=view.version, reason=reason,
            )  # fmt: skip

        nxt = self._take_ahead(view)
        if nxt is not None:  # shown now, the answer written behind it
            texts = self._texts
            self.record.add(
                Answered(view.card_id, rating, reason, view.topics, duration_ms, weak_topic)
            )
            self._answer_behind(
                nxt, write,
                lambda outcome: self._answered_behind((view, texts, reason, weak_topic), outcome),
            )  # fmt: skip
            return

        def then(outcome: Any) -> None:
            self._answered(view, rating, (reason, weak_topic), duration_ms, outcome)

        self._write(write, then, fetch=True)

    def _answered(
        self,
        view: CardView,
        rating: Rating,
        why: tuple[str, str | None],
        duration_ms: int,
        outcome: Any,
    ) -> None:
        reason, weak_topic = why  # as shown with the card, whatever was loaded since
        if isinstance(outcome, StaleCardError):
            self._invalidate()
            self.say(f"card {STALE_NOTICE}", severity="warning")
        elif isinstance(outcome, DatabaseBusyError) or (
            isinstance(outcome, BaseException) and not isinstance(outcome, FlashcoreError)
        ):
            # Not saved: the card stays, answered side up, to be answered again.
            self._back_to("back")
            self.say(
                f"your answer was not saved; answer again, or quit ({one_line(outcome)})",
                severity="error",
                timeout=15,
            )
            self._replay_keys()
            return
        elif isinstance(outcome, FlashcoreError):
            self._invalidate()
            self.say(f"{outcome}; moving on", severity="error")
        else:
            self.record.add(
                Answered(
                    view.card_id, rating, reason, view.topics, duration_ms, weak_topic,
                    outcome.review_id, outcome.reviewed_at, outcome.leeched,
                )
            )  # fmt: skip
            if outcome.leeched is not None:
                self.say(outcome.leeched.short_text("the last card"), severity="warning")
            self._next_card()  # fetched with the answer, in its thread
            return
        self.load_next()

    def _invalidate(self) -> None:
        if self.study is not None:
            self.study.invalidate()

    def action_undo(self) -> None:
        from flashcore.services.study import undo, undo_answer

        if self._keep(self.action_undo):
            return
        last = self.record.answers[-1] if self.record.answers else None
        if last is None:
            self.say("Nothing to undo in this session")
            return
        phase, fc = self.phase, self.ctx.fc

        def then(outcome: Any) -> None:
            if isinstance(outcome, BaseException):
                self._back_to(phase)
                self.say(one_line(outcome), severity="error")
                self._replay_keys()
                return
            self.record.pop()
            self.say(f"Undone: {outcome.rating.label}")
            self.load_next(prefer=outcome.card_id)

        # this session's own latest answer, not one another reviewer gave since
        review_id, card_id, at = last.review_id, last.card_id, last.reviewed_at
        self._write(
            (lambda: undo(fc)[0])
            if review_id is None
            else (lambda: undo_answer(fc, review_id, card_id, at)),
            then,
        )

    def _card_action(self, action: str, message: str) -> None:
        from flashcore.services.study import set_cards

        view = self.view
        if view is None or self.phase not in ("front", "back"):
            return
        phase, fc, study = self.phase, self.ctx.fc, self.study

        def write() -> Any:
            set_cards(fc, action, [view.card_id])
            if action in ("bury", "suspend") or study is None:
                return None
            # a flag changes the card's version: the card as it now is, for its answer (else
            # refused as changed elsewhere: a flagged card's grade was lost)
            return study.show(view.card_id)

        def then(outcome: Any) -> None:
            if isinstance(outcome, BaseException):
                self._back_to(phase)
                self.say(one_line(outcome), severity="error")
                self._replay_keys()
                return
            self.say(message)
            if action in ("bury", "suspend"):
                self._invalidate()
                self.load_next()
            else:
                self._back_to(phase)
                self.view = outcome or dataclasses.replace(view, flagged=action == "flag")
                self._show_meta()
                self._replay_keys()

        self._write(write, then)

    def action_bury(self) -> None:
        if self._keep(self.action_bury):
            return
        self._card_action("bury", "Buried until tomorrow")

    def action_suspend(self) -> None:
        if self._keep(self.action_suspend):
            return
        if self.view is not None:
            card_id = self.view.card_id
            self._card_action(
                "suspend", f"Suspended card {card_id} (`flashcore cards unsuspend {card_id}`)"
            )

    def action_flag(self) -> None:
        if self._keep(self.action_flag):
            return
        if self.view is not None:
            if self.view.flagged:
                self._card_action("unflag", "Flag removed")
            else:
                self._card_action("flag", "Flagged")

    def action_open_images(self) -> None:
        """`o`: the card's images (its `[image: name]` placeholders) in the system viewer."""
        from flashcore.services.anki_import import media_files

        view = self.view
        if view is None or self.phase not in ("front", "back"):
            return
        if not view.images:
            self.notify("this card shows no image")
            return
        found, missing = media_files(self.ctx.fc, view.images)
        if found:
            try:
                self.ctx.open_files(found)
            except FileNotFoundError as exc:  # no xdg-open / open on this system
                where = ", ".join(str(p) for p in found[:3])
                self.notify(
                    f"no image viewer ({exc.filename or exc}); the image is at {where}",
                    severity="warning",
                    markup=False,
                )
                return
            except OSError as exc:
                self.notify(f"cannot open the images: {exc}", severity="error", markup=False)
                return
            self.notify(f"opened {len(found)} image{'s' if len(found) != 1 else ''}")
        if missing:
            self.notify(
                "not in the media folder: " + ", ".join(missing[:3]),
                severity="warning",
                markup=False,
            )

    def action_more_new(self) -> None:
        """`+` when today's new-card limit holds cards back: raise this scope's limit for
        today by those cards (a day's worth at most) and go on."""
        queue = self.queue
        if self.phase not in ("done", "waiting") or queue is None or not queue.new_held:
            return
        self.raise_limit(min(queue.new_held, max(1, self.ctx.fc.settings.new_per_day)))

    @work(exclusive=True, group="review-load")
    async def raise_limit(self, more: int) -> None:
        from flashcore.services.study import new_limit_raised, raise_new_limit

        fc, deck, topic = self.ctx.fc, self.deck, self.topic

        def work() -> int:
            extra = new_limit_raised(fc, deck=deck, topic=topic) + more
            return raise_new_limit(fc, deck=deck, topic=topic, extra=extra)

        try:
            limit = await asyncio.to_thread(work)
        except FlashcoreError as exc:
            self.say(str(exc), severity="error")
            return
        self.say(f"Today's new-card limit here: {limit}")
        self._invalidate()
        self.load_next()
