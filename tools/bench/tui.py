"""Benchmark: the reviewer (`flashcore review`) in a real pseudo-terminal.

    python -m tools.bench.tui [--answers 300] [--runs 3] [--paint-runs 5] [--keep DIR]
                                  [--db FILE --now ISO] [--json]

On the 50,000-card collection of `python -m tools.bench` (built by its builder, cached with
`--keep`; or an existing collection with `--db` and `--now`), each process runs on an 80x24
pseudo-terminal (`os.openpty`) while a reader thread timestamps every chunk of output. Card keys
are bytes written to the terminal; a screen counts as painted when its text has arrived (escape
sequences stripped from the output since the key). It reports:

1. first paint, in fresh `flashcore review` processes: the first byte, the loading screen and
   the usable Home screen (its counts loaded); the same harness on a minimal Textual app
   (one `Static`) gives the baseline for this machine;
2. the review start with a backup due (`--due-runs` fresh copies, never backed up, the wall
   clock's first start of the day): the same three times, and how long the backup it started
   ran in the background; beside it the same start on a fresh copy just backed up and checked
   (nothing due), the fair comparison (a fresh copy is colder than the warm runs of 1);
3. key -> paint over `--answers` answers per run (Enter on Home, then Space to show the answer
   and `3` to answer Good, a short pause after each paint): p50/p95/max of Space -> answer shown
   and of `3` -> next card shown, and for `3` the split between the engine (time inside
   `flashcore.services.study` and `stats`, timed in the reviewer process) and the rest (the
   TUI: key parsing, handlers, workers, layout, rendering, the terminal write). Each run starts
   on a fresh copy, so its start-up backup runs in the background while the first answers are
   given: the answers given meanwhile are reported apart. The deferred WAL work (the
   checkpoint `StudySession.idle` runs in a worker every 10 answers) is timed too;
4. garbage-collector pauses in the reviewer process (`gc.callbacks`), the longest during the
   answering and before it.

Between a paint and the next key the harness waits `READING` (0.15 s): a very quick student.

The reviewer process of (2) and (3) is `flashcore.cli.main(["review"])` behind a small
wrapper that installs the timers; (1) runs the installed `flashcore review` itself.
"""

from __future__ import annotations

import argparse
import contextlib
import fcntl
import json
import os
import re
import statistics
import struct
import subprocess
import sys
import tempfile
import termios
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tools.bench.engine import (
    BenchError,
    Options,
    child_env,
    ensure_built,
    flashcore_command,
    log,
    percentile,
)

COLS, ROWS = 80, 24
TIMEOUT = 60.0  # seconds for any one screen to appear
DEFAULT_NICE = "default"  # --import-nice: the import's own default (FLASHCORE_BULK_NICE unset)
READING = 0.15  # seconds from a paint to the next key: a very quick student (real ones take 1-10 s)

# What each screen shows once painted (plain text, escape sequences stripped).
LOADING = b"opening your collection"
HOME_READY = b"Due now"  # the Today panel, written when Home's numbers have loaded
CARD_FRONT = b"show answer"  # the prompt under a card's front
CARD_BACK = b"Again"  # the answer buttons
NO_MORE = (b"All done for today", b"Nothing to answer right now", b"Session complete")
MINIMAL_TEXT = b"minimal Textual app"

TARGETS = {
    "key_to_next_p95": ("key -> next card p95 <= 16 ms", 16.0),
    "first_paint": ("flashcore review -> first screen <= 500 ms", 500.0),
    "gc_session_max": ("no GC pause over 5 ms mid-session", 5.0),
    "key_to_next_p95_importing": (
        "key -> next card p95 <= 16 ms while another process imports a large qbank log",
        16.0,
    ),
    "key_to_next_p95_importing_less_core_wait": (
        "the same, less the key's path's waits for a CPU (the machine's other work: schedstat)",
        16.0,
    ),
}

MINIMAL_APP = """
from textual.app import App
from textual.widgets import Static
class Minimal(App):
    def compose(self):
        yield Static("minimal Textual app")
Minimal().run()
"""

