"""Importers: files -> core values. No database."""
