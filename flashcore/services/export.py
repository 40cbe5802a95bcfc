"""`flashcore export anki`: read notes, cards and (optionally) review history, hand plain values
to the .apkg writer."""

from __future__ import annotations

import dataclasses
from collections import defaultdict
from pathlib import Path
from typing import TYPE_CHECKING, Any

from flashcore.core.errors import FlashcoreError
from flashcore.core.model import CardState, NoteKind, basic_sides
from flashcore.storage import repos
from flashcore.storage.uow import reading

if TYPE_CHECKING:
    from flashcore.exporters.anki import ExportNote, ExportSummary
    from flashcore.services.context import Collection


def collect_notes(
    fc: Collection, *, deck: str | None, topic: str | None, with_scheduling: bool
) -> list[ExportNote]:
    from flashcore.exporters.anki import ExportCard, ExportNote, ExportReview

    with reading(fc.engine) as session:
        rows = repos.card_details(session, repos.card_scope(session, fc.profile_id, deck, topic))
        note_ids = sorted({r["note_id"] for r in rows})
        modified = repos.note_modified_times(session, note_ids)
        qids = repos.note_question_ids(session, note_ids)
        history = repos.review_history(session, [r["id"] for r in rows]) if with_scheduling else {}
    reviews = {
        card_id: [
            ExportReview(
                reviewed_at=log.reviewed_at,
                rating=log.rating,
                duration_ms=log.duration_ms,
                state_before=log.state_before,
                state_after=log.state_after,
                due_after=log.due_after,
                stability_after=log.stability_after,
                difficulty_after=log.difficulty_after,
                desired_retention=log.desired_retention,
                revlog_id=log.anki_revlog_id,
            )
            for log in logs
        ]
        for card_id, logs in history.items()
    }
    by_note: dict[int, list[dict[str, Any]]] = defaultdict(list)
    for row in rows:
        by_note[row["note_id"]].append(row)
    notes = []
    for nid in note_ids:
        cards = by_note[nid]
        first = cards[0]
        notes.extend(
            _split_sides(
                ExportNote(
                    key=first["note_key"],
                    guid=_package_guid(first),
                    kind=NoteKind(first["kind"]),
                    fields=dict(first["fields"]),
                    deck_name=first["deck"],
                    html=bool(first["html"]),
                    tags=tuple(first["tags"] or ()),
                    topics=tuple(first["topics"]),
                    qids=tuple(qids.get(nid, ())),
                    modified_at=modified[nid],
                    cards=tuple(
                        ExportCard(
                            ord=c["ord"],
                            state=CardState(c["state"]),
                            due=c["due"],
                            step=c["step"],
                            stability=c["stability"],
                            difficulty=c["difficulty"],
                            last_review=c["last_review"],
                            reps=c["reps"],
                            lapses=c["lapses"],
                            desired_retention=c["desired_retention"],
                            suspended=bool(c["suspended"]),
                            flagged=bool(c["flagged"]),
                            reviews=tuple(reviews.get(c["id"], ())),
                        )
                        for c in sorted(cards, key=lambda c: c["ord"])
                    ),
                )
            )
        )
    return notes


def _package_guid(row: dict[str, Any]) -> str | None:
    """The Anki GUID of a note that came from an Anki package (its key is `<deck key>:<GUID>`),
    so Anki updates that note instead of adding a copy; None for flashcore's own notes."""
    source = str(row.get("deck_source") or "").lower()
    if not source.endswith((".apkg", ".colpkg")):
        return None
    key, deck_key = str(row["note_key"]), str(row["deck_key"])
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
    from flashcore.exporters.anki import write_apkg

    if output.suffix.lower() != ".apkg":
        raise FlashcoreError(f"{output}: an Anki package must end in .apkg")
    if not output.parent.exists():
        raise FlashcoreError(f"{output.parent}: folder does not exist")
    notes = collect_notes(fc, deck=deck, topic=topic, with_scheduling=with_scheduling)
    if not notes:
        raise FlashcoreError("nothing to export: no cards match")
    progress = None
    bar: Any = None
    if show_progress and len(notes) > 2000:
        from rich.progress import Progress

        bar = Progress(transient=True)
        task = bar.add_task("exporting", total=len(notes))
        bar.start()

        def progress(done: int) -> None:
            bar.update(task, completed=done)

    try:
        return write_apkg(
            notes, output, with_scheduling=with_scheduling, now=fc.now(), progress=progress
        )
    finally:
        if bar is not None:
            bar.stop()
