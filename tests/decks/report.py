"""Content status of the bundled decks, as Markdown: notes per file and per content-outline
system against the outline's shares, the share of qbank topic names that match (and the ones
that do not, by system), topics that two paths answer to, and the automated rule violations.

    python -m tests.decks.report                      # print
    python -m tests.decks.report --out status.md      # write
"""

from __future__ import annotations

import math
import sys
import tempfile
from collections import defaultdict
from datetime import UTC, datetime
from pathlib import Path

from tests.decks import content, coverage


def render() -> str:
    decks = content.load_all()
    plan = coverage.outline()
    notes = content.all_notes(decks)
    total = len(notes)
    out = [
        "# Content status of the bundled decks (issue 18)",
        "",
        f"Made by `python -m tests.decks.report` on {datetime.now(UTC):%Y-%m-%d %H:%M} UTC.",
        "",
        "## Files",
        "",
        "| file | notes | cloze | loads |",
        "|---|---:|---:|---|",
    ]
    for deck in decks:
        share = content.cloze_share(deck.notes)
        loads = "yes" if deck.spec is not None else "NO"
        out.append(f"| {deck.path.name} | {len(deck.notes)} | {share:.0%} | {loads} |")
    out += [
        f"| **all** | **{total}** | **{content.cloze_share(notes):.0%}** | |",
        "",
        "## Notes per content-outline system",
        "",
        f"Source of the ranges: {plan.source}. A note counts for the system of its first topic.",
        f"Target: at least {coverage.MIN_NOTES} notes; each system at least the low end of its"
        f" range of {coverage.MIN_NOTES} notes (the floor, asserted), and at least the low end of"
        " its range as a share of all notes (asserted, except for the systems listed in"
        " `coverage.KNOWN_SHORT_OF_SHARE`, which are expected failures).",
        "",
        f"| system | notes | share | outline | floor (of {coverage.MIN_NOTES}) |"
        f" share wanted (of {total}) | status |",
        "|---|---:|---:|---|---:|---:|---|",
    ]
    counts, unmapped = coverage.notes_per_system(decks, plan)
    for name, (low, high) in plan.systems.items():
        share = 100.0 * counts[name] / total if total else 0.0
        floor = coverage.floor_of(low)
        wanted = math.ceil(low * total / 100)
        status = []
        if counts[name] < floor:
            status.append("**below floor**")
        if share < low:
            known = " (known)" if name in coverage.KNOWN_SHORT_OF_SHARE else ""
            status.append(f"**short of share by {wanted - counts[name]}**{known}")
        if share > high:
            status.append("above range")
        out.append(
            f"| {name} | {counts[name]} | {share:.1f}% | {low:g}-{high:g}% | {floor} |"
            f" {wanted} | {', '.join(status) or 'ok'} |"
        )
    if unmapped:
        out += ["", "Topics with no system (their area is not in step1_outline.toml):", ""]
        out += [f"- `{t}`" for t in unmapped]

    names_by_system = coverage.qbank_topics()
    names = [n for ns in names_by_system.values() for n in ns]
    with tempfile.TemporaryDirectory() as tmp:
        paths = [d.path for d in decks]
        matched = coverage.match_qbank_topics(paths, names, Path(tmp))
    missing = set(matched.unmatched)
    out += [
        "",
        "## Qbank topic names that a pasted miss would match",
        "",
        f"**{len(names) - len(missing)} of {len(names)} ({matched.share:.1%})** match a deck topic"
        f" through `flashcore qbank import` (wanted: {coverage.MATCH_SHARE:.0%}). The names are"
        " `tests/decks/data/qbank_topics.toml`; a name matches when it equals a leaf, or a leaf"
        " with its parent, after normalization (case, punctuation, word order, plurals, roman"
        " numerals). Unmatched names, by system (each is a missing leaf, or a leaf named"
        " differently from the way question banks name it):",
        "",
    ]
    for system, system_names in names_by_system.items():
        gone = [n for n in system_names if n in missing]
        ok = len(system_names) - len(gone)
        out.append(f"- **{system}** ({ok}/{len(system_names)} match): " + ", ".join(gone))

    ambiguous = content.ambiguous_leaves(decks)
    out += ["", "## Topics that share a match key", ""]
    if ambiguous:
        out.append("A qbank row with this text reaches only one of the paths:")
        out.append("")
        out += [f"- `{key}`: " + ", ".join(f"`{p}`" for p in ps) for key, ps in ambiguous.items()]
    else:
        out.append("None.")

    by_file: dict[str, list[content.Violation]] = defaultdict(list)
    for violation in content.violations(decks):
        by_file[violation.path.name].append(violation)
    out += ["", "## Automated rule violations, per file", ""]
    if not by_file:
        out.append("None.")
    for name in sorted(by_file):
        out += [f"### {name} ({len(by_file[name])})", ""]
        out += [f"- line {v.line}: `{v.note}`: {v.rule}: {v.detail}" for v in by_file[name]]
        out.append("")
    return "\n".join(out).rstrip() + "\n"


def main(argv: list[str]) -> int:
    text = render()
    if "--out" in argv:
        target = Path(argv[argv.index("--out") + 1])
        target.write_text(text, encoding="utf-8")
        print(f"wrote {target}")
    else:
        sys.stdout.write(text)
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
