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

from array import array
from collections.abc import Callable
from datetime import datetime
from typing import TYPE_CHECKING, Any

from flashcore.core.model import Rating
from flashcore.importers.anki_package.types import RevlogEntry
from flashcore.importers.anki_revlog_sql import (
    ANSWERS_OF_CARDS_SQL,
    COPY_STAGED_SQL,
    COPY_STAGED_STEPS,
    COUNTS_SQL,
    FINGERPRINTS_SQL,
    FIRST_ANSWERS_SQL,
    FIRST_ANSWERS_STEPS,
    REVLOG_OF_CARDS_SQL,
    ROWS_COUNTS_SQL,
    ROWS_PRINTS_SQL,
    ROWS_SQL,
    TEMP_TABLES,
)
from flashcore.importers.anki_scheduling import (
    AnkiClock,
    is_answer,
    revlog_time,
    study_day_number,
)
from flashcore.storage import anki_sync

if TYPE_CHECKING:
    from flashcore.services.context import Collection
from flashcore.services.anki_days import _day_tables
from flashcore.services.anki_history import PackageSource as PackageSource
from flashcore.services.anki_history import SchedulingSummary as SchedulingSummary
from flashcore.services.anki_history import (
    _CardWork,
    _decode,
    _follow,
    _known,
    _match_unseen,
    _note_unanchored,
    _review,
    _row,
    _settle,
    _unchanged,
)
from flashcore.services.anki_identity import package_card_ids as package_card_ids
from flashcore.services.anki_preset import _adopt_preset
from flashcore.services.anki_stage import AnswerStaging

_BATCH = 5000  # progress every this many rows
_NONE = (None, None, None, None)
_ROWS = 20_000  # imported answers written at a time (memory stays flat)
_WRITES = 5_000  # card and anchor rows written at a time

Progress = Callable[[int, int], None]


def import_from_package(
    session: Any,
    fc: Collection,
    pkg: PackageSource,
    now: datetime,
    note_ids: dict[str, int],
    *,
    show_progress: bool = False,
    ords: dict[str, int] | None = None,
    answers: AnswerStaging | None = None,
) -> SchedulingSummary:
    """`decks add FILE --with-scheduling`, after the notes and cards are written in the same
    transaction: the package (opened once by the notes import, its collection extracted), its
    cards found by GUID (`note_ids`), its scheduling applied; a progress bar on stderr for a big
    one. The extracted collection must stay until the transaction ends (on SQLite it is
    attached to the transaction's connection until then): the caller closes the package after."""
    card_ids = package_card_ids(session, pkg, note_ids, ords)
    counts = pkg.counts()
    if not show_progress or counts.cards + counts.revlog < 50_000:
        return apply_scheduling(session, fc, pkg, card_ids, now, answers=answers)
    from rich.console import Console
    from rich.progress import Progress

    with Progress(console=Console(stderr=True), transient=True) as bar:
        task = bar.add_task("scheduling and history", total=counts.cards + counts.revlog)

        def progress(done: int, total: int) -> None:
            bar.update(task, completed=done, total=total)

        return apply_scheduling(session, fc, pkg, card_ids, now, progress=progress,
                                answers=answers)  # fmt: skip


