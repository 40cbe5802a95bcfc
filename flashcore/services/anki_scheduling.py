"""`flashcore decks add FILE --with-scheduling`: an Anki package's card states, FSRS memory,
flags, review history and preset, taken over into cards flashcore already has (the notes and
cards import makes them first and hands over which flashcore card each Anki card is).

How history is kept, per card:
- Anki's answers become review-log rows marked `imported`, keyed by revlog id: a re-import adds
  a revlog id once, ever.
- The card's state is Anki's as the package has it (its due day, its FSRS memory) and is kept as
  the card's *anchor* (`anki_cards`): Anki scheduled that history (its own parameters and fuzz,
  maybe SM-2), so `flashcore check` starts its replay from the anchor and replays only the answers
  given after it. After an import `check` finds nothing to report.
- A package that brings answers flashcore has not seen, for a card answered here since (and
  Anki never saw those answers): both histories are kept in time order and the card's state
  is recomputed with FSRS (flashcore's adapter) from the anchor over all answers after it:
  "merged". When Anki has seen every answer given here (they came back in the package: a
  flashcore export studied in Anki), Anki's state is the newest and is taken: "updated".
- A card with nothing new: "skipped" (flashcore's state stays).
Answers given here are recognized in a package by their revlog id (the export writes each one's
time in milliseconds, moved on a millisecond where two share one) and linked, never doubled.
"""

from __future__ import annotations

from bisect import bisect_left
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field, replace
from datetime import date, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from flashcore.core import fsrs_adapter, studyday
from flashcore.core.model import CardState, Rating, Schedule
from flashcore.core.settings import Settings, format_value
from flashcore.importers.anki_package.types import (
    Card,
    Deck,
    DeckConfig,
    Note,
    NoteType,
    NoteTypeKind,
    PackageCounts,
    PackageInfo,
    RevlogEntry,
)
from flashcore.importers.anki_scheduling import (
    COUNTS_SQL,
    DUE_DAYS_SQL,
    QUARTERS_SQL,
    ROWS_SQL,
    TEMP_TABLES,
    AnkiClock,
    ImportedReview,
    ReviewTrack,
    card_schedule,
    day_terms,
    due_micros,
    is_answer,
    memory_from_history,
    preset_parameters,
    review_of,
    revlog_time,
    steps_text,
    study_day_number,
)
from flashcore.storage import anki_sync
from flashcore.storage.anki_sync import Anchor, LocalCard

if TYPE_CHECKING:
    from flashcore.services.context import Collection

MATCH_MILLIS = 1000  # an exported answer's revlog id is its time, moved on at most this much
_BATCH = 5000  # progress every this many rows
_ROWS = 20_000  # imported answers written at a time (memory stays flat)
_WRITES = 5_000  # card and anchor rows written at a time
Progress = Callable[[int, int], None]


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
            (self.cards_skipped, "cards unchanged"),
            (self.cards_new, "still new"),
            (self.reviews_skipped, "reviews already here"),
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
    unseen: list[tuple[int, int, int]] = field(default_factory=list)  # answers Anki lacks
    pending: list[ImportedReview] = field(default_factory=list)  # held back for a merge
    new_answers: int = 0
    new_manual: int = 0
    history: list[tuple[Rating, datetime, int]] | None = None  # for memory without FSRS data
    retention: float | None = None  # the card's `dr`


def package_card_ids(session: Any, pkg: PackageSource, note_ids: dict[str, int]) -> dict[int, int]:
    """Anki card id -> flashcore card id, for the package's notes flashcore holds (`note_ids`:
    GUID -> flashcore note id, as the notes import keyed them). A cloze card's flashcore `ord`
    is its cloze number (Anki's ord + 1); a standard note type's is its template's."""
    kinds = {nt.id: nt.kind for nt in pkg.note_types().values()}
    home: dict[int, tuple[int, bool]] = {}
    for anki_note_id, guid, notetype_id in pkg.note_guids():
        found = note_ids.get(guid)
        if found is not None:
            home[anki_note_id] = (found, kinds.get(notetype_id) is not NoteTypeKind.STANDARD)
    ords = anki_sync.cards_of_notes(session, [n for n, _ in home.values()])
    out: dict[int, int] = {}
    for card in pkg.cards():
        if card.note_id in home:
            note_id, cloze = home[card.note_id]
            card_id = ords.get((note_id, card.ord + 1 if cloze else card.ord))
            if card_id is not None:
                out[card.id] = card_id
    return out


