"""``fulfillmap handle FILE --context FILE`` written by hand: the baseline process of the batch.

    python bench/handle.py EVENTS.jsonl CONTEXT.json [--decimal] > actions.jsonl

For each JSON Lines event of the three documented flows (``order.accepted``,
``fulfillment_order.shipped`` and ``.cancelled``): the envelope checks of ``Engine.handle``,
the shipped routes (``mappings/routes.yaml``: their conditions and idempotency keys), the
hand-written mapping (bench/handwritten.py, with its ``warn`` rules), the target schema's
validation with jsonschema-rs, and the Action as the same JSON line (orjson). A failed event
is reported on standard error as ``LINE N: message`` and the rest goes on; the exit code is 1
if any failed. It imports neither fulfillmap nor anything it would not need, as a service
written by hand would not.

Not done here, and done by fulfillmap: rejecting a key given twice in one object, giving each
error its field, data path and mapping file line, and the warnings' mapping file lines; and,
without ``--decimal``, reading amounts as ``Decimal`` (G3: orjson reads them as floats, which
keep what these events hold but not every amount's digits). With ``--decimal`` the events are
read as G3 says, by ``json`` with ``parse_float=Decimal``, and the amounts written back as
their digits (``orjson.Fragment``): the bench times it to show what that reading costs a
process written by hand.
"""

from __future__ import annotations

import json
import sys
from decimal import Decimal
from pathlib import Path
from typing import Any

import jsonschema_rs
import orjson
from handwritten import MAPPINGS, truthy, whole_number

SCHEMAS = Path(__file__).resolve().parent.parent / "schemas"
NO_SHIP_TO = "the order has no shipTo (digital goods only), so there is nothing to fulfil"
#: what JMESPath's ``<`` and ``>`` compare
NOTHING_CANCELLED = (
    "nothing newly cancelled: no line's cancelled count is above what was already cancelled "
    "(0, or through Engine.process the ledger's count)"
)
#: the mappings' warn rules: rule -> message
WARNINGS = {
    "shipping-quote-given": (
        "no shipping quote in the context (shippingQuote), so the signature requirement is not "
        "known and signatureRequiredType is not sent"
    ),
    "ship-to-keys-are-known": (
        "shipTo has keys a fulfillment order's shipTo does not define (it defines address, "
        "name, phone, email, organization and additionalAddressInfo); they are not sent"
    ),
    "ship-to-address-keys-are-known": (
        "shipTo.address has keys a fulfillment order's address does not define (it defines "
        "line1, line2, city, postalCode, state and country); they are not sent"
    ),
    "ship-to-additional-info-keys-are-known": (
        "shipTo.additionalAddressInfo has keys a fulfillment order's does not define (it "
        "defines neighborhood, division and phoneticName); they are not sent"
    ),
    "lines-have-upstream-ids": (
        "the shipment line has no fulfillmentOrderItemUpstreamId (text or a whole number), "
        "so it cannot be mapped back to an order line and is left out of the capture (the "
        "other lines are captured)"
    ),
    "lines-have-shipment-item-ids": (
        "the shipment line has no id (text or a whole number), so it cannot be captured as "
        "a shipment item and is left out of the capture (the other lines are captured)"
    ),
    "quantities-are-positive": (
        "the shipment line's quantity is not a whole number above 0, so it is left out of the "
        "capture (the other lines are captured)"
    ),
    "line-counters-add-up": (
        "the line's pending, backordered, shipped, cancelled and returned counts are not whole "
        "numbers of 0 or more that add up to its quantity (a cancelled line is left out of the "
        "cancel; the other lines are not affected)"
    ),
    "cancelled-lines-have-upstream-ids": (
        "the cancelled line has no upstreamId (text or a whole number), so it cannot be "
        "mapped back to an order line and is left out of the cancel (the other lines are "
        "not affected)"
    ),
    "cancelled-counts-are-whole": (
        "the line's cancelled count is not a whole number of 0 or more, so the line is left "
        "out of the cancel (the other lines are not affected)"
    ),
    "cancelled-counts-not-below-the-ledger": (
        "the line's cancelled count is below what the ledger already cancelled (an older event "
        "delivered late), so nothing more is cancelled for it (the other lines are not "
        "affected)"
    ),
}


def _validator(schema: str) -> Any:
    document = orjson.loads((SCHEMAS / schema).read_bytes())
    return jsonschema_rs.Draft7Validator(document, validate_formats=True)


#: event type -> (mapping, its target schema's validator, request path, key from data.object)
ROUTES = {
    "order.accepted": (
        "order-to-fulfillment-order",
        _validator("fulfillment-order-request.schema.json"),
        "/fulfillment-orders",
        True,
    ),
    "fulfillment_order.shipped": (
        "shipped-event-to-fulfillment",
        _validator("fulfillment-capture-request.schema.json"),
        "/fulfillments",
        True,
    ),
    "fulfillment_order.cancelled": (
        "cancelled-event-to-fulfillment",
        _validator("fulfillment-cancel-request.schema.json"),
        "/fulfillments",
        False,
    ),
}


