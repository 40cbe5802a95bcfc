"""Smoke test of `python -m tools.bench.anki_phases`: a tiny AnKing-like package (made by the
real `anki`) imported with its answers staged; every phase is found and, with `--timeline`,
each is shown on its thread's wall span. No timing assertions."""

from __future__ import annotations

import contextlib
import io
from pathlib import Path

import pytest

pytest.importorskip("anki.collection")

from tools.bench import anki_phases


def test_a_tiny_run_prints_every_phase_and_its_wall_span_thread_by_thread(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("FLASHCORE_HOME", str(tmp_path / "home"))
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        code = anki_phases.main(["--notes", "60", "--revlog", "600", "--media", "2",
                                 "--work", str(tmp_path), "--timeline"])  # fmt: skip
    text = out.getvalue()
    assert code == 0, text
    assert "not timed" not in text, text
    assert "first import: wall" in text and "timeline (wall seconds" in text
    timeline = text.split("timeline (wall seconds", 1)[1]
    assert "MainThread" in timeline and "the re-import's stamp (x1)" in timeline
    assert "flashcore-anki" in timeline and "the answers staged" in timeline  # the stage's own
