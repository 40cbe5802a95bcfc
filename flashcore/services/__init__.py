"""Use cases: the only layer that opens transactions. `Flashcore` is the Python API.

`Flashcore` is loaded when first asked for (`from flashcore.services import Flashcore`), not
with the package: a service module that needs no database engine (the driver-only report,
`services.weakness_light`) is imported without SQLAlchemy."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from flashcore.services.collection import Flashcore

__all__ = ["Flashcore"]


def __getattr__(name: str) -> Any:
    if name == "Flashcore":
        from flashcore.services.collection import Flashcore

        return Flashcore
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
