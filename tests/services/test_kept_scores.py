"""The topic scores kept between reports (schema 0026, `services.kept_scores`) never drift
from the scores made afresh: a student's history with a moving clock (imports on one day and
the next, a batch removed and imported again, flashcard answers, a deck reloaded with a note
moved to another topic and a question id listed, an alias, a settling of the sums), the
weakness report read through the kept scores after every step is the report made from every
attempt with nothing kept, on SQLite and PostgreSQL; and every report whose inputs did not
change since the last one (or since an import's weights) reads the kept scores."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta

from flashcore.core.clock import FixedClock
from flashcore.core.model import Rating
from flashcore.services import Flashcore, kept_scores, matching, qbank, weakness
from flashcore.services.study import answer, build_queue
from flashcore.storage.repos import qbank_sums
from tests.conftest import write_deck
from tests.services.test_summed_scores import history
from tests.weak_week import ACID_BASE, DECK, NEPHRON, load_deck

# The deck again with its second acid-base card moved to the nephron topic, and listing a
# question id the logs ask (its attempts now count for that card's topics).
MOVED = DECK.replace(
    f'back = "1.5 x HCO3 + 8 +/- 2"\ntopics = ["{ACID_BASE}"]',
    f'back = "1.5 x HCO3 + 8 +/- 2"\ntopics = ["{NEPHRON}"]\nqids = ["uworld:305"]',
)


def _from_scratch(fc: Flashcore, monkeypatch) -> dict:
    """The report with nothing kept or read kept: every attempt summed and matched."""
    with monkeypatch.context() as m:
        m.setattr(qbank_sums, "cached_groups", lambda *args, **kwargs: None)
        m.setattr(kept_scores, "stamp", lambda *args, **kwargs: None)
        return weakness.report(fc)


def _answer_some(fc: Flashcore, rng: random.Random, clock: FixedClock) -> None:
    for item in build_queue(fc, limit=4).items:
        answer(fc, item.card_id, rng.choice(list(Rating)), duration_ms=5000)
        clock.advance(timedelta(seconds=40))


def test_reports_through_the_kept_scores_are_the_reports_made_afresh(db_url, tmp_path, monkeypatch):
    clock = FixedClock(datetime(2026, 11, 25, 15, tzinfo=UTC))
    monkeypatch.setattr(matching, "SUM_IN_DATABASE_FROM", 0)  # a large history's way
    monkeypatch.setattr(weakness, "SUM_IN_DATABASE_FROM", 0)
    read = []
    decoded = kept_scores.decoded
    monkeypatch.setattr(kept_scores, "decoded", lambda p: read.append(p) or decoded(p))
    rng = random.Random(19)
    batches: list[int] = []
    logs: dict[int, bytes] = {}

    def import_(rows: int) -> None:
        log = history(rng, clock.now().date(), rows)
        found = qbank.import_log(fc, log, origin=f"log{len(logs)}.csv")
        assert found.added
        batches.append(found.batch_id)
        logs[found.batch_id] = log

    def remove_last() -> None:
        qbank.remove_batch(fc, batches[-1])

    def import_removed_again() -> None:  # the same file: the same content hash, a new batch
        log = logs[batches.pop()]
        found = qbank.import_log(fc, log, origin="again.csv")
        assert found.added
        batches.append(found.batch_id)
        logs[found.batch_id] = log

    def move_topics() -> None:
        (report,) = fc.add_decks([write_deck(tmp_path / "week.toml", MOVED, key="week")])
        assert report.ok, report.problems

    def raw_move() -> None:  # a writer that knows nothing of the scores moves a note
        with fc.engine.begin() as conn:
            conn.exec_driver_sql(
                "UPDATE note_topics SET topic_id = (SELECT id FROM topics WHERE path = "
                f"'{ACID_BASE}') WHERE topic_id = (SELECT id FROM topics WHERE path = "
                f"'{NEPHRON}')"
            )

    # (what happens, whether its writer keeps the scores it makes): a writer that keeps none
    # (an older one, a failed write) leaves the scores kept before, which must not be read.
    steps = [
        ("import", True, lambda: import_(300)),
        ("import the same day", True, lambda: import_(200)),
        ("import keeping nothing", False, lambda: import_(120)),
        ("next day", True, lambda: clock.advance(timedelta(days=1))),
        ("answers", True, lambda: _answer_some(fc, rng, clock)),
        ("import", True, lambda: import_(250)),
        ("remove the batch", True, remove_last),
        ("import it again", True, import_removed_again),
        ("remove the batch keeping nothing", False, remove_last),
        ("import it again keeping nothing", False, import_removed_again),
        ("deck moves a note", True, move_topics),
        ("a note moved by SQL", False, raw_move),
        ("alias", False, lambda: qbank.add_alias(fc, "Metabolic acidosis", ACID_BASE)),
        ("three days on", True, lambda: clock.advance(timedelta(days=3))),
        ("answers", True, lambda: _answer_some(fc, rng, clock)),
        ("import", True, lambda: import_(150)),
        ("a settling, 8 days on", True, lambda: clock.advance(timedelta(days=8))),
        ("import", True, lambda: import_(100)),
    ]
    with Flashcore.open(db_url, clock=clock, create=True, timezone="UTC") as fc:
        load_deck(fc, tmp_path)
        for n in range(2):
            qbank.import_log(fc, history(rng, clock.now().date(), 400), origin=f"h{n}.csv")
        weakness.report(fc)  # the history summed into the kept sums
        hits_after_import = 0
        for name, keeps, step in steps:
            with monkeypatch.context() as m:
                if not keeps:
                    m.setattr(kept_scores, "kept", lambda *args: None)
                step()
            del read[:]
            first = weakness.report(fc)
            hits_after_import += bool(read) and name.startswith("import")
            second = weakness.report(fc)
            assert read, f"{name}: the report after the one before did not read the kept scores"
            scratch = _from_scratch(fc, monkeypatch)
            assert first == scratch, name
            assert second == scratch, name
        assert first["topics"] and first["gaps"]
        assert hits_after_import >= 3  # an import's weights kept what its report reads


def test_scores_an_import_keeps_are_not_claimed_for_an_import_committed_while_it_scored(
    db_url, tmp_path, monkeypatch
):
    """PostgreSQL reads each statement at its own snapshot: attempts another terminal's import
    publishes while an import's weights score the history must not be claimed by the scores
    the first import keeps (their stamp made after the scores would name them)."""
    from flashcore.services import weights

    clock = FixedClock(datetime(2026, 11, 25, 15, tzinfo=UTC))
    monkeypatch.setattr(matching, "SUM_IN_DATABASE_FROM", 0)  # a large history's way
    monkeypatch.setattr(weakness, "SUM_IN_DATABASE_FROM", 0)
    rng = random.Random(5)
    with (
        Flashcore.open(db_url, clock=clock, create=True, timezone="UTC") as fc,
        Flashcore.open(db_url, clock=clock, timezone="UTC") as other,
    ):
        load_deck(fc, tmp_path)
        qbank.import_log(fc, history(rng, clock.now().date(), 400), origin="a.csv")
        weakness.report(fc)  # the history summed into the kept sums
        scored = weights.score_all
        theirs = history(rng, clock.now().date(), 300)
        calls: list[str] = []

        def score_all(*args, **kwargs):
            found = scored(*args, **kwargs)
            if not calls:  # the other terminal's import publishes in between
                calls.append("theirs")
                with monkeypatch.context() as m:
                    m.setattr(kept_scores, "kept", lambda *args: None)  # it keeps nothing
                    assert qbank.import_log(other, theirs, origin="c.csv").added
            return found

        monkeypatch.setattr(weights, "score_all", score_all)
        qbank.import_log(fc, history(rng, clock.now().date(), 300), origin="b.csv")
        monkeypatch.setattr(weights, "score_all", scored)
        assert calls
        assert weakness.report(fc) == _from_scratch(fc, monkeypatch)