def import_from_package(
    session: Any,
    fc: Collection,
    path: Path,
    work_dir: Path,
    now: datetime,
    note_ids: dict[str, int],
    *,
    show_progress: bool = False,
) -> SchedulingSummary:
    """`decks add FILE --with-scheduling`, after the notes and cards are written in the same
    transaction: the package opened again (its collection extracted into `work_dir`), its cards
    found by GUID (`note_ids`), its scheduling applied; a progress bar on stderr for a big one.
    The extracted collection stays in `work_dir` (attached to the transaction's connection on
    SQLite until it ends): the caller removes the folder after the transaction."""
    from flashcore.importers.anki_package import open_package

    with open_package(path, work_dir=work_dir, keep_file=True) as pkg:
        card_ids = package_card_ids(session, pkg, note_ids)
        counts = pkg.counts()
        if not show_progress or counts.cards + counts.revlog < 50_000:
            return apply_scheduling(session, fc, pkg, card_ids, now)
        from rich.console import Console
        from rich.progress import Progress

        with Progress(console=Console(stderr=True), transient=True) as bar:
            task = bar.add_task("scheduling and history", total=counts.cards + counts.revlog)

            def progress(done: int, total: int) -> None:
                bar.update(task, completed=done, total=total)

            return apply_scheduling(session, fc, pkg, card_ids, now, progress=progress)


def apply_scheduling(
    session: Any,
    fc: Collection,
    pkg: PackageSource,
    card_ids: dict[int, int],
    now: datetime,
    *,
    progress: Progress | None = None,
) -> SchedulingSummary:
    """Take the package's scheduling into the cards `card_ids` maps to (Anki card id ->
    flashcore card id), inside the caller's transaction. Nothing is committed here."""
    before = fc.settings
    try:
        return _apply(session, fc, pkg, card_ids, now, progress)
    except BaseException:
        fc.use_settings(before)  # the transaction is rolled back: so are the preset's settings
        raise


def _apply(
    session: Any,
    fc: Collection,
    pkg: PackageSource,
    card_ids: dict[int, int],
    now: datetime,
    progress: Progress | None,
) -> SchedulingSummary:
    summary = SchedulingSummary()
    clock = AnkiClock.of(pkg.info)
    counts = pkg.counts()
    total = counts.cards + counts.revlog
    done = 0
    _adopt_preset(session, fc, pkg, card_ids, clock, summary)
    settings = fc.settings
    zone, hour = settings.zone, settings.day_start_hour

    work: dict[int, _CardWork] = {}
    links = anki_sync.card_links(session, fc.profile_id)
    for card in pkg.cards():
        done += 1
        flashcore_id = card_ids.get(card.id)
        if flashcore_id is not None:
            work[card.id] = _CardWork(card, flashcore_id, links.get(flashcore_id))
        if progress is not None and done % _BATCH == 0:
            progress(done, total)
    unlinked = anki_sync.unlinked_answers(session, fc.profile_id, list(card_ids.values()))
    for item in work.values():
        item.unseen = list(unlinked.get(item.card_id, ()))
        item.retention = item.anki.desired_retention
        if not item.anki.data_json().get("s"):
            item.history = []  # no FSRS memory in Anki: rebuilt from the card's answers
    writes = anki_sync.CardWrites()
    # Cards answered here since Anki last saw them are read one answer at a time (few: they
    # are matched and merged); every other card's answers go in by SQL (`_bulk`): on SQLite
    # the package is attached to the import's connection and SQLite inserts them itself.
    direct = {cid: item for cid, item in work.items() if not item.unseen}
    special = {cid: item for cid, item in work.items() if item.unseen}
    attached = anki_sync.attach_collection(session, pkg.database_file)
    known = None
    if special or attached is None:
        known = anki_sync.known_revlog_ids(session, fc.profile_id)
    try:
        source: PackageSource | anki_sync.AttachedCollection = attached or pkg
        done = _bulk(session, fc, source, direct, known, clock, summary, progress, done, total)
    finally:
        if attached is not None:
            attached.drop_temp()
    if special:
        assert known is not None
        _one_by_one(session, fc, pkg, special, known, clock, summary)
    _histories(pkg, work, zone, hour)
    policy = fc.policy
    merging = any(w.unseen and w.pending for w in work.values())
    scheduler_id = fc.scheduler_id(session) if merging else None
    settle = [item for item in work.values() if not _unchanged(item, fc, summary, writes)]
    # A card never linked to Anki and not answered here needs nothing of its row (a first
    # import: all of them); the others are read.
    wanted = [item.card_id for item in settle if item.link is not None or item.unseen]
    local = anki_sync.local_cards(session, fc.profile_id, wanted)
    for item in settle:
        item.local = local.get(item.card_id)
        _settle(session, fc, item, clock, policy, scheduler_id, now, summary, writes)
        if len(writes) >= _WRITES:
            writes.write(session)
    writes.write(session)
    if progress is not None:
        progress(total, total)
    return summary


