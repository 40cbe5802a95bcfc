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


def test_the_cards_of_missed_notes_are_found_by_their_note_not_by_a_walk_of_the_profile(
    fc, tmp_path
):
    """The settled cards of the notes of open missed questions are read by the cards' note
    index: their cost does not grow with the profile's cards (SQLite walked all of them once
    per 900 notes when the query named the profile too; ~0.1 CPU-s at 200,000 cards). Counted
    in SQLite's virtual machine steps; on PostgreSQL, the same rows."""
    from flashcore.storage.db import refresh_statistics
    from flashcore.storage.repos import weights as weights_repo

    notes_made = 6_000  # two cards each (clozes c1, c2)
    lines = ["[deck]", 'name = "Big"', 'key = "big"', ""]
    for i in range(notes_made):
        lines += ['[[cards]]', f'id = "n{i}"', f'cloze = "{{{{c1::A{i}}}}} and {{{{c2::B{i}}}}}"',
                  'topics = ["Cardiology::Heart failure"]', '']  # fmt: skip
    deck = tmp_path / "big.toml"
    deck.write_text("\n".join(lines), encoding="utf-8")
    fc.add_decks([deck])
    weakness.refresh_weights(fc)
    refresh_statistics(fc.engine)  # as after an import: the planner knows the profile's size
    with reading(fc.engine) as session:
        # as many notes as the query names at once (900), 1,800 of the 12,000 cards
        first = session.execute(
            text("SELECT id, note_id FROM cards WHERE note_id IN (SELECT DISTINCT note_id FROM"
                 " cards ORDER BY note_id LIMIT 900)")
        ).all()  # fmt: skip
        steps = [0]

        def rows(notes: tuple[int, ...]) -> tuple[list[object], int]:
            steps[0] = 0
            found = weights_repo.card_weights_and_topics(session, fc.profile_id, notes)
            return found, steps[0]

        sqlite = fc.engine.dialect.name == "sqlite"
        if sqlite:
            driver = session.connection().connection.driver_connection

            def count() -> int:
                steps[0] += 1
                return 0

            driver.set_progress_handler(count, 1)
        try:
            unsettled, before = rows(())
            with_note, after = rows(tuple({n for _c, n in first}))
        finally:
            if sqlite:
                driver.set_progress_handler(None, 1)
    assert unsettled == []  # every card points at its note's only topic, weight 0
    assert [r[0] for r in with_note] == sorted(c for c, _n in first)
    if sqlite:  # a walk of the cards takes well over one step per card
        assert after - before < 75 * len(first), (before, after)
