"""Opening an Anki package (`.apkg`, `.colpkg`): the zip, its format, its SQLite collection.

Formats, as Anki writes them:
- latest (`meta` says 3): `collection.anki21b` is a zstd-compressed SQLite file of schema 18
  (note types, decks and presets in tables of their own, configs as protobuf); `media` is a
  zstd-compressed protobuf list of the media files, which are stored zstd-compressed under
  the names `0`, `1`, ... (their index in the list). Such a package also holds a
  `collection.anki2` that only says "please update Anki"; it is ignored.
- legacy (no `meta`): `collection.anki21` (or, older, `collection.anki2`) is a plain SQLite
  file of schema 11 (note types, decks and presets as JSON in the `col` row); `media` is a JSON
  object {"0": "name.jpg", ...}.
- a `meta` of another version is from a newer Anki and is refused.

The collection is written, decompressed, into `work_dir` (a folder the caller owns, inside the
collection's own folder) and opened read-only with a `unicase` collation, as Anki's schema
declares it. Every problem is an AnkiPackageError naming the file. The note types, decks and
presets are read by `tables` (schema 15 and later) or `legacy` (schema 11), the media list by
`media`.
"""

from __future__ import annotations

import json
import os
import shutil
import sqlite3
import tempfile
import zipfile
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from types import TracebackType
from typing import IO, Any

from flashcore.core.errors import AnkiPackageError, Problem
from flashcore.importers.anki_package import legacy, tables
from flashcore.importers.anki_package import protobuf as pb
from flashcore.importers.anki_package.media import MediaListError, media_list, media_name_problem
from flashcore.importers.anki_package.types import (
    Card,
    Deck,
    DeckConfig,
    MediaFile,
    Note,
    NoteType,
    PackageCounts,
    PackageFormat,
    PackageInfo,
    RevlogEntry,
)

SCHEMA_LEGACY = 11
SCHEMA_LATEST = 18
_COPY_CHUNK = 1 << 20
_ROWS = 2000  # rows fetched at a time when iterating


def _unicase(a: str, b: str) -> int:
    x, y = a.casefold(), b.casefold()
    return (x > y) - (x < y)