def _bulk(
    session: Any,
    fc: Collection,
    pkg: PackageSource | anki_sync.AttachedCollection,
    direct: dict[int, _CardWork],
    known: Any | None,
    clock: AnkiClock,
    summary: SchedulingSummary,
    progress: Progress | None,
    done: int,
    total: int,
) -> int:
    """The answers of `direct` cards, computed by SQLite on the package's collection and
    inserted (by SQLite itself when the package is attached: `known` is then None and read by
    SQL too; else in batches); the cards' counts noted for `_settle`."""
    settings = fc.settings
    zone, hour = settings.zone, settings.day_start_hour
    retention = settings.desired_retention
    tables = TEMP_TABLES
    pkg.fill_temp("fc_cards", tables["fc_cards"],
                  ((cid, w.card_id, w.retention or retention) for cid, w in direct.items()))  # fmt: skip
    if known is None:
        assert isinstance(pkg, anki_sync.AttachedCollection)
        pkg.fill_known("fc_known", tables["fc_known"], fc.profile_id)
    else:
        pkg.fill_temp("fc_known", tables["fc_known"], ((rid,) for rid in known))
    for cid, new, old, manual, last in pkg.sql(COUNTS_SQL):
        item = direct[cid]
        item.new_answers, item.new_manual, item.last_answer_ms = new, manual, last or 0
        summary.reviews_added += new
        summary.reviews_skipped += old
        summary.manual_skipped += manual
    changed = [(cid, w.card_id, w.retention or retention)
               for cid, w in direct.items() if w.new_answers]  # fmt: skip
    if not changed:  # an unchanged package: nothing to compute
        return done
    if len(changed) < len(direct):
        pkg.fill_temp("fc_cards", tables["fc_cards"], changed)
    quarters = [q for (q,) in pkg.sql(QUARTERS_SQL)]
    pkg.fill_temp("fc_day", tables["fc_day"],
                  ((q, study_day_number(q, zone, hour)) for q in quarters))  # fmt: skip
    terms = day_terms(clock)
    days = [d for (d,) in pkg.sql(DUE_DAYS_SQL, terms)]
    pkg.fill_temp("fc_due", tables["fc_due"], ((d, due_micros(clock, d, zone, hour)) for d in days))
    params = (*terms, fc.profile_id, anki_sync.IMPORTED_REASON)
    if isinstance(pkg, anki_sync.AttachedCollection):
        return done + pkg.insert_review_logs(ROWS_SQL, params)
    batch: list[tuple[Any, ...]] = []
    for row in pkg.sql(ROWS_SQL, params):
        batch.append(row)
        if len(batch) >= _ROWS:
            batch.sort(key=_card_of)  # the card indexes then grow in order
            anki_sync.insert_stored(session, batch)
            done += len(batch)
            batch.clear()
            if progress is not None:
                progress(min(done, total), total)
    batch.sort(key=_card_of)
    anki_sync.insert_stored(session, batch)
    return done + len(batch)


def _card_of(row: tuple[Any, ...]) -> Any:
    return row[1]


