"""A package's media files: the list that names them (a zstd-compressed protobuf message in
the latest format, a JSON object {"0": "name.jpg", ...} in the legacy ones) and the rule a name
must follow to be written into the media folder."""

from __future__ import annotations

import json

from flashcore.importers.anki_package import protobuf as pb
from flashcore.importers.anki_package.types import MediaFile


class MediaListError(ValueError):
    """The media list cannot be read, or names a file that cannot be written; the message
    says why, for the package to name its file."""


def media_name_problem(name: str) -> str | None:
    """Why `name` cannot be a media file's name inside the media folder, or None."""
    if not name or name in {".", ".."}:
        return f"media name {name!r} is not a file name"
    if "/" in name or "\\" in name or "\x00" in name:
        return f"media name {name!r} has a path part (media files are plain names)"
    if len(name) > 255:
        return f"media name is {len(name)} characters long; at most 255"
    if name[1:3] == ":" or name.startswith("~"):
        return f"media name {name!r} is not a plain file name"
    return None


def media_list(raw: bytes, *, latest: bool, members: set[str]) -> list[MediaFile]:
    """The files the `media` member `raw` lists, each checked: a plain name, and its data
    among the zip's `members`. Raises MediaListError."""
    files = _latest_list(raw) if latest else _legacy_list(raw)
    for media in files:
        problem = media_name_problem(media.name)
        if problem is not None:
            raise MediaListError(problem)
        if media.zip_name not in members:
            raise MediaListError(f"media file {media.name!r} is listed but not inside the zip")
    return files


def _latest_list(raw: bytes) -> list[MediaFile]:
    import zstandard

    files: list[MediaFile] = []
    try:
        data = zstandard.ZstdDecompressor().decompressobj().decompress(raw)
        entries = pb.fields(data).get(1, [])
        for index, entry in enumerate(entries):
            if not isinstance(entry, bytes):
                raise pb.WireError("a media entry is not a message")
            found = pb.fields(entry)
            sha1 = found.get(3, [b""])[-1]
            files.append(
                MediaFile(
                    name=pb.text(found, 1),
                    zip_name=str(pb.first_int(found, 255, index)),
                    size=pb.first_int(found, 2),
                    sha1=sha1 if isinstance(sha1, bytes) and sha1 else None,
                )
            )
    except (zstandard.ZstdError, pb.WireError) as exc:
        raise MediaListError(f"its media list is unreadable ({exc})") from None
    return files


def _legacy_list(raw: bytes) -> list[MediaFile]:
    try:
        mapping = json.loads(raw.decode("utf-8")) if raw.strip() else {}
    except (ValueError, UnicodeDecodeError):
        raise MediaListError("its media list is not JSON") from None
    if not isinstance(mapping, dict):
        raise MediaListError("its media list is not a JSON object")
    return [MediaFile(name=str(v), zip_name=str(k)) for k, v in mapping.items()]
