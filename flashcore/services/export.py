"""`flashcore export anki`: read notes, cards and (optionally) review history, hand plain values
to the .apkg writer.

The notes are read a slice at a time while the package is written (`NOTES_PER_READ` notes with
their cards), then the answers of those cards in one pass over the review log in time order,
a batch at a time, all in one read transaction: memory stays that of one slice whatever the
size of the history, and the package is what the collection held at one instant."""

from __future__ import annotations

import dataclasses
from collections.abc import Generator, Iterable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from flashcore.core.errors import FlashcoreError
from flashcore.core.model import NoteKind, basic_sides
from flashcore.storage import repos
from flashcore.storage.repos import exports
from flashcore.storage.uow import reading

if TYPE_CHECKING:
    from flashcore.exporters.anki import ExportNote, ExportSummary
    from flashcore.services.context import Collection
    from flashcore.storage.repos.common import Executor

NOTES_PER_READ = 500


def collect_notes(
    fc: Collection, *, deck: str | None, topic: str | None, with_scheduling: bool
) -> list[ExportNote]:
    """Every note the export would write, in its order, held in memory (for small scopes)."""
    with reading(fc.engine) as session:
        where = repos.card_scope(session, fc.profile_id, deck, topic)
        scope = exports.notes_in_scope(session, where)
        return list(_read_notes(session, where, scope.note_ids, held=with_scheduling))


def export_anki(
    fc: Collection,
    output: Path,
    *,
    deck: str | None = None,
    topic: str | None = None,
    with_scheduling: bool = False,
    show_progress: bool = False,
) -> ExportSummary:
    """Write an .apkg of the chosen cards (to a temp file, renamed into place)."""
    from flashcore.exporters.anki import ExportPlan, write_apkg_stream

    if output.suffix.lower() != ".apkg":
        raise FlashcoreError(f"{output}: an Anki package must end in .apkg")
    if not output.parent.exists():
        raise FlashcoreError(f"{output.parent}: folder does not exist")
    with reading(fc.engine) as session:
        where = repos.card_scope(session, fc.profile_id, deck, topic)
        scope = exports.notes_in_scope(session, where)
        if not scope.note_ids:
            raise FlashcoreError("nothing to export: no cards match")
        # The whole profile: every card of the notes, every answer of the profile (read by
        # note id and by time, not through the profile's clause).
        everything = deck is None and topic is None
        narrowed = None if everything else where
        notes = _read_notes(session, narrowed, scope.note_ids, held=None)
        progress = None
        bar: Any = None
        if show_progress and len(scope.note_ids) > 2000:
            from rich.progress import Progress

            bar = Progress(transient=True)
            task = bar.add_task("exporting", total=len(scope.note_ids))
            bar.start()

            def progress(done: int) -> None:
                bar.update(task, completed=done)

        answers = None
        try:
            own = exports.own_revlog_ids(session, where) if with_scheduling else ()
            if with_scheduling:
                answers = exports.answers_by_time(session, fc.profile_id, narrowed)
            from_packages = [0]
            s = fc.settings
            plan = ExportPlan(
                len(scope.note_ids), scope.decks, scope.kinds, own,
                zone=s.zone, day_start_hour=s.day_start_hour,
            )  # fmt: skip
            summary = write_apkg_stream(
                plan,
                _counting_package_notes(notes, from_packages),
                output,
                with_scheduling=with_scheduling,
                now=fc.now(),
                progress=progress,
                answers=answers,
            )
            return dataclasses.replace(summary, from_packages=from_packages[0])
        finally:
            notes.close()
            if answers is not None:
                answers.close()
            if bar is not None:
                bar.stop()


def _counting_package_notes(
    notes: Iterable[ExportNote], count: list[int]
) -> Generator[ExportNote, None, None]:
    """`notes`, counting in `count[0]` those that came from Anki packages (their own GUID)."""
    for note in notes:
        count[0] += note.guid is not None
        yield note


def _package_guid(note: exports.ExportedNote) -> str | None:
    """The Anki GUID of a note that came from an Anki package (its key is `<deck key>:<GUID>`),
    so Anki updates that note instead of adding a copy; None for flashcore's own notes."""
    source = (note.deck_source or "").lower()
    if not source.endswith((".apkg", ".colpkg")):
        return None
    key, deck_key = note.key, note.deck_key
    return key[len(deck_key) + 1 :] if key.startswith(deck_key + ":") else None


def _split_sides(note: ExportNote) -> list[ExportNote]:
    """A basic note with several sides (an Anki note type's further templates, `front@N`)
    goes out as its first card's note plus one basic note per further card (key `<key>@N`):
    flashcore's Anki note types have one template."""
    if note.kind is not NoteKind.BASIC or all(c.ord == 0 for c in note.cards):
        return [note]
    out = [dataclasses.replace(note, cards=tuple(c for c in note.cards if c.ord == 0))]
    for card in note.cards:
        if card.ord == 0:
            continue
        front, back, extra = basic_sides(note.fields, card.ord)
        fields = {"front": front, "back": back} | ({"extra": extra} if extra else {})
        out.append(
            dataclasses.replace(
                note,
                key=f"{note.key}@{card.ord}",
                guid=None,
                fields=fields,
                cards=(dataclasses.replace(card, ord=0),),
            )
        )
    return [n for n in out if n.cards]


def _read_notes(
    session: Executor, where: Any, note_ids: Sequence[int], *, held: bool | None
) -> Generator[ExportNote, None, None]:
    """The notes, a slice at a time. For an export (`held=None`) their cards are named by
    `card_id` (the answers come after them: `exports.answers_by_time`); for `collect_notes`
    the notes as values, with each card's answers as `ReviewRecord`s when `held`."""
    from flashcore.exporters.anki import ExportNote

    for start in range(0, len(note_ids), NOTES_PER_READ):
        notes = exports.exported_notes(session, where, note_ids[start : start + NOTES_PER_READ])
        history: dict[int, list[Any]] = {}
        if held:
            card_ids = [c.card_id for note in notes for c in note.cards if c.card_id is not None]
            history = exports.review_records(session, card_ids)
        for note in notes:
            cards = note.cards
            if held is not None:
                cards = tuple(
                    dataclasses.replace(
                        c, reviews=tuple(history.get(c.card_id or 0, ())), card_id=None
                    )
                    for c in cards
                )
            yield from _split_sides(
                ExportNote(
                    key=note.key,
                    guid=_package_guid(note),
                    kind=note.kind,
                    fields=note.fields,
                    deck_name=note.deck,
                    html=note.html,
                    tags=note.tags,
                    topics=note.topics,
                    qids=note.qids,
                    modified_at=note.modified_at,
                    cards=cards,
                )
            )
