"""Put this folder on PYTHONPATH with FLASHCORE_TEST_GUARD=<report file> and every Python
process started with that environment — the reviewer, each command, and the background jobs
they start (`python -m flashcore.storage.background`) — runs under the file guard of
tests/guard.py, appending any violation to the report."""

import os

if os.environ.get("FLASHCORE_TEST_GUARD"):
    from pathlib import Path

    from tests import guard

    guard.install(Path(os.environ["FLASHCORE_TEST_GUARD"]))
