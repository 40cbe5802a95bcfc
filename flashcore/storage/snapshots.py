"""Automatic backups as snapshots in one page store, `backups/<stem>.snapshots.sqlite3`.

A snapshot is the database as it was at one instant, page by page. Each distinct page is
stored once (zlib level 1, keyed by its BLAKE2b digest) however many snapshots hold it, and a
snapshot is the list of its pages. A study day changes ~1% of a collection's pages (300
answers and a 2,000-row import: 848 of 76,336 pages at 50,000 cards), and zlib packs a page to
about a third, so the first snapshot costs ~0.3x the database and each later one a few MB: the
retention rule's 33 snapshots (today's and yesterday's, 12 daily, 10 weekly, 9 monthly) fit in
well under the budget of 3x the database that `prune` enforces.

How a snapshot is taken (`take`), with nothing but SQLite touching the live file: a read-only
connection opens a read transaction (the snapshot is *pinned*: later commits by anyone do not
change what it sees; `on_pinned` is told, so an import may write from then on), SQLite's backup
API copies that state into a temporary file in steps (a pause between steps leaves the disk to
the reviewer), the copy is checked (`quick_check`, a flashcore schema), and its pages go into
the store in one transaction of the store. Restoring one (`materialize`) writes its pages into
a new file, checking every page against its digest.

The store is a SQLite database of its own (WAL, incremental auto-vacuum), so a killed snapshot
leaves it as it was, and two processes may use it at once.
"""

from __future__ import annotations

import array
import contextlib
import hashlib
import os
import sqlite3
import time
import zlib
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from datetime import UTC, datetime
from pathlib import Path

from flashcore.storage import backup as files
from flashcore.storage.backup import Backup, BackupError, Retention

KIND = "snapshot"
STEP_PAGES = 4096  # pages copied per backup step (16 MB of 4 KiB pages)
STEP_PAUSE_S = 0.005  # at least this between steps
STEP_DUTY = 1.0  # and this times the step's own time: the copy uses at most half the disk
BUDGET = 3.0  # the store may use this many times the database's size
DIGEST_BYTES = 16
RETENTION = Retention()  # the rule the copies follow
_LOOKUP_CHUNK = 500

_SCHEMA = (
    "CREATE TABLE IF NOT EXISTS pages ("
    " id INTEGER PRIMARY KEY, digest BLOB NOT NULL UNIQUE, data BLOB NOT NULL,"
    " refs INTEGER NOT NULL DEFAULT 0)",
    "CREATE TABLE IF NOT EXISTS snapshots ("
    " id INTEGER PRIMARY KEY, ident TEXT NOT NULL UNIQUE, taken_at TEXT NOT NULL,"
    " reason TEXT NOT NULL, page_size INTEGER NOT NULL, page_count INTEGER NOT NULL,"
    " manifest BLOB NOT NULL)",
)


# ---------------------------------------------------------------- the store


@contextlib.contextmanager
def _store(db: Path, *, create: bool) -> Iterator[sqlite3.Connection | None]:
    """A connection to `db`'s store (None when it does not exist and `create` is False)."""
    path = files.store_path(db)
    if not create and not path.is_file():
        yield None
        return
    try:
        if create:
            path.parent.mkdir(exist_ok=True)
        conn = sqlite3.connect(path, timeout=60.0, isolation_level=None)
    except (OSError, sqlite3.Error) as exc:
        raise BackupError(f"cannot open the snapshot store {path}: {exc}") from None
    try:
        if create:
            conn.execute("PRAGMA auto_vacuum=INCREMENTAL")  # takes effect on a new file only
            conn.execute("PRAGMA journal_mode=WAL")
            for statement in _SCHEMA:
                conn.execute(statement)
        # WAL + NORMAL: a commit is durable at the next checkpoint (the one after each snapshot
        # or pruning) and never half-applied; the copy it came from is fsync'd nowhere either.
        conn.execute("PRAGMA synchronous=NORMAL")
        yield conn
    finally:
        conn.close()


