"""One Anki card's history during a `--with-scheduling` import (see services.anki_scheduling):
its answers followed, matched to answers given here, or held back; its state settled as
Anki's, or merged with flashcore's answers and recomputed."""

from __future__ import annotations

from bisect import bisect_left
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from flashcore.core import fsrs_adapter, studyday
from flashcore.core.model import CardState, Rating, Schedule
from flashcore.exporters.anki.revlog import MAX_ANSWER_MS
from flashcore.importers.anki_package.types import (
    Card,
    Deck,
    DeckConfig,
    Note,
    NoteType,
    PackageCounts,
    PackageInfo,
    RevlogEntry,
)
from flashcore.importers.anki_scheduling import (
    AnkiClock,
    DataNumbers,
    ImportedReview,
    ReviewTrack,
    card_schedule,
    data_numbers,
    memory_from_history,
    review_of,
    revlog_time,
    study_day_number,
)
from flashcore.storage import anki_sync
from flashcore.storage.anki_sync import Anchor, LocalCard

if TYPE_CHECKING:
    from flashcore.services.context import Collection


MATCH_MILLIS = 1000  # an exported answer's revlog id is its time, moved on at most this much


class PackageSource(Protocol):
    """What an import reads of an opened package (`importers.anki_package.AnkiPackage`)."""

    @property
    def info(self) -> PackageInfo: ...
    def note_types(self) -> dict[int, NoteType]: ...
    def notes(self) -> Iterator[Note]: ...
    def note_guids(self) -> Iterator[tuple[int, str, int]]: ...
    def counts(self) -> PackageCounts: ...
    def decks(self) -> dict[int, Deck]: ...
    def deck_configs(self) -> dict[int, DeckConfig]: ...
    def cards(self) -> Iterator[Card]: ...
    def revlog(self) -> Iterator[RevlogEntry]: ...
    def sql(self, statement: str, params: Iterable[Any] = ()) -> Iterator[tuple[Any, ...]]: ...
    def fill_temp(self, table: str, columns: str, rows: Iterable[tuple[Any, ...]]) -> None: ...
    @property
    def database_file(self) -> Path | None: ...


@dataclass(slots=True)
class SchedulingSummary:
    """What an import did with the package's scheduling."""

    cards_added: int = 0  # Anki's schedule taken for a card for the first time
    cards_updated: int = 0  # Anki's newer schedule taken (it had seen every answer given here)
    cards_merged: int = 0  # answered on both sides: both histories, state recomputed
    cards_skipped: int = 0  # nothing new in the package
    cards_new: int = 0  # new in Anki: flashcore's new card stays new
    reviews_added: int = 0  # answers given in Anki, now in the review log
    reviews_linked: int = 0  # answers given here that came back in the package
    reviews_skipped: int = 0  # already in the review log
    manual_skipped: int = 0  # revlog rows that are not answers (set due date, forget, ...)
    settings: dict[str, str] = field(default_factory=dict)  # profile settings the preset set
    warnings: list[str] = field(default_factory=list)
    # The package's cards left without an anchor (flashcore ids), not reported: new in Anki,
    # and studied there but kept as answered here (`services.anki_unchanged` works out from
    # them what a re-import reports once the student has studied here).
    unanchored_new: list[int] = field(default_factory=list, repr=False, compare=False)
    unanchored_studied: list[int] = field(default_factory=list, repr=False, compare=False)

    def to_json(self) -> dict[str, Any]:
        return {
            "cards_added": self.cards_added,
            "cards_updated": self.cards_updated,
            "cards_merged": self.cards_merged,
            "cards_skipped": self.cards_skipped,
            "cards_new": self.cards_new,
            "reviews_added": self.reviews_added,
            "reviews_linked": self.reviews_linked,
            "reviews_skipped": self.reviews_skipped,
            "manual_skipped": self.manual_skipped,
            "settings": dict(self.settings),
            "warnings": list(self.warnings),
        }

    @property
    def changed(self) -> bool:
        """Whether the import changed anything: a card's state, the review log, a setting."""
        return bool(
            self.cards_added or self.cards_updated or self.cards_merged or self.reviews_added
            or self.reviews_linked or self.settings
        )  # fmt: skip

    def line(self) -> str:
        """One line for the command's output, naming only what happened, then what stayed:
        `scheduling: cards: 5 updated from Anki; reviews: 12 added from Anki (33,567 cards
        unchanged, 14,388 still new, 973,576 reviews already here)`, or `scheduling: nothing
        new from Anki (…)`."""
        cards = _counted(
            (self.cards_added, "taken from Anki"),
            (self.cards_updated, "updated from Anki"),
            (self.cards_merged, "merged with answers given here"),
        )
        reviews = _counted(
            (self.reviews_added, "added from Anki"),
            (self.reviews_linked, "matched to answers given here"),
        )
        parts = [f"cards: {cards}"] if cards else []
        parts += [f"reviews: {reviews}"] if reviews else []
        text = "scheduling: " + ("; ".join(parts) or "nothing new from Anki")
        kept = _counted(
            (
                self.cards_skipped,
                "card unchanged" if self.cards_skipped == 1 else "cards unchanged",
            ),
            (self.cards_new, "still new"),
            (
                self.reviews_skipped,
                "review already here" if self.reviews_skipped == 1 else "reviews already here",
            ),
        )
        return f"{text} ({kept})" if kept else text