# The reviewer with timers around the engine's entry points and a gc callback; the trace
# (label, start, end in time.monotonic, the harness's clock) is written at exit.
TRACED_REVIEW = """
import atexit, gc, json, sys, threading, time
clock = time.monotonic
events = []
local = threading.local()
def timed(owner, name, label):
    original = getattr(owner, name)
    kind = label if label.startswith(("tui:", "db:")) else "engine"
    def wrapper(*args, **kwargs):
        depth = local.__dict__.get(kind, 0)  # only the outermost call of a kind counts
        local.__dict__[kind] = depth + 1
        start = clock()
        try:
            return original(*args, **kwargs)
        finally:
            local.__dict__[kind] = depth
            if depth == 0:
                events.append((label, start, clock()))
    setattr(owner, name, wrapper)
from flashcore.services import stats, study
for name in ("answer", "show", "build_queue", "undo", "set_cards"):
    timed(study, name, name)
for name in ("queue", "answer", "answered", "show", "idle", "prepare"):
    if hasattr(study.StudySession, name):
        timed(study.StudySession, name, "session." + name)
timed(stats, "stats", "stats")
# Milestones of the TUI (label "tui:..."), to see where the rest of the time goes.
from textual.app import App
from textual.screen import Screen
from flashcore.tui.screens.review import ReviewScreen
timed(ReviewScreen, "action_rate", "tui:key handler")
timed(ReviewScreen, "_apply", "tui:apply")
# A frame: the screen's update timer lays out (when a widget's size may have changed) and
# renders what changed; the reviewer lays out only when a size changes (issue 19).
timed(Screen, "_on_timer_update", "tui:layout+render")
timed(Screen, "_refresh_layout", "tui:layout")
timed(App, "_display", "tui:frame out")
# The answer's wait for SQLite's write lock (another process writing: an import).
from flashcore.storage import db as storage_db
timed(storage_db, "_begin_immediate", "db:lock wait")
# Where a key's time goes on the main thread: its CPU and its wait for a CPU (the kernel's
# schedstat: time on a run queue, the machine's other work) from the key's handler to the
# frame handed to the terminal, and the process's CPU over the same span (the other threads:
# the answer's worker).
def sched():
    try:
        with open("/proc/self/task/%d/schedstat" % threading.get_native_id()) as f:
            ran, waited, _ = f.read().split()
        return int(ran) / 1e9, int(waited) / 1e9
    except (OSError, ValueError):
        return time.thread_time(), 0.0
samples = []
def sampled(owner, name, label, after):
    original = getattr(owner, name)
    def wrapper(*args, **kwargs):
        if not after:
            samples.append((label, clock(), *sched(), time.process_time()))
        try:
            return original(*args, **kwargs)
        finally:
            if after:
                samples.append((label, clock(), *sched(), time.process_time()))
    setattr(owner, name, wrapper)
sampled(ReviewScreen, "action_rate", "key", False)
sampled(App, "_display", "frame", True)
# The key's path runs through three threads of the reviewer: Textual's input thread (reads
# the key, posts it), the main thread (handler, frame) and Textual's writer thread (writes
# the frame to the terminal). Each one's wait for a CPU on that path (schedstat), for the
# figure less the machine's other work: the input thread's wait after the select that saw
# the key, the main thread's from the key's post to its frame, the writer's from the frame
# to its flush ("path": label, time, run-queue seconds).
import selectors
MAIN_TID = threading.get_native_id()
writer = {}
path = []
def waited_of(tid):
    try:
        with open("/proc/self/task/%d/schedstat" % tid) as f:
            return int(f.read().split()[1]) / 1e9
    except (OSError, ValueError, IndexError):
        return 0.0
select_of = selectors.SelectSelector.select  # the input thread's (asyncio's is epoll)
def selected(self, timeout=None):
    before = sched()[1]
    ready = select_of(self, timeout)
    local.woke = sched()[1] - before if ready else 0.0
    return ready
selectors.SelectSelector.select = selected
from textual.drivers.linux_driver import LinuxDriver
posted = LinuxDriver.process_message
def posting(self, message):
    if getattr(message, "key", None) == "3":
        path.append(("input", clock(), local.__dict__.get("woke", 0.0), waited_of(MAIN_TID)))
    return posted(self, message)
LinuxDriver.process_message = posting
from textual.drivers import _writer_thread
class Flushed:
    def __init__(self, file):
        self._file = file
    def write(self, text):
        return self._file.write(text)
    def flush(self):
        self._file.flush()
        writer["tid"] = threading.get_native_id()
        path.append(("flush", clock(), sched()[1], 0.0))
    def fileno(self):
        return self._file.fileno()
    def isatty(self):
        return True
writer_init = _writer_thread.WriterThread.__init__
def writer_made(self, file):
    writer_init(self, Flushed(file))
_writer_thread.WriterThread.__init__ = writer_made
displayed = App._display
def displaying(self, *args, **kwargs):
    tid = writer.get("tid")  # the writer waits for this frame: its count before it
    path.append(("frame", clock(), waited_of(tid) if tid else 0.0, 0.0))
    return displayed(self, *args, **kwargs)
App._display = displaying
# CPU time at each Space (the start of an answer): the whole process, and its main thread
# (Textual's event loop: keys, handlers, layout, rendering).
cpu = []
reveal = ReviewScreen.action_reveal
def sampled_reveal(self):
    cpu.append((clock(), time.process_time(), time.thread_time()))
    return reveal(self)
ReviewScreen.action_reveal = sampled_reveal
gc_started = [0.0]
def on_gc(phase, info):
    if phase == "start":
        gc_started[0] = clock()
    else:
        events.append(("gc%d" % info["generation"], gc_started[0], clock()))
gc.callbacks.append(on_gc)
def dump():
    with open(sys.argv[1], "w") as out:
        json.dump({"events": events, "cpu": cpu, "samples": samples, "path": path}, out)
atexit.register(dump)
from flashcore.cli import main
sys.exit(main(["review"]))
"""

_ESCAPE = re.compile(
    rb"\x1b(?:\[[0-?]*[ -/]*[@-~]"  # CSI
    rb"|\][^\x07\x1b]*(?:\x07|\x1b\\)"  # OSC
    rb"|[PX^_][^\x1b]*\x1b\\"  # DCS, SOS, PM, APC
    rb"|[()*+][0-9A-Za-z]"  # character sets
    rb"|[0-9=>@-Z\\-_])"  # the rest
)


def plain(output: bytes) -> bytes:
    """Terminal output without its escape sequences: the text that was drawn, in order."""
    return _ESCAPE.sub(b"", output)


# ---------------------------------------------------------------- the pseudo-terminal


def run_queue_s(schedstat: str) -> float:
    """A thread's time so far on a run queue, waiting for a CPU (s; 0 where unreadable)."""
    try:
        with open(schedstat) as f:
            return int(f.read().split()[1]) / 1e9
    except (OSError, ValueError, IndexError):
        return 0.0


class Terminal:
    """A process on a COLS x ROWS pseudo-terminal. A reader thread keeps every chunk the
    process writes with the time it arrived (`time.monotonic`, the clock of the trace)."""

    def __init__(self, cmd: Sequence[str], env: dict[str, str]) -> None:
        master, slave = os.openpty()
        fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", ROWS, COLS, 0, 0))
        env = {**env, "TERM": "xterm-256color", "COLUMNS": str(COLS), "LINES": str(ROWS)}
        for name in ("TEXTUAL", "NO_COLOR", "TEXTUAL_DRIVER"):
            env.pop(name, None)
        self.started = time.monotonic()
        self.proc = subprocess.Popen(
            list(cmd),
            stdin=slave,
            stdout=slave,
            stderr=slave,
            env=env,
            start_new_session=True,
            close_fds=True,
        )
        os.close(slave)
        self.master = master
        self.chunks: list[tuple[float, bytes]] = []
        self.woke: dict[float, float] = {}  # arrival -> the reader's wait for a CPU to read it
        self._changed = threading.Condition()
        self._eof = False
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self) -> None:
        own = f"/proc/self/task/{threading.get_native_id()}/schedstat"
        while True:
            before = run_queue_s(own)
            try:
                data = os.read(self.master, 65536)
            except OSError:  # EIO: the process closed the terminal
                data = b""
            arrived = time.monotonic()
            self.woke[arrived] = run_queue_s(own) - before
            with self._changed:
                if not data:
                    self._eof = True
                    self._changed.notify_all()
                    return
                self.chunks.append((arrived, data))
                self._changed.notify_all()

    def mark(self) -> int:
        with self._changed:
            return len(self.chunks)

    def send(self, keys: bytes) -> float:
        sent = time.monotonic()
        os.write(self.master, keys)
        return sent

    def wait_for(
        self, *markers: bytes, since: int = 0, timeout: float = TIMEOUT
    ) -> tuple[float, bytes]:
        """When the first of `markers` had arrived in the text drawn since chunk `since`: the
        arrival time of the chunk that completed it, and the marker."""
        deadline = time.monotonic() + timeout
        seen = b""
        index = since
        with self._changed:
            while True:
                while index < len(self.chunks):
                    arrived, data = self.chunks[index]
                    index += 1
                    seen += data
                    text = plain(seen)
                    for marker in markers:
                        if marker in text:
                            return arrived, marker
                left = deadline - time.monotonic()
                if self._eof or left <= 0:
                    tail = plain(seen)[-300:].decode(errors="replace")
                    why = "exited" if self._eof else f"showed nothing new in {timeout:.0f}s"
                    raise BenchError(f"waiting for {markers[0].decode()!r}: the process {why}; "
                                     f"it last drew: {tail!r}")  # fmt: skip
                self._changed.wait(left)

    def close(self, keys: bytes = b"q", timeout: float = 30.0) -> int:
        """Send `keys` (quit) and wait for the process to end; returns its exit code."""
        with contextlib.suppress(OSError):
            os.write(self.master, keys)
        try:
            code = self.proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            code = self.proc.wait()
        self._reader.join(timeout=5)
        os.close(self.master)
        return code

    def tail(self) -> str:
        return plain(b"".join(d for _, d in self.chunks))[-300:].decode(errors="replace")


