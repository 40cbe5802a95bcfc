"""Anki `.apkg` export: flashcore notes -> one package file, built with genanki.

The writer is handed plain values (`ExportNote`, `ExportCard`, `ExportReview`) and never sees
the database. What Anki sees, and why:

Identity (frozen: Anki matches on these, so changing one duplicates notes in every student's
collection):
- note GUID = `genanki.guid_for(note.key)`; re-importing an edited note updates it in place. A
  note that came from an Anki package keeps its own GUID (`ExportNote.guid`).
- note types: `BASIC_MODEL_ID` ("flashcore Basic": Front, Back, Extra) and `CLOZE_MODEL_ID`
  ("flashcore Cloze": Text, Extra). Their fields, templates and ids never change; their `mod`
  is the fixed `MODEL_MOD`, so a student's own styling edit in Anki is newer and survives.
- deck id = `deck_id_for(name)`: the first 8 bytes of SHA-256 of `flashcore-deck:<name>`,
  taken modulo 2**30 and added to 2**30 (genanki's recommended id range). Anki matches decks
  by name; `Step 1::Immunology` keeps its hierarchy.
- each flashcore card becomes one Anki card: ord 0 for basic notes, ord N-1 for cloze
  deletion cN, exactly the cards flashcore has (not re-derived from the text).

Note mod time: every note's `mod` is its `modified_at`, not the export time. Anki updates a
note only when the incoming copy is newer, so re-exporting unchanged notes leaves them (and
any edit the student made in Anki) alone, and an edit made in flashcore replaces the note.

Tags (never with spaces; whitespace becomes `_`, `"` and control characters are dropped):
- the note's tags as given;
- each topic as a hierarchical tag under one `flashcore::` branch, so it never mixes with the
  student's own tag tree (AnKing's included): `Immunology::Hypersensitivity::Type I` ->
  `flashcore::Immunology::Hypersensitivity::Type_I`;
- each qid in AnKing's form (core.anking): `uworld:118154` ->
  `#AK_Step1_v12::#UWorld::Step::118154`, `uworld-comlex:7` -> `…::#UWorld::COMLEX::7`,
  `amboss:x1` -> `…::#AMBOSS::x1`, `nbme:form25-17` -> `…::#NBME::Form25::17`; another source
  is kept as written (`kaplan:7` -> `#kaplan::7`); a qid without a source is a UWorld id.

Fields: with `html=False` the text is escaped (`<`, `>`, `&` appear literally in Anki) and
newlines become `<br>`. Always, also for HTML, control characters other than tab and newline
are removed (a single `\x1f`, Anki's field separator, made Anki reject a whole package) and
lone surrogates become U+FFFD.

Scheduling (`with_scheduling=True`): genanki writes new cards only, so each card's row in the
package's `collection.anki2` is updated afterwards, in the form Anki's own exports use:
- type/queue: new 0/0, learning 1/1, review 2/2, relearning 3/1; suspended -> queue -1;
  buried at the export (until the next study day) -> queue -3, Anki's "buried by hand", which
  Anki leaves out of the day's queues and unburies at its next day;
  flagged -> flag 1 (red).
- due: new -> the note's position in the export; learning and relearning -> epoch seconds;
  review -> a day number counted from the package collection's creation day, 2020-01-01 (crt
  is `COLLECTION_CRT`, 2020-01-01 04:00 UTC, `creationOffset` 0, `rollover` 4): day D is the
  study date 2020-01-01 + D in the profile's zone and day start (`ExportPlan.zone`,
  `day_start_hour`). Anki imports it as (its today) + D - (the package's today), both counted in
  the importing machine's local days, so the card is due on that date in the student's own
  collection (tests/scenarios/test_phone_time_zones.py, with Anki in India's, New York's and
  Auckland's zones). The config's `localOffset` is the profile's offset at the export (minutes
  west; left out in UTC): flashcore, adding the package back, reads its days in that zone.
- ivl: review -> days from the last review's study day to the due day; relearning -> the
  FSRS interval of its stability at its desired retention; learning and new -> 0.
- reps, lapses, left (remaining learning steps of Anki's default steps, 1m 10m / 10m),
  factor 2500 for answered review cards, and the FSRS memory state in the card's `data`:
  `{"pos": position, "s": stability, "d": difficulty, "dr": desired retention,
  "decay": 0.1542, "lrt": last review epoch seconds}` (Anki reads it as `card.memory_state`).
- revlog rows, one per review, written after the cards in time order (the answers of one
  instant by their cards' order): id = the answer's own revlog id when it has one (imported
  from Anki, or brought back from it), else the review's epoch ms (moved on to the next free
  millisecond when an earlier review took it or it is another answer's revlog id), ease = rating,
  ivl/lastIvl in days (positive) or seconds (negative), factor
  = Anki's FSRS form of difficulty ((d - 1) / 9 + 0.1) * 1000, time = duration capped at 60 s,
  type 0 learn / 1 review / 2 relearn (from the state before the review).
Anki applies scheduling only to cards it does not have yet: re-importing never changes the
schedule or history of a card the student already studies in Anki. Without scheduling every
card is new (no suspension, flags, memory state or history).

Files: the collection is built in a temporary SQLite file (no journal) and zipped into a
temporary file, both beside the target, then the zip is fsynced, moved over the target with
`os.replace` and the folder fsynced: at every moment the target is the old package or the new
one, complete. Both temporary files are removed on success and on error (genanki's own
`write_to_file` writes over the target and leaks a temporary database per export). A `kill -9`
cannot run that cleanup, so the temporary names carry the writer's pid
(`.<target>.<pid>.<random>.anki2.tmp` / `.apkg.tmp`) and every export first deletes the ones
in its folder whose process is gone (`remove_stale_temps`; `flashcore doctor` does the same
beside the database). The zip has fixed entry timestamps and deflate level 1, so the same
notes and `now` give byte-identical packages.
"""

