"""Bytes -> text lines: the log's bytes readable more than once, binary refusal, the
encoding, and lines with their physical numbers."""

from __future__ import annotations

import codecs
import hashlib
import io
import os
import re
import shutil
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

from flashcore.core.errors import Problem, QbankFormatError

READ_BYTES = 1 << 20  # bytes read and decoded at a time


MAX_LINE = 32 << 20  # a longer line is not a question log (and would have to sit in memory)


class LogSource:
    """A log's bytes, readable from the start more than once: bytes in memory, a file, or a
    stream (stdin) copied to a temporary file as it is read."""

    def __init__(self, data: bytes | str | os.PathLike[str] | IO[bytes]) -> None:
        self._bytes: bytes | None = None
        self._path: Path | None = None
        self._spool: IO[bytes] | None = None
        if isinstance(data, bytes | bytearray | memoryview):
            self._bytes = bytes(data)
            self.size = len(self._bytes)
        elif isinstance(data, str | os.PathLike):
            self._path = Path(data)
            self.size = self._path.stat().st_size
        else:
            spool = tempfile.SpooledTemporaryFile(max_size=READ_BYTES * 8)  # noqa: SIM115
            shutil.copyfileobj(data, spool, READ_BYTES)
            self.size = spool.tell()
            self._spool = spool

    def open(self) -> IO[bytes]:
        """A fresh binary reader at the first byte (close it when done)."""
        if self._bytes is not None:
            return io.BytesIO(self._bytes)
        if self._path is not None:
            return self._path.open("rb")
        assert self._spool is not None
        self._spool.seek(0)
        return io.BufferedReader(_View(self._spool), READ_BYTES)

    def close(self) -> None:
        if self._spool is not None:
            self._spool.close()

    def __enter__(self) -> LogSource:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()


class _View(io.RawIOBase):
    """A reader of the spool with a position of its own (the spool is read more than once,
    sometimes by two readers at a time); closing it leaves the spool open."""

    def __init__(self, inner: IO[bytes]) -> None:
        self._inner = inner
        self._pos = 0

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        self._inner.seek(self._pos)
        data = self._inner.read(len(buffer))
        buffer[: len(data)] = data
        self._pos += len(data)
        return len(data)

    def seek(self, offset: int, whence: int = 0) -> int:
        base = (0, self._pos, self._inner.seek(0, 2))[whence]
        self._pos = base + offset
        return self._pos

    def tell(self) -> int:
        return self._pos


