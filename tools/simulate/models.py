"""Student models: the hidden world a simulated student lives in, drawn per seed.

A setting fixes the deck's shape, the student's study plan and how they use the question bank;
a seed draws the hidden parts (ability per topic, exam weight per topic, which card a question
tests). Every arm of one setting and seed sees the same world.
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass, replace

SYLLABLES = [
    "ba",
    "be",
    "bo",
    "da",
    "de",
    "do",
    "fa",
    "fe",
    "ka",
    "ke",
    "ko",
    "la",
    "le",
    "lo",
    "ma",
    "me",
    "mo",
    "na",
    "ne",
    "no",
    "pa",
    "pe",
    "po",
    "ra",
    "re",
    "ro",
    "sa",
    "se",
    "so",
    "ta",
    "te",
    "to",
    "va",
    "ve",
    "vo",
    "za",
    "ze",
    "zo",
]


@dataclass(frozen=True, slots=True)
class Setting:
    """One student model. `imports`: `evening` (the day's qbank block imported the same
    evening) or `morning` (imported before the next day's reviews). `log`: `incorrect` (a
    UWorld paste of the incorrects, undated: the import day) or `all` (a CSV of every answer,
    dated). `qid_share`: the share of questions whose id a card lists. `question_sigma` > 0:
    each topic's questions are harder or easier than its cards (lognormal, unrelated to the
    student's memory), so misses say less about memory. `question_spread` > 0: the questions of
    one topic differ from each other too (each question's clarity its topic's × a lognormal of
    this sigma, at most 1), as a bank's do. `exam`: the exam date is set. `world`: draw the
    world of that setting's name (the same abilities, exam weights, topic clarities and deck:
    a model that changes only the questions shares its flashcards and frontier, when it keeps
    that model's memory too). `memory`: see the field."""

    name: str
    topics: int = 40
    cards_per_topic: int = 25
    days: int = 45
    new_per_day: int = 25
    ability_sigma: float = 0.6
    exam_zipf: float = 0.8
    qbank_per_day: int = 30
    imports: str = "evening"
    log: str = "incorrect"
    qid_share: float = 0.0
    question_sigma: float = 0.0
    question_spread: float = 0.0
    guess: float = 0.2
    note: str = ""
    # the student sets the exam date (exam day) at the start, in every arm (`--exam`): the
    # product then knows whether the deck will be finished (probe cards only if not) and moves
    # reviews that would land after the exam into its last stretch
    exam: bool = False
    # the student's luck, apart from the world (issue 21, eighth round): 0 draws as before; n > 0
    # salts every draw of the answers and the question blocks, never the world (abilities, exam
    # weights, question difficulty, deck order), so runs of one seed at several lucks measure
    # how much of a gap is luck (`--lucks`)
    luck: int = 0
    world: str = ""
    # the student's true memory (issue 21, sixteenth round): "scaled", a card's true stability
    # the scheduler's × the topic's ability (every model before that round: a lapse FSRS records
    # cuts the true memory too); "own", a trace of its own (tools.simulate.memory) that the
    # scheduler's estimates can be wrong about, a lapse re-studying the card; "own-relapse", the
    # same with FSRS-6's post-lapse stability as what a lapse leaves (tools.simulate.memory)
    memory: str = "scaled"
    # the profile's `leech_threshold` in every arm (`--leech-threshold`; 0: the product's
    # default): a diagnosis of how much of a gap the leeches' suspension makes (issue 21c)
    leech_threshold: int = 0
    # the profile's `leech_action` in every arm, frontier included (`--leech-action`; "": the
    # product's default), and what the student does with a leech the product suspends
    # (`--leech-return`): 0, never touches it (every model before issue 21d); n > 0, rewrites
    # it and unsuspends it n study days after (the rewrite teaches nothing by itself: the
    # card is back in the reviews with its history, the student's memory of it as it was)
    leech_action: str = ""
    leech_return_days: int = 0

    @property
    def cards(self) -> int:
        return self.topics * self.cards_per_topic

    @property
    def finished_day(self) -> int | None:
        """The study day the last new card is introduced, or None (the deck is unfinished)."""
        day = math.ceil(self.cards / max(1, self.new_per_day))
        return day if day <= self.days else None

    def scaled(self, factor: float) -> Setting:
        """The same student on a deck `factor` times as large per topic (smoke tests)."""
        per_topic = max(2, round(self.cards_per_topic * factor))
        return replace(
            self,
            cards_per_topic=per_topic,
            new_per_day=max(1, round(self.new_per_day * factor)),
            qbank_per_day=max(1, round(self.qbank_per_day * factor)),
        )


