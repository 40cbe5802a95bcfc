"""Exporters: flashcore values -> files (Anki .apkg); no database work."""
