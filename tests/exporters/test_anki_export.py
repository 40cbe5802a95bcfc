"""The .apkg writer, checked by importing its packages into a real Anki collection."""

from __future__ import annotations

import dataclasses
import html
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import genanki
import pytest
from anki._backend import RustBackend
from anki.collection import (
    Collection,
    ImportAnkiPackageOptions,
    ImportAnkiPackageRequest,
    StripHtmlMode,
)
from anki.import_export_pb2 import ImportAnkiPackageUpdateCondition
from anki.notes import Note

from flashcore.core.fsrs_adapter import Policy, answer
from flashcore.core.model import CardState, NoteKind, Rating, Schedule
from flashcore.core.settings import Settings
from flashcore.exporters import anki as anki_export
from flashcore.exporters.anki import (
    BASIC_MODEL_ID,
    CLOZE_MODEL_ID,
    FSRS_DECAY,
    ExportCard,
    ExportNote,
    ExportReview,
    deck_id_for,
    fsrs_interval,
    guid_for,
    study_date,
    write_apkg,
)
from flashcore.exporters.anki import package as anki_package

NOW = datetime(2026, 3, 1, 15, 0, tzinfo=UTC)
EDITED = datetime(2026, 2, 1, 9, 0, tzinfo=UTC)
POLICY = Policy.from_settings(Settings())
RETENTION = 0.9
ANKI_TEXT = RustBackend(langs=["en"])
HOSTILE = (
    "Mast <b>cell</b> &amp; IgE\x1f \"quoted\" \x1b[31mred\x1b[0m 'single' 🧪 a < b > c\nline 2"
)
HOSTILE_SHOWN = "Mast <b>cell</b> &amp; IgE \"quoted\" [31mred[0m 'single' 🧪 a < b > c\nline 2"


def reviewed(
    card_id: int,
    steps: list[tuple[timedelta, Rating]],
    *,
    ord_: int = 0,
    suspended: bool = False,
    flagged: bool = False,
) -> ExportCard:
    """A card answered with the real FSRS adapter: (time before NOW, rating) per review."""
    first = NOW - steps[0][0]
    schedule = Schedule(state=CardState.NEW, due=first)
    history: list[ExportReview] = []
    for ago, rating in steps:
        at = NOW - ago
        after = answer(card_id, schedule, rating, at, RETENTION, POLICY)
        assert after.memory is not None
        history.append(
            ExportReview(
                reviewed_at=at,
                rating=int(rating),
                duration_ms=7_000 if rating is not Rating.AGAIN else 95_000,
                state_before=schedule.state,
                state_after=after.state,
                due_after=after.due,
                stability_after=after.memory.stability,
                difficulty_after=after.memory.difficulty,
                desired_retention=RETENTION,
            )
        )
        schedule = after
    assert schedule.memory is not None
    return ExportCard(
        ord=ord_,
        state=schedule.state,
        due=schedule.due,
        step=schedule.step,
        stability=schedule.memory.stability,
        difficulty=schedule.memory.difficulty,
        last_review=schedule.last_review,
        reps=schedule.reps,
        lapses=schedule.lapses,
        desired_retention=RETENTION,
        suspended=suspended,
        flagged=flagged,
        reviews=tuple(history),
    )


def new(ord_: int = 0, *, suspended: bool = False) -> ExportCard:
    return ExportCard.unstudied(ord_, NOW, suspended=suspended)


def days(n: float) -> timedelta:
    return timedelta(days=n)


GOOD, AGAIN, EASY, HARD = Rating.GOOD, Rating.AGAIN, Rating.EASY, Rating.HARD


def basic(key: str, front: str, back: str, *cards: ExportCard, **kw: object) -> ExportNote:
    values: dict[str, object] = {
        "key": f"step1-immuno:{key}",
        "kind": NoteKind.BASIC,
        "fields": {"front": front, "back": back, "extra": "First Aid p. 112"},
        "deck_name": "Step 1::Immunology",
        "html": False,
        "tags": ("high-yield",),
        "topics": ("Immunology::Hypersensitivity::Type I",),
        "qids": ("uworld:118154",),
        "modified_at": EDITED,
        "cards": cards or (new(),),
    }
    values.update(kw)
    return ExportNote(**values)  # type: ignore[arg-type]