def _counted(*counts: tuple[int, str]) -> str:
    return ", ".join(f"{n:,} {what}" for n, what in counts if n)


@dataclass(slots=True)
class _CardWork:
    """One package card during an import."""

    anki: Card
    card_id: int  # the flashcore card
    link: tuple[int, bool] | None  # its Anki card id and whether it has an anchor, if linked
    local: LocalCard | None = None  # read for the cards an import changes that were linked
    track: ReviewTrack = field(default_factory=ReviewTrack)
    last_entry: RevlogEntry | None = None
    last_answer_ms: int = 0
    unseen: list[tuple[int, int, int, int]] = field(default_factory=list)  # answers Anki lacks
    pending: list[ImportedReview] = field(default_factory=list)  # held back for a merge
    new_answers: int = 0
    new_manual: int = 0
    history: list[tuple[Rating, datetime, int]] | None = None  # for memory without FSRS data
    retention: float | None = None  # the card's `dr`
    decoded: bool = False  # `retention` and `history` read from the card's data (`_decode`)
    numbers: DataNumbers | None = None  # what `card_schedule` reads of the data (`_decode`)
    own: bool = False  # answers given here (exported) came back in the package


_STUDIED = (1, 2, 3)  # Anki's card types learning, review, relearning (0: new, no memory)


def _decode(item: _CardWork) -> None:
    """The card's desired retention from its data, and whether its memory must be rebuilt
    from its answers (studied, no FSRS memory in Anki); once, and only for the cards an import
    writes (an unchanged re-import decodes none of 48,000)."""
    if item.decoded:
        return
    data = item.anki.data_json()  # not kept: 48,000 decoded dicts would take ~20 MB
    retention = data.get("dr")
    item.retention = float(retention) if isinstance(retention, int | float) else None
    if item.anki.type in _STUDIED and not data.get("s"):
        item.history = []
    item.numbers = data_numbers(data)  # 4 floats: ~7 MB for 48,000 cards
    item.decoded = True


def _known(known: Any, revlog_id: int) -> bool:
    at = bisect_left(known, revlog_id)
    return at < len(known) and known[at] == revlog_id