# ---------------------------------------------------------------- measurements


def ms(seconds: float) -> float:
    return round(seconds * 1000, 2)


def spread(values: Sequence[float]) -> dict[str, float]:
    """p50/p95/p99/max in ms of `values` in seconds."""
    return {
        "p50": ms(percentile(values, 50)),
        "p95": ms(percentile(values, 95)),
        "p99": ms(percentile(values, 99)),
        "max": ms(max(values)),
    }


def first_paint(cmd: Sequence[str], env: dict[str, str]) -> dict[str, float]:
    """Spawn `flashcore review`: ms to the first byte, the loading screen and usable Home."""
    term = Terminal(cmd, env)
    try:
        loading, _ = term.wait_for(LOADING)
        home, _ = term.wait_for(HOME_READY)
    finally:
        code = term.close()
    if code != 0:
        raise BenchError(f"flashcore review exited {code}: {term.tail()!r}")
    return {
        "first_byte": ms(term.chunks[0][0] - term.started),
        "loading_screen": ms(loading - term.started),
        "home_ready": ms(home - term.started),
    }


def minimal_paint(env: dict[str, str]) -> dict[str, float]:
    """The same harness on a one-`Static` Textual app: ms to its first byte and its text."""
    term = Terminal([sys.executable, "-c", MINIMAL_APP], env)
    try:
        painted, _ = term.wait_for(MINIMAL_TEXT)
    finally:
        term.close(b"\x11")  # ctrl+q
    return {
        "first_byte": ms(term.chunks[0][0] - term.started),
        "painted": ms(painted - term.started),
    }


@dataclass(slots=True)
class Answer:
    space: float  # when Space was sent (monotonic)
    reveal: float  # Space -> answer shown (s)
    key: float  # when `3` was sent (monotonic)
    painted: float  # when the next card had arrived (monotonic)
    engine: float = 0.0  # engine time inside [key, painted] (s)
    lock: float = 0.0  # the answer's wait for the write lock inside [key, painted] (s)
    # from the key's handler to the frame painted: the main thread's CPU, its wait for a CPU
    # (on a run queue), and the other threads' CPU (the worker's) (s; None: not sampled)
    main_cpu: float | None = None
    main_queued: float | None = None
    other_cpu: float | None = None
    gc: float = 0.0  # gc pauses inside [key, painted] (s)
    # the key's path's wait for a CPU (s; None: not sampled): the reviewer's input thread
    # after the key woke it, its main thread from the key's post to the frame, its writer
    # thread from the frame to the flush, and the harness's reader once the frame was there
    core_wait: float | None = None
    # first start and end of each TUI milestone after the key, relative to the key (s)
    milestones: dict[str, tuple[float, float]] = field(default_factory=dict)

    @property
    def total(self) -> float:
        return self.painted - self.key


@dataclass(slots=True)
class Session:
    """One reviewer process answering cards."""

    enter_to_card: float
    answers: list[Answer]
    gc_before: list[float] = field(default_factory=list)  # pauses (s) before the first answer
    gc_during: list[tuple[int, float]] = field(default_factory=list)  # (generation, s)
    gc_on_key_path: list[float] = field(default_factory=list)  # pauses (s) between a key and paint
    engine_calls: dict[str, list[float]] = field(default_factory=dict)  # per entry point (s)
    background: list[tuple[float, float]] = field(default_factory=list)  # safety work ran
    # (monotonic, process CPU s, main-thread CPU s) at each Space handled
    cpu: list[tuple[float, float, float]] = field(default_factory=list)
    layouts: int = 0  # layouts of the whole screen from the first answer to the last paint


def overlap(start: float, end: float, lo: float, hi: float) -> float:
    return max(0.0, min(end, hi) - max(start, lo))


def review_session(db: Path, now_iso: str, answers: int, scratch: Path) -> Session:
    """Open the reviewer on `db`, start a session on Home, answer up to `answers` cards Good."""
    from tools.bench.safety import BackgroundWatch

    trace = scratch / "trace.json"
    trace.unlink(missing_ok=True)
    env = child_env(scratch, db, now_iso)
    term = Terminal([sys.executable, "-c", TRACED_REVIEW, str(trace)], env)
    done: list[Answer] = []
    watch = BackgroundWatch()
    try:
        term.wait_for(HOME_READY)
        time.sleep(READING)
        mark = term.mark()
        entered = term.send(b"\r")
        shown, marker = term.wait_for(CARD_FRONT, *NO_MORE, since=mark)
        enter_to_card = shown - entered
        while marker == CARD_FRONT and len(done) < answers:
            time.sleep(READING)
            mark = term.mark()
            space = term.send(b" ")
            revealed, _ = term.wait_for(CARD_BACK, since=mark)
            time.sleep(READING)
            mark = term.mark()
            key = term.send(b"3")
            shown, marker = term.wait_for(CARD_FRONT, *NO_MORE, since=mark)
            done.append(Answer(space, revealed - space, key, shown))
    finally:
        code = term.close()
        windows = watch.stop()
    if code != 0:
        raise BenchError(f"the reviewer exited {code}: {term.tail()!r}")
    if not done:
        raise BenchError(f"no card to answer: {term.tail()!r}")
    trace_data = json.loads(trace.read_text())
    events = trace_data["events"]
    session = Session(enter_to_card, done, background=windows)
    session.cpu = [(at, process, thread) for at, process, thread in trace_data["cpu"]]
    split_keys(done, trace_data.get("samples", []))
    path_waits(done, trace_data.get("samples", []), trace_data.get("path", []), term.woke)
    first, last = done[0].key, done[-1].painted
    for label, start, end in sorted(events, key=lambda e: e[1]):
        if label == "tui:layout":
            session.layouts += done[0].space <= start <= last
            continue
        if label.startswith("db:"):
            for a in done:
                a.lock += overlap(start, end, a.key, a.painted)
            continue
        if label.startswith("tui:"):
            for a in done:
                if not a.key <= start <= a.painted or label in a.milestones:
                    continue
                applied = a.milestones.get("tui:apply")
                if label in ("tui:layout+render", "tui:frame out") and (
                    applied is None or start - a.key < applied[1]
                ):
                    continue  # a frame before the card was applied (a timer's): not the card's
                a.milestones[label] = (start - a.key, end - a.key)
            continue
        if label.startswith("gc"):
            if start >= first and end <= last:
                session.gc_during.append((int(label[2:]), end - start))
                if any(
                    overlap(start, end, a.space, a.space + a.reveal)
                    or overlap(start, end, a.key, a.painted)
                    for a in done
                ):
                    session.gc_on_key_path.append(end - start)
            elif start < first:
                session.gc_before.append(end - start)
        elif first <= start <= last:
            session.engine_calls.setdefault(label, []).append(end - start)
        for a in done:
            share = overlap(start, end, a.key, a.painted)
            if share and label.startswith("gc"):
                a.gc += share
            elif share:
                a.engine += share
    return session