BASE = Setting(
    "base",
    note="40 topics x 25 cards, 45 days, 25 new/day (deck done on day 40), ability sigma 0.6, "
    "exam Zipf 0.8, 30 qbank questions/day pasted (incorrects) every evening",
)
SETTINGS: dict[str, Setting] = {
    s.name: s
    for s in (
        BASE,
        replace(
            BASE,
            name="skewed",
            ability_sigma=1.0,
            exam_zipf=1.2,
            new_per_day=23,
            note="ability sigma 1.0, exam Zipf 1.2, 23 new/day (deck done on day 44)",
        ),
        replace(
            BASE,
            name="unfinished",
            new_per_day=17,
            note="17 new/day: a quarter of the deck unseen on exam day",
        ),
        replace(
            BASE,
            name="morning-all",
            imports="morning",
            log="all",
            note="every answer logged (CSV, correct ones too), imported the next morning",
        ),
        replace(BASE, name="light-qbank", qbank_per_day=8, note="8 qbank questions a day"),
        replace(
            BASE,
            name="qids",
            qid_share=0.5,
            note="half the questions' ids listed on the card they test",
        ),
        replace(
            BASE,
            name="hard-questions",
            ability_sigma=0.3,
            question_sigma=0.8,
            note="the breaker: topics differ little in memory (sigma 0.3) but their questions "
            "differ a lot in difficulty (sigma 0.8), so misses mostly measure the questions",
        ),
        replace(
            BASE,
            name="mixed-questions",
            world="hard-questions",
            ability_sigma=0.3,
            question_sigma=0.8,
            question_spread=0.6,
            note="hard questions' world (the same topics, cards and frontier), each question "
            "harder or easier than its topic's others too (sigma 0.6): a topic's misses and "
            "their '% correct others' vary from question to question, as in a real bank",
        ),
    )
}


def own_memory(setting: Setting, memory: str = "own") -> Setting:
    """`setting`'s twin whose student keeps a memory of their own (tools.simulate.memory): the
    same world (abilities, exam weights, deck, question blocks), only the truth differs."""
    lapse = "a lapse re-studies" if memory == "own" else "a lapse leaves FSRS-6's post-lapse"
    return replace(
        setting,
        name=f"{setting.name}-{memory}",
        memory=memory,
        world=setting.world or setting.name,
        note=f"{setting.name}'s world and plan, the student's memory their own "
        f"(tools.simulate.memory, never read off the scheduler; {lapse})",
    )


# the independent-memory twins (issue 21, sixteenth round)
SETTINGS.update(
    {
        twin.name: twin
        for twin in (
            own_memory(SETTINGS[name])
            for name in ("base", "skewed", "unfinished", "hard-questions", "mixed-questions")
        )
    }
)
# the models not yet re-run under the independent memory (issue 21b): every answer logged,
# 8 questions a day, question ids on the cards
SETTINGS.update(
    {
        twin.name: twin
        for twin in (own_memory(SETTINGS[name]) for name in ("morning-all", "light-qbank", "qids"))
    }
)
SETTINGS.update(
    {
        twin.name: twin
        for twin in (
            own_memory(SETTINGS[name], "own-relapse")
            for name in ("base", "skewed", "hard-questions", "mixed-questions")
        )
    }
)
# the remaining relapse twins (issue 21c): the unfinished deck, every answer logged, 8
# questions a day, question ids on the cards
SETTINGS.update(
    {
        twin.name: twin
        for twin in (
            own_memory(SETTINGS[name], "own-relapse")
            for name in ("unfinished", "morning-all", "light-qbank", "qids")
        )
    }
)