def _digest(page: bytes) -> bytes:
    return hashlib.blake2b(page, digest_size=DIGEST_BYTES).digest()


def _when(text: str) -> datetime:
    return datetime.fromisoformat(text).astimezone(UTC)


def list_snapshots(db: Path) -> list[Backup]:
    """`db`'s snapshots, newest first; `size` is the database each one restores."""
    try:
        with _store(db, create=False) as conn:
            if conn is None:
                return []
            rows = conn.execute(
                "SELECT ident, taken_at, page_size * page_count FROM snapshots"
            ).fetchall()
    except (BackupError, sqlite3.Error):
        return []
    path = files.store_path(db)
    found = [Backup(str(i), path, _when(t), int(n), KIND) for i, t, n in rows]
    return sorted(found, key=lambda b: (b.taken_at, files._serial(b.id)), reverse=True)


def store_bytes(db: Path) -> int:
    """What the store takes on disk (its file and its write-ahead log)."""
    path = files.store_path(db)
    total = 0
    for suffix in ("", "-wal"):
        with contextlib.suppress(OSError):
            total += path.with_name(path.name + suffix).stat().st_size
    return total


# ---------------------------------------------------------------- taking one


def take(
    db: Path,
    when: datetime,
    reason: str,
    *,
    on_pinned: Callable[[], None] | None = None,
    pause: float = STEP_PAUSE_S,
) -> Backup:
    """Snapshot `db` as it is now into its store (see the module's docstring). `when` names it
    (UTC). Raises BackupError, leaving the store as it was, when the copy fails its check."""
    folder = files.backup_folder(db)
    try:
        folder.mkdir(exist_ok=True)
        files.remove_stale_temps(folder)
    except OSError as exc:
        raise BackupError(
            f"cannot use the backup folder {folder}: {files._os_reason(exc)}"
        ) from None
    tmp = folder / f".{db.stem}.snapshot.{os.getpid()}{files.TEMP_SUFFIX}"
    try:
        page_size = _copy_pinned(db, tmp, on_pinned, pause)
        return _ingest(db, tmp, page_size, when, reason)
    except OSError as exc:
        raise BackupError(f"cannot write a snapshot in {folder}: {files._os_reason(exc)}") from None
    except sqlite3.Error as exc:
        reason = files._sqlite_reason(exc, what=str(files.store_path(db)), folder=folder)
        raise BackupError(f"{reason}; no snapshot was taken") from None
    finally:
        for leftover in (tmp, tmp.with_name(tmp.name + "-journal")):
            leftover.unlink(missing_ok=True)


def _copy_pinned(db: Path, tmp: Path, on_pinned: Callable[[], None] | None, pause: float) -> int:
    """The backup API, from a read transaction opened first (the pin), into `tmp`; checked.
    Returns the page size."""
    consequence = "no snapshot was taken"
    try:
        src = files.open_readonly(db)
    except sqlite3.Error as exc:
        raise BackupError(f"cannot read {db}: {exc}; {consequence}") from None
    try:
        src.execute("BEGIN")
        src.execute("SELECT COUNT(*) FROM sqlite_master").fetchone()  # the read snapshot
        if on_pinned is not None:
            on_pinned()
        dst = sqlite3.connect(tmp)
        try:
            # A scratch copy: no journal, no fsync (a crash leaves a temporary file to delete,
            # and the check below reads what was written).
            dst.execute("PRAGMA journal_mode=OFF")
            dst.execute("PRAGMA synchronous=OFF")
            stepped = [time.monotonic()]

            def paced(_status: int, remaining: int, _total: int) -> None:
                if remaining and pause:
                    took = time.monotonic() - stepped[0]
                    time.sleep(max(pause, took * STEP_DUTY))
                stepped[0] = time.monotonic()

            src.backup(dst, pages=STEP_PAGES, progress=paced)
            dst.execute("PRAGMA journal_mode=DELETE")  # one self-contained file
            problems = files.check_connection(dst)
            if not problems and not files._has_table(dst, "alembic_version"):
                problems = ["it is not a flashcore database (no alembic_version table)"]
            page_size = int(dst.execute("PRAGMA page_size").fetchone()[0])
        finally:
            dst.close()
    except sqlite3.Error as exc:
        reason = files._sqlite_reason(exc, what=str(db), folder=tmp.parent)
        raise BackupError(f"{reason}; {consequence}") from None
    finally:
        src.close()
    if problems:
        raise BackupError(
            f"{db} failed its check ({problems[0]}); {consequence}; run `flashcore doctor`"
        )
    return page_size


