"""`export anki --with-scheduling` reads the collection a slice at a time while it writes: the
package must be byte for byte the one the former reader (every note and review in memory,
then `write_apkg`) produced from the same database and clock."""

from __future__ import annotations

import random
import shutil
from collections import defaultdict
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sqlalchemy import select, update

from flashcore.core.clock import FixedClock
from flashcore.core.model import CardState, NoteKind, Rating
from flashcore.exporters import anki as anki_export
from flashcore.exporters.anki import ExportCard, ExportNote, ExportReview, write_apkg
from flashcore.exporters.anki import package as anki_package
from flashcore.services import Flashcore, export, study
from flashcore.storage import repos
from flashcore.storage.repos import exports
from flashcore.storage.tables import note_qids, notes, review_logs
from flashcore.storage.uow import reading
from tests.conftest import NOW, write_deck


def _deck_text(prefix: str, count: int) -> str:
    parts = []
    for i in range(count):
        topic = f"Immunology::Topic {i % 4}"
        if i % 5 == 0:
            parts.append(
                f'[[cards]]\nid = "{prefix}{i}"\n'
                f'cloze = "{{{{c1::Mast cells}}}} {i} and {{{{c2::basophils}}}} <{i}> & more"\n'
                f'topics = ["{topic}"]\n'
            )
        else:
            parts.append(
                f'[[cards]]\nid = "{prefix}{i}"\nfront = "Question {i}?"\nback = "Answer {i}"\n'
                f'topics = ["{topic}", "Pharmacology::Topic {i % 3}"]\n'
                f'qids = ["uworld:{1000 + i}", "amboss:x{i}"]\n'
            )
    return "\n".join(parts)


def _former_collect_notes(
    fc: Any, *, deck: str | None, with_scheduling: bool, topic: str | None = None
) -> list[ExportNote]:
    """The reader as it was before exports streamed (every note and review in memory), on the
    Core tables instead of the ORM classes: the oracle for the bytes."""
    with reading(fc.engine) as session:
        rows = repos.card_details(session, repos.card_scope(session, fc.profile_id, deck, topic))
        note_ids = sorted({r["note_id"] for r in rows})
        modified: dict[int, Any] = {}
        qids: dict[int, list[str]] = defaultdict(list)
        for nid, when in session.execute(select(notes.c.id, notes.c.modified_at)):
            modified[nid] = when
        for nid, source, qid in session.execute(
            select(note_qids.c.note_id, note_qids.c.source, note_qids.c.qid).order_by(
                note_qids.c.source, note_qids.c.qid
            )
        ):
            qids[nid].append(f"{source}:{qid}")
        reviews: dict[int, list[ExportReview]] = defaultdict(list)
        if with_scheduling:
            r = review_logs.c
            for log in session.execute(
                select(review_logs).order_by(r.card_id, r.reviewed_at, r.id)
            ).mappings():
                reviews[log["card_id"]].append(
                    ExportReview(
                        reviewed_at=log["reviewed_at"],
                        rating=log["rating"],
                        duration_ms=log["duration_ms"],
                        state_before=CardState(log["state_before"]),
                        state_after=CardState(log["state_after"]),
                        due_after=log["due_after"],
                        stability_after=log["stability_after"],
                        difficulty_after=log["difficulty_after"],
                        desired_retention=log["desired_retention"],
                        revlog_id=log["anki_revlog_id"],
                    )
                )
    by_note: dict[int, list[dict[str, Any]]] = defaultdict(list)
    for row in rows:
        by_note[row["note_id"]].append(row)
    out = []
    for nid in note_ids:
        first = by_note[nid][0]
        source, deck_key = str(first["deck_source"] or "").lower(), first["deck_key"]
        from_package = source.endswith((".apkg", ".colpkg"))
        guid = first["note_key"][len(deck_key) + 1 :] if from_package else None
        out.extend(
            export._split_sides(
                ExportNote(
                    key=first["note_key"],
                    guid=guid,
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
                            buried_until=c["buried_until"],  # an export carries a burial
                        )
                        for c in sorted(by_note[nid], key=lambda c: c["ord"])
                    ),
                )
            )
        )
    return out


@pytest.fixture(scope="module")
def studied_file(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, datetime]:
    """Two decks of 40 notes, three weeks of answers (some cards answered at the very same
    instant, so revlog ids collide), suspended and flagged cards, a few cards never seen: made
    once (the same seed and clock every time) and closed; (the file, the clock's time after)."""
    folder = tmp_path_factory.mktemp("studied")
    clock = FixedClock(NOW)
    path = folder / "studied.sqlite3"
    with Flashcore.open(f"sqlite:///{path}", clock=clock, create=True, timezone="UTC") as fc:
        _study(fc, clock, folder)
    return path, clock.now()


@pytest.fixture
def studied(studied_file: tuple[Path, datetime], tmp_path: Path) -> Iterator[Any]:
    """A copy of the studied collection for one test, its clock where the studying left it."""
    made, now = studied_file
    target = tmp_path / "studied.sqlite3"
    shutil.copy(made, target)
    with Flashcore.open(f"sqlite:///{target}", clock=FixedClock(now), timezone="UTC") as fc:
        yield fc


