"""`decks/topics.md`, made from the decks: every topic with its number of notes.

Regenerate after changing any deck's topics:

    python -m tests.decks.topics_md            # rewrites decks/topics.md
    python -m tests.decks.topics_md --check    # exit 1 if the file is out of date
"""

from __future__ import annotations

import sys
from collections import defaultdict

from flashcore.core import topics as topic_keys
from tests.decks.content import DECKS, load_all, topic_counts

HEADER = """# Topic tree of the starter decks

Every topic used in `decks/*.toml`, as `Subject::System or area::Topic`, with its number of
notes. Leaves are named the way question banks name topics, so a qbank row's topic text
("Type I hypersensitivity") meets the leaf plus its parent (`Hypersensitivity::Type I`).
This file is made from the decks by `python -m tests.decks.topics_md`; a test checks that it
is up to date.
"""


def render() -> str:
    counts = topic_counts(load_all())
    tree: dict[str, dict[str, list[str]]] = defaultdict(lambda: defaultdict(list))
    for path in counts:
        parts = topic_keys.split_path(path)
        subject, area = parts[0], parts[1] if len(parts) > 2 else ""
        tree[subject][area].append(path)
    out = [HEADER]
    for subject in sorted(tree):
        out.append(f"## {subject}\n")
        for area in sorted(tree[subject]):
            if area:
                out.append(f"- {area}")
            for path in sorted(tree[subject][area]):
                out.append(f"  - `{path}` ({counts[path]})")
        out.append("")
    return "\n".join(out)


def main(argv: list[str]) -> int:
    target = DECKS / "topics.md"
    text = render()
    if "--check" in argv:
        if target.read_text(encoding="utf-8") != text:
            print(f"{target} is out of date: python -m tests.decks.topics_md", file=sys.stderr)
            return 1
        return 0
    target.write_text(text, encoding="utf-8")
    print(f"wrote {target} ({text.count('  - `')} topics)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