def _pages(path: Path, page_size: int) -> Iterator[bytes]:
    """The pages of `path`, a copy this process made and holds no connection to."""
    with path.open("rb") as f:
        while page := f.read(page_size):
            yield page


def _ingest(db: Path, tmp: Path, page_size: int, when: datetime, reason: str) -> Backup:
    digests = [_digest(page) for page in _pages(tmp, page_size)]
    with _store(db, create=True) as conn:
        assert conn is not None
        conn.execute("BEGIN IMMEDIATE")
        try:
            known = _ids_of(conn, digests)
            missing = {d: n for n, d in enumerate(digests) if d not in known}
            if missing:
                with tmp.open("rb") as f:
                    for digest, index in missing.items():
                        f.seek(index * page_size)
                        page = f.read(page_size)
                        cursor = conn.execute(
                            "INSERT INTO pages (digest, data) VALUES (?, ?)",
                            (digest, zlib.compress(page, 1)),
                        )
                        known[digest] = int(cursor.lastrowid or 0)
            ids = array.array("q", (known[d] for d in digests))
            _add_refs(conn, Counter(ids), +1)
            taken = _utc(when)
            ident = _free_ident(db, conn, taken)
            conn.execute(
                "INSERT INTO snapshots (ident, taken_at, reason, page_size, page_count, manifest)"
                " VALUES (?, ?, ?, ?, ?, ?)",
                (ident, taken.isoformat(), reason[:200], page_size, len(ids),
                 zlib.compress(ids.tobytes(), 6)),
            )  # fmt: skip
            conn.execute("COMMIT")
        except BaseException:
            conn.execute("ROLLBACK")
            raise
        _checkpoint(conn)
    return Backup(ident, files.store_path(db), taken, page_size * len(digests), KIND)


def _utc(when: datetime) -> datetime:
    if when.tzinfo is None:
        raise ValueError("naive datetime: snapshots are named in UTC from an aware time")
    return when.astimezone(UTC).replace(microsecond=0)


def _ids_of(conn: sqlite3.Connection, digests: Sequence[bytes]) -> dict[bytes, int]:
    found: dict[bytes, int] = {}
    wanted = list(dict.fromkeys(digests))
    for start in range(0, len(wanted), _LOOKUP_CHUNK):
        chunk = wanted[start : start + _LOOKUP_CHUNK]
        marks = ",".join("?" * len(chunk))
        for digest, ident in conn.execute(
            f"SELECT digest, id FROM pages WHERE digest IN ({marks})", chunk
        ):
            found[bytes(digest)] = int(ident)
    return found


def _add_refs(conn: sqlite3.Connection, counts: Counter[int], sign: int) -> None:
    conn.executemany(
        "UPDATE pages SET refs = refs + ? WHERE id = ?",
        ((sign * n, page_id) for page_id, n in counts.items()),
    )


def _free_ident(db: Path, conn: sqlite3.Connection, when: datetime) -> str:
    """The backup id for `when` not used by a file backup nor by another snapshot."""
    taken = frozenset(r[0] for r in conn.execute("SELECT ident FROM snapshots"))
    ident, _ = files._free_target(files.backup_folder(db), db.stem, when, taken)
    return ident


def _manifest(conn: sqlite3.Connection, ident: str) -> tuple[int, array.array[int]] | None:
    row = conn.execute(
        "SELECT page_size, manifest FROM snapshots WHERE ident = ?", (ident,)
    ).fetchone()
    if row is None:
        return None
    ids = array.array("q")
    ids.frombytes(zlib.decompress(row[1]))
    return int(row[0]), ids


