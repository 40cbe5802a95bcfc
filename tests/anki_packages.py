"""Builders of Anki packages made by the real `anki` package (a test dependency only): an
AnKing-like collection with the note types, HTML, images, tags and suspended cards a student's
export holds, written in the current format or the legacy ones."""

from __future__ import annotations

import zipfile
from dataclasses import dataclass, field
from pathlib import Path

from anki.collection import Collection, DeckIdLimit, ExportAnkiPackageOptions

# A 1x1 PNG.
PNG = bytes.fromhex(
    "89504e470d0a1a0a0000000d4948445200000001000000010806000000"
    "1f15c4890000000d49444154789c6360000002000100e221bc330000000049454e44ae426082"
)

ANKING_FIELDS = (
    "Text", "Extra", "Lecture Notes", "Missed Questions", "Pathoma", "Boards and Beyond",
    "First Aid", "Sketchy", "Pixorize", "Physeo", "Additional Resources", "One by one",
)  # fmt: skip
ANKING_FRONT = "{{cloze:Text}}"
ANKING_BACK = (
    "{{cloze:Text}}<br>{{#Extra}}<div id=extra>{{Extra}}</div>{{/Extra}}"
    "{{#Missed Questions}}<div class=hint>{{hint:Missed Questions}}</div>{{/Missed Questions}}"
    "{{#Pathoma}}{{Pathoma}}{{/Pathoma}}{{#First Aid}}{{First Aid}}{{/First Aid}}"
)


@dataclass
class Made:
    """What a builder put in: note GUIDs by a short name, card counts."""

    guids: dict[str, str] = field(default_factory=dict)
    note_ids: dict[str, int] = field(default_factory=dict)


def anking_notetype(col: Collection) -> dict:
    models = col.models
    model = models.new("AnKingOverhaul (AnKing / AnKingMed)")
    model["type"] = 1  # cloze
    for name in ANKING_FIELDS:
        models.add_field(model, models.new_field(name))
    template = models.new_template("AnKing")
    template["qfmt"] = ANKING_FRONT
    template["afmt"] = ANKING_BACK
    models.add_template(model, template)
    models.add(model)
    return models.by_name(model["name"])


def add_note(col: Collection, model_name: str, deck: str, fields: dict[str, str],
             tags: list[str] = ()) -> int:  # fmt: skip
    model = col.models.by_name(model_name)
    note = col.new_note(model)
    for key, value in fields.items():
        note[key] = value
    note.tags = list(tags)
    col.add_note(note, col.decks.id(deck))
    return note.id