def split_keys(answers: Sequence[Answer], samples: Sequence[Sequence[Any]]) -> None:
    """Each answer's main-thread CPU, run-queue wait and other threads' CPU from its key's
    handler to the last frame out before its paint (samples: label, time, main-thread run s,
    run-queue s, process CPU s)."""
    keys = [x for x in samples if x[0] == "key"]
    frames = [x for x in samples if x[0] == "frame"]
    for a in answers:
        key = next((x for x in keys if a.key <= x[1] <= a.painted), None)
        frame = _last_frame_by(frames, a.painted)
        if key is None or frame is None or frame[1] < key[1]:
            continue
        a.main_cpu = frame[2] - key[2]
        a.main_queued = frame[3] - key[3]
        a.other_cpu = max(0.0, (frame[4] - key[4]) - a.main_cpu)


def _last_frame_by(frames: Sequence[Sequence[Any]], painted: float) -> Sequence[Any] | None:
    """The last frame sample (time-ordered) taken at or before `painted`, if any."""
    frame = None
    for x in frames:
        if x[1] > painted:
            break
        frame = x
    return frame


def path_waits(
    answers: Sequence[Answer],
    samples: Sequence[Sequence[Any]],
    path: Sequence[Sequence[Any]],
    woke: dict[float, float],
) -> None:
    """Each answer's `core_wait`: the time the threads on its key's path spent runnable but
    not running (the machine's other work), thread by thread in the order they hand the key
    on (see TRACED_REVIEW's "path")."""
    frames = [x for x in samples if x[0] == "frame"]
    for a in answers:
        posted = next((x for x in path if x[0] == "input" and a.key <= x[1] <= a.painted), None)
        frame = _last_frame_by(frames, a.painted)
        if posted is None or frame is None or frame[1] < posted[1]:
            continue
        main = max(0.0, frame[3] - posted[3])
        handed = [x for x in path if x[0] == "frame" and posted[1] <= x[1] <= frame[1]]
        writer = 0.0
        if handed:
            start = handed[-1]
            flush = next(
                (x for x in path if x[0] == "flush" and start[1] <= x[1] <= a.painted), None
            )
            if flush is not None:
                writer = max(0.0, flush[2] - start[2])
        a.core_wait = posted[2] + main + writer + woke.get(a.painted, 0.0)


def less_core_wait(answers: Sequence[Answer]) -> dict[str, Any]:
    """Key -> next card less the time its path waited for a CPU (what the reviewer costs on
    a machine with a core free), beside the raw figure, and the share of the raw time that
    was that wait."""
    seen = [a for a in answers if a.core_wait is not None]
    if not seen:
        return {}
    raw = [a.total for a in seen]
    alone = [a.total - (a.core_wait or 0.0) for a in seen]
    return {
        "count": len(seen),
        "raw": spread(raw),
        "less_core_wait": spread(alone),
        "core_wait_share": round(sum(a.core_wait or 0.0 for a in seen) / sum(raw), 3),
    }


def shown_at_key(answers: Sequence[Answer]) -> float:
    """The share of answers whose next card was put on screen by the key's handler itself (read
    ahead while the student read, the answer written behind it), not after the answer."""
    seen = [a for a in answers if {"tui:key handler", "tui:apply"} <= a.milestones.keys()]
    if not seen:
        return 0.0
    inside = [a for a in seen if a.milestones["tui:apply"][0] <= a.milestones["tui:key handler"][1]]
    return round(len(inside) / len(seen), 3)


