"""The PostgreSQL ledger backend: ``postgresql://user:password@host:port/database``.

For many workers on many machines. psycopg 3 with a connection pool (``pip install
'fulfillmap[postgres]'``). Claims are rows taken with ``INSERT … ON CONFLICT``, so workers on
different orders never wait for each other; claims commit with ``synchronous_commit`` off
(a claim lost in a crash is a claim released), effects done with the server's setting.
Migrations take one advisory lock, so that workers opening a fresh ledger at once run them
one after the other.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any

from fulfillmap.events._ledger_backend import LedgerError

__all__ = ["PostgresBackend"]

#: the advisory lock migrations hold (any constant: "fulfillmap" in ASCII, truncated)
_MIGRATION_LOCK = 0x66756C66696C6C
#: connections per process and pool; process() holds one only inside a transaction, never
#: across send
POOL_SIZE = 4


class _Tx:
    __slots__ = ("_cursor",)

    def __init__(self, cursor: Any) -> None:
        self._cursor = cursor

    def run(self, sql: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        cursor = self._execute(sql, params)
        return list(cursor.fetchall()) if cursor.description is not None else []

    def changed(self, sql: str, params: Sequence[Any] = ()) -> int:
        return int(self._execute(sql, params).rowcount)

    def many(self, sql: str, rows: Sequence[Sequence[Any]]) -> None:
        import psycopg

        if not rows:
            return
        try:  # psycopg sends the rows in one pipeline: one round trip
            self._cursor.executemany(sql.replace("?", "%s"), rows)
        except psycopg.Error as exc:
            raise LedgerError(f"the ledger failed: {exc}") from exc

    def _execute(self, sql: str, params: Sequence[Any]) -> Any:
        import psycopg

        try:
            return self._cursor.execute(sql.replace("?", "%s"), params)
        except psycopg.Error as exc:
            raise LedgerError(f"the ledger failed: {exc}") from exc


class PostgresBackend:
    def __init__(self, url: str) -> None:
        try:
            import psycopg
            from psycopg_pool import ConnectionPool
        except ImportError:
            raise LedgerError(
                "a postgresql:// ledger needs psycopg 3 and psycopg_pool: "
                "pip install 'fulfillmap[postgres]'"
            ) from None
        self.url = url
        self._display = _without_password(url)
        conninfo = url.replace("postgresql+psycopg://", "postgresql://", 1)

        def pool(**settings: str) -> ConnectionPool:
            return ConnectionPool(
                conninfo,
                min_size=1,
                max_size=POOL_SIZE,
                open=False,
                kwargs={"autocommit": True, **settings},
            )

        # durable: the server's synchronous_commit; quick (claims): without waiting for the disk
        self._durable = pool()
        self._quick = pool(options="-c synchronous_commit=off")
        try:
            for each in (self._durable, self._quick):
                each.open(wait=True, timeout=10)
        except (psycopg.Error, Exception) as exc:  # PoolTimeout says why it could not connect
            self.close()
            raise LedgerError(f"cannot connect to the ledger {self._display}: {exc}") from exc

    @contextmanager
    def transaction(self, *, durable: bool = True) -> Iterator[_Tx]:
        import psycopg

        try:
            pool = self._durable if durable else self._quick
            with pool.connection() as connection, connection.transaction():
                yield _Tx(connection.cursor())
        except psycopg.Error as exc:
            raise LedgerError(f"the ledger {self._display} failed: {exc}") from exc

    @contextmanager
    def migration(self) -> Iterator[_Tx]:
        with self.transaction() as tx:
            tx.run("SELECT pg_advisory_xact_lock(?)", (_MIGRATION_LOCK,))
            yield tx

    def close(self) -> None:
        self._durable.close()
        self._quick.close()


def _without_password(url: str) -> str:
    """``url`` safe to show in a message: the password replaced by ``***``."""
    scheme, sep, rest = url.partition("://")
    credentials, at, host = rest.rpartition("@")
    if not at or ":" not in credentials:
        return url
    user = credentials.split(":", 1)[0]
    return f"{scheme}{sep}{user}:***@{host}"
