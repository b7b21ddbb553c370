"""``fulfillmap handle FILE --context FILE`` written by hand: the baseline process of the batch.

    python bench/handle.py EVENTS.jsonl CONTEXT.json > actions.jsonl

For each JSON Lines event of the three documented flows (``order.accepted``,
``fulfillment_order.shipped`` and ``.cancelled``): the envelope checks of ``Engine.handle``,
the shipped routes (``mappings/routes.yaml``), the hand-written mapping (bench/handwritten.py),
the target schema's validation with jsonschema-rs, the order mapping's ``warn`` rules, and the
Action as the same JSON line (orjson). A failed event is reported on standard error as
``LINE N: message`` and the rest goes on; the exit code is 1 if any failed. It imports neither
fulfillmap nor anything it would not need, as a service written by hand would not.

Not done here, and done by fulfillmap: rejecting a key given twice in one object, giving each
error its field, data path and mapping file line, and the warnings' mapping file lines.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import jsonschema_rs
import orjson
from handwritten import MAPPINGS, order_warnings

SCHEMAS = Path(__file__).resolve().parent.parent / "schemas"
NO_SHIP_TO = "the order has no shipTo (digital goods only), so there is nothing to fulfil"
#: the order mapping's warn rules: rule -> message
WARNINGS = {
    "order-has-id": (
        "the order has no id, so upstreamId is omitted and later events cannot be matched to it"
    ),
    "lines-have-ids": (
        "the line has no id, so its upstreamId is omitted and later events cannot be matched to it"
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
        False,
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
    warnings: list[dict[str, Any]] = []
    if name == "order-to-fulfillment-order":
        order = data["object"]
        if not order.get("shipTo"):
            return _ignore(event_id, event_type, NO_SHIP_TO)
        body = MAPPINGS[name](order, context)
        for rule, data_path in order_warnings(order):
            warning = {"rule": rule, "severity": "warn", "message": WARNINGS[rule]}
            warnings.append(warning | {"dataPath": data_path or None, "location": None})
    else:
        body = MAPPINGS[name](event, context)
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
        "warnings": warnings,
        "reason": None,
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


def main() -> int:
    events, context_file = sys.argv[1:3]
    context = orjson.loads(Path(context_file).read_bytes())
    write, failed = sys.stdout.buffer.write, 0
    with open(events, "rb") as stream:
        for number, line in enumerate(stream, 1):
            if not line.strip():
                continue
            try:
                write(orjson.dumps(action(orjson.loads(line), context)) + b"\n")
            except ValueError as exc:  # orjson's and jsonschema-rs's errors are ValueErrors
                failed += 1
                print(f"LINE {number}: {exc}", file=sys.stderr)
    sys.stdout.flush()
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
