"""Just enough of the protobuf wire format to read Anki's small messages (the package `meta`,
the media list, note type, deck and preset configs). Written from the wire format's
specification: a message is a run of (field number, wire type) keys, each followed by a varint,
8 bytes, a length-prefixed run, or 4 bytes. Unknown fields are skipped, as protobuf does.
"""

from __future__ import annotations

import struct
from collections import defaultdict

VARINT, I64, LEN, I32 = 0, 1, 2, 5
Value = int | bytes


class WireError(ValueError):
    """The bytes are not a protobuf message."""


def read_varint(data: bytes, pos: int) -> tuple[int, int]:
    result = shift = 0
    while True:
        if pos >= len(data):
            raise WireError("truncated varint")
        byte = data[pos]
        pos += 1
        result |= (byte & 0x7F) << shift
        if not byte & 0x80:
            return result, pos
        shift += 7
        if shift > 63:
            raise WireError("varint longer than 10 bytes")


def fields(data: bytes) -> dict[int, list[Value]]:
    """Every field of a message: number -> values in order (ints for varint, I32 and I64
    fields as their raw little-endian bytes, bytes for length-delimited ones)."""
    out: dict[int, list[Value]] = defaultdict(list)
    pos = 0
    while pos < len(data):
        key, pos = read_varint(data, pos)
        number, wire = key >> 3, key & 7
        if number == 0:
            raise WireError("field number 0")
        value: Value
        if wire == VARINT:
            value, pos = read_varint(data, pos)
        elif wire == LEN:
            size, pos = read_varint(data, pos)
            if pos + size > len(data):
                raise WireError("truncated length-delimited field")
            value, pos = data[pos : pos + size], pos + size
        elif wire == I64:
            value, pos = data[pos : pos + 8], pos + 8
        elif wire == I32:
            value, pos = data[pos : pos + 4], pos + 4
        else:
            raise WireError(f"wire type {wire} is not supported")
        if pos > len(data):
            raise WireError("truncated fixed-size field")
        out[number].append(value)
    return out


def first_int(found: dict[int, list[Value]], number: int, default: int = 0) -> int:
    values = found.get(number)
    value = values[-1] if values else default  # the last one wins, as protobuf merges
    return value if isinstance(value, int) else default


def signed64(value: int) -> int:
    """An int64 varint read as unsigned, back to its sign."""
    return value - (1 << 64) if value >= 1 << 63 else value


def text(found: dict[int, list[Value]], number: int) -> str:
    values = found.get(number)
    value = values[-1] if values else b""
    return value.decode("utf-8", "replace") if isinstance(value, bytes) else ""


def message(found: dict[int, list[Value]], number: int) -> dict[int, list[Value]]:
    values = found.get(number)
    value = values[-1] if values else b""
    return fields(value) if isinstance(value, bytes) else {}


def float32(found: dict[int, list[Value]], number: int) -> float | None:
    values = found.get(number)
    if not values or not isinstance(values[-1], bytes) or len(values[-1]) != 4:
        return None
    return float(struct.unpack("<f", values[-1])[0])


def packed_floats(found: dict[int, list[Value]], number: int) -> tuple[float, ...]:
    """A `repeated float` field: packed (one run of 4-byte values) or one value per key."""
    out: list[float] = []
    for value in found.get(number, []):
        if isinstance(value, bytes) and len(value) % 4 == 0:
            out.extend(struct.unpack(f"<{len(value) // 4}f", value))
    return tuple(out)
