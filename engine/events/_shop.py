"""The shop's own requests: cancel or return units of order lines, from the ids the ledger keeps.

    >>> engine.request_cancellation("278815640336", {"183926750336": 1}, send)  # doctest: +SKIP

A request becomes an event of type ``shop.cancellation_requested`` or ``shop.return_requested``
whose ``data.object`` is the shop's request (``id``, ``orderId``, ``reason``, ``items[]{itemId,
quantity}``). ``process`` handles it like any event: ``mappings/routes.yaml`` names the mapping
that builds the body (from the request, each item's ``ledger`` and ``context.ledger``) and the
key (the shop's request id). Before anything is built, under the order's claim, ``refusal``
checks the request against the ledger: nothing is sent for an unknown order or line, ids not
recorded yet, or a quantity that is not above 0 or above what is still cancellable (pending and
backordered units, DOC-CF) or returnable (shipped units not returned yet).
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal, TypeAlias

from fulfillmap.errors import FulfillmapError
from fulfillmap.events._ledger import LineRecord, OrderRecord
from fulfillmap.language._routes import SHOP_EVENT_TYPES

__all__ = ["SHOP_EVENTS", "RequestKind", "refusal", "shop_event"]

RequestKind: TypeAlias = Literal["cancellation", "return"]

#: where the ids come from, for "wait for ..."
_IDS_FROM = (
    "wait for the 201 response to POST /fulfillment-orders (Engine.process_order or "
    "record_fulfillment_order) or the fulfillment_order.pending event"
)


@dataclass(frozen=True, slots=True)
class _Kind:
    event_type: str
    verb: str  #: cancel, return
    done: str  #: cancelled, returned
    #: what may be asked, for the refusal
    allowed: str

    def limit(self, line: LineRecord) -> int | None:
        return line.cancellable if self.verb == "cancel" else line.returnable

    def counts(self, line: LineRecord) -> str:
        if self.verb == "cancel":
            return (
                f"ordered {line.quantity}: {line.captured} shipped, {line.cancelled} cancelled, "
                f"{line.being_cancelled} being cancelled"
            )
        return (
            f"{line.captured} shipped: {line.returned} returned, {line.being_returned} being "
            "returned"
        )


_KINDS: dict[str, _Kind] = {
    "cancellation": _Kind(
        SHOP_EVENT_TYPES[0],
        "cancel",
        "cancelled",
        "only pending and backordered units may be cancelled",
    ),
    "return": _Kind(
        SHOP_EVENT_TYPES[1],
        "return",
        "returned",
        "only shipped units not yet returned may be returned",
    ),
}
#: the event types of the shop's requests
SHOP_EVENTS = frozenset(SHOP_EVENT_TYPES)


def shop_event(
    kind: RequestKind,
    order_id: str,
    lines: Mapping[str, int],
    *,
    reason: str | None = None,
    request_id: str | None = None,
) -> dict[str, Any]:
    """The event a shop's request stands for; a FulfillmapError when its values are not of the
    right types (what the ledger would refuse is ``refusal``'s to say)."""
    what = f"request_{kind}"
    if not isinstance(order_id, str) or not order_id:
        raise FulfillmapError(f"{what}: the order id must be text, not {order_id!r}")
    if not isinstance(lines, Mapping) or not lines:
        raise FulfillmapError(f"{what}: give at least one order line id and its quantity")
    for line, quantity in lines.items():
        if not isinstance(line, str) or not line:
            raise FulfillmapError(f"{what}: an order line id must be text, not {line!r}")
        if not isinstance(quantity, int) or isinstance(quantity, bool):
            raise FulfillmapError(f"{what}: the quantity of line {line} must be a whole number")
    for name, value in (("reason", reason), ("request id", request_id)):
        if value is not None and (not isinstance(value, str) or not value):
            raise FulfillmapError(f"{what}: the {name} must be text, not {value!r}")
    request: dict[str, Any] = {
        "id": request_id or f"{kind}-{uuid.uuid4().hex}",
        "orderId": order_id,
        "items": [{"itemId": line, "quantity": quantity} for line, quantity in lines.items()],
    }
    if reason is not None:
        request["reason"] = reason
    return {"id": request["id"], "type": _KINDS[kind].event_type, "data": {"object": request}}


def refusal(event: dict[str, Any], state: OrderRecord) -> tuple[str, bool] | None:
    """Why the ledger refuses a shop's request, and whether asking again later may succeed
    (ids not recorded yet); None when it may be sent, or when ``event`` is not a request."""
    kind = next((k for k in _KINDS.values() if k.event_type == event["type"]), None)
    if kind is None:
        return None
    request = event["data"]["object"]
    order = request["orderId"]
    items = request["items"]
    for item in items:
        if item["quantity"] <= 0:
            return (
                f"cannot {kind.verb} line {item['itemId']} of order {order}: the quantity must "
                f"be above 0, not {item['quantity']}",
                False,
            )
    if not state.lines and state.fulfillment_order_id is None:
        return (
            f"cannot {kind.verb}: the ledger knows nothing of order {order} (its fulfillment "
            "order was not created through this ledger, or the order was pruned)",
            False,
        )
    if state.fulfillment_order_id is None:
        return (
            f"cannot {kind.verb} for order {order} yet: its fulfillment order id is not "
            f"recorded; {_IDS_FROM}",
            True,
        )
    for item in items:
        refused = _line_refusal(kind, order, item, state)
        if refused is not None:
            return refused
    return None


def _line_refusal(
    kind: _Kind, order: str, item: dict[str, Any], state: OrderRecord
) -> tuple[str, bool] | None:
    line_id, quantity = item["itemId"], item["quantity"]
    line = state.lines.get(line_id)
    if line is None:
        known = ", ".join(sorted(state.lines)) or "none recorded"
        return (
            f"cannot {kind.verb}: order {order} has no line {line_id} (its lines: {known})",
            False,
        )
    what = f"line {line_id} of order {order}"
    if line.fulfillment_order_item_id is None:
        return (
            f"cannot {kind.verb} {what} yet: its fulfillment order item id is not recorded; "
            f"{_IDS_FROM}",
            True,
        )
    limit = kind.limit(line)
    if limit is None:
        return (
            f"cannot {kind.verb} {what} yet: its ordered quantity is not known; {_IDS_FROM}",
            True,
        )
    if quantity > limit:
        return (
            f"cannot {kind.verb} {quantity} of {what}: only {limit} can still be {kind.done} "
            f"({kind.counts(line)}); {kind.allowed}",
            False,
        )
    return None