def apply_scheduling(
    session: Any,
    fc: Collection,
    pkg: PackageSource,
    card_ids: dict[int, int],
    now: datetime,
    *,
    progress: Progress | None = None,
    answers: AnswerStaging | None = None,
) -> SchedulingSummary:
    """Take the package's scheduling into the cards `card_ids` maps to (Anki card id ->
    flashcore card id), inside the caller's transaction. Nothing is committed here. `answers`:
    the package's answers staged ahead (`services.anki_stage`), used if they still hold."""
    before = fc.settings
    try:
        return _apply(session, fc, pkg, card_ids, now, progress, answers)
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
    answers: AnswerStaging | None,
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
    for item in work.values() if unlinked else ():  # else every card's stays empty
        item.unseen = list(unlinked.get(item.card_id, ()))
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
        done = _bulk(session, fc, source, direct, known, clock, summary, progress, done, total,
                     answers)  # fmt: skip
    finally:
        if attached is not None:
            attached.drop_temp()
    if special:
        assert known is not None
        _one_by_one(session, fc, pkg, special, known, clock, summary)
    policy = fc.policy
    merging = any(w.unseen and w.pending for w in work.values())
    scheduler_id = fc.scheduler_id(session) if merging else None
    settle = [item for item in work.values() if not _unchanged(item, fc, summary, writes)]
    if attached is not None:
        settle = _first_states(attached, fc, settle, clock, now, summary)
    for item in settle:
        _decode(item)
    _histories(pkg, {item.anki.id: item for item in settle}, zone, hour)
    # A card never linked to Anki and not answered here needs nothing of its row (a first
    # import: all of them); the others are read.
    wanted = [item.card_id for item in settle if item.link is not None or item.unseen or item.own]
    local = anki_sync.local_cards(session, fc.profile_id, wanted)
    for item in settle:
        item.local = local.get(item.card_id)
        _settle(session, fc, item, clock, policy, scheduler_id, now, summary, writes)
        if len(writes) >= _WRITES:
            writes.write(session)
    writes.write(session)
    _note_unanchored(session, fc, work, summary)
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
    answers: AnswerStaging | None = None,
) -> int:
    """The answers of `direct` cards, computed by SQLite on the package's collection and
    inserted (by SQLite itself when the package is attached: `known` is then None and read by
    SQL too; else in batches); the cards' counts noted for `_settle`."""
    settings = fc.settings
    retention = settings.desired_retention
    tables = TEMP_TABLES
    # A card whose answers have the fingerprint of the revlog ids held for it has nothing new
    # (an unchanged re-import: every card); the others' rows are looked up one by one.
    held = anki_sync.revlog_fingerprints(session, [w.card_id for w in direct.values()])
    for w in direct.values():  # never linked, yet answers here came back: exported from here
        w.own = w.own or (w.link is None and w.card_id in held)
    if (
        isinstance(pkg, anki_sync.AttachedCollection)
        and not held
        and not anki_sync.holds_revlog_ids(session, fc.profile_id)
    ):
        bar = None if progress is None else (progress, done, total)
        return done + _bulk_first(pkg, fc, direct, clock, summary, answers, bar)
    looked_up = _fingerprinted(pkg, direct, held, summary) if held else direct
    if looked_up:
        _count_new(pkg, fc, looked_up, known, summary)
    changed = [(cid, w.card_id, w.retention or retention)
               for cid, w in direct.items() if w.new_answers]  # fmt: skip
    if not changed:  # an unchanged package: nothing to compute
        return done
    if len(changed) < len(looked_up):
        pkg.fill_temp("fc_cards", tables["fc_cards"], changed)
    params = _day_tables(pkg, fc, clock)
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


def _first_states(
    attached: anki_sync.AttachedCollection,
    fc: Collection,
    settle: list[_CardWork],
    clock: AnkiClock,
    now: datetime,
    summary: SchedulingSummary,
) -> list[_CardWork]:
    """The states and anchors of the cards never linked to Anki nor answered here (a first
    import: all of them) written by SQLite from the attached package, as `_settle` would write
    them; the cards left to `_settle` returned (those this does not take: no usable FSRS state
    in Anki's data, and every card linked or answered here)."""
    fresh = [item for item in settle if item.link is None and not item.unseen and not item.own]
    if not fresh:
        return settle
    settings = fc.settings
    zone, hour = settings.zone, settings.day_start_hour
    for item in fresh:
        _decode(item)  # on a first import, done already for the review log's retentions
    rows = [(item.anki.id, item.card_id, item.last_answer_ms, *(item.numbers or _NONE))
            for item in fresh]  # fmt: skip
    taken = attached.take_first_states(
        rows,
        profile_id=fc.profile_id,
        due_of=lambda day: clock.due_instant(day, zone, hour),
        now=now,
        bury_until=fc.rollover(now),
        retention=settings.desired_retention,
        learn_steps=len(settings.learning_steps),
        relearn_steps=len(settings.relearning_steps),
    )
    summary.cards_added += taken.studied
    summary.cards_new += taken.new
    if len(fresh) == len(settle) and not taken.left:  # a first import's usual case
        return []
    given = {id(item) for item in fresh}
    return [item for item in settle if id(item) not in given or item.anki.id in taken.left]


def _bulk_first(
    pkg: anki_sync.AttachedCollection,
    fc: Collection,
    direct: dict[int, _CardWork],
    clock: AnkiClock,
    summary: SchedulingSummary,
    answers: AnswerStaging | None,
    bar: tuple[Progress, int, int] | None = None,
) -> int:
    """`_bulk` when the profile's review log holds no revlog id (a first import): every answer
    is new, so none is looked up before; the answers go into `imported_answers` (schema 0027:
    copied from those staged ahead, when they were made for the profile's zone and hour), and
    each card's counts (answers, the latest, the other rows) are read after from the package's
    card index (its rows: when they add up to the rows inserted, every row was an answer) and,
    else, from what was inserted (its key, card and revlog id), where `COUNTS_SQL` would look
    up every row (~0.7 s)."""
    settings = fc.settings
    retention = settings.desired_retention
    for item in direct.values():
        _decode(item)
    staged = answers.result(settings.zone, settings.day_start_hour) if answers else None
    works: list[_CardWork] = []  # the cards with rows, and for each (8 bytes a number, as
    numbers = array("q")  # the import's peak holds them): its rows and greatest revlog id
    # by card (the package's index order)
    for cid, rows, most in staged.counts if staged is not None else pkg.sql(ROWS_COUNTS_SQL):
        work = direct.get(cid)
        if work is not None:
            works.append(work)
            numbers.extend((rows, most))
    pkg.fill_temp("fc_cards", TEMP_TABLES["fc_cards"],
                  ((w.anki.id, w.card_id, w.retention or retention) for w in works))  # fmt: skip
    expected = sum(numbers[0::2])  # the rows of the imported cards (answers, mostly)
    if staged is not None:
        pkg.index_temp("fc_cards", "card_id")  # the copy walks the cards in flashcore's order
        shown = anki_sync.rows_progress(bar, expected, COPY_STAGED_STEPS)
        inserted = pkg.insert_staged(staged.path, COPY_STAGED_SQL, (fc.profile_id,), shown)
    else:
        params = _day_tables(pkg, fc, clock, every=True)
        shown = anki_sync.rows_progress(bar, expected, FIRST_ANSWERS_STEPS)
        inserted = pkg.insert_imported_answers(FIRST_ANSWERS_SQL, params[:3], progress=shown)
    held = None
    if expected != inserted:  # rows other than answers
        held = {card_id: (n, last) for card_id, n, last in pkg.imported_counts(narrow=True)}
    for work, rows, most in zip(works, numbers[0::2], numbers[1::2], strict=True):
        new, last = (rows, most) if held is None else held.get(work.card_id, (0, 0))
        work.new_answers, work.new_manual, work.last_answer_ms = new, rows - new, last or 0
        summary.reviews_added += new
        summary.manual_skipped += rows - new
    return inserted


