"""Benchmarks: `python -m tools.bench` (the engine beside Anki), `.tui`, `.safety`, `.qbank`
(with `.qbank_phases` and `.qbank_floor`: where its CPU goes, and the floor of a lean import),
`.export`, `.anki_import` (an AnKing-sized package with its scheduling, beside Anki's importer)."""
