"""The README's Quick start, run verbatim as a newcomer runs it: in a copy of the source tree
(a fresh clone), with a `python3` that is externally managed (PEP 668) where the machine has
one (Debian's), a new HOME and nothing installed; `flashcore review` in a pseudo-terminal until
Home shows the starter decks, then `q`.

Offline, honestly: pip is given `--no-index` and a wheelhouse of the very distributions the
test interpreter already has (tests/install/wheelhouse.py repacks them), through pip's own
environment variables, with every pip configuration file ignored, so the line itself is
unchanged and not one package comes from the network. What this proves that the rest of the
suite cannot: the line works where a bare `pip install` is refused, `pyproject.toml` declares
every runtime dependency (the environment holds nothing else), the wheel carries the
migrations and the starter decks, and `flashcore review` starts from that install.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import re
import select
import shutil
import struct
import subprocess
import sys
import termios
import time
from pathlib import Path

import pytest

from tests.install.wheelhouse import build

ROOT = Path(__file__).resolve().parents[2]
README = ROOT / "README.md"
ESCAPES = re.compile(
    rb"\x1b(\[[0-?]*[ -/]*[@-~]|\][^\x07\x1b]*(\x07|\x1b\\)|[()][0-9A-Za-z]|[@-Z\\-_])"
)
INSTALL_S = 600.0  # a fresh venv, a build of flashcore and ~30 wheels on a loaded 2-core machine


class Terminal:
    """A command on an 80x24 pseudo-terminal; `wait_for` reads what it drew, escapes removed."""

    def __init__(self, cmd: list[str], env: dict[str, str], cwd: Path) -> None:
        master, slave = os.openpty()
        fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 24, 80, 0, 0))
        env = {**env, "TERM": "xterm-256color", "COLUMNS": "80", "LINES": "24"}
        self.proc = subprocess.Popen(
            cmd, stdin=slave, stdout=slave, stderr=slave, env=env, cwd=cwd,
            start_new_session=True, close_fds=True,
        )  # fmt: skip
        os.close(slave)
        self.master = master
        self.seen = b""

    def wait_for(self, marker: bytes, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while marker not in ESCAPES.sub(b"", self.seen):
            left = deadline - time.monotonic()
            ready, _, _ = select.select([self.master], [], [], max(0.0, min(left, 1.0)))
            if ready:
                try:
                    chunk = os.read(self.master, 65536)
                except OSError:  # EIO: the process closed the terminal
                    chunk = b""
                if not chunk:
                    raise AssertionError(f"exited before {marker!r}: {self.tail()}")
                self.seen += chunk
            elif left <= 0:
                raise AssertionError(f"no {marker!r} in {timeout:.0f} s: {self.tail()}")

    def close(self, keys: bytes) -> int:
        with contextlib.suppress(OSError):
            os.write(self.master, keys)
        try:
            code = self.proc.wait(timeout=60)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            code = self.proc.wait()
        os.close(self.master)
        return code

    def tail(self) -> str:
        return ESCAPES.sub(b"", self.seen)[-600:].decode(errors="replace")


def quick_start_lines() -> list[str]:
    """The command lines of the README's Quick start, in order."""
    text = README.read_text(encoding="utf-8")
    section = text.split("## Quick start", 1)[1].split("\n## ", 1)[0]
    return [b.strip() for b in re.findall(r"```bash\n(.*?)```", section, re.DOTALL)]


def externally_managed(python: str) -> bool:
    code = "import sysconfig, os; print(os.path.exists(os.path.join(sysconfig.get_path('stdlib'), 'EXTERNALLY-MANAGED')))"
    out = subprocess.run([python, "-c", code], capture_output=True, text=True, check=False)
    return out.stdout.strip() == "True"


