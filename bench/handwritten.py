"""The baseline: each shipped mapping written by hand, in one careful pass, doing the same work.

Each function gives the mapping's output on every valid input and fails (``ValueError``)
wherever the mapping fails, checked by ``tests/test_bench_baselines.py`` on every golden input
and golden error:

- missing and null values are left out; ``[shipTo.x, billTo.x]`` falls back; ``shipTo`` is
  copied without null values; ``upper``; ``to_integer`` (``2.0`` -> ``2``, ``2.5`` refused);
- every required value absent is a failure (``currency``, ``createdTime``, ``shipTo``,
  ``shippingChoice.serviceLevel``, ``items``, each line's ``skuId``, ``quantity`` and
  ``tax.amount`` ...);
- the plugins' checks (``plugins/builtin.py``): ``importerOfRecordTax`` must be true, false
  or null; the context's ``shippingQuote`` must be an object whose ``id`` is the order's
  ``shippingChoice.serviceLevel`` and whose ``signatureRequiredType`` is standard or adult;
- the mappings' ``error`` rules, checked in the same loop that builds the lines.

The ``warn`` rules are left to the caller (``order_warnings``): ``apply`` drops their warnings,
``fulfillmap handle`` prints them. The messages are plain, without fulfillmap's details
(field, data path, mapping file line): that is the work fulfillmap does on failure only.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

_EMPTY: Mapping[str, Any] = {}
SIGNATURE_TYPES = ("standard", "adult")


def clean(value: Any) -> Any:
    """A deep copy without null-valued keys."""
    if value.__class__ is dict:
        return {key: clean(item) for key, item in value.items() if item is not None}
    if value.__class__ is list:
        return [clean(item) for item in value]
    return value


def order_to_fulfillment_order(order: dict[str, Any], context: Mapping[str, Any]) -> dict[str, Any]:
    ship_to = order.get("shipTo")
    bill_to = order.get("billTo") or _EMPTY
    if ship_to.__class__ is not dict:
        raise ValueError("shipTo is required and must be an object")
    body: dict[str, Any] = {}
    value = order.get("id")
    if value is not None:
        body["upstreamId"] = value
    currency = order.get("currency")
    if currency.__class__ is not str:
        raise ValueError("currency is required and must be text")
    body["currency"] = currency.upper()
    value = order.get("locale")
    if value is not None:
        body["locale"] = value
    value = order.get("createdTime")
    if value is None:
        raise ValueError("createdTime is required")
    body["upstreamOrderTime"] = value
    value = order.get("checkoutId")
    if value is not None:
        body["reservationId"] = value
    value = ship_to.get("name")
    if value is None:
        value = bill_to.get("name")
    if value is not None:
        body["name"] = value
    value = ship_to.get("email")
    if value is None:
        value = bill_to.get("email")
    if value is not None:
        body["email"] = value
    value = ship_to.get("phone")
    if value is None:
        value = bill_to.get("phone")
    if value is not None:
        body["phone"] = value
    body["shipTo"] = clean(ship_to)
    body["shippingChoice"] = _shipping_choice(order, context)
    items = order.get("items")
    if items.__class__ is not list:
        raise ValueError("items is required and must be an array")
    lines = []
    for item in items:
        if item.__class__ is not dict:
            raise ValueError("an order line must be an object")
        line: dict[str, Any] = {}
        value = item.get("id")
        if value is not None:
            line["upstreamId"] = value
        value = item.get("skuId")
        if value is None:
            raise ValueError("an order line's skuId is required")
        line["inventoryItemId"] = value
        value = item.get("quantity")
        if value is None:
            raise ValueError("an order line's quantity is required")
        line["quantity"] = value
        value = item.get("amount")
        if value is not None:
            line["total"] = value
        tax = item.get("tax")
        value = tax.get("amount") if tax.__class__ is dict else None
        if value is None:
            raise ValueError("an order line's tax.amount is required")
        line["tax"] = {"amount": value}
        lines.append(line)
    body["items"] = lines
    return body


def _shipping_choice(order: dict[str, Any], context: Mapping[str, Any]) -> dict[str, Any]:
    """``shippingChoice``, with the checks of the two plugins that compute its fields."""
    chosen = order.get("shippingChoice")
    level = chosen.get("serviceLevel") if chosen.__class__ is dict else None
    if level is None:
        raise ValueError("shippingChoice.serviceLevel is required")
    choice: dict[str, Any] = {"id": level}
    flag = order.get("importerOfRecordTax")
    if flag is True:
        choice["dutiesPaid"] = True
    elif flag is not None and flag is not False:
        raise ValueError(f"importerOfRecordTax must be true, false or null, not {flag!r}")
    quote = context.get("shippingQuote")
    if quote is not None:
        if not isinstance(quote, Mapping):
            raise ValueError("context.shippingQuote must be an object")
        quote_id = quote.get("id")
        if quote_id is not None and quote_id != level:
            raise ValueError(f"context.shippingQuote.id {quote_id!r} is not the order's quote")
        signature = quote.get("signatureRequiredType")
        if signature is not None:
            if signature not in SIGNATURE_TYPES:
                raise ValueError(f"signatureRequiredType {signature!r} is not standard or adult")
            choice["signatureRequiredType"] = signature
    return choice


def order_warnings(order: dict[str, Any]) -> list[tuple[str, str]]:
    """The order mapping's ``warn`` rules: (rule, data path) of each violation."""
    found = [] if order.get("id") is not None else [("order-has-id", "")]
    for index, item in enumerate(order["items"]):
        if item.get("id") is None:
            found.append(("lines-have-ids", f"items[{index}]"))
    return found


