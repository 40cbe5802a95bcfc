"""An AnKing student's notes through flashcore, a fresh phone profile and back (found by hand:
every note came back "updated", with a `flashcore::` tag per topic added to its tags, because
flashcore's export writes the note's topics under `flashcore::` and the import kept those as
ordinary tags). Now the `flashcore::` branch is read as the note's topics and never kept as a
tag: the notes come back unchanged, with the same tags and topics, and a classmate who takes the
export (topic families switched off) gets the same topics from it. Real Anki on the phone side.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest
from anki.collection import Collection, ImportAnkiPackageOptions, ImportAnkiPackageRequest

from flashcore.core.clock import FixedClock
from flashcore.services import Flashcore
from flashcore.services.check import check
from flashcore.services.export import export_anki
from tests import anki_packages as ap

NOW = datetime(2026, 12, 12, 9, 0, tzinfo=UTC)


def _notes(fc: Flashcore) -> dict[str, tuple[tuple[str, ...], tuple[str, ...]]]:
    """Each note key's (tags, topics) as the cards show them."""
    out = {}
    for card in fc.cards():
        out[card["note_key"]] = (tuple(card.get("tags", ())), tuple(sorted(card["topics"])))
    return out


def _phone_export(tmp_path: Path, package: Path) -> Path:
    """A fresh Anki profile takes flashcore's export and exports it again."""
    folder = tmp_path / "phone"
    folder.mkdir()
    col = Collection(str(folder / "collection.anki2"))
    try:
        col.import_anki_package(ImportAnkiPackageRequest(
            package_path=str(package),
            options=ImportAnkiPackageOptions(with_scheduling=True, with_deck_configs=True),
        ))  # fmt: skip
        tags = {t for (t,) in col.db.all("select tags from notes")}
        assert any("flashcore::" in t for t in tags)  # the export wrote the topics there
        return ap.export(col, tmp_path / "phone.apkg", scheduling=True)
    finally:
        col.close()


@pytest.mark.parametrize(
    "url_fixture", ["sqlite_url", pytest.param("pg_url", marks=pytest.mark.postgres)]
)
def test_package_notes_come_back_from_the_phone_unchanged(request, url_fixture, tmp_path):
    url = request.getfixturevalue(url_fixture)
    (tmp_path / "anking").mkdir()
    col, _made = ap.build_student_collection(tmp_path / "anking" / "collection.anki2")
    try:
        original = ap.export(col, tmp_path / "anking.apkg")
    finally:
        col.close()
    with Flashcore.open(url, clock=FixedClock(NOW), create=True, timezone="UTC") as fc:
        (first,) = fc.add_decks([original])
        assert first.ok and first.added > 0
        before = _notes(fc)
        cards_before = fc.cards()
        assert any(topics for _, topics in before.values())
        export_anki(fc, tmp_path / "fc.apkg", with_scheduling=True)
        back = _phone_export(tmp_path, tmp_path / "fc.apkg")

        (report,) = fc.add_decks([back], with_scheduling=True)
        assert report.ok, report.problems
        assert (report.added, report.updated) == (0, 0)
        # Two notes have a reverse card (Basic and reversed; optional reversed, filled): the
        # export wrote each as two notes: the first kept as it is here, the second known as
        # one of its cards (own_notes 2).
        assert (report.unchanged, report.own_notes) == (first.added, 2)
        after = _notes(fc)
        # Every card as it was: text, tags, topics, suspended state (the reverse cards kept
        # their side, not blanked and suspended).
        assert fc.cards() == cards_before
        assert after == before
        assert not any(
            t.lower().startswith("flashcore::") for tags, _ in after.values() for t in tags
        )
        assert check(fc).problems == []

    # A classmate takes the export with no topic family switched on: the topics still come.
    with Flashcore.open(
        f"sqlite:///{tmp_path / 'classmate.db'}", clock=FixedClock(NOW), create=True, timezone="UTC"
    ) as mate:
        mate.config_set("anki_topic_tags", "none")
        (report,) = mate.add_decks([tmp_path / "fc.apkg"])
        assert report.ok, report.problems
        got = {key: topics for key, (_, topics) in _notes(mate).items()}
        assert {key: got.get(key) for key in before} == {k: t for k, (_, t) in before.items()}
        assert len(set(got) - set(before)) == 2  # the reverse cards, notes of their own
        assert any(got.values())