def cloze(key: str, text: str, *cards: ExportCard, **kw: object) -> ExportNote:
    values: dict[str, object] = {
        "key": f"step1-micro:{key}",
        "kind": NoteKind.CLOZE,
        "fields": {"text": text},
        "deck_name": "Step 1::Microbiology",
        "html": True,
        "tags": (),
        "topics": ("Microbiology::Bacteria::Gram positive",),
        "qids": ("amboss:Xy12", "nbme:27"),
        "modified_at": EDITED,
        "cards": cards,
    }
    values.update(kw)
    return ExportNote(**values)  # type: ignore[arg-type]


def sample_notes() -> list[ExportNote]:
    return [
        basic(
            "b1",
            "Mediator of type I hypersensitivity?",
            "IgE cross-linking on mast cells",
            reviewed(1, [(days(40), GOOD), (days(37), GOOD), (days(20), GOOD)]),
        ),
        basic(
            "b2",
            "Type IV hypersensitivity cell?",
            "T cells",
            reviewed(2, [(days(30), GOOD), (days(27), GOOD), (timedelta(minutes=3), AGAIN)]),
        ),
        basic("b3", HOSTILE, "plain & <simple>", reviewed(3, [(timedelta(minutes=5), AGAIN)])),
        basic(
            "b4",
            "Anaphylaxis treatment?",
            "Epinephrine",
            reviewed(4, [(days(12), EASY)], suspended=True),
            tags=("pharm", "Step 1 Pharm"),
            topics=(),
            qids=(),
        ),
        cloze(
            "c1",
            "{{c1::Staphylococcus aureus}} is {{c2::coagulase}}-positive and "
            "{{c3::catalase}}-positive",
            reviewed(11, [(days(25), GOOD), (days(22), HARD), (days(10), GOOD)], ord_=1),
            reviewed(12, [(days(25), GOOD), (days(22), GOOD)], ord_=2, suspended=True),
            new(3),
        ),
        cloze(
            "c2",
            "<i>Streptococcus pyogenes</i> is {{c1::bacitracin}}-{{c2::sensitive}}",
            reviewed(21, [(days(9), GOOD), (days(6), GOOD)], ord_=1, flagged=True),
            new(2, suspended=True),
        ),
        cloze(
            "c3",
            "{{c1::Listeria}} grows at {{c2::4 °C}}",
            new(1),
            new(2),
            deck_name="Step 1::Microbiology::Bacteria",
        ),
    ]


def shown(field: str) -> str:
    """The text Anki shows for a field (its own HTML stripping, line breaks kept)."""
    return ANKI_TEXT.strip_html(text=field.replace("<br>", "\n"), mode=StripHtmlMode.NORMAL)


def import_into(col: Collection, package: Path, *, with_scheduling: bool = False) -> None:
    options = ImportAnkiPackageOptions(
        with_scheduling=with_scheduling,
        merge_notetypes=True,
        update_notes=ImportAnkiPackageUpdateCondition.IMPORT_ANKI_PACKAGE_UPDATE_CONDITION_IF_NEWER,
        update_notetypes=(
            ImportAnkiPackageUpdateCondition.IMPORT_ANKI_PACKAGE_UPDATE_CONDITION_IF_NEWER
        ),
    )
    col.import_anki_package(ImportAnkiPackageRequest(package_path=str(package), options=options))


@pytest.fixture
def col(tmp_path: Path) -> Iterator[Collection]:
    folder = tmp_path / "anki"
    folder.mkdir()
    collection = Collection(str(folder / "x.anki2"))
    yield collection
    collection.close()


@pytest.fixture
def out(tmp_path: Path) -> Path:
    folder = tmp_path / "out"
    folder.mkdir()
    return folder / "step1.apkg"


def notes_by_guid(col: Collection) -> dict[str, Note]:
    return {col.get_note(nid).guid: col.get_note(nid) for nid in col.find_notes("")}


def test_import_creates_every_note_and_one_card_per_flashcore_card(col, out):
    notes = sample_notes()
    summary = write_apkg(notes, out, with_scheduling=False, now=NOW)
    import_into(col, out)

    assert summary.notes == col.note_count() == 7
    assert summary.cards == col.card_count() == 11
    assert summary.bytes == out.stat().st_size
    by_guid = notes_by_guid(col)
    for note in notes:
        anki_note = by_guid[guid_for(note.key)]
        ords = sorted(card.ord for card in anki_note.cards())
        expected = [c.ord - 1 for c in note.cards] if note.kind is NoteKind.CLOZE else [0]
        assert ords == sorted(expected)
        assert anki_note.note_type()["id"] == (
            CLOZE_MODEL_ID if note.kind is NoteKind.CLOZE else BASIC_MODEL_ID
        )
        deck_ids = {card.did for card in anki_note.cards()}
        assert {col.decks.name(did) for did in deck_ids} == {note.deck_name}
    names = {d.name for d in col.decks.all_names_and_ids()}
    assert {"Step 1", "Step 1::Immunology", "Step 1::Microbiology"} <= names
    assert "Step 1::Microbiology::Bacteria" in names