def _study(fc: Any, clock: Any, tmp_path: Path) -> None:
    fc.add_decks(
        [
            write_deck(
                tmp_path / "a.toml", _deck_text("a", 40), name="Step 1::Immunology", key="a"
            ),
            write_deck(tmp_path / "b.toml", _deck_text("b", 40), name="Step 1::Pharm", key="b"),
        ]
    )
    rng = random.Random(19)
    card_ids = [c["card_id"] for c in fc.cards()]
    for _day in range(21):
        for card_id in rng.sample(card_ids, 30):
            if rng.random() < 0.5:
                clock.advance(timedelta(seconds=rng.randint(1, 90)))
            rating = Rating(rng.choice([1, 2, 3, 3, 3, 4]))
            study.answer(fc, card_id, rating, duration_ms=rng.choice([None, 4000, 90_000]))
        clock.advance(timedelta(hours=20))
    study.set_cards(fc, "suspend", card_ids[:5])
    study.set_cards(fc, "flag", card_ids[3:9])
    # Answers that came back from Anki keep their revlog id; give some the millisecond of
    # another answer, so that one must move on past it.
    r = review_logs.c
    with fc.engine.begin() as conn:
        logs = conn.execute(select(r.id, r.reviewed_at).order_by(r.id)).all()
        for (log_id, _), (_, other) in zip(logs[::9], logs[4::9], strict=False):
            conn.execute(
                update(review_logs)
                .where(r.id == log_id)
                .values(anki_revlog_id=int(other.timestamp() * 1000))
            )


@pytest.mark.parametrize("with_scheduling", [True, False])
@pytest.mark.parametrize(
    ("deck", "topic"),
    # a whole profile; a deck (its notes in one run of ids); a topic (every fourth note)
    [(None, None), ("Step 1::Pharm", None), (None, "Immunology::Topic 1")],
)
def test_streamed_export_is_byte_for_byte_the_former_export(
    studied: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, with_scheduling: bool,
    deck: str | None, topic: str | None,
) -> None:  # fmt: skip
    # small slices, batches and flushes, so the package crosses many of each
    monkeypatch.setattr(export, "NOTES_PER_READ", 7)
    monkeypatch.setattr(exports, "CHUNK", 5)
    monkeypatch.setattr(exports, "ANSWERS_PER_BATCH", 3)
    monkeypatch.setattr(anki_package, "PROGRESS_EVERY", 11)
    fc = studied
    former = tmp_path / "former.apkg"
    streamed = tmp_path / "streamed.apkg"
    old_notes = _former_collect_notes(fc, deck=deck, topic=topic, with_scheduling=with_scheduling)
    assert sum(len(c.reviews) for n in old_notes for c in n.cards) > (
        100 if with_scheduling else -1
    )
    write_apkg(old_notes, former, with_scheduling=with_scheduling, now=fc.now())
    summary = export.export_anki(
        fc, streamed, deck=deck, topic=topic, with_scheduling=with_scheduling
    )
    assert summary.notes == len(old_notes)
    assert streamed.read_bytes() == former.read_bytes()
    assert export.collect_notes(fc, deck=deck, topic=topic, with_scheduling=with_scheduling) == (
        old_notes
    )


def test_every_answer_gets_its_own_revlog_id_and_anki_ids_are_kept(
    studied: Any, tmp_path: Path
) -> None:
    import sqlite3
    import zipfile

    fc = studied
    out = tmp_path / "x.apkg"
    export.export_anki(fc, out, with_scheduling=True)
    with zipfile.ZipFile(out) as archive:
        (tmp_path / "c.anki2").write_bytes(archive.read("collection.anki2"))
    conn = sqlite3.connect(tmp_path / "c.anki2")
    ids = [i for (i,) in conn.execute("SELECT id FROM revlog")]
    conn.close()
    with reading(fc.engine) as session:
        logs = session.execute(
            select(review_logs.c.reviewed_at, review_logs.c.anki_revlog_id)
        ).all()
    times = [t for t, _ in logs]
    own = {i for _, i in logs if i is not None}
    assert own and own <= set(ids)
    assert len(ids) == len(set(ids)) == len(times)
    assert len(set(times)) < len(times)  # the fixture did answer cards at one instant


def _smallest_free(wanted: list[int], reserved: set[int]) -> list[int]:
    taken = set(reserved)
    out = []
    for w in wanted:
        while w in taken:
            w += 1
        taken.add(w)
        out.append(w)
    return out


@settings(max_examples=80, deadline=None)
@given(
    st.lists(st.integers(min_value=-3, max_value=40), min_size=1, max_size=200),
    st.lists(st.integers(min_value=-3, max_value=60), max_size=40),
    st.sampled_from([0, (1 << 26) - 2, 1_700_000_000_000]),
)
def test_revlog_ids_in_time_order_are_the_smallest_free_id_at_or_after_the_wanted_one(
    offsets: list[int], reserved: list[int], base: int
) -> None:
    wanted = sorted(base + o for o in offsets)  # answers come by time: ids wanted in order
    own = sorted(base + o for o in reserved)  # the answers' own ids (may repeat)
    ids = anki_export._RevlogIds(own)
    assert [ids.take(w) for w in wanted] == _smallest_free(wanted, set(own))


@settings(max_examples=40, deadline=None)
@given(
    st.lists(st.integers(min_value=0, max_value=40), min_size=1, max_size=100),
    st.lists(st.integers(min_value=0, max_value=60), max_size=20),
)
def test_revlog_ids_wanted_out_of_order_stay_unique_and_free(
    wanted: list[int], reserved: list[int]
) -> None:
    ids = anki_export._RevlogIds(sorted(reserved))
    got = [ids.take(w) for w in wanted]
    assert len(set(got)) == len(got) and not set(got) & set(reserved)
    assert all(g >= w for g, w in zip(got, wanted, strict=True))


def test_ten_thousand_reviews_in_one_millisecond_take_the_next_ids() -> None:
    ids = anki_export._RevlogIds([5_000, 5_002, 20_000])
    assert [ids.take(5_000) for _ in range(10_000)] == [5_001, *range(5_003, 15_002)]
