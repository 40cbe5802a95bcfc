"""One SQLAlchemy compiled-statement cache per test process, not one per engine.

SQLAlchemy keeps the SQL it compiled from a statement in its engine (`Engine._compiled_cache`),
keyed by the statement's structure and the engine's dialect object. A user's `flashcore`
process opens one engine and compiles each statement it runs once. The tests open an engine per
collection (thousands: every `Flashcore.open`, every in-process CLI command), and each new
engine compiled again every statement it ran: 95% of a CLI test's statements were compiled, and
compiling was a fifth of its time.

Here every engine of the process reads and fills one cache, the dialect object in the key
replaced by what the compiled SQL depends on: the dialect's class and its settings after its
first connection (the server's version, the parameter style, every flag). Two engines whose
dialects agree on all of those compile any statement to the same SQL, so a statement gets the
SQL it would have compiled itself; only the compiling goes. SQLAlchemy's own cache hits are this
one's (an engine's connections share it already), so nothing the tests check changes.
"""

from __future__ import annotations

from typing import Any

_SIMPLE = (bool, int, float, str, bytes, type(None))
_installed = [False]


def _settings(dialect: Any) -> tuple[Any, ...]:
    """What compiling a statement for `dialect` can depend on, hashable; made once per dialect
    (at its first compile, after its first connection set the server's version and flags)."""
    found = dialect.__dict__.get("_tests_compiled_cache_settings")
    if found is None:
        items = []
        for name, value in sorted(vars(dialect).items()):
            if name in _OBJECTS:
                continue
            if isinstance(value, _SIMPLE) or (
                isinstance(value, tuple) and all(isinstance(v, _SIMPLE) for v in value)
            ):
                items.append((name, value))
            else:  # a module or class all dialects share; any other object: no sharing
                items.append((name, id(value)))
        found = (type(dialect), tuple(items))
        dialect.__dict__["_tests_compiled_cache_settings"] = found
    return found


# A dialect's attributes that differ between two dialects of one kind without changing any SQL:
# objects each dialect makes for itself alike (its preparer of identifiers, its type compiler,
# its memo of types, psycopg's adapters), and the schema its first connection found (the tests'
# PostgreSQL schemas are each on the search path; flashcore's tables name no schema).
_OBJECTS = frozenset(
    {
        "identifier_preparer",
        "type_compiler",
        "type_compiler_instance",
        "_type_memos",
        "_psycopg_adapters_map",
        "default_schema_name",
    }
)


class SharedCache:
    """The process's cache as one engine sees it: `LRUCache`'s `get` and item assignment."""

    def __init__(self, store: Any) -> None:
        self.store = store

    @staticmethod
    def _key(key: tuple[Any, ...]) -> tuple[Any, ...]:
        return (_settings(key[0]), *key[1:])

    def get(self, key: tuple[Any, ...], default: Any = None) -> Any:
        return self.store.get(self._key(key), default)

    def __getitem__(self, key: tuple[Any, ...]) -> Any:
        return self.store[self._key(key)]

    def __setitem__(self, key: tuple[Any, ...], value: Any) -> None:
        self.store[self._key(key)] = value

    def __len__(self) -> int:
        return len(self.store)

    def clear(self) -> None:
        self.store.clear()


def install(size: int = 5000) -> None:
    """Every engine made from now on in this process uses the shared cache."""
    if _installed[0]:
        return
    _installed[0] = True
    from sqlalchemy import util
    from sqlalchemy.engine.base import Engine

    store = util.LRUCache(size)
    original = Engine.__init__

    def __init__(self: Engine, *args: Any, **kwargs: Any) -> None:
        original(self, *args, **kwargs)
        if self._compiled_cache is not None:
            self._compiled_cache = SharedCache(store)  # type: ignore[assignment]

    Engine.__init__ = __init__  # type: ignore[method-assign]