def test_tags_carry_topics_under_flashcore_and_qids_in_anking_form(col, out):
    write_apkg(sample_notes(), out, with_scheduling=False, now=NOW)
    import_into(col, out)
    by_guid = notes_by_guid(col)

    b1 = by_guid[guid_for("step1-immuno:b1")]
    assert sorted(b1.tags) == sorted(
        [
            "high-yield",
            "flashcore::Immunology::Hypersensitivity::Type_I",
            "#AK_Step1_v12::#UWorld::Step::118154",
        ]
    )
    b4 = by_guid[guid_for("step1-immuno:b4")]
    assert sorted(b4.tags) == ["Step_1_Pharm", "pharm"]
    c1 = by_guid[guid_for("step1-micro:c1")]
    assert sorted(c1.tags) == sorted(
        [
            "flashcore::Microbiology::Bacteria::Gram_positive",
            "#AK_Step1_v12::#AMBOSS::Xy12",
            "#AK_Step1_v12::#NBME::27",
        ]
    )
    for note in by_guid.values():
        assert all(" " not in tag for tag in note.tags)
    # In Anki's tag tree the topics sit under one branch, beside the student's own tags.
    roots = {tag.split("::")[0] for tag in col.tags.all()}
    assert roots == {"flashcore", "#AK_Step1_v12", "high-yield", "Step_1_Pharm", "pharm"}


def test_hostile_text_arrives_literally_and_control_characters_are_dropped(col, out):
    write_apkg(sample_notes(), out, with_scheduling=False, now=NOW)
    import_into(col, out)
    b3 = notes_by_guid(col)[guid_for("step1-immuno:b3")]

    assert b3["Front"] == html.escape(HOSTILE_SHOWN, quote=False).replace("\n", "<br>")
    assert shown(b3["Front"]) == HOSTILE_SHOWN
    assert shown(b3["Back"]) == "plain & <simple>"
    assert "\x1f" not in b3["Front"] and "\x1b" not in b3["Front"]
    c2 = notes_by_guid(col)[guid_for("step1-micro:c2")]
    assert c2["Text"].startswith("<i>Streptococcus pyogenes</i>")


def test_html_fields_keep_their_markup_but_lose_control_characters(col, out):
    note = cloze("h1", "<b>bold</b>\x1f{{c1::x}}\x00", new(1), html=True)
    write_apkg([note], out, with_scheduling=False, now=NOW)
    import_into(col, out)
    assert notes_by_guid(col)[guid_for(note.key)]["Text"] == "<b>bold</b>{{c1::x}}"


def test_reexport_after_an_edit_updates_that_note_only(col, out, tmp_path):
    notes = sample_notes()
    write_apkg(notes, out, with_scheduling=False, now=NOW)
    import_into(col, out)
    mods_before = {guid: n.mod for guid, n in notes_by_guid(col).items()}

    later = NOW + days(2)
    edited = dataclasses.replace(
        notes[1],
        fields={**notes[1].fields, "back": "CD4+ and CD8+ T cells"},
        modified_at=later,
    )
    second = tmp_path / "out" / "again.apkg"
    write_apkg([notes[0], edited, *notes[2:]], second, with_scheduling=False, now=later)
    import_into(col, second)

    after = notes_by_guid(col)
    assert col.note_count() == 7 and col.card_count() == 11
    assert after[guid_for(edited.key)]["Back"] == "CD4+ and CD8+ T cells"
    assert after[guid_for(edited.key)].mod == int(later.timestamp())
    for note in [notes[0], *notes[2:]]:
        assert after[guid_for(note.key)].mod == mods_before[guid_for(note.key)]
        assert after[guid_for(note.key)].mod == int(EDITED.timestamp())


