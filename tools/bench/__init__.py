"""Benchmarks: `python -m tools.bench` (the engine beside Anki), `.tui`, `.safety`, `.qbank`, `.export`,
`.anki_import` (an AnKing-sized package with its scheduling, beside Anki's importer)."""
