"""`counts.due_by_topic` places each due card under the topics it falls under in one pass: a
card counts for topic key P exactly when one of its note's topic keys K is P or starts with
P + "::" (what it tested for every topic and every card before), odd colons included."""

from __future__ import annotations

import random

from flashcore.services.weakness_parts import _self_and_above


def test_the_keys_above_are_exactly_those_the_prefix_test_accepts():
    rng = random.Random(3)
    parts = ["a", "b", "ab", ":", "a:", ":b", "x y", ""]
    for _ in range(2000):
        key = "::".join(rng.choice(parts) for _ in range(rng.randint(1, 4)))
        above = set(_self_and_above(key))
        for end in range(len(key) + 1):
            p = key[:end]
            assert (p in above) == (key == p or key.startswith(p + "::")), (key, p)