def system_python() -> str | None:
    """A `python3` of this test's version that is externally managed and can make a venv
    (Debian's /usr/bin/python3), or None."""
    candidate = Path("/usr/bin/python3")
    if not candidate.exists():
        return None
    version = f"{sys.version_info.major}.{sys.version_info.minor}"
    probe = subprocess.run(
        [
            str(candidate),
            "-c",
            "import sys, venv, ensurepip; print('%d.%d' % sys.version_info[:2])",
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    if probe.stdout.strip() != version or not externally_managed(str(candidate)):
        return None  # the wheelhouse's compiled wheels are for this version only
    return str(candidate)


def fresh_clone(target: Path) -> Path:
    """The files of the source tree that a clone would have (tracked, and new ones not
    ignored), or the tree without build and cache folders when it is not a git checkout."""
    listed = subprocess.run(
        ["git", "-C", str(ROOT), "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
        capture_output=True,
        check=False,
    )
    if listed.returncode == 0 and listed.stdout:
        for name in listed.stdout.decode().split("\0"):
            source = ROOT / name
            if name and source.is_file():
                (target / name).parent.mkdir(parents=True, exist_ok=True)
                shutil.copy2(source, target / name)
    else:
        shutil.copytree(
            ROOT,
            target,
            dirs_exist_ok=True,
            ignore=shutil.ignore_patterns(".git", ".venv", "__pycache__", "*.egg-info", "build"),
        )
    return target


def newcomer_env(tmp_path: Path, wheels: Path, bin_dir: Path) -> dict[str, str]:
    """A bare environment: a new HOME, a PATH with only the system's folders (and `python3`),
    pip offline on the wheelhouse with no configuration file of the machine's."""
    home = tmp_path / "home"
    home.mkdir()
    env = {
        "HOME": str(home),
        "PATH": f"{bin_dir}:/usr/local/bin:/usr/bin:/bin",
        "LANG": "C.UTF-8",
        "FLASHCORE_HOME": str(home / "flashcore"),
        "PIP_CONFIG_FILE": os.devnull,
        "PIP_NO_INDEX": "1",
        "PIP_FIND_LINKS": str(wheels),
        "PIP_DISABLE_PIP_VERSION_CHECK": "1",
        "PIP_NO_CACHE_DIR": "1",
    }
    return env


def test_the_quick_start_has_two_commands_that_each_make_their_own_environment():
    install, tests = quick_start_lines()[:2]
    for line in (install, tests):
        assert line.startswith("python3 -m venv .venv && . .venv/bin/activate && "), line
    assert install.endswith("python3 -m pip install . && flashcore review")
    assert "python3 -m pytest" in tests
    # .ci/run runs the test line exactly as the README prints it.
    assert tests in (ROOT / ".ci" / "run").read_text(encoding="utf-8").splitlines()


@pytest.mark.install
def test_the_quick_start_line_installs_and_opens_the_reviewer_offline(tmp_path):
    line = quick_start_lines()[0]
    wheels = tmp_path / "wheels"
    build(ROOT / "pyproject.toml", wheels)
    clone = fresh_clone(tmp_path / "clone")
    bin_dir = tmp_path / "bin"  # `python3` on PATH: the system's, else this interpreter
    bin_dir.mkdir()
    python = system_python()
    (bin_dir / "python3").symlink_to(python or sys.executable)
    env = newcomer_env(tmp_path, wheels, bin_dir)

    if python is not None:  # the environment is the one the issue met: bare pip is refused
        bare = subprocess.run(
            ["python3", "-m", "pip", "install", "."],
            cwd=clone,
            env=env,
            capture_output=True,
            text=True,
            check=False,
        )
        assert bare.returncode != 0
        assert "externally-managed-environment" in bare.stdout + bare.stderr

    term = Terminal(["bash", "-c", line], env, cwd=clone)
    try:
        term.wait_for(b"Weakest topics", timeout=INSTALL_S)  # Home, with its numbers loaded
    finally:
        code = term.close(b"q")
    assert code == 0, term.tail()

    # What was installed is the wheel in the new environment, with the starter decks loaded.
    venv_python = clone / ".venv" / "bin" / "python3"
    where = subprocess.run(
        [str(venv_python), "-c", "import flashcore; print(flashcore.__file__)"],
        cwd=env["HOME"],  # not a folder holding the sources
        env=env,
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    assert Path(where).is_relative_to(clone / ".venv" / "lib"), where  # not the source tree
    decks = subprocess.run(
        [str(clone / ".venv" / "bin" / "flashcore"), "decks", "list", "--json"],
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    assert len(json.loads(decks.stdout)) == 21
