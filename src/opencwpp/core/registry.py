"""A small typed registry: one per plug-in kind (checks, collectors, report formats)."""

from collections.abc import Iterator
from typing import Generic, TypeVar

T = TypeVar("T")


class Registry(Generic[T]):
    """Maps unique ids to plug-ins of one kind, in registration order."""

    def __init__(self, kind: str) -> None:
        self.kind = kind
        self._items: dict[str, T] = {}

    def add(self, key: str, item: T) -> T:
        """Registers `item` under `key`; a second plug-in with the same id is a bug."""
        if key in self._items:
            raise ValueError(f"duplicate {self.kind} id: {key}")
        self._items[key] = item
        return item

    def get(self, key: str) -> T:
        """Returns the plug-in registered as `key`."""
        try:
            return self._items[key]
        except KeyError:
            raise KeyError(f"unknown {self.kind}: {key}") from None

    def __contains__(self, key: object) -> bool:
        return key in self._items

    def __iter__(self) -> Iterator[T]:
        return iter(self._items.values())

    def __len__(self) -> int:
        return len(self._items)

    def keys(self) -> list[str]:
        """Returns the registered ids in registration order."""
        return list(self._items)
