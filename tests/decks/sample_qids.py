"""Made-up question ids for the sample logs in `decks/samples/`, kept out of the shipped decks.

Shipped cards carry no `qids`: an invented id that looks real (`uworld:900101`) would send a
real question with that id to the wrong card. The samples' ids live here instead, and a test
that wants "a card lists this question" matching copies the bundled decks with the ids added.
"""

from __future__ import annotations

import re
from pathlib import Path

from tests.decks.content import DECKS, deck_files

# (deck file, card id) -> the sample ids that test the card. Every id of
# `decks/samples/incorrect-qids.txt` is here; `uworld-paste.tsv` and `missed.csv` also hold ids
# that are on no card (see decks/samples/README.md).
SAMPLE_QIDS: dict[tuple[str, str], tuple[str, ...]] = {
    ("immunology.toml", "t1hs-mediator"): ("uworld:900101",),
    ("immunology.toml", "t1hs-tryptase"): ("uworld:900102",),
    ("immunology.toml", "t1hs-anaphylaxis-treatment"): ("uworld:900103", "uworld:900104"),
    ("immunology.toml", "t2hs-goodpasture"): ("uworld:900110",),
    ("immunology.toml", "t3hs-serum-sickness"): ("uworld:900120",),
    ("immunology.toml", "t4hs-ppd"): ("uworld:900130",),
    ("pathology.toml", "hemochromatosis-gene"): ("uworld:900201",),
    ("pathology.toml", "tamponade-beck-triad"): ("uworld:900210",),
    ("pathology.toml", "sickle-mutation"): ("uworld:900220",),
    ("pathology.toml", "emphysema-patterns"): ("uworld:900230",),
    ("biostatistics.toml", "sens-formula"): ("uworld:900301",),
    ("biostatistics.toml", "bias-lead-time"): ("uworld:900330",),
}


def decks_with_sample_qids(folder: Path, source: Path = DECKS) -> list[Path]:
    """Copies of every bundled deck in `folder`, the sample ids added to their cards."""
    folder.mkdir(parents=True, exist_ok=True)
    wanted = dict(SAMPLE_QIDS)
    out = []
    for path in deck_files(source):
        text = path.read_text(encoding="utf-8")
        for (name, card_id), qids in SAMPLE_QIDS.items():
            if name != path.name:
                continue
            line = re.compile(rf'^id = "{re.escape(card_id)}"\n', re.M)
            listed = ", ".join(f'"{q}"' for q in qids)
            text, found = line.subn(
                lambda m, listed=listed: f"{m.group(0)}qids = [{listed}]\n", text
            )
            assert found == 1, f"{name}: card {card_id} of the sample ids is gone"
            del wanted[(name, card_id)]
        copy = folder / path.name
        copy.write_text(text, encoding="utf-8")
        out.append(copy)
    assert not wanted, f"sample ids for cards of missing deck files: {sorted(wanted)}"
    return out
