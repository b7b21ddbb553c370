"""The SQLite ledger backend: ``sqlite:///relative.db``, ``sqlite:////absolute.db``, ``memory:``.

WAL journal (readers never wait for the writer); ``synchronous=FULL`` for what must last (a
commit is on disk when it returns: an effect recorded as done survives a power cut), while
claims commit with ``NORMAL`` (a claim lost in a crash is only a claim released); write
transactions begun ``IMMEDIATE`` (they take the write lock at once, so two processes never
both read a state and then both act on it); a busy timeout, so that processes queue.
"""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

from fulfillmap.events._ledger_backend import LedgerError

__all__ = ["SqliteBackend", "sqlite_path"]

#: how long a process waits for another's write lock before giving up (seconds)
BUSY_TIMEOUT = 30.0


def sqlite_path(url: str) -> str:
    """The file of ``sqlite:///relative.db`` (``relative.db``) or ``sqlite:////abs.db``."""
    parts = urlsplit(url)
    if parts.netloc or not parts.path.startswith("/") or parts.path == "/":
        raise LedgerError(
            f"bad SQLite ledger URL {url!r}: write sqlite:///relative/path.db or "
            "sqlite:////absolute/path.db (three slashes, then the path)"
        )
    return unquote(parts.path[1:])


class _Tx:
    __slots__ = ("_cursor",)

    def __init__(self, cursor: sqlite3.Cursor) -> None:
        self._cursor = cursor

    def run(self, sql: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        return self._execute(sql, params).fetchall()

    def changed(self, sql: str, params: Sequence[Any] = ()) -> int:
        return self._execute(sql, params).rowcount

    def many(self, sql: str, rows: Sequence[Sequence[Any]]) -> None:
        if not rows:
            return
        try:
            self._cursor.executemany(sql, rows)
        except sqlite3.Error as exc:
            raise LedgerError(f"the ledger failed: {exc}") from exc

    def _execute(self, sql: str, params: Sequence[Any]) -> sqlite3.Cursor:
        try:
            return self._cursor.execute(sql, params)
        except sqlite3.Error as exc:
            raise LedgerError(f"the ledger failed: {exc}") from exc


class SqliteBackend:
    """One connection per ledger, used by one thread at a time (a lock)."""

    def __init__(self, url: str, path: str) -> None:
        self.url = url
        if path != ":memory:":
            folder = Path(path).parent
            if not folder.is_dir():
                raise LedgerError(
                    f"cannot open the ledger {url}: the folder {folder} does not exist"
                )
        try:
            self._connection = sqlite3.connect(
                path, timeout=BUSY_TIMEOUT, isolation_level=None, check_same_thread=False
            )
            if path != ":memory:":
                self._connection.execute("PRAGMA journal_mode=WAL")
        except sqlite3.Error as exc:
            raise LedgerError(f"cannot open the ledger {url}: {exc}") from exc
        self._lock = threading.Lock()

    @contextmanager
    def transaction(self, *, durable: bool = True) -> Iterator[_Tx]:
        with self._lock:
            cursor = self._connection.cursor()
            try:
                cursor.execute(f"PRAGMA synchronous={'FULL' if durable else 'NORMAL'}")
                cursor.execute("BEGIN IMMEDIATE")
            except sqlite3.Error as exc:
                raise LedgerError(f"the ledger {self.url} is not usable: {exc}") from exc
            try:
                yield _Tx(cursor)
            except BaseException:
                cursor.execute("ROLLBACK")
                raise
            try:
                cursor.execute("COMMIT")
            except sqlite3.Error as exc:
                cursor.execute("ROLLBACK")
                raise LedgerError(f"the ledger {self.url} could not commit: {exc}") from exc

    def migration(self) -> Any:
        return self.transaction()  # BEGIN IMMEDIATE already excludes every other writer

    def close(self) -> None:
        with self._lock:
            self._connection.close()
