"""An offline wheelhouse for installing flashcore into a fresh virtual environment.

The distributions flashcore needs (its dependencies, and its build backend with theirs) are
already installed in the interpreter running the tests; each is packed back into a wheel from
the files its RECORD lists, with its own WHEEL tags. `pip install --no-index --find-links` on
that folder then installs flashcore as a student would, from its source, without the network.
"""

from __future__ import annotations

import base64
import hashlib
import importlib.metadata as md
import re
import tomllib
import zipfile
from pathlib import Path

from packaging.markers import default_environment
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

SKIPPED = {"RECORD", "INSTALLER", "REQUESTED", "direct_url.json"}


def project_requirements(pyproject: Path) -> list[Requirement]:
    """What installing the project from source asks for: its build backend and its
    runtime dependencies (no extras)."""
    data = tomllib.loads(pyproject.read_text(encoding="utf-8"))
    names = data["build-system"]["requires"] + data["project"]["dependencies"]
    return [Requirement(r) for r in names]


def closure(requirements: list[Requirement]) -> dict[str, md.Distribution]:
    """Every installed distribution these requirements pull in, by canonical name (markers
    evaluated for this interpreter, extras followed)."""
    env = default_environment()
    found: dict[str, md.Distribution] = {}
    followed: set[tuple[str, frozenset[str]]] = set()
    todo: list[tuple[Requirement, frozenset[str]]] = [(r, frozenset()) for r in requirements]
    while todo:
        req, extras = todo.pop()
        if req.marker is not None and not any(
            req.marker.evaluate({**env, "extra": extra}) for extra in {"", *extras}
        ):
            continue
        name = canonicalize_name(req.name)
        if (name, frozenset(req.extras)) in followed:
            continue
        followed.add((name, frozenset(req.extras)))
        dist = found.get(name) or md.distribution(req.name)  # not installed: an error
        found[name] = dist
        todo.extend((Requirement(sub), frozenset(req.extras)) for sub in dist.requires or [])
    return found


def _digest(data: bytes) -> str:
    return "sha256=" + base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()


def repack(dist: md.Distribution, target: Path) -> Path:
    """`dist` as a wheel in `target`, from the files it installed into site-packages."""
    wheel_meta = dist.read_text("WHEEL")
    if wheel_meta is None or not dist.files:
        raise RuntimeError(f"{dist.metadata['Name']} was not installed from a wheel")
    tags = re.findall(r"^Tag: (\S+)$", wheel_meta, re.MULTILINE)
    name = re.sub(r"[-_.]+", "_", dist.metadata["Name"])
    path = target / f"{name}-{dist.version}-{tags[0]}.whl"
    record: list[str] = []
    info_dir = None
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as whl:
        for file in dist.files:
            parts = file.parts
            if parts[0] == ".." or "__pycache__" in parts or file.suffix == ".pyc":
                continue  # scripts and data outside site-packages; pip makes the scripts
            if parts[0].endswith(".dist-info"):
                info_dir = parts[0]
                if parts[-1] in SKIPPED:
                    continue
            data = Path(str(dist.locate_file(file))).read_bytes()
            whl.writestr(file.as_posix(), data)
            record.append(f"{file.as_posix()},{_digest(data)},{len(data)}")
        assert info_dir is not None, dist.metadata["Name"]
        record.append(f"{info_dir}/RECORD,,")
        whl.writestr(f"{info_dir}/RECORD", "\n".join(record) + "\n")
    return path


def build(pyproject: Path, target: Path) -> list[Path]:
    """The wheelhouse for installing the project of `pyproject` from source, in `target`."""
    target.mkdir(parents=True, exist_ok=True)
    return [repack(dist, target) for dist in closure(project_requirements(pyproject)).values()]
