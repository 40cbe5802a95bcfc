"""A missed-question log pasted into the app itself (the first-run note says to paste it into
`flashcore qbank import -` in another terminal; a student pastes where they are). The paste is
read as `qbank import` reads it (a dry run first), this screen says what it would add, and `y`
imports it; the open reviewer takes it at its next quiet moment, as it takes another terminal's.
Before, a paste did nothing at all (bracketed paste keeps its digits from grading cards)."""

from __future__ import annotations

from typing import ClassVar

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Static

from flashcore.importers.qbank import FORMAT_WORDS
from flashcore.services.qbank import ImportReport
from flashcore.tui.session import plural

PREVIEW_LINES = 4  # of the paste, its whitespace (tabs) made single spaces
PREVIEW_WIDTH = 72


def would_text(report: ImportReport, pasted: str) -> Text:
    """What the dry run found, and the paste's first lines."""
    text = Text("Import this paste as a missed-question log?\n\n", style="bold")
    kind = FORMAT_WORDS.get(report.format, report.format)
    text.append(f"{report.rows_read} rows ({kind}): {report.added} attempts, ")
    text.append(f"{report.misses} misses", style="bold")
    text.append(f" — {report.matched_card} match cards, {report.matched_topic} only a topic, ")
    text.append(f"{report.matched_none} nothing")
    if report.duplicates:
        text.append(f"; {report.duplicates} already imported (skipped)")
    text.append("\n\n")
    lines = [line for line in pasted.splitlines() if line.strip()]
    for line in lines[:PREVIEW_LINES]:
        text.append(f"  {' '.join(line.split())[:PREVIEW_WIDTH]}\n", style="dim")
    if len(lines) > PREVIEW_LINES:
        text.append(f"  … {len(lines) - PREVIEW_LINES} more lines\n", style="dim")
    text.append("\n")
    text.append("y", style="bold cyan")
    text.append(" import    ")
    text.append("n / esc", style="bold cyan")
    text.append(" leave it")
    return text


def done_text(report: ImportReport) -> str:
    """The import's outcome, in the words of `qbank import` (one toast)."""
    parts = [
        f"Imported the paste: {report.misses} miss{'' if report.misses == 1 else 'es'} "
        f"({plural(report.matched_card, 'matching card')})"
    ]
    if report.unsuspended:
        parts.append(f"{plural(report.unsuspended, 'suspended card')} unsuspended (first)")
    if report.pulled_forward_new:
        parts.append(f"{plural(report.pulled_forward_new, 'card')} of weak topics pulled in")
    if report.unmatched_topics:
        gaps = plural(len(report.unmatched_topics), "topic")
        parts.append(f"{gaps} without cards (flashcore weakness)")
    if report.batch_id is not None:
        parts.append(f"undo: flashcore qbank remove {report.batch_id}")
    return "; ".join(parts)


class PasteImportScreen(ModalScreen[bool]):
    """Asks whether to import a paste whose dry run read as a log; dismissed with the answer."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("y", "answer(True)", "Import"),
        Binding("n,escape", "answer(False)", "Leave it"),
    ]

    def __init__(self, report: ImportReport, pasted: str) -> None:
        super().__init__()
        self.report = report
        self.pasted = pasted

    def compose(self) -> ComposeResult:
        with Vertical(id="paste-box"):
            yield Static(would_text(self.report, self.pasted), id="paste-text")

    def on_mount(self) -> None:
        self.query_one("#paste-box").border_title = "Pasted"

    def action_answer(self, yes: bool) -> None:
        self.dismiss(yes)
