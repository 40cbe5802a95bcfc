"""A student with two Anki sources of one AnKing deck, over four days through the command line
(each step its own process, FLASHCORE_NOW moved a day at a time): the desktop's deck updated
through AnkiHub and an older phone export, a card suspended by hand, a note that leaves the
deck and comes back, a card buried here and exported to the phone, a qbank paste made twice.
Found living with it (issue 16e): the phone's older copy replaced the desktop's text at every
other import, the hand-suspended card came back unsuspended with its note, the buried card was
due on the phone the same day, and the repeated paste made a batch of 0 attempts."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

pytest.importorskip("anki.collection")

from anki.collection import Collection, ImportAnkiPackageOptions, ImportAnkiPackageRequest

from tests.anki_packages import add_note, export

OLD, NEW = 1_760_000_000, 1_760_000_600  # the notes' modification times (Anki's, seconds)
OLD_TEXT, NEW_TEXT = "IgE binds [...] (v1)", "IgE binds FcεRI on mast cells (AnkiHub v2)"


class Shell:
    def __init__(self, tmp_path: Path, start: datetime) -> None:
        self.tmp, self.db, self.now = tmp_path, tmp_path / "fc.sqlite3", start
        self.env = {k: v for k, v in os.environ.items()
                    if k not in {"FLASHCORE_DB", "FLASHCORE_PROFILE"}}  # fmt: skip
        self.env["FLASHCORE_HOME"] = str(tmp_path / "home")

    def __call__(self, *args: object, stdin: bytes | None = None) -> str:
        self.env["FLASHCORE_NOW"] = self.now.isoformat()
        result = subprocess.run(
            [sys.executable, "-m", "flashcore.cli", *map(str, args), "--db", str(self.db)],
            cwd=self.tmp, env=self.env, input=stdin, capture_output=True, timeout=120,
        )  # fmt: skip
        err = result.stderr.decode()
        assert "Traceback" not in err and result.returncode == 0, f"{args}: {err}"
        return result.stdout.decode()

    def json(self, *args: object, stdin: bytes | None = None) -> Any:
        return json.loads(self(*args, "--json", stdin=stdin))


def _packages(tmp: Path) -> tuple[Path, Path, Path]:
    """desktop.apkg (note A edited through AnkiHub), phone.apkg (A's older copy, one more
    answer given on the phone), update.apkg (the desktop's deck without note B)."""
    col = Collection(str(tmp / "anki.anki2"))
    tags = ["#AK_Step1_v12::#UWorld::Step::118154"]
    a = add_note(col, "Basic", "AnKing", {"Front": OLD_TEXT, "Back": "mast cells"}, tags)
    b = add_note(col, "Basic", "AnKing", {"Front": "Kussmaul breathing", "Back": "acidosis"})
    c = add_note(col, "Basic", "AnKing", {"Front": "Type IV cells", "Back": "T cells"})
    for nid in (a, b, c):
        col.db.execute("update notes set mod = ? where id = ?", OLD, nid)
    note = col.get_note(a)
    note["Front"] = NEW_TEXT
    col.update_note(note)
    col.db.execute("update notes set mod = ? where id = ?", NEW, a)
    desktop = export(col, tmp / "desktop.apkg", scheduling=True)
    note["Front"] = OLD_TEXT  # the phone has not synced AnkiHub's edit
    col.update_note(note)
    col.db.execute("update notes set mod = ? where id = ?", OLD, a)
    card = col.get_card(col.find_cards(f"nid:{c}")[0])
    card.start_timer()
    col.sched.answerCard(card, 3)  # answered on the phone
    phone = export(col, tmp / "phone.apkg", scheduling=True)
    col.close()
    col = Collection(str(tmp / "anki2.anki2"))
    col.import_anki_package(ImportAnkiPackageRequest(package_path=str(desktop),
        options=ImportAnkiPackageOptions(with_scheduling=True)))  # fmt: skip
    col.remove_notes([col.find_notes("Kussmaul")[0]])
    update = export(col, tmp / "update.apkg", scheduling=True)
    col.close()
    return desktop, phone, update


def _card(sh: Shell, front_starts: str) -> dict[str, Any]:
    return next(c for c in sh.json("cards") if c["front"].startswith(front_starts))


def test_two_anki_sources_over_four_days(tmp_path):
    desktop, phone, update = _packages(tmp_path)
    sh = Shell(tmp_path, datetime.now(UTC).replace(hour=9, minute=0, second=0, microsecond=0))
    sh("init")
    sh("decks", "add", desktop, "--with-scheduling")
    assert _card(sh, "IgE")["front"] == NEW_TEXT
    kussmaul = _card(sh, "Kussmaul")["card_id"]
    sh("cards", "suspend", kussmaul)  # by hand: mine now

    sh.now += timedelta(days=1)  # day 2: the phone's export
    out = sh("decks", "add", phone, "--with-scheduling")
    assert "1 note kept: the package's copy is older than the one flashcore took" in out
    assert "1 added from Anki" in out  # the phone's answer still comes
    assert _card(sh, "IgE")["front"] == NEW_TEXT  # before: the phone's old text
    sh("decks", "add", desktop, "--with-scheduling")
    [report] = sh.json("decks", "add", phone, "--with-scheduling")
    assert (report["kept_older"], report["updated"]) == (1, 0)
    assert _card(sh, "IgE")["front"] == NEW_TEXT

    sh.now += timedelta(days=1)  # day 3: AnkiHub drops note B
    out = sh("decks", "add", update, "--with-scheduling")
    assert "1 no longer in the package (suspended, kept)" in out
    assert _card(sh, "Kussmaul")["suspended"]

    sh.now += timedelta(days=1)  # day 4: B is back
    sh("decks", "add", desktop, "--with-scheduling")
    assert _card(sh, "Kussmaul")["suspended"]  # suspended by hand: still (before: unsuspended)
    assert not _card(sh, "IgE")["suspended"]
    assert _card(sh, "IgE")["front"] == NEW_TEXT

    paste = b"118154\n"  # a missed question, pasted twice
    first = sh.json("qbank", "import", "-", "--format", "qids", stdin=paste)
    again = sh.json("qbank", "import", "-", "--format", "qids", "--again", stdin=paste)
    assert first["batch_id"] is not None and first["added"] == 1
    assert (again["added"], again["batch_id"]) == (0, None)  # before: a batch of 0 attempts
    assert [b["added"] for b in sh.json("qbank", "batches")] == [1]

    buried = _card(sh, "Type IV")["card_id"]
    sh("cards", "bury", buried)
    sh("export", "anki", "-o", tmp_path / "to-phone.apkg", "--with-scheduling")
    col = Collection(str(tmp_path / "phone2.anki2"))
    try:
        col.import_anki_package(ImportAnkiPackageRequest(package_path=str(tmp_path / "to-phone.apkg"),
            options=ImportAnkiPackageOptions(with_scheduling=True)))  # fmt: skip
        queues = {col.get_note(nid).fields[0]: q
                  for nid, q in col.db.all("select nid, queue from cards")}  # fmt: skip
    finally:
        col.close()
    assert queues["Type IV cells"] == -3  # buried in Anki too (before: due today)
    assert queues["Kussmaul breathing"] == -1  # suspended
    assert queues[NEW_TEXT] >= 0
