"""`qbank import` through the command line on both backends: a log held in memory with a
repeated row, a row already stored and texts longer than their columns gives the counts and
stored rows the service gives, in runs of plain lines or one line at a time, and a later log
(of days after every stored one) adds its rows without finding duplicates."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import sqlalchemy as sa

HEADER = "question_id,result,date,subject,system,topic\n"
ROWS = [
    "2001,incorrect,2026-11-20,Pathology,General,Emphysema",
    "2002,correct,2026-11-21,Hematology,Heme,Sickle cell disease",
    "2001,incorrect,2026-11-20,Pathology,General,Emphysema again",  # repeated in the log
    f"2003,omitted,2026-11-21,Pathology,{'Sÿstem ' * 40},{'Gap topic ' * 60}",
    '2004,incorrect,2026-11-22,Pathology,General,"Quoted, topic"',
]


def stored(url: str) -> list[tuple[Any, ...]]:
    engine = sa.create_engine(url)
    try:
        with engine.connect() as conn:
            return [
                tuple(r)
                for r in conn.exec_driver_sql(
                    "SELECT qid, outcome, on_date, system, topic FROM qbank_attempts ORDER BY qid"
                )
            ]
    finally:
        engine.dispose()


def test_qbank_import_on_the_command_line(cli: Any, loaded: str, tmp_path: Path) -> None:
    first = tmp_path / "first.csv"
    first.write_text(HEADER + "\n".join(ROWS[:2]) + "\n", encoding="utf-8")
    cli.ok("qbank", "import", first, "--db", loaded)
    log = tmp_path / "log.csv"
    log.write_text(HEADER + "\n".join(ROWS) + "\n", encoding="utf-8")
    report = cli.json("qbank", "import", log, "--db", loaded)
    assert (report["rows_read"], report["added"], report["duplicates"]) == (5, 2, 3)
    assert report["misses"] == 2 and report["unmatched_qids"][0] == "uworld:2003"
    rows = {r[0]: r for r in stored(loaded)}
    assert sorted(rows) == ["2001", "2002", "2003", "2004"]
    assert rows["2001"][4] == "Emphysema"  # the first of the repeated rows, stored before
    assert rows["2003"][3] == ("Sÿstem " * 40).strip()[:200]
    assert rows["2003"][4] == ("Gap topic " * 60).strip()[:500]
    assert rows["2004"][4] == "Quoted, topic"
    later = tmp_path / "later.csv"
    later.write_text(HEADER + "2005,incorrect,2026-11-24,Pathology,General,Emphysema\n")
    report = cli.json("qbank", "import", later, "--db", loaded)
    assert (report["added"], report["duplicates"]) == (1, 0)
    batches = cli.json("qbank", "batches", "--json", "--db", loaded)
    assert [b["added"] for b in batches] == [1, 2, 2]
