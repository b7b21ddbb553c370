"""What every ledger backend provides, and the ledger's error."""

from __future__ import annotations

from collections.abc import Sequence
from contextlib import AbstractContextManager
from typing import Any, Protocol

from fulfillmap.errors import FulfillmapError

__all__ = ["Backend", "LedgerError", "Transaction"]


class LedgerError(FulfillmapError):
    """The ledger cannot be opened, migrated or used (a bad URL, an unreachable server)."""


# -- the backends' common shape ---------------------------------------------------------------


class Transaction(Protocol):
    """One open transaction of a backend; SQL uses ``?`` placeholders."""

    def run(self, sql: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        """Execute ``sql``; the rows it returns (none for a statement without rows)."""
        ...

    def many(self, sql: str, rows: Sequence[Sequence[Any]]) -> None:
        """Execute ``sql`` once per row of parameters (in one round trip where it can)."""
        ...

    def changed(self, sql: str, params: Sequence[Any] = ()) -> int:
        """Execute ``sql``; how many rows it inserted, updated or deleted."""
        ...


class Backend(Protocol):
    url: str

    def transaction(self, *, durable: bool = True) -> AbstractContextManager[Transaction]:
        """A transaction that holds the write lock from its start (committed on exit).

        ``durable``: its commit is on disk when it returns. Claims need not be: a claim lost
        in a crash is a claim released, so they commit without waiting for the disk.
        """
        ...

    def migration(self) -> AbstractContextManager[Transaction]:
        """A transaction that no other worker's migration runs beside."""
        ...

    def close(self) -> None: ...
