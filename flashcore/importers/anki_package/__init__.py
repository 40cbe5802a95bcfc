"""Anki packages (`.apkg`, `.colpkg`) -> typed values (`types`), read without Anki itself."""

from flashcore.importers.anki_package.media import media_name_problem
from flashcore.importers.anki_package.reader import AnkiPackage, open_package
from flashcore.importers.anki_package.types import (
    Card,
    CardQueue,
    CardType,
    Deck,
    DeckConfig,
    FsrsMemory,
    MediaFile,
    Note,
    NoteType,
    NoteTypeKind,
    PackageCounts,
    PackageFormat,
    PackageInfo,
    RevlogEntry,
    Template,
)

PACKAGE_SUFFIXES = {".apkg", ".colpkg"}

__all__ = [
    "PACKAGE_SUFFIXES",
    "AnkiPackage",
    "Card",
    "CardQueue",
    "CardType",
    "Deck",
    "DeckConfig",
    "FsrsMemory",
    "MediaFile",
    "Note",
    "NoteType",
    "NoteTypeKind",
    "PackageCounts",
    "PackageFormat",
    "PackageInfo",
    "RevlogEntry",
    "Template",
    "media_name_problem",
    "open_package",
]
