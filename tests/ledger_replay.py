"""The ledger's proof: realistic order lifecycles, delivered as Digital River delivers them.

``lifecycles`` generates orders (partial shipments, partial cancels in several steps,
backorders, digital-only orders) as the webhook events Digital River would send; ``deliveries``
adds duplicates (some with a new event id, as a redelivered shipment has) and shuffles them;
``replay`` runs them through ``Engine.process`` in worker processes whose ``send`` fails at
random (those events are delivered again later); ``check`` asserts every invariant from what
was sent and from the ledger, and returns the counts. Used by tests/test_ledger_replay.py and
bench/ledger.py.
"""

from __future__ import annotations

import copy
import json
import multiprocessing
import queue
import random
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
EXAMPLES = REPO / "examples"


def _example(name: str) -> dict[str, Any]:
    return json.loads((EXAMPLES / f"{name}.json").read_text(encoding="utf-8"))


CONTEXT = _example("order.context")
_ACCEPTED, _PENDING = _example("order-accepted-event"), _example("pending-event")
_SHIPPED, _BACKORDERED = _example("shipped-event"), _example("backordered-event")


@dataclass
class Truth:
    """What Digital River knows at the end: what must have been sent, exactly once."""

    physical: set[str] = field(default_factory=set)
    digital: set[str] = field(default_factory=set)
    #: shipment id -> (order id, {line: units})
    shipments: dict[str, tuple[str, dict[str, int]]] = field(default_factory=dict)
    #: (order id, line) -> (quantity, final cumulative cancelled)
    lines: dict[tuple[str, str], tuple[int, int]] = field(default_factory=dict)
    cancel_events: int = 0
    backorder_events: int = 0


def fulfillment_order_id(order_id: str) -> int:
    return 5_000_000_000 + int(order_id[:8])


def _item_id(order_id: str, index: int) -> int:
    return 600_000_000_000 + int(order_id[:8]) * 10 + index


def lifecycles(orders: int, seed: int) -> tuple[list[dict[str, Any]], Truth]:
    """``orders`` orders' events, each order's in the order Digital River sends them."""
    rng = random.Random(seed)
    events: list[dict[str, Any]] = []
    truth = Truth()
    for number in range(orders):
        events += _order(rng, f"{number + 1:08d}0336", truth)
    return events, truth


def _order(rng: random.Random, order_id: str, truth: Truth) -> list[dict[str, Any]]:
    quantities = {f"{order_id}{k}": rng.randint(1, 5) for k in range(rng.randint(1, 4))}
    accepted = _accepted(order_id, quantities)
    if rng.random() < 0.1:  # digital goods only: no shipTo, nothing to fulfil
        del accepted["data"]["object"]["shipTo"]
        truth.digital.add(order_id)
        return [accepted]
    truth.physical.add(order_id)
    counters = {
        line: {"pending": q, "backordered": 0, "shipped": 0, "cancelled": 0}
        for line, q in quantities.items()
    }
    events = [accepted, _fo_event("fulfillment_order.pending", order_id, quantities, counters)]
    for step in range(rng.randint(2, 9)):
        open_lines = [line for line, c in counters.items() if c["pending"] + c["backordered"]]
        if not open_lines:
            break
        choice = rng.random()
        if choice < 0.15:
            line = rng.choice([x for x in open_lines if counters[x]["pending"]] or open_lines)
            units = counters[line]["pending"]
            if units:
                counters[line]["pending"] -= units
                counters[line]["backordered"] += units
                events.append(_backordered(order_id, line, quantities[line], counters[line]))
                truth.backorder_events += 1
        elif choice < 0.6:
            shipped: dict[str, int] = {}
            for line in rng.sample(open_lines, rng.randint(1, len(open_lines))):
                shipped[line] = _close(rng, counters[line], "shipped")
            shipment = f"{order_id}{step}"
            truth.shipments[shipment] = (order_id, shipped)
            events.append(_shipped(order_id, shipment, shipped))
        else:
            for line in rng.sample(open_lines, rng.randint(1, len(open_lines))):
                _close(rng, counters[line], "cancelled")
            events.append(_fo_event("fulfillment_order.cancelled", order_id, quantities, counters))
            truth.cancel_events += 1
    for line, quantity in quantities.items():
        truth.lines[(order_id, line)] = (quantity, counters[line]["cancelled"])
    for index, event in enumerate(events):
        event["id"] = f"evt_{order_id}_{index}"
    return events