def _follow(item: _CardWork, entry: RevlogEntry, zone: Any, hour: int) -> None:
    """A row already in the log (or linked): the card's track moves on without a new row."""
    item.last_entry = entry
    item.last_answer_ms = max(item.last_answer_ms, entry.id)
    when = revlog_time(entry.id)
    item.track.last_day = date.fromordinal(study_day_number(entry.id // 900_000, zone, hour))
    if item.track.state is CardState.REVIEW and entry.ease == 1:
        item.track.lapses += 1
    item.track.last_answer = when
    item.track.state = (
        CardState.REVIEW
        if entry.interval > 0
        else (CardState.RELEARNING if entry.kind in (1, 2) else CardState.LEARNING)
    )


def _review(
    item: _CardWork, entry: RevlogEntry, clock: AnkiClock, zone: Any, hour: int
) -> ImportedReview:
    review = review_of(entry, item.track, clock, zone, hour)
    item.last_entry = entry
    item.last_answer_ms = max(item.last_answer_ms, entry.id)
    return review


def _match_unseen(item: _CardWork, entry: RevlogEntry) -> int | None:
    """The answer given here that this revlog row is, removed from the card's unseen answers;
    None when there is none. By its time: the same rating, the revlog id (its time) to within
    MATCH_MILLIS after the answer's. Else by what Anki keeps of it whatever its id: the one
    answer of the card with the same rating and the same milliseconds taken (between 1 and
    just under Anki's cap, as the export wrote them), not given before the row's id. Found living
    with it: Anki gives a revlog row whose id lies ahead of its own clock a new id at its
    import (a computer whose clock runs ahead of the phone's, an answer exported within that
    lead), and each such answer came back as a second answer of its card. The new id is
    Anki's clock at that import, so before the answer's own time: a row of a later time is a
    new answer, even one tied with an unseen answer on rating and milliseconds taken (found in
    review: such a tie was taken for flashcore's answer and the Anki answer was lost)."""
    best = None
    for index, (_log_id, millis, rating, _taken) in enumerate(item.unseen):
        close = rating == entry.ease and 0 <= entry.id - millis < MATCH_MILLIS
        if close and (best is None or millis > item.unseen[best][1]):
            best = index
    if best is None:
        taken = entry.taken_millis
        if not 0 < taken < MAX_ANSWER_MS:
            return None
        same = [
            index
            for index, (_log_id, millis, rating, took) in enumerate(item.unseen)
            if rating == entry.ease and took == taken and entry.id - millis < MATCH_MILLIS
        ]
        if len(same) != 1:
            return None
        best = same[0]
    item.own = True  # an answer given here came back
    return item.unseen.pop(best)[0]


def _row(profile_id: int, card_id: int, review: ImportedReview, retention: float,
         scheduler_id: int | None = None) -> tuple[Any, ...]:  # fmt: skip
    return anki_sync.imported_row(
        profile_id,
        card_id,
        anki_revlog_id=review.anki_revlog_id,
        reviewed_at=review.reviewed_at,
        rating=int(review.rating),
        duration_ms=review.duration_ms,
        retention=retention,
        state_before=review.state_before,
        due_before=review.due_before,
        last_review_before=review.last_review_before,
        lapses_before=review.lapses_before,
        state_after=review.state_after,
        due_after=review.due_after,
        difficulty_after=review.difficulty_after,
        elapsed_days=review.elapsed_days,
        scheduler_id=scheduler_id,
    )


def _unchanged(
    item: _CardWork, fc: Collection, summary: SchedulingSummary, writes: anki_sync.CardWrites
) -> bool:
    """Whether nothing of the card changes (nothing new from Anki, and its state was taken
    before or it is still new there); then it is counted, and its Anki id noted if it moved."""
    if item.new_answers or item.new_manual or item.link is None:
        return False
    anki_id, anchored = item.link
    if not anchored and not (item.anki.type == 0 or item.unseen):
        return False  # linked by a notes-only import, never scheduled: taken now
    if anki_id != item.anki.id:
        writes.anchor(fc.profile_id, item.card_id, item.anki.id, None, exists=True)
    if anchored or item.unseen:
        summary.cards_skipped += 1
    else:
        summary.cards_new += 1
    return True


def _settle(
    session: Any,
    fc: Collection,
    item: _CardWork,
    clock: AnkiClock,
    policy: fsrs_adapter.Policy,
    scheduler_id: int | None,
    now: datetime,
    summary: SchedulingSummary,
    writes: anki_sync.CardWrites,
) -> None:
    """Decide the card's state: Anki's (added / updated), merged, or unchanged. `item.local`
    is None for a card never linked to Anki nor answered here."""
    local = item.local
    card_id = item.card_id
    linked_id = local.anki_card_id if local is not None else None
    first_time = linked_id is None or local is None or local.anchor is None
    if item.unseen and item.pending:
        _merge(session, fc, item, policy, scheduler_id, now, writes)
        summary.cards_merged += 1
        return
    # A card with no new answers keeps its state (a new Anki card id — the package went
    # through another Anki collection — is only noted).
    changed = item.new_answers or item.new_manual
    if item.unseen or not (first_time or changed):
        if linked_id != item.anki.id:
            writes.anchor(fc.profile_id, card_id, item.anki.id, None,
                          exists=linked_id is not None)  # fmt: skip
        summary.cards_skipped += 1
        return
    if not changed and local is not None and local.anchor is None and not local.schedule.is_new:
        # Every answer Anki has of it was given here (exported with scheduling): the state here,
        # replayed from them to the microsecond, stays; Anki's copy is rounded (due to the day,
        # stability to four digits) and anchored at a millisecond, which would replay the last
        # answer given here (microseconds) a second time.
        if linked_id != item.anki.id:
            writes.anchor(fc.profile_id, card_id, item.anki.id, None,
                          exists=linked_id is not None)  # fmt: skip
        summary.cards_skipped += 1
        return
    settings = fc.settings
    history_memory = None
    if item.history:
        retention = item.retention or settings.desired_retention
        history_memory = memory_from_history(card_id, item.history, retention, policy)
    imported = card_schedule(
        item.anki, clock, settings.zone, settings.day_start_hour,
        learn_steps=len(settings.learning_steps), relearn_steps=len(settings.relearning_steps),
        default_retention=settings.desired_retention, history_memory=history_memory,
        last_answer=revlog_time(item.last_answer_ms) if item.last_answer_ms else None,
    )  # fmt: skip
    if _taken_before(item, imported.schedule):  # only rows that are not answers, seen before
        if imported.schedule is None:
            summary.cards_new += 1
        else:
            summary.cards_skipped += 1
        return
    if item.anki.buried:  # buried in Anki: here too, until the next study day
        writes.bury(card_id, fc.rollover(now))
    if imported.schedule is None:  # new in Anki
        if local is not None and not local.schedule.is_new and item.new_manual:
            _reset(fc, item, local, now, imported.retention, imported.flagged, writes)
            summary.cards_updated += 1
            return
        writes.anchor(fc.profile_id, card_id, item.anki.id, None,
                      exists=linked_id is not None)  # fmt: skip
        summary.cards_new += 1
        return
    schedule = imported.schedule
    at = schedule.last_review or now
    if item.last_answer_ms:
        # The end of that millisecond: an answer given here carries microseconds
        at = max(at, revlog_time(item.last_answer_ms) + timedelta(microseconds=999))
    anchor = Anchor(at=at, schedule=schedule)
    writes.anchor(fc.profile_id, card_id, item.anki.id, anchor,
                  exists=linked_id is not None)  # fmt: skip
    writes.schedule(card_id, schedule, now, retention=imported.retention,
                    flagged=imported.flagged)  # fmt: skip
    if first_time:
        summary.cards_added += 1
    else:
        summary.cards_updated += 1


def _reset(
    fc: Collection, item: _CardWork, local: LocalCard, now: datetime, retention: float | None,
    flagged: bool, writes: anki_sync.CardWrites,
) -> None:  # fmt: skip
    """A card answered before that Anki made new again (Forget / Reset: a manual row, no answer
    since, none here Anki lacks): new here too. Its answers stay in the review log; its anchor,
    new at `now`, has `check` replay only the answers given after it."""
    new = Schedule(CardState.NEW, due=now)
    writes.anchor(fc.profile_id, item.card_id, item.anki.id, Anchor(at=now, schedule=new),
                  exists=local.anki_card_id is not None)  # fmt: skip
    writes.schedule(item.card_id, new, now, retention=retention, flagged=flagged)


def _taken_before(item: _CardWork, schedule: Schedule | None) -> bool:
    """Whether the package brings nothing new for a card Anki scheduled before: no answer,
    only rows that are not answers (set due date, reschedule, forget: the review log keeps
    none, so they are found again on every re-import), and Anki's state is the one its anchor
    holds, taken when those rows were (a card new in Anki: linked before, still without an
    anchor). Its state, flag and burial here then stay."""
    local = item.local
    if item.new_answers or local is None or local.anki_card_id != item.anki.id:
        return False
    if schedule is None:  # still new in Anki, or made new there and here (`_reset`)
        return local.anchor is None or local.anchor.schedule.is_new
    return local.anchor is not None and local.anchor.schedule == schedule


def _note_unanchored(
    session: Any, fc: Collection, work: dict[int, _CardWork], summary: SchedulingSummary
) -> None:
    """The package's cards the import leaves without an anchor, in `summary` (~10 ms at
    50,000 cards)."""
    from flashcore.storage import repos

    unanchored = repos.unanchored_cards(session, fc.profile_id)
    for item in work.values():
        if item.card_id in unanchored:
            kept = summary.unanchored_new if item.anki.type == 0 else summary.unanchored_studied
            kept.append(item.card_id)


def _merge(
    session: Any,
    fc: Collection,
    item: _CardWork,
    policy: fsrs_adapter.Policy,
    scheduler_id: int | None,
    now: datetime,
    writes: anki_sync.CardWrites,
) -> None:
    """Both sides answered: Anki's new answers join the log, and every answer after the anchor
    is replayed in time order through FSRS (each under the scheduler it was given; Anki's under
    the profile's), rewriting their rows and the card's state."""
    local = item.local
    assert local is not None
    settings = fc.settings
    retention = local.retention or settings.desired_retention
    anki_sync.move_to_review_log(session, [local.card_id])  # its rows are rewritten below
    anki_sync.insert_imported(
        session,
        [_row(fc.profile_id, local.card_id, r, retention, scheduler_id) for r in item.pending],
    )
    anchor = local.anchor
    start = anchor.schedule if anchor is not None else Schedule(CardState.NEW, local.schedule.due)
    if anchor is None and not local.schedule.is_new:
        start = Schedule(CardState.NEW, local.schedule.due)
    answers = anki_sync.answers_after(session, local.card_id, anchor.at if anchor else None)
    policies = _policies(session, fc)
    schedule = start
    for answer in answers:
        used = policies.get(answer.scheduler_id) if answer.scheduler_id is not None else None
        elapsed = 0
        if schedule.last_review is not None:
            elapsed = max(0, studyday.days_between(
                schedule.last_review, answer.reviewed_at, settings.zone, settings.day_start_hour
            ))  # fmt: skip
        after = fsrs_adapter.answer(
            local.card_id, schedule, answer.rating, answer.reviewed_at, answer.retention,
            used or policy, elapsed_days=elapsed,
        )  # fmt: skip
        anki_sync.rewrite_answer(
            session, answer.log_id, schedule, after, elapsed_days=elapsed,
            scheduler_id=answer.scheduler_id if used else scheduler_id,
        )  # fmt: skip
        schedule = after
    writes.anchor(fc.profile_id, local.card_id, item.anki.id, None,
                  exists=local.anki_card_id is not None)  # fmt: skip
    writes.schedule(local.card_id, schedule, now, retention=retention, flagged=None)


def _policies(session: Any, fc: Collection) -> dict[int, fsrs_adapter.Policy]:
    from flashcore.storage import repos

    return {
        sid: fsrs_adapter.Policy.from_config(config)
        for sid, config in repos.scheduler_configs(session, fc.profile_id).items()
    }
