"""The layering rules in pyproject.toml ([tool.importlinter]) hold: the core imports no
database, UI or export library; the TUI never touches storage."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def test_import_layering_contracts_are_kept():
    exe = shutil.which("lint-imports") or str(Path(sys.executable).with_name("lint-imports"))
    result = subprocess.run([exe], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stdout + result.stderr


def test_help_imports_no_heavy_library():
    code = (
        "import sys; from flashcore.cli import build_parser; build_parser(); "
        "heavy = [m for m in ('sqlalchemy', 'textual', 'genanki', 'alembic', 'fsrs') "
        "if m in sys.modules]; print(','.join(heavy))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == ""