_MAGIC = (
    (b"PK\x03\x04", "a ZIP archive"),
    (b"PK\x05\x06", "a ZIP archive"),
    (b"SQLite format 3\x00", "a SQLite database"),
    (b"%PDF-", "a PDF document"),
    (b"\x1f\x8b", "a gzip archive"),
    (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1", "an Excel 97-2003 workbook (.xls)"),
)


_UTF8_BOM = b"\xef\xbb\xbf"


_UTF8_SEQUENCE = re.compile(
    rb"[\xc2-\xdf][\x80-\xbf]|[\xe0-\xef][\x80-\xbf]{2}|[\xf0-\xf4][\x80-\xbf]{3}"
)


_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")


_NOT_C0 = bytes(b for b in range(256) if not _CONTROL.match(chr(b)) or b >= 0x80)


_C1_UTF8 = re.compile(rb"\xc2[\x80-\x9f]")


# cp1252 leaves 0x81, 0x8D, 0x8F, 0x90, 0x9D undefined: read as Latin-1 they stay the C1 control
# characters of the same number, and the control-character check reports their line.
_LATIN1_TO_CP1252 = str.maketrans(
    {chr(b): bytes([b]).decode("cp1252", errors="ignore") or chr(b) for b in range(0x80, 0xA0)}
)


def _hint(path: str) -> str:
    """What to do with a binary file a student may take for a log, by its name."""
    suffix = path.rsplit(".", 1)[-1].lower() if "." in path else ""
    if suffix in ("apkg", "colpkg"):
        return f" (an Anki package: load it with `flashcore decks add {path}`)"
    if suffix in ("xlsx", "xlsm", "xls", "numbers", "ods"):
        return " (a spreadsheet: save the sheet as CSV, then import the .csv)"
    return ""


def _fatal(path: str, line: int | None, message: str) -> QbankFormatError:
    return QbankFormatError([Problem(path, line, message)], whole_file=True)


@dataclass(frozen=True, slots=True)
class _Encoding:
    codec: str  # "utf-8", "utf-16" or "cp1252" (read as Latin-1, then translated)
    skip: int  # bytes before the text (a UTF-8 BOM)
    sha256: str  # of every byte


def inspect_encoding(data: LogSource, path: str) -> _Encoding:
    """The first pass: refuse binary files, choose the encoding, hash the bytes."""
    digest = hashlib.sha256()
    with data.open() as f:
        head = f.read(READ_BYTES)
        for magic, kind in _MAGIC:
            if head.startswith(magic):
                raise _fatal(path, 1, f"not a text file: looks like {kind}{_hint(path)}")
        utf16 = head.startswith((b"\xff\xfe", b"\xfe\xff"))
        skip = 0 if utf16 or not head.startswith(_UTF8_BOM) else len(_UTF8_BOM)
        decoder = codecs.getincrementaldecoder("utf-16" if utf16 else "utf-8")()
        bad: tuple[int, int] | None = None  # (offset after the BOM, byte) of the first non-UTF-8
        mixed = False  # the file also holds valid multi-byte UTF-8
        offset, tail, chunk = 0, b"", head
        while True:
            digest.update(chunk)
            text = chunk[skip:] if offset == 0 else chunk
            final = not chunk
            if utf16:
                try:
                    decoder.decode(text, final)
                except UnicodeDecodeError:
                    raise _fatal(
                        path, None, "not valid UTF-16 text although it starts like it"
                    ) from None
            else:
                nul = text.find(b"\x00")
                if nul >= 0:
                    line = _line_of(data, skip + offset + nul)
                    raise _fatal(path, line, f"not a text file: contains NUL bytes (line {line})")
                if bad is None and not (text.isascii() and not decoder.getstate()[0]):
                    pending = len(decoder.getstate()[0])
                    try:
                        decoder.decode(text, final)
                    except UnicodeDecodeError as error:
                        at = offset - pending + error.start
                        bad = (at, _byte_at(data, skip + at))
                if not mixed and not text.isascii():
                    mixed = bool(_UTF8_SEQUENCE.search(tail + text))
                tail = text[-3:]
            if final:
                break
            offset += len(text)
            chunk = f.read(READ_BYTES)
    if utf16:
        return _Encoding("utf-16", 0, digest.hexdigest())
    if bad is None:
        return _Encoding("utf-8", skip, digest.hexdigest())
    if mixed:
        at, byte = bad
        raise _fatal(
            path,
            _line_of(data, skip + at),
            f"byte 0x{byte:02X} is not UTF-8 although the rest of the file is; "
            "save the file as UTF-8",
        )
    return _Encoding("cp1252", skip, digest.hexdigest())


def _byte_at(data: LogSource, offset: int) -> int:
    with data.open() as f:
        f.seek(offset)
        return f.read(1)[0]


def _line_of(data: LogSource, offset: int) -> int:
    """The 1-based line of byte `offset`, counting CRLF, LF and a lone CR as one end each."""
    ends, done, previous = 0, 0, b""
    with data.open() as f:
        while done < offset:
            chunk = f.read(min(READ_BYTES, offset - done))
            if not chunk:
                break
            ends += chunk.count(b"\n") + chunk.count(b"\r") - chunk.count(b"\r\n")
            if previous.endswith(b"\r") and chunk.startswith(b"\n"):
                ends -= 1
            previous, done = chunk, done + len(chunk)
    return ends + 1


def _control_lines(text: str, first_line: int, found: dict[int, str]) -> None:
    """Record the lines holding a C0/C1 control character (other than tab and line ends):
    line -> char, for `text` whose first line is `first_line`."""
    raw = text.encode("utf-8")  # a quick look first: C0 as bytes, C1 as their UTF-8 form
    if not raw.translate(None, _NOT_C0) and (raw.isascii() or not _C1_UTF8.search(raw)):
        return
    line, pos = first_line, 0
    for match in _CONTROL.finditer(text):
        line += text.count("\n", pos, match.start())
        pos = match.start()
        found.setdefault(line, match.group())


class LineReader:
    """The second pass: the text's lines (line ends removed; CRLF and CR count as LF), decoded
    a megabyte at a time. Control characters are noted in `controls` before their lines are
    handed out; `position` counts the bytes read."""

    def __init__(
        self, data: LogSource, path: str, encoding: _Encoding, controls: dict[int, str]
    ) -> None:
        self.data = data
        self.path = path
        self.encoding = encoding
        self.controls = controls
        self.position = 0

    def __iter__(self) -> Iterator[str]:
        latin = self.encoding.codec == "cp1252"
        decoder = codecs.getincrementaldecoder("latin-1" if latin else self.encoding.codec)()
        carry, number, cr = "", 0, False
        with self.data.open() as f:
            f.seek(self.encoding.skip)
            self.position = self.encoding.skip
            while True:
                chunk = f.read(READ_BYTES)
                self.position += len(chunk)
                final = not chunk
                text = decoder.decode(chunk, final)
                if latin and not text.isascii():
                    text = text.translate(_LATIN1_TO_CP1252)
                if cr:
                    text, cr = "\r" + text, False
                if "\r" in text:
                    if text.endswith("\r") and not final:
                        text, cr = text[:-1], True  # a CRLF may straddle the chunks
                    text = text.replace("\r\n", "\n").replace("\r", "\n")
                block = carry + text if carry else text
                if final:
                    whole, carry = block, ""
                else:
                    cut = block.rfind("\n")
                    if cut < 0:
                        carry = block
                        if len(carry) > MAX_LINE:
                            raise _fatal(
                                self.path,
                                number + 1,
                                f"line longer than {MAX_LINE // (1 << 20)} MB: "
                                "not a question-bank log",
                            )
                        continue
                    whole, carry = block[:cut], block[cut + 1 :]
                _control_lines(whole, number + 1, self.controls)
                lines = whole.split("\n")
                number += len(lines)
                yield from lines
                if final:
                    return