# ---------------------------------------------------------------- restoring one


def materialize(db: Path, ident: str, target: Path) -> None:
    """Write snapshot `ident` of `db` into the new file `target` (a SQLite database in
    rollback-journal mode), checking every page against its digest."""
    try:
        with _store(db, create=False) as conn:
            found = None if conn is None else _manifest(conn, ident)
            if conn is None or found is None:
                raise BackupError(f"no snapshot {ident!r} of {db}")
            page_size, ids = found
            with target.open("xb") as out:
                for start in range(0, len(ids), _LOOKUP_CHUNK):
                    chunk = ids[start : start + _LOOKUP_CHUNK]
                    wanted = sorted(set(chunk))
                    marks = ",".join("?" * len(wanted))
                    pages = {
                        int(i): (bytes(d), bytes(data))
                        for i, d, data in conn.execute(
                            f"SELECT id, digest, data FROM pages WHERE id IN ({marks})", wanted
                        )
                    }
                    for page_id in chunk:
                        out.write(_page(pages, page_id, page_size, ident))
                out.flush()
                os.fsync(out.fileno())
    except sqlite3.Error as exc:
        raise BackupError(f"the snapshot store of {db} cannot be read ({exc})") from None
    except OSError as exc:
        raise BackupError(f"cannot write {target}: {files._os_reason(exc)}") from None


def _page(pages: dict[int, tuple[bytes, bytes]], page_id: int, size: int, ident: str) -> bytes:
    found = pages.get(page_id)
    if found is not None:
        page = zlib.decompress(found[1])
        if len(page) == size and _digest(page) == found[0]:
            return page
    raise BackupError(f"snapshot {ident} is damaged (a page is missing or changed)")


# ---------------------------------------------------------------- pruning


def prune(
    db: Path,
    now: datetime,
    limits: Retention = RETENTION,
    *,
    budget: float = BUDGET,
) -> list[Backup]:
    """Drop the snapshots the retention rule does not keep, then the oldest ones while the
    store takes more than `budget` times the database's size (the newest always stays);
    returns what was dropped. Free pages go back to the file system."""
    dropped: list[Backup] = []
    snapshots = list_snapshots(db)
    if not snapshots:
        return dropped
    keep = files.retained([s.taken_at for s in snapshots], now, limits)
    doomed = [s for s, kept in zip(snapshots, keep, strict=True) if not kept]
    with _store(db, create=False) as conn:
        if conn is None:
            return dropped
        for snapshot in doomed:
            _drop(conn, snapshot.id)
            dropped.append(snapshot)
        _shrink(conn)
        left = [s for s in snapshots if s not in dropped]
        try:
            allowed = budget * db.stat().st_size
        except OSError:
            allowed = float("inf")
        while len(left) > 1 and store_bytes(db) > allowed:
            oldest = left.pop()
            _drop(conn, oldest.id)
            dropped.append(oldest)
            _shrink(conn)
    return dropped


def _drop(conn: sqlite3.Connection, ident: str) -> None:
    conn.execute("BEGIN IMMEDIATE")
    try:
        found = _manifest(conn, ident)
        if found is not None:
            counts = Counter(found[1])
            _add_refs(conn, counts, -1)
            conn.executemany("DELETE FROM pages WHERE id = ? AND refs <= 0", ((i,) for i in counts))
            conn.execute("DELETE FROM snapshots WHERE ident = ?", (ident,))
        conn.execute("COMMIT")
    except BaseException:
        conn.execute("ROLLBACK")
        raise


def _shrink(conn: sqlite3.Connection) -> None:
    """Give the store's free pages back to the file system. `executescript`: run as a plain
    statement, `incremental_vacuum` frees one page per step and Python steps it only once."""
    conn.executescript("PRAGMA incremental_vacuum;")
    _checkpoint(conn)


def _checkpoint(conn: sqlite3.Connection) -> None:
    """Copy the store's write-ahead log in and truncate it (a first snapshot writes the whole
    store through it)."""
    with contextlib.suppress(sqlite3.Error):  # busy: a reader; the next one does it
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchall()
