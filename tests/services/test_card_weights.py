"""The cards' weights as the refresh writes them (only the changed ones, read with their
notes' topics in one pass): each card takes the highest weight among its note's topics and
their ancestors (ties: the lowest topic id; read through the note's topic it points at, schema
0019), or its note's open missed question's; over several
days of imports with a moving clock, what the refreshes left equals a refresh from scratch. On
both backends."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import text, update

from flashcore.core.weakness import MISSED_QUESTION
from flashcore.services import matching, qbank, weakness
from flashcore.storage.tables import cards
from flashcore.storage.uow import reading, run_write
from tests.conftest import write_deck
from tests.services.test_topic_index import LINKED

TEXTS = ("Type I hypersensitivity", "Type II hypersensitivity", "Heart failure", "Complement")


def _stored(fc) -> dict[int, tuple[float, int | None]]:
    with reading(fc.engine) as session:
        rows = session.execute(
            text(  # schema 0019: through the note's topic the card points at
                "SELECT c.id, CASE WHEN c.weight > 0 THEN c.weight"
                " ELSE COALESCE(t.card_weight, 0) END, t.card_topic_id FROM cards c"
                " LEFT JOIN topics t ON t.id = c.weak_topic_id WHERE c.profile_id = :p"
            ),
            {"p": fc.profile_id},
        ).all()
    return {card_id: (weight, topic) for card_id, weight, topic in rows}


def _expected(fc) -> dict[int, tuple[float, int | None]]:
    """Each card's weight worked out from the topics' stored weights and every note's topics."""
    with reading(fc.engine) as session:
        index = matching.load_index(session, fc.profile_id, every_note=True)
        weight = dict(
            session.execute(
                text("SELECT id, weight FROM topics WHERE profile_id = :p"), {"p": fc.profile_id}
            ).all()
        )
        of_card = session.execute(
            text("SELECT id, note_id FROM cards WHERE profile_id = :p"), {"p": fc.profile_id}
        ).all()
    out = {}
    for card_id, note_id in of_card:
        best: tuple[float, int | None] = (0.0, None)
        for t in sorted(index.note_topics.get(note_id, [])):
            for node in (t, *index.ancestors(t)):
                if weight.get(node, 0.0) > best[0]:
                    best = (weight[node], node)
        out[card_id] = best
    return out


def _log(day, n: int) -> bytes:
    rows = ["question_id,result,date,source,topic"]
    for i in range(n):  # most misses on Type I, the other topics mostly right
        topic = TEXTS[0] if i % 3 else TEXTS[1 + i % 2]
        outcome = "incorrect" if (i % 3 and i % 5) or i % 7 == 0 else "correct"
        qid = ("1", "2", "9", "500", "501")[i % 5]
        source = "amboss" if qid == "9" else "uworld"
        rows.append(f"{qid}{'' if qid in '129' else i},{outcome},{day},{source},{topic}")
    return ("\n".join(rows) + "\n").encode()


def test_card_weights_after_days_of_imports_equal_a_refresh_from_scratch(fc, clock, tmp_path):
    fc.add_decks([write_deck(tmp_path / "d.toml", LINKED, key="lk")])
    for day in range(6):
        n = 12 + 7 * day
        qbank.import_log(fc, _log(clock.now().date(), n), origin=f"day{day}.csv")
        weakness.ensure_fresh(fc)
        got = _stored(fc)
        expected = _expected(fc)
        for card_id, (weight, topic) in got.items():
            if weight >= MISSED_QUESTION:  # a missed question's: its topic stays beside it
                assert topic == expected[card_id][1]
            else:
                assert (weight, topic) == expected[card_id], card_id
        assert any(0 < w < MISSED_QUESTION for w, _t in got.values())
        # From scratch: every card's weight cleared, then one refresh.
        run_write(
            fc.engine, lambda s: s.execute(update(cards).values(weight=0.0, weak_topic_id=None))
        )
        weakness.refresh_weights(fc)
        assert _stored(fc) == got
        clock.advance(timedelta(days=2 if day % 2 else 1))


def test_a_refresh_reads_no_card_whose_topics_weigh_nothing_and_that_points_at_its_first(
    fc, tmp_path
):
    """Notes of several topics (an AnKing import: two each) whose topics weigh nothing: their
    cards, pointing at their note's first topic by id, are not read again by a refresh; the
    cards of a note linked to a topic that weighs are."""
    from flashcore.storage.repos import weights as weights_repo

    fc.add_decks([write_deck(tmp_path / "d.toml", LINKED, key="lk")])
    weakness.refresh_weights(fc)
    with reading(fc.engine) as session:
        several = dict(
            session.execute(
                text(
                    "SELECT n.key, c.id FROM cards c JOIN notes n ON n.id = c.note_id"
                    " WHERE n.key IN ('lk:both', 'lk:far')"
                )
            ).all()
        )
        heart = session.execute(
            text("SELECT id FROM topics WHERE path = 'Cardiology::Heart failure'")
        ).scalar_one()
        assert weights_repo.card_weights_and_topics(session, fc.profile_id, (), set()) == []
        rows = weights_repo.card_weights_and_topics(session, fc.profile_id, (), {heart})
        # `far` is linked to Heart failure: read, with both its topics; `both` is not
        assert {r[0] for r in rows} == {several["lk:far"]} and len(rows) == 2
        # without naming what weighs, every card of a note of several topics is read
        rows = weights_repo.card_weights_and_topics(session, fc.profile_id)
        assert {r[0] for r in rows} == set(several.values())