def test_an_edit_made_in_anki_survives_reexport_of_the_unchanged_note(col, out, tmp_path):
    notes = sample_notes()
    write_apkg(notes, out, with_scheduling=False, now=NOW)
    import_into(col, out)
    mine = notes_by_guid(col)[guid_for(notes[0].key)]
    mine["Back"] = "IgE on mast cells and basophils (my words)"
    col.update_note(mine)

    second = tmp_path / "out" / "again.apkg"
    write_apkg(notes, second, with_scheduling=False, now=NOW + days(3))
    import_into(col, second)

    again = notes_by_guid(col)[guid_for(notes[0].key)]
    assert again["Back"] == "IgE on mast cells and basophils (my words)"
    assert col.note_count() == 7


def test_same_input_and_now_give_byte_identical_packages(tmp_path):
    first, second = tmp_path / "a.apkg", tmp_path / "b.apkg"
    write_apkg(sample_notes(), first, with_scheduling=True, now=NOW)
    write_apkg(sample_notes(), second, with_scheduling=True, now=NOW)
    assert first.read_bytes() == second.read_bytes()


def test_export_leaves_only_the_package_in_its_folder(out):
    write_apkg(sample_notes(), out, with_scheduling=True, now=NOW)
    write_apkg(sample_notes(), out, with_scheduling=False, now=NOW)  # over an existing file
    assert [p.name for p in out.parent.iterdir()] == [out.name]


def test_an_export_that_fails_midway_leaves_no_temp_files_and_the_old_package(out, monkeypatch):
    write_apkg(sample_notes()[:2], out, with_scheduling=False, now=NOW)
    old = out.read_bytes()
    monkeypatch.setattr(anki_package, "PROGRESS_EVERY", 2)
    seen: list[int] = []

    def interrupt(done: int) -> None:
        seen.append(done)
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        write_apkg(sample_notes(), out, with_scheduling=True, now=NOW, progress=interrupt)
    assert seen == [2]  # stopped with the package collection half written
    bad = sample_notes()
    bad[3] = dataclasses.replace(bad[3], fields={"back": "no front"})
    with pytest.raises(ValueError, match="without field 'front'"):
        write_apkg(bad, out, with_scheduling=True, now=NOW)

    assert [p.name for p in out.parent.iterdir()] == [out.name]
    assert out.read_bytes() == old


def test_scheduling_arrives_in_anki_card_by_card(col, out):
    notes = sample_notes()
    write_apkg(notes, out, with_scheduling=True, now=NOW)
    import_into(col, out, with_scheduling=True)
    crt_day = datetime.fromtimestamp(col.crt).date()  # Anki's creation day, local time
    by_guid = notes_by_guid(col)

    reviews = 0
    for note in notes:
        anki_cards = {c.ord: c for c in by_guid[guid_for(note.key)].cards()}
        for card in note.cards:
            got = anki_cards[card.ord - 1 if note.kind is NoteKind.CLOZE else 0]
            reviews += len(card.reviews)
            expected_queue = {
                CardState.NEW: 0,
                CardState.LEARNING: 1,
                CardState.REVIEW: 2,
                CardState.RELEARNING: 1,
            }[card.state]
            assert got.type == int(card.state)
            assert got.queue == (-1 if card.suspended else expected_queue)
            assert got.reps == card.reps and got.lapses == card.lapses
            assert got.flags == (1 if card.flagged else 0)
            if card.state is CardState.NEW:
                assert got.memory_state is None or got.memory_state.stability == 0
                continue
            assert card.stability is not None and card.difficulty is not None
            assert got.memory_state.stability == pytest.approx(card.stability, rel=0.01)
            assert got.memory_state.difficulty == pytest.approx(card.difficulty, rel=0.01)
            assert got.desired_retention == pytest.approx(RETENTION, abs=0.005)
            if card.state is CardState.REVIEW:
                assert card.last_review is not None
                assert got.due == (study_date(card.due) - crt_day).days
                assert got.ivl == (study_date(card.due) - study_date(card.last_review)).days
            else:
                assert got.due == int(card.due.timestamp())
                expected_ivl = 0
                if card.state is CardState.RELEARNING:
                    expected_ivl = fsrs_interval(card.stability, RETENTION)
                assert got.ivl == expected_ivl
            revlog = col.db.list("select ease from revlog where cid = ? order by id", got.id)
            assert revlog == [r.rating for r in card.reviews]

    assert col.db.scalar("select count() from revlog") == reviews > 0
    states = {c.state for n in notes for c in n.cards}
    assert states == set(CardState)  # the sample covers every state