def draws_name(setting: Setting) -> str:
    """The name that seeds a setting's question blocks: an independent-memory twin draws its
    model's."""
    if setting.memory == "scaled":
        return setting.name
    return setting.name.removesuffix("-" + setting.memory)


def frontier_name(setting: Setting) -> str:
    """The setting whose plain runs are `setting`'s frontier: the model whose world it shares,
    with the same memory (mixed questions lives in hard questions' world: the same flashcards,
    so the same plain FSRS runs), else its own."""
    if not setting.world:
        return setting.name
    home = setting.world + ("" if setting.memory == "scaled" else "-" + setting.memory)
    return home if home in SETTINGS else setting.name


@dataclass(frozen=True, slots=True)
class World:
    """The hidden truth for one setting and seed."""

    setting: Setting
    seed: int
    names: tuple[str, ...]  # topic leaf names (unique invented words)
    paths: tuple[str, ...]  # topic paths in the deck
    systems: tuple[str, ...]  # qbank "system" column per topic
    exam_weight: tuple[float, ...]  # sums to 1
    ability: tuple[float, ...]  # multiplies true stability
    clarity: tuple[float, ...]  # multiplies a question's chance to be answered from memory
    deck_order: tuple[int, ...]  # topic of each card, in deck order (card index = position)
    listed_qid: tuple[bool, ...]  # per card: does the card list its question's id
    # per card: the clarity of the question that tests it (its topic's unless question_spread)
    question_clarity: tuple[float, ...] = ()

    def cards_of(self, topic: int) -> list[int]:
        return [c for c, t in enumerate(self.deck_order) if t == topic]

    def weakest_quarter(self) -> list[int]:
        """The quarter of topics with the lowest hidden ability."""
        order = sorted(range(len(self.ability)), key=lambda t: (self.ability[t], t))
        return order[: max(1, len(order) // 4)]


def _name(n: int, rng: random.Random) -> str:
    a = SYLLABLES[n % len(SYLLABLES)]
    b = SYLLABLES[(n // len(SYLLABLES)) % len(SYLLABLES)]
    c = rng.choice(SYLLABLES)
    return (a + b + c + "n").capitalize()


def make_world(setting: Setting, seed: int) -> World:
    rng = random.Random(f"flashcore-sim-world:{setting.world or setting.name}:{seed}")
    t = setting.topics
    names: list[str] = []
    used: set[str] = set()
    n = rng.randrange(1000)
    while len(names) < t:
        name = _name(n, rng)
        n += 7
        if name not in used:
            used.add(name)
            names.append(name)
    systems = tuple(f"System {chr(ord('A') + i % 8)}" for i in range(t))
    paths = tuple(f"Sim::{systems[i]}::{names[i]} disease" for i in range(t))
    ranks = list(range(1, t + 1))
    rng.shuffle(ranks)
    raw = [1.0 / r**setting.exam_zipf for r in ranks]
    total = sum(raw)
    exam_weight = tuple(w / total for w in raw)
    ability = tuple(rng.lognormvariate(0.0, setting.ability_sigma) for _ in range(t))
    clarity = tuple(
        min(1.0, rng.lognormvariate(-0.2, setting.question_sigma))
        if setting.question_sigma
        else 1.0
        for _ in range(t)
    )
    topic_order = list(range(t))
    rng.shuffle(topic_order)  # decks come subject by subject, not by exam yield
    deck_order = tuple(topic for topic in topic_order for _ in range(setting.cards_per_topic))
    listed = tuple(rng.random() < setting.qid_share for _ in deck_order)
    # drawn apart from the world's own draws, so the rest of the world is the same without it
    spread = random.Random(f"flashcore-sim-questions:{setting.world or setting.name}:{seed}")
    question_clarity = tuple(
        min(1.0, clarity[topic] * spread.lognormvariate(0.0, setting.question_spread))
        if setting.question_spread
        else clarity[topic]
        for topic in deck_order
    )
    return World(
        setting, seed, tuple(names), paths, systems, exam_weight, ability, clarity, deck_order,
        listed, question_clarity,
    )  # fmt: skip
