"""A student far from UTC takes flashcore's scheduling to the phone (`export anki
--with-scheduling`, real Anki on a machine in the student's zone). Found by living with it: a
student in India who studies at 07:00 saw every review card due one day early in Anki, and one
in New York who studies at 23:30 one day late, because the export counted review days in UTC.
Now a review card is due in Anki on the day it is due in flashcore (the profile's zone and day
start), whatever the hour the student studies."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from flashcore.core.clock import FixedClock
from flashcore.core.model import Rating
from flashcore.exporters.anki import guid_for
from flashcore.services import Flashcore, study
from flashcore.services.check import check
from flashcore.services.export import export_anki
from tests.conftest import write_deck

DECK = (
    "\n".join(
        f'[[cards]]\nid = "b{i}"\nfront = "Question {i}"\nback = "Answer {i}"\n' for i in range(12)
    )
    + '\n[[cards]]\nid = "c0"\ncloze = "{{c1::Drug}} blocks {{c2::receptor}}"\n'
)

# Run in a process whose local zone is the student's (Anki counts days in local time): import
# the package with scheduling, print each review card's local study date (Anki's day rollover
# at 04:00, a new collection's default).
_PHONE = """
import json, sys
from datetime import datetime, timedelta
from anki.collection import Collection, ImportAnkiPackageOptions, ImportAnkiPackageRequest
col = Collection(sys.argv[2])
col.import_anki_package(ImportAnkiPackageRequest(package_path=sys.argv[1],
    options=ImportAnkiPackageOptions(with_scheduling=True, with_deck_configs=True)))
today = (datetime.now() - timedelta(hours=4)).date()
dues = {}
for nid, ord_, due in col.db.all("select nid, ord, due from cards where type = 2"):
    guid = col.db.scalar("select guid from notes where id = ?", nid)
    dues[f"{guid}:{ord_}"] = (today + timedelta(days=due - col.sched.today)).isoformat()
print(json.dumps(dues))
"""


def _study_at_local(fc: Flashcore, clock: FixedClock, days: int) -> int:
    """Answer each day's queue (Good, some Easy and Again) starting at the clock's local time."""
    given = 0
    start = clock.now()
    for day in range(days):
        clock.set(start + timedelta(days=day))
        for n in range(200):
            queue = study.build_queue(fc, limit=1)
            if not queue.items:
                break
            item = queue.items[0]
            if item.due > clock.now():
                clock.set(item.due)
            rating = Rating.EASY if n % 5 == 0 else Rating.AGAIN if n % 7 == 3 else Rating.GOOD
            study.answer(fc, item.card_id, rating, duration_ms=3000)
            given += 1
            clock.advance(timedelta(seconds=30))
        assert check(fc).problems == []
    return given


@pytest.mark.parametrize(
    ("zone_name", "at"),
    [
        ("Asia/Kolkata", (7, 0)),
        ("America/New_York", (23, 30)),
        ("UTC", (10, 0)),
        ("Pacific/Auckland", (9, 0)),  # UTC+12/+13: the package says its offset (localOffset)
    ],
)
def test_review_cards_are_due_on_the_phone_on_the_students_own_days(
    tmp_path: Path, sqlite_url: str, zone_name: str, at: tuple[int, int]
):
    zone = ZoneInfo(zone_name)
    local_today = datetime.now(zone).date()
    first = datetime(
        local_today.year, local_today.month, local_today.day, *at, tzinfo=zone
    ) - timedelta(days=8)
    clock = FixedClock(first)
    with Flashcore.open(sqlite_url, clock=clock, create=True, timezone=zone_name) as fc:
        fc.add_decks([write_deck(tmp_path / "own.toml", DECK, name="Step 1::Own")])
        assert _study_at_local(fc, clock, days=4) > 13
        clock.set(first + timedelta(days=5))
        package = tmp_path / "phone.apkg"
        export_anki(fc, package, with_scheduling=True)
        day_start = fc.settings.day_start_hour
        expected = {}
        for card in fc.cards():
            if card["state"] != "review":
                continue
            ord_ = card["ord"] - 1 if card["kind"] == "cloze" else card["ord"]
            due = datetime.fromisoformat(card["due"]).astimezone(zone)
            expected[f"{guid_for(card['note_key'])}:{ord_}"] = (
                (due - timedelta(hours=day_start)).date().isoformat()
            )
    assert len(expected) >= 8

    (tmp_path / "phone").mkdir()
    phone = subprocess.run(
        [sys.executable, "-c", _PHONE, str(package), str(tmp_path / "phone" / "c.anki2")],
        env={**os.environ, "TZ": zone_name},
        capture_output=True,
        text=True,
        check=False,
    )
    assert phone.returncode == 0, phone.stderr[-2000:]
    in_anki = json.loads(phone.stdout.strip().splitlines()[-1])
    assert in_anki == expected


@pytest.mark.parametrize(
    ("zone_name", "first", "day_start"),
    [
        ("Pacific/Auckland", datetime(2026, 1, 10, 9, 0), 4),  # UTC+13
        ("Pacific/Auckland", datetime(2026, 4, 2, 21, 0), 4),  # its DST ends on 04-05
        ("Pacific/Kiritimati", datetime(2026, 1, 10, 9, 0), 4),  # UTC+14
        ("Asia/Kolkata", datetime(2026, 1, 10, 7, 0), 4),
        ("America/New_York", datetime(2026, 1, 10, 23, 30), 4),
        ("Asia/Tokyo", datetime(2026, 1, 10, 9, 0), 0),
    ],
)
def test_the_export_added_back_into_flashcore_keeps_each_review_cards_day(
    tmp_path: Path, zone_name: str, first: datetime, day_start: int
):
    """The package added into another profile in the same zone (a new machine, no Anki
    between): each review card is due on the same study day. Before, the package's days were
    read as UTC's: every review card a day late from UTC+12 to +14."""
    zone = ZoneInfo(zone_name)
    clock = FixedClock(first.replace(tzinfo=zone))

    def review_days(fc: Flashcore) -> dict[tuple[str, int], str]:
        return {  # by the card's front (the note's key differs once added from a package)
            (card["front"], card["ord"]): (
                datetime.fromisoformat(card["due"]).astimezone(zone) - timedelta(hours=day_start)
            )
            .date()
            .isoformat()
            for card in fc.cards()
            if card["state"] == "review"
        }

    url = f"sqlite:///{tmp_path}/first.sqlite3"
    with Flashcore.open(url, clock=clock, create=True, timezone=zone_name) as fc:
        fc.config_set("day_start_hour", str(day_start))
        fc.add_decks([write_deck(tmp_path / "own.toml", DECK, name="Step 1::Own")])
        _study_at_local(fc, clock, days=4)
        clock.set(first.replace(tzinfo=zone) + timedelta(days=5))
        export_anki(fc, tmp_path / "moved.apkg", with_scheduling=True)
        before = review_days(fc)
    assert len(before) >= 8
    url = f"sqlite:///{tmp_path}/second.sqlite3"
    with Flashcore.open(url, clock=clock, create=True, timezone=zone_name) as fc:
        fc.config_set("day_start_hour", str(day_start))
        (report,) = fc.add_decks([tmp_path / "moved.apkg"], with_scheduling=True)
        assert report.ok, report.problems
        after = review_days(fc)
    assert after == before
