"""`flashcore doctor` on the temporary file an Anki import killed while it wrote its record
(`.anki-imports.json.<pid>.tmp` in the media folder): removed, and said."""

from __future__ import annotations

from tests.services.test_doctor import _killed_mid_write


def test_doctor_says_it_removed_a_killed_imports_temporary_file(cli, tmp_path):
    cli.ok("init")
    media = tmp_path / "home" / "flashcore.media"
    stale = _killed_mid_write(media)
    out = cli.ok("doctor").out
    assert "fixed: 1 temporary .anki-imports.json files left by an interrupted Anki import\n" in out
    assert not stale.exists()
    assert cli.ok("doctor").out.endswith("nothing to repair\n")
    report = cli.json("doctor")
    assert report["fixes"] == {}