def _fingerprinted(
    pkg: PackageSource | anki_sync.AttachedCollection,
    cards: dict[int, _CardWork],
    held: dict[int, tuple[int, int, int, int]],
    summary: SchedulingSummary,
) -> dict[int, _CardWork]:
    """The cards whose revlog the review log holds whole (by the fingerprint of their ids:
    all their rows', else their answers') noted as having nothing new; the others returned."""
    tables = TEMP_TABLES
    rest: dict[int, _CardWork] = {}
    for cid, rows, total, least, most in pkg.sql(ROWS_PRINTS_SQL):  # every card's: few others
        item = cards.get(cid)
        if item is None:
            continue
        if held.get(item.card_id) == (rows, total, least, most):  # every row an answer, held
            item.new_answers, item.new_manual, item.last_answer_ms = 0, 0, most
            summary.reviews_skipped += rows
        else:
            rest[cid] = item
    if not rest:
        return rest
    pkg.fill_temp(
        "fc_cards", tables["fc_cards"], ((cid, w.card_id, 0.0) for cid, w in rest.items())
    )
    looked_up: dict[int, _CardWork] = {}
    for cid, answers, manual, total, least, most in pkg.sql(FINGERPRINTS_SQL):
        item = rest[cid]
        if not answers or held.get(item.card_id) == (answers, total, least, most):
            item.new_answers, item.new_manual, item.last_answer_ms = 0, manual, most or 0
            summary.reviews_skipped += answers
            summary.manual_skipped += manual
        else:
            looked_up[cid] = item
    return looked_up


def _count_new(
    pkg: PackageSource | anki_sync.AttachedCollection,
    fc: Collection,
    cards: dict[int, _CardWork],
    known: Any | None,
    summary: SchedulingSummary,
) -> None:
    """The answers of `cards` the review log does not hold (by revlog id), counted; `known`
    (the ids it holds) read by SQL when None (the package attached). `temp.fc_cards` is left
    holding `cards`."""
    tables = TEMP_TABLES
    retention = fc.settings.desired_retention
    for item in cards.values():
        _decode(item)
    pkg.fill_temp("fc_cards", tables["fc_cards"],
                  ((cid, w.card_id, w.retention or retention) for cid, w in cards.items()))  # fmt: skip
    if known is None:
        assert isinstance(pkg, anki_sync.AttachedCollection)
        pkg.fill_known("fc_known", tables["fc_known"], fc.profile_id)
    else:
        pkg.fill_temp("fc_known", tables["fc_known"], ((rid,) for rid in known))
    for cid, new, old, manual, last in pkg.sql(COUNTS_SQL):
        item = cards[cid]
        item.new_answers, item.new_manual, item.last_answer_ms = new, manual, last or 0
        summary.reviews_added += new
        summary.reviews_skipped += old
        summary.manual_skipped += manual


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
    for item in special.values():
        _decode(item)
    pkg.fill_temp("fc_cards", TEMP_TABLES["fc_cards"], ((cid, 0, 0.0) for cid in special))
    links: list[tuple[int, int]] = []
    rows: list[tuple[Any, ...]] = []
    for values in pkg.sql(REVLOG_OF_CARDS_SQL):
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
    for cid, rid, ease in pkg.sql(ANSWERS_OF_CARDS_SQL):
        day = study_day_number(rid // 900_000, zone, hour)
        elapsed = max(0, day - last[cid]) if cid in last else 0
        last[cid] = day
        history = wanted[cid].history
        assert history is not None
        history.append((Rating(ease), revlog_time(rid), elapsed))
