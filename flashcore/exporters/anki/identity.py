"""What Anki matches a package's content on, frozen: the note types (ids, fields, templates,
styling), deck ids and note GUIDs (see the package's docstring)."""

from __future__ import annotations

import hashlib
from functools import lru_cache

import genanki

BASIC_MODEL_ID = 1_287_866_490


CLOZE_MODEL_ID = 1_098_292_150


MODEL_MOD = 1_767_225_600  # 2026-01-01 00:00 UTC, when the note types were frozen


_BASE91 = (
    "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789!#$%&()*+,-./:;<=>?@[]^_`{|}~"
)


_CSS = """.card {
 font-family: arial;
 font-size: 20px;
 text-align: center;
 color: black;
 background-color: white;
}
.extra { font-size: 16px; color: #555; }
.cloze { font-weight: bold; color: blue; }
.nightMode .cloze { color: lightblue; }
"""


BASIC_MODEL = genanki.Model(
    BASIC_MODEL_ID,
    "flashcore Basic",
    fields=[{"name": "Front"}, {"name": "Back"}, {"name": "Extra"}],
    templates=[
        {
            "name": "Card 1",
            "qfmt": "{{Front}}",
            "afmt": "{{FrontSide}}\n\n<hr id=answer>\n\n{{Back}}"
            '{{#Extra}}<div class="extra">{{Extra}}</div>{{/Extra}}',
        }
    ],
    css=_CSS,
)


CLOZE_MODEL = genanki.Model(
    CLOZE_MODEL_ID,
    "flashcore Cloze",
    fields=[{"name": "Text"}, {"name": "Extra"}],
    templates=[
        {
            "name": "Cloze",
            "qfmt": "{{cloze:Text}}",
            "afmt": '{{cloze:Text}}{{#Extra}}<div class="extra">{{Extra}}</div>{{/Extra}}',
        }
    ],
    css=_CSS,
    model_type=genanki.Model.CLOZE,
)


@lru_cache(maxsize=1024)
def deck_id_for(name: str) -> int:
    """The Anki deck id of a deck name; stable forever (see the module docstring)."""
    digest = hashlib.sha256(f"flashcore-deck:{name}".encode()).digest()
    return (1 << 30) + int.from_bytes(digest[:8], "big") % (1 << 30)


def guid_for(key: str) -> str:
    """The Anki note GUID of a flashcore note key; stable forever. Equal to
    `genanki.guid_for(key)` (SHA-256's first 8 bytes in Anki's base 91), computed faster."""
    value = int.from_bytes(hashlib.sha256(key.encode()).digest()[:8], "big")
    digits: list[str] = []
    while value:
        value, digit = divmod(value, 91)
        digits.append(_BASE91[digit])
    return "".join(reversed(digits))
