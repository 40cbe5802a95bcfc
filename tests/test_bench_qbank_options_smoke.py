"""The per-row options benchmark runs on a tiny large case: each alternative gives what the
product's way gives (checked inside) and every step is printed."""

from __future__ import annotations

from tools.bench.qbank_options import group_days_c, held_of, main, sha_keys, tuple_keys


def test_qbank_options_prints_every_step_each_way_beside_the_products(capsys, tmp_path):
    args = ["--attempts", "300", "--runs", "1", "--cards", "2600", "--history", "1500"]
    assert main([*args, "--keep", str(tmp_path / "large")]) == 0
    out = capsys.readouterr().out
    assert "load average" in out and "the product's reader" in out
    assert "sha256 fingerprints (the product's)" in out and "tuples" in out
    assert "repos.group_days (the product's" in out and "every per-row step in C" in out
    assert "stage, then INSERT .. SELECT (the product's)" in out and "json_each" in out
    assert "the product's query" in out and "of weight above 0 only" in out


def test_tuple_keys_tell_rows_apart_exactly_as_the_fingerprints_do():
    rows = [
        ("", "uworld", "1", "correct", "2026-11-01"),
        ("", "uworld", "1", "incorrect", "2026-11-01"),
        ("", "uworld", "1", "correct", "2026-11-02"),
        ("", "amboss", "1", "correct", "2026-11-01"),
        ("", "uworld", "1", "correct", "2026-11-01"),
    ]
    columns = list(zip(*rows, strict=True))
    fingerprints, keys = sha_keys(columns), tuple_keys(columns)
    assert len(set(fingerprints)) == len(set(keys)) == 4
    assert fingerprints[0] == fingerprints[4] and keys[0] == keys[4]


def test_counting_in_c_keeps_a_listed_ids_source_and_blanks_the_others():
    row = ("", "uworld", "7", "incorrect", "2026-11-01", "", "Renal", "", "Diuretics")
    other = ("", "uworld", "8", "correct", "2026-11-01", "", "Renal", "", "Diuretics")
    counted = group_days_c(held_of([row, other, row]), frozenset({"7"}))
    assert counted == {
        ("uworld", "7", "Diuretics", "", "Renal", "2026-11-01"): (2, 2),
        ("", "", "Diuretics", "", "Renal", "2026-11-01"): (1, 0),
    }
