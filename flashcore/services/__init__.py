"""Use cases: the only layer that opens transactions. `Flashcore` is the Python API."""

from flashcore.services.collection import Flashcore

__all__ = ["Flashcore"]
