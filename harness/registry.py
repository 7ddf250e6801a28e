"""One registry per extension point (poolings, backends, importers, long-text sets, layouts).

A registry maps names to implementations; the config validator and the CLI read their valid
choices from it, and a lookup of an unknown name answers with "did you mean" and the valid names.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Generic, TypeVar

from harness.errors import UsageError, unknown_choice

T = TypeVar("T")


class Registry(Generic[T]):
    """Named implementations of one extension point; ``kind`` names it in error messages."""

    def __init__(self, kind: str):
        self.kind = kind
        self._items: dict[str, T] = {}

    def add(self, name: str, item: T) -> T:
        """Register ``item`` under ``name`` (a name is registered once)."""
        if name in self._items:
            raise UsageError(f"{self.kind} {name!r} is registered twice")
        self._items[name] = item
        return item

    def register(self, name: str) -> Callable[[T], T]:
        """Decorator form of :meth:`add`."""
        return lambda item: self.add(name, item)

    def __getitem__(self, name: str) -> T:
        try:
            return self._items[name]
        except KeyError:
            raise unknown_choice(self.kind, name, self._items) from None

    def check(self, name: str) -> None:
        """UsageError with the valid choices unless ``name`` is registered."""
        self[name]

    def __contains__(self, name: object) -> bool:
        return name in self._items

    def __iter__(self) -> Iterator[str]:
        return iter(self._items)

    def __len__(self) -> int:
        return len(self._items)

    def names(self) -> list[str]:
        """Registered names, in registration order."""
        return list(self._items)

    def items(self) -> list[tuple[str, T]]:
        """(name, implementation) pairs, in registration order."""
        return list(self._items.items())