class AnkiPackage:
    """An opened package. Use as a context manager (the extracted collection is removed on
    exit). Note types, decks and presets are read at once; notes, cards and the revlog are
    iterated in chunks, so a million revlog rows never sit in memory together."""

    def __init__(self, path: Path, *, work_dir: Path, keep_file: bool = False) -> None:
        self.path = path
        self._keep_file = keep_file
        self._where = str(path)
        self._zip: zipfile.ZipFile | None = None
        self._db: sqlite3.Connection | None = None
        self._tmp: Path | None = None
        self._cards: list[Card] | None = None
        try:
            self._open(work_dir)
        except BaseException:
            self.close()
            raise

    # ------------------------------------------------------------ opening

    def fail(self, message: str) -> AnkiPackageError:
        return AnkiPackageError([Problem(self._where, None, message)])

    def _open(self, work_dir: Path) -> None:
        try:
            self._zip = zipfile.ZipFile(self.path)
        except FileNotFoundError:
            raise self.fail("no such file") from None
        except IsADirectoryError:
            raise self.fail("is a folder, not an Anki package") from None
        except zipfile.BadZipFile:
            raise self.fail("not an Anki package: not a zip file (corrupt or truncated?)") from None
        except OSError as exc:
            raise self.fail(f"cannot read: {exc.strerror or exc}") from None
        names = set(self._zip.namelist())
        self.format = self._format(names)
        member = {
            PackageFormat.LATEST: "collection.anki21b",
            PackageFormat.LEGACY_2: "collection.anki21",
            PackageFormat.LEGACY_1: "collection.anki2",
        }[self.format]
        if member not in names:
            raise self.fail(f"not an Anki package: no {member} inside")
        work_dir.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix="anki-", suffix=".sqlite", dir=work_dir)
        self._tmp = Path(tmp)
        with os.fdopen(fd, "wb") as out:
            self._copy_member(member, out, compressed=self.format is PackageFormat.LATEST)
        try:
            self._db = sqlite3.connect(f"file:{self._tmp}?mode=ro&immutable=1", uri=True)
            self._db.create_collation("unicase", _unicase)
            row = self._db.execute("SELECT ver, crt, conf FROM col").fetchone()
        except sqlite3.DatabaseError as exc:
            raise self.fail(f"its collection is not a readable Anki database ({exc})") from None
        if row is None:
            raise self.fail("its collection is empty (no `col` row)")
        version, crt, conf = row
        if not isinstance(version, int) or version > SCHEMA_LATEST:
            raise self.fail(
                f"made by a newer Anki (collection schema {version}; flashcore reads "
                f"{SCHEMA_LEGACY} to {SCHEMA_LATEST}): export it from Anki with "
                "'Support older Anki versions' ticked"
            )
        if version < SCHEMA_LEGACY:
            raise self.fail(f"collection schema {version} is older than Anki 2.1 writes")
        self.schema = version
        config = self._config(conf)
        self.info = PackageInfo(
            path=self._where,
            format=self.format,
            schema_version=version,
            is_colpkg=self.path.suffix.lower() == ".colpkg",
            crt=int(crt or 0),
            collection_config=config,
        )
        self._media = self._media_list(names)

    def _format(self, names: set[str]) -> PackageFormat:
        if "meta" not in names:
            if "collection.anki21" in names:
                return PackageFormat.LEGACY_2
            if "collection.anki2" in names:
                return PackageFormat.LEGACY_1
            raise self.fail("not an Anki package: no collection inside the zip")
        found = self._read_member("meta", limit=1 << 16)
        try:
            version = pb.first_int(pb.fields(found), 1)
        except pb.WireError:
            raise self.fail("not an Anki package: its `meta` is unreadable") from None
        if version == PackageFormat.LATEST:
            return PackageFormat.LATEST
        if version in (PackageFormat.LEGACY_1, PackageFormat.LEGACY_2):
            return PackageFormat(version)
        raise self.fail(
            f"package version {version} is from a newer Anki than flashcore reads (1 to 3): "
            "export it from Anki with 'Support older Anki versions' ticked"
        )

    def _read_member(self, name: str, *, limit: int) -> bytes:
        assert self._zip is not None
        try:
            with self._zip.open(name) as member:
                data = member.read(limit + 1)
        except (zipfile.BadZipFile, OSError, EOFError) as exc:
            raise self.fail(f"its {name} is damaged ({exc})") from None
        if len(data) > limit:
            raise self.fail(f"its {name} is larger than {limit:,} bytes")
        return data

    def _copy_member(self, name: str, out: IO[bytes], *, compressed: bool) -> None:
        assert self._zip is not None
        try:
            with self._zip.open(name) as member:
                if compressed:
                    import zstandard

                    try:
                        reader = zstandard.ZstdDecompressor().stream_reader(member)
                        shutil.copyfileobj(reader, out, _COPY_CHUNK)
                    except zstandard.ZstdError as exc:
                        raise self.fail(f"its {name} is not zstd data ({exc})") from None
                else:
                    shutil.copyfileobj(member, out, _COPY_CHUNK)
        except (zipfile.BadZipFile, EOFError) as exc:
            raise self.fail(f"its {name} is damaged ({exc})") from None

    def _config(self, conf: Any) -> dict[str, Any]:
        assert self._db is not None
        config: dict[str, Any] = {}
        if self.schema >= 15 and self._has_table("config"):
            for key, val in self._db.execute("SELECT KEY, val FROM config"):
                try:
                    config[str(key)] = json.loads(val)
                except (ValueError, TypeError):
                    continue
            return config
        try:
            value = json.loads(conf) if conf else {}
        except (ValueError, TypeError):
            return {}
        return value if isinstance(value, dict) else {}

    def _has_table(self, name: str) -> bool:
        assert self._db is not None
        row = self._db.execute(
            "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?", (name,)
        ).fetchone()
        return row is not None

    def _media_list(self, names: set[str]) -> list[MediaFile]:
        if "media" not in names:
            return []
        raw = self._read_member("media", limit=1 << 28)
        try:
            return media_list(raw, latest=self.format is PackageFormat.LATEST, members=names)
        except MediaListError as exc:
            raise self.fail(str(exc)) from None

    # ------------------------------------------------------------ reading

    def _query(self, sql: str, params: Iterable[Any] = ()) -> Iterator[tuple[Any, ...]]:
        assert self._db is not None
        try:
            cursor = self._db.execute(sql, tuple(params))
            while rows := cursor.fetchmany(_ROWS):
                yield from rows
        except sqlite3.DatabaseError as exc:
            raise self.fail(f"its collection is damaged ({exc})") from None

    def counts(self) -> PackageCounts:
        def count(table: str) -> int:
            return int(next(self._query(f"SELECT count(*) FROM {table}"))[0])

        return PackageCounts(
            notes=count("notes"),
            cards=count("cards"),
            revlog=count("revlog"),
            media=len(self._media),
            note_types=len(self.note_types()),
            decks=len(self.decks()),
        )

    def note_types(self) -> dict[int, NoteType]:
        if self.schema >= 15:
            return self._note_types_18()
        return self._note_types_11()

    def _note_types_18(self) -> dict[int, NoteType]:
        fields, templates, notetypes = (list(self._query(q)) for q in tables.NOTE_TYPE_QUERIES)
        return tables.note_types(fields, templates, notetypes, self._pb)

    def _note_types_11(self) -> dict[int, NoteType]:
        return legacy.note_types(self._col_json("models"))

    def decks(self) -> dict[int, Deck]:
        if self.schema >= 15:
            return tables.decks(self._query(tables.DECKS_QUERY), self._pb)
        return legacy.decks(self._col_json("decks"))

    def deck_configs(self) -> dict[int, DeckConfig]:
        if self.schema >= 15:
            return tables.deck_configs(self._query(tables.DECK_CONFIGS_QUERY), self._pb)
        return legacy.deck_configs(self._col_json("dconf"))

    def notes(self) -> Iterator[Note]:
        # The tuple made straight (`tuple.__new__`, Note's field order): a NamedTuple's keyword
        # call took ~2 us a note more (35,000 notes: ~0.07 s CPU).
        make = tuple.__new__
        for nid, guid, mid, mod, tags, flds in self._query(
            "SELECT id, guid, mid, mod, tags, flds FROM notes ORDER BY id"
        ):
            yield make(Note, (int(nid), str(guid), int(mid), int(mod), tuple(str(tags).split()),
                              tuple(str(flds).split("\x1f"))))  # fmt: skip

    def note_guids(self) -> Iterator[tuple[int, str, int]]:
        """(note id, GUID, note type id) of every note, without its fields."""
        for nid, guid, mid in self._query("SELECT id, guid, mid FROM notes ORDER BY id"):
            yield int(nid), str(guid), int(mid)

    def cards(self) -> Iterator[Card]:
        """The cards, by note and ord. Read from the collection once and kept (an AnKing
        package's 48,000 take ~15 MB): an import reads them for the notes, for the scheduling
        and to pair them with flashcore's cards."""
        if self._cards is not None:
            yield from self._cards
            return
        read: list[Card] = []
        # Whole numbers (NULL as 0) and the data as text made by SQLite, in Card's field order.
        number = "IFNULL(CAST({} AS INTEGER), 0)"
        columns = ("id", "nid", "did", "ord", "mod", "type", "queue", "due", "ivl", "factor",
                   "reps", "lapses", "left", "odue", "odid", "flags")  # fmt: skip
        wanted = ", ".join(number.format(c) for c in columns)
        for row in self._query(
            f"SELECT {wanted}, IFNULL(CAST(data AS TEXT), '') FROM cards ORDER BY nid, ord"
        ):
            card = Card(*row)
            read.append(card)
            yield card
        self._cards = read

    def revlog(self) -> Iterator[RevlogEntry]:
        for row in self._query(
            "SELECT id, cid, usn, ease, ivl, lastIvl, factor, time, type FROM revlog ORDER BY id"
        ):
            yield RevlogEntry(*(int(v or 0) for v in row))

    def media(self) -> list[MediaFile]:
        return list(self._media)

    def extract_media(
        self,
        dest: Path,
        wanted: Callable[[MediaFile], bool] = lambda _m: True,
    ) -> list[MediaFile]:
        """Write the media files `wanted` says yes to into `dest` (a folder), each under its
        own name: written to a temporary name and renamed, so a file is whole or absent.
        Returns the files written."""
        dest.mkdir(parents=True, exist_ok=True)
        written: list[MediaFile] = []
        for media in self._media:
            if not wanted(media):
                continue
            assert media_name_problem(media.name) is None  # checked when the list was read
            target = dest / media.name
            fd, tmp = tempfile.mkstemp(prefix=".part-", dir=dest)
            try:
                with os.fdopen(fd, "wb") as out:
                    self._copy_member(
                        media.zip_name, out, compressed=self.format is PackageFormat.LATEST
                    )
                os.chmod(tmp, 0o644)  # mkstemp's 0600 would hide it from an image viewer
                os.replace(tmp, target)
            except BaseException:
                Path(tmp).unlink(missing_ok=True)
                raise
            written.append(media)
        return written

    def _col_json(self, column: str) -> dict[str, Any]:
        row = next(self._query(f"SELECT {column} FROM col"), None)
        if row is None or not row[0]:
            return {}
        try:
            value = json.loads(row[0])
        except (ValueError, TypeError):
            raise self.fail(f"its collection's {column} are not JSON") from None
        return value if isinstance(value, dict) else {}

    def _pb(self, blob: Any, what: str) -> dict[int, list[pb.Value]]:
        try:
            return pb.fields(bytes(blob or b""))
        except (pb.WireError, TypeError):
            raise self.fail(f"its collection holds {what} that cannot be read") from None

    # ------------------------------------------------------------ closing

    def close(self) -> None:
        if self._db is not None:
            self._db.close()
            self._db = None
        if self._zip is not None:
            self._zip.close()
            self._zip = None
        if self._tmp is not None and not self._keep_file:
            for suffix in ("", "-wal", "-shm", "-journal"):
                Path(f"{self._tmp}{suffix}").unlink(missing_ok=True)
            self._tmp = None

    def __enter__(self) -> AnkiPackage:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        value: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()

    # ------------------------------------------------------------ bulk reads

    @property
    def database_file(self) -> Path | None:
        """The extracted collection (a plain SQLite file, never written), for a SQLite
        database to attach and read with its own statements; None once closed."""
        return self._tmp

    def sql(self, statement: str, params: Iterable[Any] = ()) -> Iterator[tuple[Any, ...]]:
        """The rows of a read-only query on the package's collection, fetched in chunks (the
        scheduling import computes its review-log rows in SQLite: a million in seconds)."""
        return self._query(statement, params)

    def fill_temp(self, table: str, columns: str, rows: Iterable[tuple[Any, ...]]) -> None:
        """Create (or empty) `temp.<table>` with `columns` and insert `rows`, for such
        queries to join; the collection itself is opened read-only and never changes."""
        assert self._db is not None
        self._db.execute(f"CREATE TEMP TABLE IF NOT EXISTS {table} ({columns})")
        self._db.execute(f"DELETE FROM temp.{table}")
        width = columns.count(",") + 1
        marks = ", ".join("?" for _ in range(width))
        self._db.executemany(f"INSERT INTO temp.{table} VALUES ({marks})", rows)


def open_package(path: Path, *, work_dir: Path, keep_file: bool = False) -> AnkiPackage:
    """Open `path` (raises AnkiPackageError naming the file and the problem). With `keep_file`
    the extracted collection stays in `work_dir` when the package is closed, for the caller to
    remove once nothing reads it (an import's transaction may have it attached)."""
    return AnkiPackage(path, work_dir=work_dir, keep_file=keep_file)
