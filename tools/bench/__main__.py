"""`python -m tools.bench`: the engine benchmark (tools/bench/engine.py)."""

from tools.bench.engine import main

if __name__ == "__main__":
    raise SystemExit(main())