def breakdown(answers: Sequence[Answer]) -> dict[str, Any]:
    """Where the time of the keys went: over all answers and over the slowest 5%, the mean
    key -> next card, the main thread's CPU and run-queue wait, the other threads' CPU and the
    answer's wait for the write lock (ms), and the rest (the main thread neither running nor
    runnable: waiting for the worker, the GIL or a frame's timer)."""
    seen = [a for a in answers if a.main_cpu is not None]
    if not seen:
        return {}

    def mean(group: Sequence[Answer]) -> dict[str, float]:
        n = len(group)
        total = sum(a.total for a in group) / n
        cpu = sum(a.main_cpu or 0.0 for a in group) / n
        queued = sum(a.main_queued or 0.0 for a in group) / n
        return {
            "count": n,
            "total": ms(total),
            "main_cpu": ms(cpu),
            "main_run_queue": ms(queued),
            "other_threads_cpu": ms(sum(a.other_cpu or 0.0 for a in group) / n),
            "lock_wait": ms(sum(a.lock for a in group) / n),
            "main_idle": ms(total - cpu - queued),
        }

    slow = sorted(seen, key=lambda a: a.total, reverse=True)[: max(1, len(seen) // 20)]
    return {"all": mean(seen), "slowest_5pct": mean(slow)}


# The steps from the `3` key to the next card on screen, each between two milestones (the
# key's send time is 0, the paint's arrival is "painted").
STEPS = (
    ("key -> handler", None, ("tui:key handler", 0)),
    ("handler (answer)", ("tui:key handler", 0), ("tui:key handler", 1)),
    ("handler -> apply (fetch)", ("tui:key handler", 1), ("tui:apply", 0)),
    ("apply (widgets)", ("tui:apply", 0), ("tui:apply", 1)),
    ("apply -> frame", ("tui:apply", 1), ("tui:layout+render", 0)),
    ("layout+render+out", ("tui:layout+render", 0), ("tui:layout+render", 1)),
    ("frame -> painted", ("tui:layout+render", 1), "painted"),
)


def steps(answers: Sequence[Answer]) -> dict[str, dict[str, float]]:
    """p50/p95/max ms of each step from the `3` key to the painted card (answers where every
    milestone was seen)."""

    def at(a: Answer, point: Any) -> float:
        if point is None:
            return 0.0
        if point == "painted":
            return a.total
        label, end = point
        return a.milestones[label][end]

    labels = {"tui:key handler", "tui:apply", "tui:layout+render"}
    seen = [a for a in answers if labels <= a.milestones.keys()]
    if not seen:
        return {}
    return {name: spread([at(a, b) - at(a, s) for a in seen]) for name, s, b in STEPS}


def during(a: Answer, windows: Sequence[tuple[float, float]]) -> bool:
    return any(overlap(a.space, a.painted, lo, hi) for lo, hi in windows)


def cpu_per_answer(samples: Sequence[tuple[float, float, float]]) -> dict[str, float]:
    """The reviewer's CPU ms per answer (Space to Space: reveal, answer, next card and what
    runs while the student reads), the whole process and its main thread."""
    if len(samples) < 2:
        return {}
    (_, p0, t0), (_, p1, t1) = samples[0], samples[-1]
    n = len(samples) - 1
    return {"process": ms((p1 - p0) / n), "main_thread": ms((t1 - t0) / n), "answers": n}


def session_stats(s: Session) -> dict[str, Any]:
    totals = [a.total for a in s.answers]
    busy = [a.total for a in s.answers if during(a, s.background)]
    idle = s.engine_calls.get("session.idle", [])
    engine = [a.engine for a in s.answers]
    tui = [a.total - a.engine for a in s.answers]
    return {
        "answered": len(s.answers),
        "enter_to_first_card": ms(s.enter_to_card),
        "cpu_per_answer": cpu_per_answer(s.cpu),
        "layouts_per_answer": round(s.layouts / len(s.answers), 2),
        "reveal": spread([a.reveal for a in s.answers]),
        "key_to_next": spread(totals),
        "engine": spread(engine),
        "tui": spread(tui),
        "engine_share": round(sum(engine) / sum(totals), 3),
        "background_s": round(sum(hi - lo for lo, hi in s.background), 2),
        "key_to_next_during_background": spread(busy) | {"count": len(busy)} if busy else {},
        "wal_checkpoints": spread(idle) | {"count": len(idle)} if idle else {},
        "steps": steps(s.answers),
        "shown_at_key": shown_at_key(s.answers),
        "breakdown": breakdown(s.answers),
        "core_wait": less_core_wait(s.answers),
        "engine_calls": {k: spread(v) | {"count": len(v)} for k, v in s.engine_calls.items()},
        "gc_during": {
            "count": len(s.gc_during),
            "max": ms(max((p for _, p in s.gc_during), default=0.0)),
            "over_5ms": sum(p > 0.005 for _, p in s.gc_during),
            **{
                f"gen{g}": {
                    "count": sum(1 for gen, _ in s.gc_during if gen == g),
                    "max": ms(max((p for gen, p in s.gc_during if gen == g), default=0.0)),
                }
                for g in range(3)
            },
        },
        "gc_before_max": ms(max(s.gc_before, default=0.0)),
        "gc_on_key_path": {
            "count": len(s.gc_on_key_path),
            "max": ms(max(s.gc_on_key_path, default=0.0)),
        },
        "slowest": [
            {
                "total": ms(a.total),
                "engine": ms(a.engine),
                "gc": ms(a.gc),
                "lock": ms(a.lock),
                "main_cpu": ms(a.main_cpu or 0.0),
                "main_run_queue": ms(a.main_queued or 0.0),
            }
            for a in sorted(s.answers, key=lambda a: a.total, reverse=True)[:5]
        ],
    }


def median_dicts(runs: list[dict[str, Any]]) -> dict[str, Any]:
    """Per number (nested), the median over runs; lists are taken from the first run."""
    out: dict[str, Any] = {}
    for key, value in runs[0].items():
        if isinstance(value, dict):
            present = [r[key] for r in runs if key in r]
            shared = set.intersection(*(set(p) for p in present))
            out[key] = median_dicts([{k: p[k] for k in value if k in shared} for p in present])
        elif isinstance(value, (int, float)) and not isinstance(value, bool):
            out[key] = round(statistics.median(r[key] for r in runs), 3)
        else:
            out[key] = value
    return out


# ---------------------------------------------------------------- running


@dataclass(frozen=True, slots=True)
class TuiOptions:
    answers: int = 300
    runs: int = 3
    paint_runs: int = 5
    due_runs: int = 2
    keep: Path | None = None
    db: Path | None = None
    now: str | None = None
    cards: int = 50_000
    reviews: int = 1_000_000
    json: bool = False
    import_runs: int = 1
    import_attempts: int = 100_000
    import_nice: tuple[str, ...] = (DEFAULT_NICE,)


def parse_args(argv: Sequence[str] | None) -> TuiOptions:
    p = argparse.ArgumentParser(
        prog="python -m tools.bench.tui",
        description="Time the reviewer in a real pseudo-terminal: first paint, key -> next "
        "card (engine vs TUI), GC pauses.",
        epilog="example: python -m tools.bench.tui --answers 300 --runs 3 --keep /tmp/fc-bench",
    )
    p.add_argument("--answers", type=int, default=300, help="answers per run (default 300)")
    p.add_argument("--runs", type=int, default=3, help="answering runs (default 3)")
    p.add_argument("--paint-runs", type=int, default=5, help="first-paint runs (default 5)")
    p.add_argument("--due-runs", type=int, default=2,
                   help="review starts with a backup due, each on a fresh copy (default 2)")  # fmt: skip
    p.add_argument("--keep", type=Path, help="cache the 50k collection here (shared with bench)")
    p.add_argument("--cards", type=int, default=50_000, help="cards of the built collection")
    p.add_argument("--reviews", type=int, default=1_000_000, help="its review-log rows")
    p.add_argument("--db", type=Path, help="use this SQLite collection instead (copied first)")
    p.add_argument("--now", help="FLASHCORE_NOW for --db (ISO 8601 with offset)")
    p.add_argument("--json", action="store_true", help="print the results as one JSON document")
    p.add_argument("--import-runs", type=int, default=1,
                   help="answering runs with another process importing qbank logs (default 1)")  # fmt: skip
    p.add_argument("--import-attempts", type=int, default=100_000,
                   help="rows of each log the other process imports (default 100000)")  # fmt: skip
    p.add_argument("--import-nice", default=DEFAULT_NICE,
                   help="FLASHCORE_BULK_NICE levels of the importing process, comma-separated, "
                   "each run in turn (e.g. 0,default: full priority beside the product's "
                   "default); default: the product's default")  # fmt: skip
    a = p.parse_args(argv)
    if (a.db is None) != (a.now is None):
        p.error("--db and --now go together")
    if a.answers < 1 or a.runs < 1 or a.paint_runs < 1 or a.due_runs < 0 or a.import_runs < 0:
        p.error("need positive counts")
    return TuiOptions(
        answers=a.answers,
        runs=a.runs,
        paint_runs=a.paint_runs,
        due_runs=a.due_runs,
        keep=a.keep.resolve() if a.keep else None,
        db=a.db.resolve() if a.db else None,
        now=a.now,
        cards=a.cards,
        reviews=a.reviews,
        json=a.json,
        import_runs=a.import_runs,
        import_attempts=max(1, a.import_attempts),
        import_nice=nice_levels(p, a.import_nice),
    )


def nice_levels(p: argparse.ArgumentParser, text: str) -> tuple[str, ...]:
    levels = tuple(dict.fromkeys(v.strip() for v in text.split(",") if v.strip()))
    for level in levels:
        if level != DEFAULT_NICE and not (level.isdigit() and 0 <= int(level) <= 19):
            p.error(f"--import-nice: {level!r} is neither 0-19 nor {DEFAULT_NICE!r}")
    return levels or (DEFAULT_NICE,)


def weights_of_the_day(db: Path, now_iso: str) -> None:
    """The built collection as a student's is after the day's first queue: its weights computed
    for the study day of `now_iso`. A fresh build has none, and the first queue of a study day
    computes them (~10 s at 50,000 cards / 1,000,000 reviews): every copy would pay that before
    Home, which is not what this benchmark times (beside an import it outlasted TIMEOUT)."""
    from datetime import datetime

    from flashcore.core.clock import FixedClock
    from flashcore.services.context import Collection
    from flashcore.services.weights import ensure_fresh

    fc = Collection.open(str(db), clock=FixedClock(datetime.fromisoformat(now_iso)))
    try:
        ensure_fresh(fc)
    finally:
        fc.close()


def backed_up(db: Path, now_iso: str) -> None:
    """A copy of `db` just made and its quick check just passed: nothing is due at start."""
    from datetime import datetime

    from flashcore.storage import backup as files

    when = datetime.fromisoformat(now_iso)
    files.create_backup(db, when)
    files.record_quick_check(db, when)


def copy_collection(source: Path, target: Path) -> None:
    """A fresh copy: no backups, side files or journals of an earlier run (whose background
    work is waited for first)."""
    from tools.bench.safety import fresh_copy

    fresh_copy(source, target)


class ImportLoop:
    """Another process importing large missed-question logs into the reviewer's collection, one
    after the other (`flashcore qbank import FILE`, each log a new one), until stopped: the
    (start, end) window of each import in `time.monotonic`, its CPU seconds, and how each
    ended. `nice` sets FLASHCORE_BULK_NICE for the imports (DEFAULT_NICE: left unset)."""

    def __init__(
        self, env: dict[str, str], work: Path, attempts: int, nice: str = DEFAULT_NICE
    ) -> None:
        env = dict(env)
        env.pop("FLASHCORE_BULK_NICE", None)
        if nice != DEFAULT_NICE:
            env["FLASHCORE_BULK_NICE"] = nice
        self.env, self.work, self.attempts = env, work, attempts
        self.windows: list[tuple[float, float]] = []
        self.cpu: list[float] = []  # user + system seconds of each import
        self.failures: list[str] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, daemon=True)
        self._thread.start()

    def _made(self, seed: int) -> tuple[Path, subprocess.Popen[bytes]]:
        """Log `seed`, written by a child process: made here, its ~0.4 s of Python would hold
        this process's GIL, and the terminal's reader thread would stamp the reviewer's frames
        late (every import's end looked slow)."""
        path = self.work / f"missed-{seed}.csv"
        code = (
            "import sys; from pathlib import Path; from tests.qbank_logs import make_log; "
            "Path(sys.argv[1]).write_bytes(make_log(int(sys.argv[2]), seed=int(sys.argv[3])))"
        )
        child = subprocess.Popen(
            [sys.executable, "-c", code, str(path), str(self.attempts), str(seed)],
            env=self.env,
        )
        return path, child

    def _loop(self) -> None:
        seed = 1
        upcoming = self._made(seed)
        while not self._stop.is_set():
            path, child = upcoming
            if child.wait() != 0:
                self.failures.append(f"the log generator exited {child.returncode}")
                return
            seed += 1
            upcoming = self._made(seed)  # the next log, written while this one is imported
            cmd = [*flashcore_command(), "qbank", "import", str(path)]
            errors = self.work / f"missed-{seed}.err"
            start = time.monotonic()
            with errors.open("wb") as err:
                # a session of its own, as from another terminal (on Linux with autogroup
                # scheduling each session shares the CPUs as one group, whatever its nice)
                proc = subprocess.Popen(
                    cmd,
                    env=self.env,
                    stdout=subprocess.DEVNULL,
                    stderr=err,
                    start_new_session=True,
                )
                _, status, usage = os.wait4(proc.pid, 0)  # its own CPU, not the reviewer's
            proc.returncode = os.waitstatus_to_exitcode(status)
            self.windows.append((start, time.monotonic()))
            self.cpu.append(usage.ru_utime + usage.ru_stime)
            path.unlink(missing_ok=True)
            if proc.returncode != 0:
                tail = errors.read_text(errors="replace").strip().splitlines()[-1:]
                self.failures.append(f"exit {proc.returncode}: {' '.join(tail)}")
            errors.unlink(missing_ok=True)
        path, child = upcoming
        child.wait()
        path.unlink(missing_ok=True)

    def stop(self) -> tuple[list[tuple[float, float]], list[str]]:
        self._stop.set()
        self._thread.join(timeout=600)
        return self.windows, self.failures


def measure(source: Path, now_iso: str, opts: TuiOptions, work: Path) -> dict[str, Any]:
    (work / "home").mkdir(exist_ok=True)
    db = work / "review.sqlite3"
    load = [round(x, 2) for x in os.getloadavg()]
    # First paint: one run to warm the page cache and take the review-start backup, then the
    # measured runs on the same (unchanged) copy.
    from tools.bench.safety import wait_background

    env = child_env(work, db, now_iso)
    due, fresh = [], []
    for run in range(opts.due_runs):
        log(f"review start with a backup due, run {run + 1}/{opts.due_runs} (a fresh copy)")
        copy_collection(source, db)
        due.append(first_paint([*flashcore_command(), "review"], env))
        due[-1]["background_s"] = round(wait_background(), 2)
        log(f"the same start with nothing due, run {run + 1}/{opts.due_runs} (a fresh copy)")
        copy_collection(source, db)
        backed_up(db, now_iso)
        fresh.append(first_paint([*flashcore_command(), "review"], env))
        fresh[-1]["background_s"] = round(wait_background(), 2)
    copy_collection(source, db)
    log("first paint: a warm-up run (backs up the copy once, in the background)")
    first_paint([*flashcore_command(), "review"], env)
    wait_background()
    paints, minimal = [], []
    for run in range(opts.paint_runs):
        log(f"first paint run {run + 1}/{opts.paint_runs}")
        paints.append(first_paint([*flashcore_command(), "review"], env))
        minimal.append(minimal_paint(env))
    sessions = []
    for run in range(opts.runs):
        log(f"answering run {run + 1}/{opts.runs} (a fresh copy, up to {opts.answers} answers)")
        copy_collection(source, db)
        sessions.append(session_stats(review_session(db, now_iso, opts.answers, work)))
    by_nice: dict[str, list[dict[str, Any]]] = {level: [] for level in opts.import_nice}
    for run in range(opts.import_runs):
        for level in opts.import_nice:  # interleaved, so each level meets the same load
            log(
                f"answering run {run + 1}/{opts.import_runs} beside another process importing "
                f"{opts.import_attempts:,}-row qbank logs at nice {level} (a fresh copy)"
            )
            by_nice[level].append(importing_run(source, db, now_iso, opts, work, level))
    shown = DEFAULT_NICE if DEFAULT_NICE in by_nice else opts.import_nice[0]
    importing = by_nice.get(shown, [])
    return {
        "load_before": load,
        "load_after": [round(x, 2) for x in os.getloadavg()],
        "first_paint_runs": paints,
        "first_paint": median_dicts(paints),
        "backup_due_runs": due,
        "backup_due": median_dicts(due) if due else {},
        "nothing_due_runs": fresh,
        "nothing_due": median_dicts(fresh) if fresh else {},
        "minimal_textual_runs": minimal,
        "minimal_textual": median_dicts(minimal),
        "session_runs": sessions,
        "session": median_dicts(sessions),
        "importing_runs": importing,
        "importing": median_dicts(importing) if importing else {},
        "importing_nice": shown,
        "importing_by_nice_runs": by_nice,
        "importing_by_nice": {level: median_dicts(runs) for level, runs in by_nice.items() if runs},
    }


def importing_run(
    source: Path, db: Path, now_iso: str, opts: TuiOptions, work: Path, nice: str
) -> dict[str, Any]:
    """One answering run beside a process importing qbank logs at FLASHCORE_BULK_NICE=`nice`."""
    copy_collection(source, db)
    load = [round(x, 2) for x in os.getloadavg()]
    loop = ImportLoop(child_env(work, db, now_iso), work, opts.import_attempts, nice)
    try:
        session = review_session(db, now_iso, opts.answers, work)
    finally:
        windows, failures = loop.stop()
    stats = session_stats(session)
    busy_answers = [a for a in session.answers if during(a, windows)]
    busy = [a.total for a in busy_answers]
    stats["nice"] = nice
    stats["load_before"] = load
    stats["load_after"] = [round(x, 2) for x in os.getloadavg()]
    stats["imports"] = {
        "count": len(windows),
        "seconds": spread([hi - lo for lo, hi in windows]) if windows else {},
        "cpu_s": round(statistics.median(loop.cpu), 2) if loop.cpu else 0.0,
        "failures": failures,
        "key_to_next_during_import": spread(busy) | {"count": len(busy)} if busy else {},
        "breakdown_during_import": breakdown(busy_answers),
        "core_wait_during_import": less_core_wait(busy_answers),
    }
    return stats


def evaluate(results: dict[str, Any]) -> dict[str, Any]:
    values = {
        "key_to_next_p95": results["session"]["key_to_next"]["p95"],
        "first_paint": results["first_paint"]["loading_screen"],
        "gc_session_max": results["session"]["gc_during"]["max"],
    }
    during_import = (results.get("importing") or {}).get("imports", {})
    during_import = during_import.get("key_to_next_during_import") or {}
    if "p95" in during_import:
        values["key_to_next_p95_importing"] = during_import["p95"]
    waits = (results.get("importing") or {}).get("imports", {}).get("core_wait_during_import")
    if waits:
        values["key_to_next_p95_importing_less_core_wait"] = waits["less_core_wait"]["p95"]
    return {
        name: {"target": text, "value_ms": values[name], "met": values[name] <= limit}
        for name, (text, limit) in TARGETS.items()
        if name in values
    }


def cpu_line(stats: dict[str, Any]) -> list[str]:
    cpu = stats.get("cpu_per_answer") or {}
    if not cpu:
        return []
    return [
        f"  reviewer CPU per answer (Space to Space): {cpu['process']:.1f} ms, of which its "
        f"main thread (Textual) {cpu['main_thread']:.1f} ms; layouts of the whole screen per "
        f"answer {stats.get('layouts_per_answer', 0):.2f}; next card shown by the key itself "
        f"(read ahead) {stats.get('shown_at_key', 0):.0%}"
    ]


def breakdown_lines(split: dict[str, Any], where: str) -> list[str]:
    lines = []
    for name, title in (("all", "all keys"), ("slowest_5pct", "the slowest 5%")):
        d = split.get(name)
        if d:
            lines.append(
                f"  {where}, {title} (mean of {d['count']:.0f}): {d['total']:.1f} ms = main "
                f"thread CPU {d['main_cpu']:.1f} + waiting for a CPU {d['main_run_queue']:.1f} "
                f"+ idle {d['main_idle']:.1f} (worker CPU {d['other_threads_cpu']:.1f}, "
                f"write lock wait {d['lock_wait']:.1f})"
            )
    return lines


def core_wait_lines(waits: dict[str, Any], where: str) -> list[str]:
    if not waits:
        return []
    raw, alone = waits["raw"], waits["less_core_wait"]
    return [
        f"  {where}: p50 / p95 / p99 {raw['p50']:.1f} / {raw['p95']:.1f} / {raw['p99']:.1f} ms; "
        f"less the key's path's waits for a CPU {alone['p50']:.1f} / {alone['p95']:.1f} / "
        f"{alone['p99']:.1f} ms ({waits['core_wait_share']:.0%} of the time was that wait)"
    ]


def render(r: dict[str, Any]) -> str:
    s, fp, mini = r["session"], r["first_paint"], r["minimal_textual"]

    def row(name: str, d: dict[str, float]) -> str:
        p99 = f"  p99 {d['p99']:7.2f}" if "p99" in d else ""
        return f"  {name:<30} p50 {d['p50']:7.2f}  p95 {d['p95']:7.2f}{p99}  max {d['max']:7.2f} ms"

    lines = [
        f"collection: {r['collection']}   terminal {COLS}x{ROWS}   load average "
        f"{r['load_before']} -> {r['load_after']}",
        f"first paint (median of {len(r['first_paint_runs'])} runs): first byte "
        f"{fp['first_byte']:.0f} ms, loading screen {fp['loading_screen']:.0f} ms, Home ready "
        f"{fp['home_ready']:.0f} ms",
        f"minimal Textual app, same harness: first byte {mini['first_byte']:.0f} ms, painted "
        f"{mini['painted']:.0f} ms",
    ]
    due, fresh = r.get("backup_due") or {}, r.get("nothing_due") or {}
    if due:
        lines.append(
            f"review start with a backup due (median of {len(r['backup_due_runs'])} fresh "
            f"copies): loading screen {due['loading_screen']:.0f} ms, Home ready "
            f"{due['home_ready']:.0f} ms; the backup ran {due.get('background_s', 0):.1f} s in "
            "the background"
        )
    if fresh:
        lines.append(
            f"  the same fresh start with nothing due (just backed up and checked): Home ready "
            f"{fresh['home_ready']:.0f} ms"
        )
    lines += [
        f"answering (medians over {len(r['session_runs'])} runs of {s['answered']:.0f} answers; "
        f"Enter on Home -> first card {s['enter_to_first_card']:.0f} ms):",
        row("Space -> answer shown", s["reveal"]),
        row("3 -> next card shown", s["key_to_next"]),
        row("  of which engine", s["engine"]),
        row("  of which TUI", s["tui"]),
        f"  engine share of key -> next card: {s['engine_share']:.0%}",
        *cpu_line(s),
        *breakdown_lines(s.get("breakdown") or {}, "3 -> next card"),
        *core_wait_lines(s.get("core_wait") or {}, "3 -> next card"),
    ]
    if s.get("steps"):
        lines.append("  the steps from the 3 key to the painted card:")
        lines.extend(row(f"    {name}", d) for name, d in s["steps"].items())
    for name, d in sorted(s["engine_calls"].items()):
        lines.append(row(f"  engine {name} (x{d['count']:.0f})", d))
    if s.get("wal_checkpoints"):
        w = s["wal_checkpoints"]
        lines.append(row(f"  deferred WAL checkpoints, in a worker (x{w['count']:.0f})", w))
    if s.get("key_to_next_during_background"):
        b = s["key_to_next_during_background"]
        lines.append(row(f"  3 -> next card while the start-up backup ran (x{b['count']:.0f})", b))
    lines.append(f"  background safety work ran {s.get('background_s', 0):.1f} s of the session")
    g = s["gc_during"]
    lines.append(
        f"GC while answering: {g['count']:.0f} pauses, longest {g['max']:.2f} ms, "
        f"{g['over_5ms']:.0f} over 5 ms; longest before the first answer {s['gc_before_max']:.2f} ms"
    )
    k = s["gc_on_key_path"]
    lines.append(
        f"  between a key and its paint: {k['count']:.0f} pauses, longest {k['max']:.2f} ms"
    )
    lines.append(
        "  by generation: "
        + ", ".join(
            f"gen{n} {g[f'gen{n}']['count']:.0f}x max {g[f'gen{n}']['max']:.2f} ms"
            for n in range(3)
        )
    )
    for level, runs in (r.get("importing_by_nice_runs") or {}).items():
        if not runs:
            continue
        imp = r["importing_by_nice"][level]
        i = imp["imports"]
        nice = "its default nice" if level == DEFAULT_NICE else f"FLASHCORE_BULK_NICE={level}"
        loads = ", ".join(
            f"{run['load_before'][0]:.1f}->{run['load_after'][0]:.1f}" for run in runs
        )
        lines.append(
            f"answering beside another process importing {r.get('import_attempts', 0):,}-row "
            f"qbank logs at {nice} (medians over {len(runs)} runs, load {loads}; "
            f"{i['count']:.0f} imports a run, each {i['seconds'].get('p50', 0) / 1000:.1f} s, "
            f"{i.get('cpu_s', 0):.1f} CPU-s):"
        )
        lines.append(row("3 -> next card, whole run", imp["key_to_next"]))
        if i.get("key_to_next_during_import"):
            d = i["key_to_next_during_import"]
            lines.append(row(f"3 -> next card during an import (x{d['count']:.0f})", d))
        lines.append(row("  of which engine", imp["engine"]))
        lines.append(row("  of which TUI", imp["tui"]))
        lines.extend(cpu_line(imp))
        lines.extend(breakdown_lines(i.get("breakdown_during_import") or {}, "during an import"))
        lines.extend(core_wait_lines(i.get("core_wait_during_import") or {}, "during an import"))
        failed = [f for run in runs for f in run["imports"]["failures"]]
        if failed:
            lines.append(f"  imports that failed: {len(failed)}; first: {failed[0]}")
    if r.get("autogroup") is not None:
        lines.append(
            "the kernel's autogroup scheduling (CPUs shared between sessions first): "
            + ("on" if r["autogroup"] else "off")
        )
    lines.append("targets:")
    for t in r["targets"].values():
        lines.append(f"  {'met ' if t['met'] else 'MISS'}  {t['target']}: {t['value_ms']} ms")
    return "\n".join(lines)


def autogroup_on() -> bool | None:
    """Whether Linux shares the CPUs between sessions first (None: not Linux, or not known)."""
    try:
        with open("/proc/sys/kernel/sched_autogroup_enabled") as f:
            return f.read().strip() == "1"
    except OSError:
        return None


def run(opts: TuiOptions) -> dict[str, Any]:
    with contextlib.ExitStack() as stack:
        if opts.db is not None:
            assert opts.now is not None
            source, now_iso, described = opts.db, opts.now, str(opts.db)
            parent = None
        else:
            if opts.keep is not None:
                opts.keep.mkdir(parents=True, exist_ok=True)
                cache = opts.keep
            else:
                cache = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="fc-bench-")))
            built = ensure_built(
                Options(cards=opts.cards, reviews=opts.reviews, anki=False, keep=cache), cache
            )
            source, now_iso = built.fc_path, built.meta["now_iso"]
            weights_of_the_day(source, now_iso)  # once: later runs find the day stamped
            stats = built.meta["stats"]
            described = f"{stats['cards']} cards, {stats['review_logs']} reviews"
            parent = cache
        work = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="tui-", dir=parent)))
        results = measure(source, now_iso, opts, work)
    results["collection"] = described
    results["now"] = now_iso
    results["import_attempts"] = opts.import_attempts
    results["autogroup"] = autogroup_on()
    results["targets"] = evaluate(results)
    return results


def main(argv: Sequence[str] | None = None) -> int:
    opts = parse_args(argv)
    try:
        results = run(opts)
    except BenchError as exc:
        log(f"error: {exc}")
        return 1
    print(json.dumps(results, indent=2) if opts.json else render(results))
    return 0


if __name__ == "__main__":
    sys.exit(main())
