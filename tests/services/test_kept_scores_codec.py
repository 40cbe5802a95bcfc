"""The kept topic scores' payload (`services.kept_scores`) reads back as the scores written:
every float to the bit, every mapping in its order (the report sums them in that order), the
gaps with their context; a scheduling score (compared against the average) is never kept; and
the topic index's digest is the same whether the index was read afresh or from the kept row."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, date, datetime

from flashcore.core import weakness as model
from flashcore.core.clock import FixedClock
from flashcore.services import Flashcore, kept_scores, weakness
from flashcore.services.matching import Gap, Scored
from flashcore.storage.repos import topic_index as topics_repo
from flashcore.storage.uow import reading_core, write_now
from tests.weak_week import load_deck


def _score(x: float, last: date | None) -> model.TopicScore:
    return model.TopicScore(x / 3, x / 7, 5, 9, 2, 4, x * 0.1, x / 11, last)


def test_scores_read_back_exactly_in_their_order():
    found = Scored(
        {7: _score(1.0, date(2026, 11, 20)), 3: _score(0.1 + 0.2, None)},
        {3: _score(2.5e-17, None), 1: _score(1e300, date(2026, 1, 2)), 7: _score(0.0, None)},
        {},
        [
            Gap("Emphysema", 3, date(2026, 11, 24), Counter({"Lungs": 2, "COPD": 1, "Adult": 1})),
            Gap("Café", 1, date(2026, 11, 2), Counter()),
        ],
        closest=[12, None],
    )
    back = kept_scores.decoded(kept_scores.encoded(found) or "")
    assert list(back.direct.items()) == list(found.direct.items())
    assert list(back.report.items()) == list(found.report.items())
    assert [(g.text, g.misses, g.last_miss, list(g.context.items())) for g in back.gaps] == [
        (g.text, g.misses, g.last_miss, list(g.context.items())) for g in found.gaps
    ]
    assert back.closest == [12, None]
    assert back.outcomes == {} and back.learned is None
    found.closest = None  # the suggestions go with the gaps: none worked out, nothing kept
    assert kept_scores.encoded(found) is None


def test_a_scheduling_score_is_never_kept():
    compared = model.TopicScore(0.4, 1.0, 3, 3, 3, 3, 1.0, 1.0, None, ratio=1.7)
    assert kept_scores.encoded(Scored({1: compared}, {}, {}, [], closest=[])) is None
    assert kept_scores.encoded(Scored({}, {1: compared}, {}, [], closest=[])) is None
    assert kept_scores.encoded(Scored({}, {}, {}, [], closest=[])) == "[[],[],[]]"


def test_the_index_digest_is_the_same_read_afresh_or_kept(sqlite_url, tmp_path):
    clock = FixedClock(datetime(2026, 11, 25, 15, tzinfo=UTC))
    with Flashcore.open(sqlite_url, clock=clock, create=True, timezone="UTC") as fc:
        load_deck(fc, tmp_path)
        weakness.look_at_index(fc)
        with reading_core(fc.engine) as session:
            fresh = topics_repo.stored_index(session, fc.profile_id, every_note=False)
            kept = topics_repo.kept_index(session, fc.profile_id)
        assert kept.stored is None and kept.gen is not None
        gen = kept.gen
        write_now(fc.engine, lambda w: topics_repo.keep_index(w, fc.profile_id, gen, fresh))
        with reading_core(fc.engine) as session:
            stored = topics_repo.kept_index(session, fc.profile_id).stored
            every = topics_repo.stored_index(session, fc.profile_id, every_note=True)
        assert stored is not None and stored.digest is not None
        assert fresh.digest is None
        assert topics_repo.index_digest(stored) == topics_repo.index_digest(fresh)
        assert topics_repo.index_digest(every) is None  # every note's topics: nothing kept