def _one_by_one(
    session: Any,
    fc: Collection,
    pkg: PackageSource,
    special: dict[int, _CardWork],
    known: Any,
    clock: AnkiClock,
    summary: SchedulingSummary,
) -> None:
    """The answers of cards also answered here: each matched to an answer given here (linked),
    known (skipped), or new (held for the merge while the card has answers Anki lacks)."""
    settings = fc.settings
    zone, hour = settings.zone, settings.day_start_hour
    pkg.fill_temp("fc_cards", TEMP_TABLES["fc_cards"], ((cid, 0, 0.0) for cid in special))
    links: list[tuple[int, int]] = []
    rows: list[tuple[Any, ...]] = []
    query = (
        "SELECT r.id, r.cid, r.usn, r.ease, r.ivl, r.lastIvl, r.factor, r.time, r.type"
        " FROM revlog r JOIN temp.fc_cards c ON c.cid = r.cid ORDER BY r.id"
    )
    for values in pkg.sql(query):
        entry = RevlogEntry(*(int(v or 0) for v in values))
        item = special[entry.card_id]
        if not is_answer(entry):
            if not _known(known, entry.id):
                item.new_manual += 1
                summary.manual_skipped += 1
            continue
        if _known(known, entry.id):
            summary.reviews_skipped += 1
            _follow(item, entry, zone, hour)
            continue
        matched = _match_unseen(item, entry)
        if matched is not None:
            links.append((matched, entry.id))
            summary.reviews_linked += 1
            _follow(item, entry, zone, hour)
            continue
        review = _review(item, entry, clock, zone, hour)
        item.new_answers += 1
        summary.reviews_added += 1
        if item.unseen:  # answered here too: merged once every row of the card is read
            item.pending.append(review)
            continue
        card_retention = item.retention or settings.desired_retention
        rows.append(_row(fc.profile_id, item.card_id, review, card_retention))
    anki_sync.insert_imported(session, rows)
    anki_sync.link_answers(session, links)


