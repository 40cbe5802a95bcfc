"""Benchmarks: `python -m tools.bench` (the engine beside Anki), `.tui`, `.safety`, `.qbank`, `.export`."""