from __future__ import annotations

from flashcore.core.model import ExportCard as ExportCard
from flashcore.exporters.anki.identity import BASIC_MODEL as BASIC_MODEL
from flashcore.exporters.anki.identity import BASIC_MODEL_ID as BASIC_MODEL_ID
from flashcore.exporters.anki.identity import CLOZE_MODEL as CLOZE_MODEL
from flashcore.exporters.anki.identity import CLOZE_MODEL_ID as CLOZE_MODEL_ID
from flashcore.exporters.anki.identity import MODEL_MOD as MODEL_MOD
from flashcore.exporters.anki.identity import deck_id_for as deck_id_for
from flashcore.exporters.anki.identity import guid_for as guid_for
from flashcore.exporters.anki.package import _TEMP_NAME as _TEMP_NAME
from flashcore.exporters.anki.package import PROGRESS_EVERY as PROGRESS_EVERY
from flashcore.exporters.anki.package import remove_stale_temps as remove_stale_temps
from flashcore.exporters.anki.package import write_apkg as write_apkg
from flashcore.exporters.anki.package import write_apkg_stream as write_apkg_stream
from flashcore.exporters.anki.revlog import MAX_ANSWER_MS as MAX_ANSWER_MS
from flashcore.exporters.anki.revlog import _RevlogIds as _RevlogIds
from flashcore.exporters.anki.schedule import COLLECTION_CRT as COLLECTION_CRT
from flashcore.exporters.anki.schedule import FSRS_DECAY as FSRS_DECAY
from flashcore.exporters.anki.schedule import ROLLOVER_HOUR as ROLLOVER_HOUR
from flashcore.exporters.anki.schedule import fsrs_interval as fsrs_interval
from flashcore.exporters.anki.schedule import review_day as review_day
from flashcore.exporters.anki.schedule import study_date as study_date
from flashcore.exporters.anki.tags import TOPIC_TAG_ROOT as TOPIC_TAG_ROOT
from flashcore.exporters.anki.tags import clean_field as clean_field
from flashcore.exporters.anki.tags import clean_tag as clean_tag
from flashcore.exporters.anki.tags import note_tags as note_tags
from flashcore.exporters.anki.tags import qid_tag as qid_tag
from flashcore.exporters.anki.tags import topic_tag as topic_tag
from flashcore.exporters.anki.values import ExportNote as ExportNote
from flashcore.exporters.anki.values import ExportPlan as ExportPlan
from flashcore.exporters.anki.values import ExportReview as ExportReview
from flashcore.exporters.anki.values import ExportSummary as ExportSummary