def build_student_collection(path: Path) -> tuple[Collection, Made]:
    """A small collection with each kind of note a Step 1 student's export holds."""
    col = Collection(str(path))
    anking_notetype(col)
    made = Made()
    media = col.media
    media.write_data("heart.png", PNG)
    made.note_ids["basic"] = add_note(
        col, "Basic", "Step 1::Basics",
        {"Front": "What does <b>IgE</b> bind?", "Back": "Mast cells &amp; basophils<br>(FcεRI)"},
        ["#AK_Step1_v12::^Systems::Immunology::Hypersensitivity", "mytag"],
    )  # fmt: skip
    made.note_ids["reversed"] = add_note(
        col, "Basic (and reversed card)", "Step 1::Basics",
        {"Front": "Kussmaul breathing", "Back": "Deep, rapid breaths of metabolic acidosis"},
    )  # fmt: skip
    made.note_ids["optional_off"] = add_note(
        col, "Basic (optional reversed card)", "Step 1::Basics",
        {"Front": "Aspirin", "Back": "Irreversible COX inhibitor", "Add Reverse": ""},
    )  # fmt: skip
    made.note_ids["optional_on"] = add_note(
        col, "Basic (optional reversed card)", "Step 1::Basics",
        {"Front": "Clopidogrel", "Back": "P2Y12 blocker", "Add Reverse": "y"},
    )  # fmt: skip
    made.note_ids["cloze"] = add_note(
        col, "Cloze", "Step 1::Basics",
        {"Text": "{{c1::Warfarin}} inhibits {{c2::vitamin K}} epoxide reductase",
         "Back Extra": "Monitor with <i>INR</i>"},
    )  # fmt: skip
    made.note_ids["anking"] = add_note(
        col, "AnKingOverhaul (AnKing / AnKingMed)", "AnKing::Cardio",
        {
            "Text": "{{c1::Atrial fibrillation}} shows an <u>irregularly irregular</u> rhythm"
            '<br><img src="heart.png"><ul><li>no P waves</li><li>narrow QRS</li></ul>',
            "Extra": "H<sub>2</sub>O and Ca<sup>2+</sup>; <script>alert(1)</script>risk: stroke",
            "First Aid": "FA p. 300",
        },
        [
            "#AK_Step1_v12::#UWorld::Step::1234",
            "#AK_Step1_v12::#UWorld::COMLEX::1234",
            "#AK_Step1_v11::#UWorld::1000-9999::1000-1999::01235",
            "#AK_Step1_v12::#AMBOSS::-aaDMQ",
            "#AK_Step1_v12::#NBME::Form25::17",
            "#AK_Step1_v12::^Systems::Cardiovascular::Arrhythmias::Atrial_fibrillation",
            "#AK_Step1_v12::#B&B::Cardio::Arrhythmias",
            "#AK_Step1_v12::#Pathoma::Ch8_Cardiac_Pathology",
            "#AK_Step1_v12::#FirstAid::Cardio::Physiology",
            "#AK_Step1_v12::#SketchyPharm::Antiarrhythmics",
            "#AK_Step1_v12::!FreeMedEd::Whatever",
        ],
    )  # fmt: skip
    made.note_ids["suspended"] = add_note(
        col, "AnKingOverhaul (AnKing / AnKingMed)", "AnKing::Cardio",
        {"Text": "{{c1::Amiodarone}} causes {{c2::pulmonary fibrosis}}"},
        ["#AK_Step1_v12::#UWorld::Step::5678"],
    )  # fmt: skip
    suspended = col.get_note(made.note_ids["suspended"]).card_ids()
    col.sched.suspend_cards(suspended)
    for name, nid in made.note_ids.items():
        made.guids[name] = col.get_note(nid).guid
    return col, made


def add_image_occlusion(col: Collection) -> None:
    """One image occlusion note (a kind flashcore reports and skips)."""
    from anki.collection import Collection as _C  # noqa: F401

    col.media.write_data("occl.png", PNG)
    model = col.models.by_name("Image Occlusion")
    note = col.new_note(model)
    fields = list(note.keys())
    note[fields[0]] = "{{c1::image-occlusion:rect:left=.1:top=.1:width=.2:height=.2}}"
    note[fields[1]] = '<img src="occl.png">'
    col.add_note(note, col.decks.id("AnKing::Cardio"))


def export(col: Collection, out: Path, *, legacy: bool = False, scheduling: bool = False) -> Path:
    """The whole collection as an .apkg, as Anki's "Export" writes it."""
    options = ExportAnkiPackageOptions(
        with_scheduling=scheduling, with_deck_configs=scheduling, with_media=True, legacy=legacy
    )
    col.export_anki_package(out_path=str(out), options=options, limit=None)
    return out


def export_deck(col: Collection, deck: str, out: Path, *, legacy: bool = False) -> Path:
    options = ExportAnkiPackageOptions(with_media=True, legacy=legacy)
    limit = DeckIdLimit(col.decks.id(deck))
    col.export_anki_package(out_path=str(out), options=options, limit=limit)
    return out


def as_anki2(package: Path, out: Path) -> Path:
    """A legacy package turned into the oldest layout: `collection.anki2`, no `meta`."""
    with zipfile.ZipFile(package) as src, zipfile.ZipFile(out, "w") as dst:
        for item in src.infolist():
            data = src.read(item.filename)
            if item.filename in {"collection.anki2", "meta"}:
                continue
            name = "collection.anki2" if item.filename == "collection.anki21" else item.filename
            dst.writestr(name, data)
    return out
