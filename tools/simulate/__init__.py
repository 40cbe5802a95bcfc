"""Does the weakness weighting earn its reviews? A simulated student on flashcore itself.

    python -m tools.simulate --settings base,unfinished --seeds 3 --jobs 2

Each run is one simulated student (`tools.simulate.student`) studying for weeks through the
product's own services: `Flashcore.open`, `StudySession` (the reviewer's queue and answers),
`qbank.import_log` (the same pastes and CSV files a student imports), a `FixedClock` the
student moves. The frontier is flashcore itself at several uniform retentions with no qbank
log imported and the weighting off (plain FSRS: the flashcard signal needs no log, so it is
switched off by `weakness_max_retention`); the arms import the log and let the weighting act. The table gives, per student
model (`tools.simulate.models.SETTINGS`), the gap to the frontier at equal answers with its
spread over seeds, the weakest quarter of topics' gap, and the share of answers per retention.
"""