def _id(value: Any) -> str | None:
    if value.__class__ is str:
        return value or None
    if value.__class__ is int:
        return str(value)
    return None


def action(event: Any, context: dict[str, Any]) -> dict[str, Any]:
    if event.__class__ is not dict:
        raise ValueError("an event is a JSON object")
    event = _without_ledger(event)
    event_type = event.get("type")
    event_id = _id(event.get("id"))
    if event_type.__class__ is not str or not event_type or event_id is None:
        raise ValueError("the event has no type or id")
    data = event.get("data")
    if data.__class__ is not dict or data.get("object").__class__ is not dict:
        raise ValueError("the event has no data.object")
    route = ROUTES.get(event_type)
    if route is None:
        return _ignore(event_id, event_type, f"no route for event type '{event_type}'")
    name, validator, path, key_from_object = route
    if name == "order-to-fulfillment-order":
        order = data["object"]
        if not truthy(order.get("shipTo")):
            return _ignore(event_id, event_type, NO_SHIP_TO)
        body, found = MAPPINGS[name](order, context)
        found = [(rule, at if at == "context" else _in_order(at)) for rule, at in found]
    elif name == "cancelled-event-to-fulfillment" and not _newly_cancelled(data["object"]):
        return _ignore(event_id, event_type, NOTHING_CANCELLED)
    else:
        body, found = MAPPINGS[name](event, context)
    validator.validate(body)
    key = _id(data["object"].get("id")) if key_from_object else event_id
    if key is None:
        raise ValueError("the idempotency key is not an id")
    return {
        "action": "request",
        "method": "POST",
        "path": path,
        "body": body,
        "mapping": name,
        "event": {"id": event_id, "type": event_type},
        "idempotencyKey": key,
        "warnings": [_warning(rule, at) for rule, at in found],
        "reason": None,
    }


def _newly_cancelled(order: dict[str, Any]) -> bool:
    """The route's condition, ``items[?!(whole_number(cancelled) <= (ledger.cancelled ||
    `0`)) && cancelled != `null`] || type(items) != 'array'``, on an event without ``ledger``
    (dropped first, as ``fulfillmap handle`` drops an event's own)."""
    items = order.get("items")
    if items.__class__ is not list:
        return True
    for item in items:
        if item.__class__ is not dict:
            continue
        cancelled = item.get("cancelled")
        if cancelled is None:
            continue
        whole = cancelled if cancelled.__class__ is int else whole_number(cancelled)
        if whole is None or whole > 0:
            return True
    return False


def _without_ledger(event: dict[str, Any]) -> dict[str, Any]:
    """``event`` without ``ledger`` at its top or on its lines, which only a ledger gives."""
    data = event.get("data")
    found = data.get("object") if data.__class__ is dict else None
    items = found.get("items") if found.__class__ is dict else None
    lines = items if items.__class__ is list else ()
    carried = [i for i, line in enumerate(lines) if line.__class__ is dict and "ledger" in line]
    if not carried and "ledger" not in event:
        return event
    event = {key: value for key, value in event.items() if key != "ledger"}
    if carried:
        lines = list(lines)
        for index in carried:
            lines[index] = {key: value for key, value in lines[index].items() if key != "ledger"}
        event["data"] = {**data, "object": {**found, "items": lines}}
    return event


def _in_order(data_path: str) -> str:
    """A data path in the order as a path in its event (the route's input is data.object)."""
    if not data_path:
        return "data.object"
    return f"data.object{data_path}" if data_path.startswith("[") else f"data.object.{data_path}"


def _warning(rule: str, data_path: str) -> dict[str, Any]:
    return {
        "rule": rule,
        "severity": "warn",
        "message": WARNINGS[rule],
        "dataPath": data_path or None,
        "location": None,
    }


def _ignore(event_id: str, event_type: str, reason: str) -> dict[str, Any]:
    return {
        "action": "ignore",
        "method": None,
        "path": None,
        "body": None,
        "mapping": None,
        "event": {"id": event_id, "type": event_type},
        "idempotencyKey": event_id,
        "warnings": [],
        "reason": reason,
    }


def _digits(value: Any) -> orjson.Fragment:
    """A Decimal amount as its digits (orjson writes no Decimal itself)."""
    if value.__class__ is Decimal and value.is_finite():
        return orjson.Fragment(str(value))
    raise TypeError(f"{value!r} is not JSON")


def main() -> int:
    events, context_file = sys.argv[1:3]
    decimal = sys.argv[3:] == ["--decimal"]
    decode = json.JSONDecoder(parse_float=Decimal).decode
    read = (lambda line: decode(line.decode())) if decimal else orjson.loads
    default = _digits if decimal else None
    context = orjson.loads(Path(context_file).read_bytes())
    write, failed = sys.stdout.buffer.write, 0
    with open(events, "rb") as stream:
        for number, line in enumerate(stream, 1):
            if not line.strip():
                continue
            try:
                write(orjson.dumps(action(read(line), context), default=default) + b"\n")
            except ValueError as exc:  # orjson's and jsonschema-rs's errors are ValueErrors
                failed += 1
                print(f"LINE {number}: {exc}", file=sys.stderr)
    sys.stdout.flush()
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