def _close(rng: random.Random, c: dict[str, int], into: str) -> int:
    """Move some of a line's open units (backordered first, then pending) to ``into``
    (``shipped`` or ``cancelled``); how many."""
    units = rng.randint(1, c["pending"] + c["backordered"])
    from_backorder = min(units, c["backordered"])
    c["backordered"] -= from_backorder
    c["pending"] -= units - from_backorder
    c[into] += units
    return units


def _accepted(order_id: str, quantities: dict[str, int]) -> dict[str, Any]:
    event = copy.deepcopy(_ACCEPTED)
    order = event["data"]["object"]
    template = order["items"][0]
    order["id"] = order_id
    order["items"] = [
        {**template, "id": line, "skuId": f"sku_{line[-1]}", "quantity": q, "amount": 10.0 * q}
        for line, q in quantities.items()
    ]
    return event


def _fo_event(
    kind: str, order_id: str, quantities: dict[str, int], counters: dict[str, dict[str, int]]
) -> dict[str, Any]:
    event = copy.deepcopy(_PENDING)
    event["type"] = kind
    fo = event["data"]["object"]
    fo["id"], fo["upstreamId"] = fulfillment_order_id(order_id), order_id
    fo["items"] = [
        {
            "id": _item_id(order_id, index),
            "upstreamId": line,
            "inventoryItemId": f"sku_{line[-1]}",
            "quantity": quantities[line],
            **counters[line],
            "returned": 0,
            "state": "pending",
        }
        for index, line in enumerate(quantities)
    ]
    return event


def _backordered(order_id: str, line: str, quantity: int, c: dict[str, int]) -> dict[str, Any]:
    event = copy.deepcopy(_BACKORDERED)
    fo = event["data"]["object"]
    fo["id"], fo["upstreamId"] = fulfillment_order_id(order_id), order_id
    fo["items"] = [
        {
            **fo["items"][0],
            "id": _item_id(order_id, int(line[-1])),
            "upstreamId": line,
            "inventoryItemId": f"sku_{line[-1]}",
            "quantity": quantity,
            "ordered": quantity,
            **c,
            "totalBackordered": c["backordered"],
        }
    ]
    return event


def _shipped(order_id: str, shipment: str, units: dict[str, int]) -> dict[str, Any]:
    event = copy.deepcopy(_SHIPPED)
    obj = event["data"]["object"]
    template = obj["items"][0]
    obj["id"], obj["fulfillmentOrderUpstreamId"] = shipment, order_id
    obj["fulfillmentOrderId"] = str(fulfillment_order_id(order_id))
    obj["items"] = [
        {
            **template,
            "id": f"{shipment}{line[-1]}",
            "fulfillmentOrderItemId": str(_item_id(order_id, int(line[-1]))),
            "fulfillmentOrderItemUpstreamId": line,
            "inventoryItemId": f"sku_{line[-1]}",
            "quantity": q,
        }
        for line, q in units.items()
    ]
    return event


def deliveries(
    events: list[dict[str, Any]], seed: int, duplicates: float = 0.3
) -> list[dict[str, Any]]:
    """``events`` with ``duplicates`` of them delivered again, all shuffled (G11).

    Half of the redelivered shipments come with a new event id: the shipment id dedupes them.
    """
    rng = random.Random(seed)
    again = []
    for event in rng.sample(events, round(len(events) * duplicates)):
        copy_ = copy.deepcopy(event)
        if event["type"] == "fulfillment_order.shipped" and rng.random() < 0.5:
            copy_["id"] += "_redelivered"
        again.append(copy_)
    delivered = events + again
    rng.shuffle(delivered)
    return delivered


# -- the workers ------------------------------------------------------------------------------


def _response(action: Any) -> Any:
    """Digital River's 201 to a create: the fulfillment order with its ids."""
    if action.action == "request" and action.path == "/fulfillment-orders":
        order_id = action.body["upstreamId"]
        return {
            "id": fulfillment_order_id(order_id),
            "upstreamId": order_id,
            "items": [
                {"id": _item_id(order_id, int(item["upstreamId"][-1])), **item}
                for item in action.body["items"]
            ],
        }
    return {}


