"""Tools beside the product, run from a checkout (`python -m tools.bench`, `python -m tools.simulate`).

Not packaged: the wheel holds `flashcore/` only. They use flashcore through its services and core
(the import-linter contract in pyproject.toml names the exceptions and why).
"""