def _whole_number(value: Any, what: str) -> int:
    """``to_integer``: an int as it is, a whole float as an int; anything else is refused."""
    if value.__class__ is int:
        return value  # type: ignore[no-any-return]
    if value.__class__ is float and value.is_integer():
        return int(value)
    raise ValueError(f"{what} is required and must be a whole number, not {value!r}")


def shipped_event_to_fulfillment(
    event: dict[str, Any], context: Mapping[str, Any]
) -> dict[str, Any]:
    data = event.get("data")
    shipment = data.get("object") if data.__class__ is dict else None
    if shipment.__class__ is not dict:
        shipment = _EMPTY
    value = shipment.get("fulfillmentOrderUpstreamId")
    if value is None:
        raise ValueError("data.object.fulfillmentOrderUpstreamId is required")
    body: dict[str, Any] = {"orderId": value}
    value = shipment.get("id")
    if value is None:
        raise ValueError("data.object.id is required")
    body["shipmentId"] = value
    value = shipment.get("trackingCompany")
    if value is not None:
        body["trackingCompany"] = value
    value = shipment.get("trackingNumber")
    if value is not None:
        body["trackingNumber"] = value
    value = shipment.get("trackingUrl")
    if value is not None:
        body["trackingUrl"] = value
    items = shipment.get("items")
    if items.__class__ is not list:
        raise ValueError("data.object.items is required and must be an array")
    lines = []
    for item in items:
        if item.__class__ is not dict:
            raise ValueError("a shipment line must be an object")
        upstream_id = item.get("fulfillmentOrderItemUpstreamId")
        if not upstream_id:  # the rule's JMESPath truthiness, for the text the schema says
            raise ValueError("a shipment line has no fulfillmentOrderItemUpstreamId")
        line_id = item.get("id")
        if line_id is None:
            raise ValueError("a shipment line's id is required")
        quantity = _whole_number(item.get("quantity"), "a shipment line's quantity")
        if quantity <= 0:
            raise ValueError("a capture line must have a quantity above 0")
        lines.append({"itemId": upstream_id, "shipmentItemId": line_id, "quantity": quantity})
    body["items"] = lines
    return body


def cancelled_event_to_fulfillment(
    event: dict[str, Any], context: Mapping[str, Any]
) -> dict[str, Any]:
    data = event.get("data")
    order = data.get("object") if data.__class__ is dict else None
    if order.__class__ is not dict:
        order = _EMPTY
    order_id = order.get("upstreamId")
    if order_id is None:
        raise ValueError("data.object.upstreamId is required")
    items = order.get("items")
    if items.__class__ is not list:
        raise ValueError("data.object.items is required and must be an array")
    lines = []
    for item in items:
        try:
            cancelled = item["cancelled"]
            counted = item["pending"] + item["backordered"] + item["shipped"] + cancelled
            counted += item["returned"]
        except (KeyError, TypeError):
            raise ValueError("a line's counters must be numbers") from None
        if counted != item.get("quantity"):
            raise ValueError("the line's counts do not add up to its quantity")
        if cancelled == 0:
            continue
        upstream_id = item.get("upstreamId")
        if not upstream_id:  # the rule's JMESPath truthiness, for the text the schema says
            raise ValueError("the cancelled line has no upstreamId")
        quantity = _whole_number(cancelled, "a line's cancelled count")
        if quantity <= 0:
            raise ValueError("a cancel line must have a cancelQuantity above 0")
        lines.append({"itemId": upstream_id, "cancelQuantity": quantity})
    return {"orderId": order_id, "items": lines}


MAPPINGS = {
    "order-to-fulfillment-order": order_to_fulfillment_order,
    "shipped-event-to-fulfillment": shipped_event_to_fulfillment,
    "cancelled-event-to-fulfillment": cancelled_event_to_fulfillment,
}
