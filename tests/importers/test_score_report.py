"""Score reports (the self-assessment's per-system and per-discipline profile): both documented
forms, the samples in decks/samples, and every problem with its line."""

from __future__ import annotations

from pathlib import Path

import pytest

from flashcore.core.assessment import AreaKind, Band
from flashcore.core.errors import ReportFormatError
from flashcore.importers.score_report import parse_report

SAMPLES = Path(__file__).resolve().parents[2] / "decks" / "samples"


def test_the_text_sample_reads_its_systems_and_disciplines():
    areas = parse_report((SAMPLES / "nbme-report.txt").read_bytes(), "nbme-report.txt")
    by_area = {(a.kind, a.area): a for a in areas}
    cardio = by_area[(AreaKind.SYSTEM, "Cardiovascular System")]
    assert cardio.band is Band.LOWER and cardio.line == 7
    endocrine = by_area[(AreaKind.SYSTEM, "Reproductive & Endocrine Systems")]
    assert endocrine.percent == 58 and endocrine.band is None
    assert by_area[(AreaKind.DISCIPLINE, "Physiology")].band is Band.LOWER
    assert len(areas) == 10


def test_the_csv_sample_reads_the_same_way():
    areas = parse_report((SAMPLES / "nbme-report.csv").read_bytes(), "nbme-report.csv")
    assert {(a.kind, a.area) for a in areas} >= {
        (AreaKind.SYSTEM, "Cardiovascular System"),
        (AreaKind.DISCIPLINE, "Pharmacology"),
    }
    assert next(a for a in areas if a.area == "Pharmacology").percent == 71


def test_a_csv_without_kind_tells_systems_from_disciplines_by_name_and_takes_semicolons():
    data = "\ufeffArea;Band\r\nRenal;weak\r\nPathology;strong\r\n".encode()
    areas = parse_report(data, "r.csv")
    assert [(a.kind, a.area, a.band) for a in areas] == [
        (AreaKind.SYSTEM, "Respiratory & Renal/Urinary Systems", Band.LOWER),
        (AreaKind.DISCIPLINE, "Pathology", Band.HIGHER),
    ]


def test_windows_1252_text_is_read():
    data = "[systems]\r\nCardiovascular System: lower   # caf\xe9\r\n".encode("cp1252")
    with pytest.raises(ReportFormatError):  # the comment is not a band: one clear problem
        parse_report(data, "r.txt")
    ok = "# caf\xe9\r\n[systems]\r\nCardiovascular System: lower\r\n".encode("cp1252")
    assert parse_report(ok, "r.txt")[0].band is Band.LOWER


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("Score: 64\nCardio 55\n", "r.txt:1: unknown report form"),
        ("[systems]\nCardio: lower\n", "r.txt:2: unknown system 'Cardio'"),
        ("[systems]\nCardiovascular System: so-so\n", "r.txt:2: performance 'so-so'"),
        ("[systems]\nCardiovascular System: 140%\n", "r.txt:2: percent 140% is over 100"),
        ("[systems]\nCardiovascular System\n", "r.txt:2: expected `Area: performance`"),
        ("[disciplines]\nCardiovascular System: lower\n", "r.txt:2: unknown discipline"),
        ("[systems]\nRenal: lower\nRespiratory: higher\n", "r.txt:3: Respiratory & Renal"),
        ("# nothing\n\n", "r.txt: is empty"),
        ("kind,area,performance\nsystem,Cardio,lower\n", "r.txt:2: unknown system"),
        ("area,performance\nPathology\n", "r.txt:2: 1 columns; the header has 2"),
    ],
)
def test_each_problem_names_its_line(text, problem):
    with pytest.raises(ReportFormatError) as caught:
        parse_report(text.encode(), "r.txt")
    assert str(caught.value).startswith(problem), str(caught.value)


def test_every_problem_is_collected_before_failing():
    text = "[systems]\nCardio: lower\nGI: meh\nCardiovascular System: lower\n"
    with pytest.raises(ReportFormatError) as caught:
        parse_report(text.encode(), "r.txt")
    assert [p.line for p in caught.value.problems] == [2, 3, 3]  # GI: area and band


def test_binary_junk_is_refused():
    with pytest.raises(ReportFormatError, match="binary"):
        parse_report(b"PK\x03\x04\x00\x00junk", "r.txt")