def test_revlog_rows_follow_anki_conventions(col, out):
    note = sample_notes()[1]  # review, review, then a lapse into relearning
    write_apkg([note], out, with_scheduling=True, now=NOW)
    import_into(col, out, with_scheduling=True)
    rows = col.db.all("select ease, ivl, lastIvl, factor, time, type from revlog order by id")
    reviews = note.cards[0].reviews

    assert [r[0] for r in rows] == [1 * r.rating for r in reviews]
    assert [r[5] for r in rows] == [0, 0, 1]  # learn, learn, review
    assert rows[0][2] == 0 and rows[1][2] == rows[0][1] and rows[2][2] == rows[1][1]
    assert rows[1][1] > 0 and rows[2][1] < 0  # days after graduating, seconds when relearning
    assert rows[2][4] == 60_000  # 95 s capped to Anki's default maximum
    last = reviews[-1]
    assert rows[2][3] == round(((last.difficulty_after - 1) / 9 + 0.1) * 1000)


def test_without_scheduling_every_card_is_new(col, out):
    write_apkg(sample_notes(), out, with_scheduling=False, now=NOW)
    import_into(col, out, with_scheduling=True)
    assert set(col.db.list("select distinct queue from cards")) == {0}
    assert set(col.db.list("select distinct type from cards")) == {0}
    assert col.db.scalar("select count() from revlog") == 0


def test_progress_is_told_the_notes_done(out, monkeypatch):
    monkeypatch.setattr(anki_package, "PROGRESS_EVERY", 3)
    seen: list[int] = []
    write_apkg(sample_notes(), out, with_scheduling=False, now=NOW, progress=seen.append)
    assert seen == [3, 6, 7]


def test_ids_are_frozen_forever():
    # Changing any of these duplicates every exported note in every student's collection.
    assert (BASIC_MODEL_ID, CLOZE_MODEL_ID) == (1_287_866_490, 1_098_292_150)
    assert [f["name"] for f in anki_export.BASIC_MODEL.fields] == ["Front", "Back", "Extra"]
    assert [f["name"] for f in anki_export.CLOZE_MODEL.fields] == ["Text", "Extra"]
    assert anki_export.CLOZE_MODEL.model_type == genanki.Model.CLOZE
    assert deck_id_for("Step 1::Immunology") == 1_264_018_930
    assert guid_for("step1-immuno:b1") == "F8n^8o}kG|"
    for key in ("step1-immuno:b1", "deck:ü🧪", "x" * 300):
        assert guid_for(key) == genanki.guid_for(key)
    assert 1 << 30 <= deck_id_for("Step 1::Microbiology") < 1 << 31
    assert pytest.approx(0.1542) == FSRS_DECAY


def test_a_key_used_twice_or_a_card_ord_used_twice_is_refused(out):
    notes = sample_notes()
    with pytest.raises(ValueError, match="appears twice"):
        write_apkg([notes[0], notes[0]], out, with_scheduling=False, now=NOW)
    twice = cloze("dup", "{{c1::x}}", new(1), new(1))
    with pytest.raises(ValueError, match="same ord"):
        write_apkg([twice], out, with_scheduling=False, now=NOW)
    assert list(out.parent.iterdir()) == []


@pytest.mark.parametrize(
    "text",
    [
        "Outer {{c1::inner {{c2::nested}} text}} end.",
        "foo {{c1::bar {{c2::baz}}::qux}} and {{c3::more}}",
        "{{c2::te{{c1::s}}}}t",
    ],
)
def test_nested_cloze_cards_read_in_anki_as_flashcore_renders_them(col, out, text):
    """flashcore's reading of nested deletions is Anki's: each exported card's question and
    answer, as the real Anki renders them, are flashcore's front and back."""
    from flashcore.core import cloze as cloze_text

    ords = cloze_text.ordinals(text)
    note = cloze("nested", text, *(new(o) for o in ords), html=False)
    write_apkg([note], out, with_scheduling=False, now=NOW)
    import_into(col, out)
    cards = {c.ord + 1: c for c in notes_by_guid(col)[guid_for(note.key)].cards()}
    assert sorted(cards) == ords
    for ordinal, card in cards.items():
        question = " ".join(shown(card.question()).split())
        answer = " ".join(shown(card.answer()).split())
        assert question == cloze_text.render_plain(text, ordinal, reveal=False)
        assert answer == cloze_text.render_plain(text, ordinal, reveal=True)