def _worker(
    url: str,
    events: Any,
    outstanding: Any,
    log: str,
    results: Any,
    seed: int,
    failure: float,
) -> None:
    import fulfillmap

    engine = fulfillmap.Engine(ledger=url)
    rng = random.Random(seed)
    statuses: Counter[str] = Counter()
    with open(log, "a", encoding="utf-8") as sent:

        def send(action: Any) -> Any:
            if rng.random() < failure:
                statuses["send raised"] += 1
                raise ConnectionError("simulated: Digital River did not answer")
            sent.write(json.dumps({"action": action.to_json()}) + "\n")
            sent.flush()
            return _response(action)

        while outstanding.value > 0:
            try:
                event = events.get(timeout=0.05)
            except queue.Empty:
                continue
            outcome = engine.process(event, send, CONTEXT)
            statuses[outcome.status] += 1
            if outcome.status == "busy" or outcome.retry:
                statuses["redelivered"] += 1
                events.put(event)  # Digital River delivers it again later
            else:
                if outcome.status == "failed":
                    statuses[f"failed for good: {outcome.reason}"] += 1
                with outstanding.get_lock():
                    outstanding.value -= 1
    results.put(dict(statuses))


def replay(
    url: str,
    delivered: list[dict[str, Any]],
    folder: Path,
    workers: int = 4,
    seed: int = 7,
    failure: float = 0.1,
) -> tuple[Counter[str], list[dict[str, Any]], float]:
    """Process ``delivered`` with ``workers`` processes; statuses, what was sent, seconds."""
    context = multiprocessing.get_context("fork")
    events = context.Queue()
    for event in delivered:
        events.put(event)
    outstanding = context.Value("i", len(delivered))
    results = context.Queue()
    logs = [folder / f"sent-{n}.jsonl" for n in range(workers)]
    started = time.perf_counter()
    processes = [
        context.Process(
            target=_worker,
            args=(url, events, outstanding, str(logs[n]), results, seed + n, failure),
        )
        for n in range(workers)
    ]
    for process in processes:
        process.start()
    statuses: Counter[str] = Counter()
    for _ in processes:
        statuses.update(results.get(timeout=600))
    for process in processes:
        process.join(timeout=60)
    elapsed = time.perf_counter() - started
    sent = [
        json.loads(line)["action"]
        for log in logs
        if log.exists()
        for line in log.read_text().splitlines()
    ]
    return statuses, sent, elapsed


# -- the invariants ------------------------------------------------------------------------------


def check(truth: Truth, sent: list[dict[str, Any]], url: str) -> dict[str, int]:
    """Assert every invariant; the counts."""
    import fulfillmap

    creates = Counter(a["body"]["upstreamId"] for a in sent if a["path"] == "/fulfillment-orders")
    assert set(creates) == truth.physical, "every order with goods has its fulfillment order"
    assert set(creates.values()) == {1}, (
        f"fulfillment orders created twice: {[o for o, n in creates.items() if n > 1]}"
    )
    captures = Counter(
        a["body"]["shipmentId"]
        for a in sent
        if a["path"] == "/fulfillments" and "shipmentId" in a["body"]
    )
    assert set(captures) == set(truth.shipments), "every shipment is captured"
    assert set(captures.values()) == {1}, (
        f"shipments captured twice: {[s for s, n in captures.items() if n > 1]}"
    )
    captured: Counter[tuple[str, str]] = Counter()
    cancelled: Counter[tuple[str, str]] = Counter()
    for action in sent:
        if action["path"] != "/fulfillments":
            continue
        order = action["body"]["orderId"]
        for item in action["body"]["items"]:
            captured[(order, item["itemId"])] += item.get("quantity", 0)
            cancelled[(order, item["itemId"])] += item.get("cancelQuantity", 0)
    for shipment, (order, units) in truth.shipments.items():
        for line, q in units.items():
            assert captured[(order, line)] >= q, (shipment, line)
    with fulfillmap.Ledger.open(url) as ledger:
        for (order, line), (quantity, final) in truth.lines.items():
            assert cancelled[(order, line)] == final, (
                f"line {line}: sent {cancelled[(order, line)]} cancelled, the counter ends at {final}"
            )
            assert captured[(order, line)] + cancelled[(order, line)] <= quantity, (
                f"line {line} above its quantity {quantity}"
            )
        for order in truth.physical:
            record = ledger.order(order)
            assert record is not None
            assert record.fulfillment_order_id == str(fulfillment_order_id(order))
            for line_id, line in record.lines.items():
                assert (line.captured, line.cancelled) == (
                    captured[(order, line_id)],
                    cancelled[(order, line_id)],
                )
    return {
        "orders": len(truth.physical) + len(truth.digital),
        "digital-only orders": len(truth.digital),
        "order lines": len(truth.lines),
        "shipments captured once": len(captures),
        "cancelled events": truth.cancel_events,
        "cancel requests sent": sum(
            1 for a in sent if a["path"] == "/fulfillments" and "shipmentId" not in a["body"]
        ),
        "units cancelled": sum(cancelled.values()),
        "backordered events": truth.backorder_events,
        "fulfillment orders created once": len(creates),
    }