def _histories(pkg: PackageSource, work: dict[int, _CardWork], zone: Any, hour: int) -> None:
    """The answers of cards Anki holds no FSRS memory for (rating, time, elapsed study days),
    for `memory_from_history`."""
    wanted = {cid: item for cid, item in work.items() if item.history is not None}
    if not wanted:
        return
    pkg.fill_temp("fc_cards", TEMP_TABLES["fc_cards"], ((cid, 0, 0.0) for cid in wanted))
    last: dict[int, int] = {}
    query = (
        "SELECT r.cid, r.id, r.ease FROM revlog r JOIN temp.fc_cards c ON c.cid = r.cid"
        " WHERE r.ease BETWEEN 1 AND 4 AND r.type BETWEEN 0 AND 3 ORDER BY r.cid, r.id"
    )
    for cid, rid, ease in pkg.sql(query):
        day = study_day_number(rid // 900_000, zone, hour)
        elapsed = max(0, day - last[cid]) if cid in last else 0
        last[cid] = day
        history = wanted[cid].history
        assert history is not None
        history.append((Rating(ease), revlog_time(rid), elapsed))


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
    """The answer given here that this revlog row is (same rating, its time to within
    MATCH_MILLIS), removed from the card's unseen answers; None when there is none."""
    best = None
    for index, (_log_id, millis, rating) in enumerate(item.unseen):
        close = rating == entry.ease and 0 <= entry.id - millis < MATCH_MILLIS
        if close and (best is None or millis > item.unseen[best][1]):
            best = index
    if best is None:
        return None
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
    settings = fc.settings
    history_memory = None
    if item.history:
        retention = item.anki.desired_retention or settings.desired_retention
        history_memory = memory_from_history(card_id, item.history, retention, policy)
    imported = card_schedule(
        item.anki, clock, settings.zone, settings.day_start_hour,
        learn_steps=len(settings.learning_steps), relearn_steps=len(settings.relearning_steps),
        default_retention=settings.desired_retention, history_memory=history_memory,
        last_answer=revlog_time(item.last_answer_ms) if item.last_answer_ms else None,
    )  # fmt: skip
    if item.anki.buried:  # buried in Anki: here too, until the next study day
        writes.bury(card_id, fc.rollover(now))
    if imported.schedule is None:  # new in Anki
        writes.anchor(fc.profile_id, card_id, item.anki.id, None,
                      exists=linked_id is not None)  # fmt: skip
        summary.cards_new += 1
        return
    schedule = imported.schedule
    at = schedule.last_review or now
    if item.last_answer_ms:
        at = max(at, revlog_time(item.last_answer_ms))
    anchor = Anchor(at=at, schedule=schedule)
    writes.anchor(fc.profile_id, card_id, item.anki.id, anchor,
                  exists=linked_id is not None)  # fmt: skip
    writes.schedule(card_id, schedule, now, retention=imported.retention,
                    flagged=imported.flagged)  # fmt: skip
    if first_time:
        summary.cards_added += 1
    else:
        summary.cards_updated += 1


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


def _adopt_preset(
    session: Any,
    fc: Collection,
    pkg: PackageSource,
    card_ids: dict[int, int],
    clock: AnkiClock,
    summary: SchedulingSummary,
) -> None:
    """The preset most of the package's cards use gives the profile its FSRS parameters,
    desired retention, steps and maximum interval (the others are named in a warning); a
    profile that has never answered a card also takes Anki's rollover hour."""
    configs = pkg.deck_configs()
    decks = pkg.decks()
    if not configs:
        return
    uses: dict[int, int] = defaultdict(int)
    for deck in decks.values():
        if deck.config_id is not None:
            uses[deck.config_id] += 1
    chosen_id = max(configs, key=lambda cid: (uses.get(cid, 0), -cid))
    chosen = configs[chosen_id]
    others = sorted(c.name for cid, c in configs.items() if cid != chosen_id and uses.get(cid))
    settings = fc.settings
    changes: dict[str, Any] = {}
    params = preset_parameters(chosen)
    if params is None:
        summary.warnings.append(
            f"preset {chosen.name!r}: its FSRS parameters are not accepted by fsrs; "
            "the profile keeps its own"
        )
    elif params != settings.fsrs_parameters:
        changes["fsrs_parameters"] = params
    if chosen.desired_retention and 0.7 <= chosen.desired_retention <= 0.99:
        value = round(float(chosen.desired_retention), 4)
        if value != settings.desired_retention:
            changes["desired_retention"] = value
    if chosen.learn_steps:
        steps = steps_text(chosen.learn_steps)
        if steps != settings.learning_steps:
            changes["learning_steps"] = steps
    if chosen.relearn_steps:
        steps = steps_text(chosen.relearn_steps)
        if steps != settings.relearning_steps:
            changes["relearning_steps"] = steps
    maximum = chosen.maximum_interval
    if maximum and 1 <= maximum <= 36500 and maximum != settings.maximum_interval:
        changes["maximum_interval"] = int(maximum)
    if clock.rollover_hour != settings.day_start_hour:
        if _has_answers(session, fc):
            summary.warnings.append(
                f"Anki's day starts at {clock.rollover_hour}:00, this profile's at "
                f"{settings.day_start_hour}:00 (kept: answers were given under it); due days "
                "are read as the study day that holds the middle of Anki's day"
            )
        else:
            changes["day_start_hour"] = clock.rollover_hour
    if clock.minutes_west and settings.timezone == "UTC":
        hours = -clock.minutes_west / 60
        summary.warnings.append(
            f"Anki's clock was UTC{hours:+g}; this profile's timezone is UTC: set yours with "
            "`flashcore config set timezone <Area/City>` so that study days match Anki's"
        )
    if others:
        summary.warnings.append(
            f"presets {', '.join(repr(n) for n in others)} are not applied (flashcore has one "
            f"set of scheduling settings per profile; {chosen.name!r} is used by most decks)"
        )
    if changes:
        new_settings = replace(settings, **changes)
        _save_settings(session, fc, new_settings)
        summary.settings = {k: format_value(v) for k, v in changes.items()}


def _has_answers(session: Any, fc: Collection) -> bool:
    return anki_sync.has_answers(session, fc.profile_id)


def _save_settings(session: Any, fc: Collection, settings: Settings) -> None:
    from flashcore.storage import repos

    repos.save_settings(session, fc.profile_id, settings.to_json())
    fc.use_settings(settings)
