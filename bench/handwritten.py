"""The baseline: each shipped mapping written by hand, as a careful developer would.

Same output as the mapping on valid input (missing and null values skipped, fallbacks,
copies without nulls, ``upper``, integer quantities, the plugins' fields) and the same
checks as the mapping's ``error`` rules; no error reporting beyond a plain ``ValueError``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any


def _clean(value: Any) -> Any:
    """A deep copy without null-valued keys."""
    if isinstance(value, dict):
        return {key: _clean(item) for key, item in value.items() if item is not None}
    if isinstance(value, list):
        return [_clean(item) for item in value]
    return value


def order_to_fulfillment_order(order: dict[str, Any], context: Mapping[str, Any]) -> dict[str, Any]:
    ship_to = order.get("shipTo") or {}
    bill_to = order.get("billTo") or {}
    body: dict[str, Any] = {}
    if order.get("id") is not None:
        body["upstreamId"] = order["id"]
    body["currency"] = order["currency"].upper()
    if order.get("locale") is not None:
        body["locale"] = order["locale"]
    body["upstreamOrderTime"] = order["createdTime"]
    if order.get("checkoutId") is not None:
        body["reservationId"] = order["checkoutId"]
    for key in ("name", "email", "phone"):
        value = ship_to.get(key)
        if value is None:
            value = bill_to.get(key)
        if value is not None:
            body[key] = value
    body["shipTo"] = _clean(ship_to)
    choice: dict[str, Any] = {"id": order["shippingChoice"]["serviceLevel"]}
    if order.get("importerOfRecordTax") is True:
        choice["dutiesPaid"] = True
    quote = context.get("shippingQuote")
    if quote and quote.get("signatureRequiredType") is not None:
        choice["signatureRequiredType"] = quote["signatureRequiredType"]
    body["shippingChoice"] = choice
    items = []
    for item in order["items"]:
        line: dict[str, Any] = {}
        if item.get("id") is not None:
            line["upstreamId"] = item["id"]
        line["inventoryItemId"] = item["skuId"]
        line["quantity"] = item["quantity"]
        if item.get("amount") is not None:
            line["total"] = item["amount"]
        line["tax"] = {"amount": item["tax"]["amount"]}
        items.append(line)
    body["items"] = items
    return body


def shipped_event_to_fulfillment(
    event: dict[str, Any], context: Mapping[str, Any]
) -> dict[str, Any]:
    shipment = event["data"]["object"]
    body: dict[str, Any] = {
        "orderId": shipment["fulfillmentOrderUpstreamId"],
        "shipmentId": shipment["id"],
    }
    for key in ("trackingCompany", "trackingNumber", "trackingUrl"):
        if shipment.get(key) is not None:
            body[key] = shipment[key]
    if not all(item.get("fulfillmentOrderItemUpstreamId") for item in shipment["items"]):
        raise ValueError("a shipment line has no fulfillmentOrderItemUpstreamId")
    body["items"] = [
        {
            "itemId": item["fulfillmentOrderItemUpstreamId"],
            "shipmentItemId": item["id"],
            "quantity": int(item["quantity"]),
        }
        for item in shipment["items"]
    ]
    if not all(item["quantity"] > 0 for item in body["items"]):
        raise ValueError("a capture line must have a quantity above 0")
    return body


def cancelled_event_to_fulfillment(
    event: dict[str, Any], context: Mapping[str, Any]
) -> dict[str, Any]:
    order = event["data"]["object"]
    counters = ("pending", "backordered", "shipped", "cancelled", "returned")
    for item in order["items"]:
        if sum(item[counter] for counter in counters) != item["quantity"]:
            raise ValueError("the line's counts do not add up to its quantity")
        if item["cancelled"] > 0 and not item.get("upstreamId"):
            raise ValueError("the cancelled line has no upstreamId")
    return {
        "orderId": order["upstreamId"],
        "items": [
            {"itemId": item["upstreamId"], "cancelQuantity": item["cancelled"]}
            for item in order["items"]
            if item["cancelled"] > 0
        ],
    }


MAPPINGS = {
    "order-to-fulfillment-order": order_to_fulfillment_order,
    "shipped-event-to-fulfillment": shipped_event_to_fulfillment,
    "cancelled-event-to-fulfillment": cancelled_event_to_fulfillment,
}
