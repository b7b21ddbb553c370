"""The fulfillment ledger: the durable record of what was done for each order.

    >>> ledger = fulfillmap.Ledger.open("sqlite:///ledger.db")   # doctest: +SKIP
    >>> engine = fulfillmap.Engine(ledger=ledger)                # doctest: +SKIP

One schema, three backends chosen by URL: ``sqlite:///relative.db`` /
``sqlite:////absolute/path.db`` (the default: stdlib sqlite3, WAL, every commit durable),
``postgresql://…`` (psycopg 3 with a pool, the ``postgres`` extra: many workers on many
machines) and ``memory:`` (one process, for tests and examples).

What it stores (tables ``fulfillmap_*``): per order, the fulfillment order id; per order
line (the order item id, ``upstreamId``), its quantity, what was captured, cancelled and
returned, the units the shop asked to cancel or return that are not settled yet, and the
fulfillment order item and inventory item ids; every effect done (its key, the event that did
it, when, the body sent and the answer); per effect and line, the units it captured,
cancelled, returned, asked for or saw accepted; and the claims that serialise effects on a
fulfillment order.
Tables are created and migrated on open (versioned; ``fulfillmap ledger migrate URL``);
several workers opening a fresh ledger at once wait for each other.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from fulfillmap.events._ledger_backend import Backend, LedgerError, Transaction

__all__ = [
    "EffectRecord",
    "Ledger",
    "LedgerError",
    "LineEffect",
    "LineRecord",
    "OrderRecord",
    "open_ledger",
]


# -- the schema, by version -------------------------------------------------------------------

#: migration N brings a ledger from version N-1 to N; never edit one that was released
MIGRATIONS: tuple[tuple[str, ...], ...] = (
    (
        """CREATE TABLE fulfillmap_orders (
            order_id TEXT PRIMARY KEY,
            fulfillment_order_id TEXT,
            created_at DOUBLE PRECISION NOT NULL,
            updated_at DOUBLE PRECISION NOT NULL)""",
        """CREATE TABLE fulfillmap_lines (
            order_id TEXT NOT NULL,
            line_id TEXT NOT NULL,
            quantity INTEGER,
            captured INTEGER NOT NULL DEFAULT 0,
            cancelled INTEGER NOT NULL DEFAULT 0,
            returned INTEGER NOT NULL DEFAULT 0,
            fulfillment_order_item_id TEXT,
            inventory_item_id TEXT,
            PRIMARY KEY (order_id, line_id))""",
        """CREATE TABLE fulfillmap_effects (
            effect_key TEXT PRIMARY KEY,
            kind TEXT NOT NULL,
            order_id TEXT,
            event_id TEXT NOT NULL,
            event_type TEXT NOT NULL,
            done_at DOUBLE PRECISION NOT NULL,
            result TEXT NOT NULL,
            request TEXT,
            response TEXT)""",
        "CREATE INDEX fulfillmap_effects_order ON fulfillmap_effects (order_id)",
        """CREATE TABLE fulfillmap_line_effects (
            effect_key TEXT NOT NULL,
            order_id TEXT NOT NULL,
            line_id TEXT NOT NULL,
            captured INTEGER NOT NULL DEFAULT 0,
            cancelled INTEGER NOT NULL DEFAULT 0,
            returned INTEGER NOT NULL DEFAULT 0,
            cumulative INTEGER,
            PRIMARY KEY (effect_key, line_id))""",
        "CREATE INDEX fulfillmap_line_effects_order ON fulfillmap_line_effects (order_id)",
        """CREATE TABLE fulfillmap_claims (
            scope TEXT PRIMARY KEY,
            owner TEXT NOT NULL,
            expires_at DOUBLE PRECISION NOT NULL)""",
    ),
    (
        # the shop's own cancellation and return requests (POST /fulfillment-cancellations,
        # POST /fulfillment-returns): units asked for and not settled yet, per line
        "ALTER TABLE fulfillmap_lines ADD COLUMN being_cancelled INTEGER NOT NULL DEFAULT 0",
        "ALTER TABLE fulfillmap_lines ADD COLUMN being_returned INTEGER NOT NULL DEFAULT 0",
        # per effect and line: units asked for (a request, or the outcome event of one) and
        # units the fulfiller accepted (an outcome event)
        "ALTER TABLE fulfillmap_line_effects ADD COLUMN requested INTEGER NOT NULL DEFAULT 0",
        "ALTER TABLE fulfillmap_line_effects ADD COLUMN accepted INTEGER",
    ),
)
VERSION = len(MIGRATIONS)
_VERSION_TABLE = "CREATE TABLE IF NOT EXISTS fulfillmap_version (version INTEGER NOT NULL)"


# -- what the ledger tells ------------------------------------------------------------------


#: the columns of ``fulfillmap_lines`` that ``LineRecord`` holds, in its order
LINE_COLUMNS = (
    "line_id, quantity, captured, cancelled, returned, being_cancelled, being_returned, "
    "fulfillment_order_item_id, inventory_item_id"
)


@dataclass(frozen=True, slots=True)
class LineRecord:
    """One order line as the ledger knows it.

    ``captured`` counts the units shipped (each shipment is captured), ``cancelled`` the units
    whose payment was cancelled (the fulfillment order's cumulative counter, G13),
    ``returned`` the units the fulfiller accepted back. ``being_cancelled`` and
    ``being_returned`` are the units the shop asked to cancel or return
    (``Engine.request_cancellation``, ``request_return``) that are not settled yet: a
    cancellation's until the ``cancelled`` counter reaches them or the fulfiller refuses them,
    a return's until its ``fulfillment_return.accepted`` or ``.rejected``.
    """

    line_id: str
    quantity: int | None
    captured: int
    cancelled: int
    returned: int
    being_cancelled: int
    being_returned: int
    fulfillment_order_item_id: str | None
    inventory_item_id: str | None

    @property
    def cancellable(self) -> int | None:
        """Units that may still be cancelled: the pending and backordered ones (DOC-CF), less
        those already being cancelled; None while the ordered quantity is not known."""
        if self.quantity is None:
            return None
        return max(0, self.quantity - self.captured - self.cancelled - self.being_cancelled)

    @property
    def returnable(self) -> int:
        """Units that may still be returned: shipped, not returned nor being returned."""
        return max(0, self.captured - self.returned - self.being_returned)

    def to_json(self) -> dict[str, Any]:
        return {
            "quantity": self.quantity,
            "captured": self.captured,
            "cancelled": self.cancelled,
            "returned": self.returned,
            "beingCancelled": self.being_cancelled,
            "beingReturned": self.being_returned,
            "cancellable": self.cancellable,
            "returnable": self.returnable,
            "fulfillmentOrderItemId": self.fulfillment_order_item_id,
            "inventoryItemId": self.inventory_item_id,
        }


@dataclass(frozen=True, slots=True)
class LineEffect:
    """What one effect did to one line."""

    captured: int = 0
    cancelled: int = 0
    returned: int = 0
    #: the cancelled counter a payment cancel brought the line to (G13)
    cancelled_total: int | None = None
    #: units asked to cancel or return (a request, or the outcome event of one)
    requested: int = 0
    #: units the fulfiller accepted (an outcome event)
    accepted: int | None = None

    def to_json(self) -> dict[str, Any]:
        return {
            "captured": self.captured,
            "cancelled": self.cancelled,
            "returned": self.returned,
            "cancelledTotal": self.cancelled_total,
            "requested": self.requested,
            "accepted": self.accepted,
        }


@dataclass(frozen=True, slots=True)
class EffectRecord:
    """One effect done: what, by which event, when, and per line the units it moved."""

    key: str
    kind: str
    order_id: str | None
    event_id: str
    event_type: str
    done_at: float
    #: ``sent`` (Digital River accepted it) or ``already-done`` (it answered 409, G12)
    result: str
    request: Any
    response: Any
    #: line id -> what the effect did to that line
    lines: dict[str, LineEffect] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        return {
            "key": self.key,
            "kind": self.kind,
            "event": {"id": self.event_id, "type": self.event_type},
            "doneAt": iso(self.done_at),
            "result": self.result,
            "lines": {line: effect.to_json() for line, effect in self.lines.items()},
            "request": self.request,
            "response": self.response,
        }


@dataclass(frozen=True, slots=True)
class OrderRecord:
    """Everything the ledger holds about one order."""

    order_id: str
    fulfillment_order_id: str | None
    lines: dict[str, LineRecord]
    effects: tuple[EffectRecord, ...]

    def state(self) -> dict[str, Any]:
        """The ledger's state as mappings see it: ``context.ledger`` (see docs/effects.md)."""
        return {
            "orderId": self.order_id,
            "fulfillmentOrderId": self.fulfillment_order_id,
            "lines": {line_id: line.to_json() for line_id, line in self.lines.items()},
        }

    def to_json(self) -> dict[str, Any]:
        return {**self.state(), "effects": [effect.to_json() for effect in self.effects]}

    def lines_by_item(self) -> dict[str, str]:
        """Order line ids by fulfillment order item id (a return's events name only the latter)."""
        return {
            line.fulfillment_order_item_id: line_id
            for line_id, line in self.lines.items()
            if line.fulfillment_order_item_id is not None
        }


def iso(seconds: float) -> str:
    moment = datetime.fromtimestamp(seconds, UTC)
    return moment.isoformat(timespec="milliseconds").replace("+00:00", "Z")


# -- the ledger --------------------------------------------------------------------------------


class Ledger:
    """The durable record of what was done. Open with ``Ledger.open(url)``; thread-safe.

    ``Engine(ledger=...)`` uses it through ``process``; ``order(order_id)`` tells what was
    done for an order, ``prune`` forgets old orders, ``migrate`` brings the tables up to date.
    """

    def __init__(self, backend: Backend, *, migrate: bool = True) -> None:
        self._backend = backend
        if migrate:
            self.migrate()

    @staticmethod
    def open(url: str, *, migrate: bool = True) -> Ledger:
        """The ledger at ``url`` (``sqlite:///…``, ``postgresql://…`` or ``memory:``)."""
        return open_ledger(url, migrate=migrate)

    @property
    def url(self) -> str:
        return self._backend.url

    def __repr__(self) -> str:
        return f"Ledger({self.url!r})"

    def close(self) -> None:
        self._backend.close()

    def __enter__(self) -> Ledger:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- schema -----------------------------------------------------------------------

    def version(self) -> int:
        """The schema version of the ledger's tables (0: none yet)."""
        with self._backend.transaction() as tx:
            tx.run(_VERSION_TABLE)
            return _current_version(tx)

    def migrate(self) -> tuple[int, int]:
        """Bring the tables up to date; ``(version before, version after)``.

        Safe when several workers open a fresh ledger at once: migrations run one at a time
        and each re-reads the version first. A ledger newer than this fulfillmap is refused.
        """
        with self._backend.migration() as tx:
            tx.run(_VERSION_TABLE)
            before = _current_version(tx)
            if before > VERSION:
                raise LedgerError(
                    f"the ledger {self.url} has schema version {before}, newer than this "
                    f"fulfillmap knows ({VERSION}): upgrade fulfillmap"
                )
            for statements in MIGRATIONS[before:]:
                for statement in statements:
                    tx.run(statement)
            if before < VERSION:
                tx.run("DELETE FROM fulfillmap_version")
                tx.run("INSERT INTO fulfillmap_version (version) VALUES (?)", (VERSION,))
        return before, VERSION

    # -- reading ------------------------------------------------------------------------

    def order(self, order_id: str) -> OrderRecord | None:
        """What the ledger holds about ``order_id``; None when it knows nothing of it."""
        with self._backend.transaction() as tx:
            return read_order(tx, order_id)

    def orders(self) -> Iterator[str]:
        """The ids of every order in the ledger."""
        with self._backend.transaction() as tx:
            rows = tx.run("SELECT order_id FROM fulfillmap_orders ORDER BY order_id")
        return (str(row[0]) for row in rows)

    def effects(self) -> list[EffectRecord]:
        """Every effect recorded, oldest first (for audits and tests)."""
        with self._backend.transaction() as tx:
            keys = tx.run("SELECT effect_key FROM fulfillmap_effects ORDER BY done_at")
            return [_effect(tx, str(key)) for (key,) in keys]

    # -- pruning ------------------------------------------------------------------------

    def prune(self, older_than: float, *, now: float | None = None) -> int:
        """Forget orders untouched for ``older_than`` seconds; how many were forgotten.

        A pruned order's effects are forgotten too: an event of it delivered again after that
        would be sent again, so keep more than Digital River's redelivery window (days).
        """
        cutoff = (time.time() if now is None else now) - older_than
        with self._backend.transaction() as tx:
            old = "SELECT order_id FROM fulfillmap_orders WHERE updated_at < ?"
            for table in ("fulfillmap_line_effects", "fulfillmap_lines", "fulfillmap_effects"):
                tx.run(f"DELETE FROM {table} WHERE order_id IN ({old})", (cutoff,))
            tx.run(
                "DELETE FROM fulfillmap_effects WHERE order_id IS NULL AND done_at < ?", (cutoff,)
            )
            tx.run("DELETE FROM fulfillmap_claims WHERE expires_at < ?", (cutoff,))
            return tx.changed("DELETE FROM fulfillmap_orders WHERE updated_at < ?", (cutoff,))

    # -- what process() does (see _process) ---------------------------------------------

    def transaction(self, *, durable: bool = True) -> AbstractContextManager[Transaction]:
        """One write transaction (for ``process``; internal)."""
        return self._backend.transaction(durable=durable)


def _current_version(tx: Transaction) -> int:
    rows = tx.run("SELECT MAX(version) FROM fulfillmap_version")
    return int(rows[0][0] or 0) if rows else 0


def read_state(tx: Transaction, order_id: str) -> OrderRecord:
    """What ``process`` needs of an order, in two queries: its lines, and of its effects only
    those Digital River answered already done (not the whole history)."""
    columns = ", ".join(f"l.{column}" for column in LINE_COLUMNS.split(", "))
    rows = tx.run(
        f"SELECT o.fulfillment_order_id, {columns} "
        "FROM fulfillmap_orders o LEFT JOIN fulfillmap_lines l ON l.order_id = o.order_id "
        "WHERE o.order_id = ?",
        (order_id,),
    )
    if not rows:
        return OrderRecord(order_id, None, {}, ())
    lines = {str(row[1]): LineRecord(str(row[1]), *row[2:]) for row in rows if row[1] is not None}
    keys = tx.run(
        "SELECT effect_key FROM fulfillmap_effects WHERE order_id = ? "
        "AND result = 'already-done' ORDER BY done_at",
        (order_id,),
    )
    effects = tuple(_effect(tx, str(key)) for (key,) in keys)
    return OrderRecord(order_id, rows[0][0], lines, effects)


def read_order(tx: Transaction, order_id: str) -> OrderRecord | None:
    """Everything about the order, its whole history; None when the ledger has nothing."""
    orders = tx.run(
        "SELECT fulfillment_order_id FROM fulfillmap_orders WHERE order_id = ?", (order_id,)
    )
    lines = {
        str(row[0]): LineRecord(str(row[0]), *row[1:])
        for row in tx.run(
            f"SELECT {LINE_COLUMNS} FROM fulfillmap_lines WHERE order_id = ? ORDER BY line_id",
            (order_id,),
        )
    }
    if not orders and not lines:
        return None
    keys = tx.run(
        "SELECT effect_key FROM fulfillmap_effects WHERE order_id = ? ORDER BY done_at",
        (order_id,),
    )
    effects = tuple(_effect(tx, str(key)) for (key,) in keys)
    return OrderRecord(order_id, orders[0][0] if orders else None, lines, effects)


def _effect(tx: Transaction, key: str) -> EffectRecord:
    (row,) = tx.run(
        "SELECT kind, order_id, event_id, event_type, done_at, result, request, response "
        "FROM fulfillmap_effects WHERE effect_key = ?",
        (key,),
    )
    lines = {
        str(line): LineEffect(int(c), int(x), int(r), total, int(asked), accepted)
        for line, c, x, r, total, asked, accepted in tx.run(
            "SELECT line_id, captured, cancelled, returned, cumulative, requested, accepted "
            "FROM fulfillmap_line_effects WHERE effect_key = ? ORDER BY line_id",
            (key,),
        )
    }
    kind, order_id, event_id, event_type, done_at, result, request, response = row
    return EffectRecord(
        key,
        kind,
        order_id,
        event_id,
        event_type,
        float(done_at),
        result,
        _loads(request),
        _loads(response),
        lines,
    )


def _loads(text: str | None) -> Any:
    """What the ledger stored as JSON text, amounts with their digits (G3)."""
    return None if text is None else json.loads(text, parse_float=Decimal)


# -- opening by URL -----------------------------------------------------------------------------


def open_ledger(url: str, *, migrate: bool = True) -> Ledger:
    """The ledger at ``url``; a LedgerError saying why when it cannot be opened."""
    if url == "memory:":
        from fulfillmap.events._ledger_sqlite import SqliteBackend

        return Ledger(SqliteBackend(url, ":memory:"), migrate=migrate)
    if url.startswith("sqlite:"):
        from fulfillmap.events._ledger_sqlite import SqliteBackend, sqlite_path

        return Ledger(SqliteBackend(url, sqlite_path(url)), migrate=migrate)
    if url.startswith(("postgresql://", "postgres://", "postgresql+psycopg://")):
        from fulfillmap.events._ledger_postgres import PostgresBackend

        return Ledger(PostgresBackend(url), migrate=migrate)
    raise LedgerError(
        f"unknown ledger URL {url!r}: use sqlite:///relative.db, sqlite:////absolute/path.db, "
        "postgresql://user@host/database or memory:"
    )
