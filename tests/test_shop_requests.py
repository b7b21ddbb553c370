"""The shop's own requests (cancellations and returns) and their events, through the ledger."""

from __future__ import annotations

import copy
import json
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import fulfillmap
import pytest
from fulfillmap import Engine, FulfillmapError, Ledger

REPO = Path(__file__).resolve().parent.parent
EXAMPLES = REPO / "examples"
ORDER = "278815640336"
FO = "5774321009"
WIDGETS = "183926740336"  # 2 widgets, fulfillment order item 650398674428
PHONE = "183926750336"  # 1 phone, 650398674429 (backordered in examples/backordered-event.json)
CABLES = "183926760336"  # 3 cables, 650398674430
OfficialSchema = Callable[[str], dict[str, Any]]


def example(name: str) -> dict[str, Any]:
    return json.loads((EXAMPLES / f"{name}.json").read_text(encoding="utf-8"))


CONTEXT = example("order.context")
CREATED = example("pending-event")["data"]["object"]  # the 201 to POST /fulfillment-orders


class Shop:
    """The caller's ``send``: remembers what it was asked; the 201 (``created``) of a create."""

    def __init__(self, created: Any = CREATED) -> None:
        self.sent: list[fulfillmap.Action] = []
        self.created = created

    def __call__(self, action: fulfillmap.Action) -> Any:
        self.sent.append(action)
        if action.action == "request" and action.path == "/fulfillment-orders":
            return copy.deepcopy(self.created)
        return {}

    def requests(self, path: str) -> list[dict[str, Any]]:
        return [a.body for a in self.sent if a.action == "request" and a.path == path]


@pytest.fixture
def engine(ledger_url: str) -> Iterator[Engine]:
    with Ledger.open(ledger_url) as ledger:
        yield Engine(ledger=ledger)


@pytest.fixture
def memory() -> Iterator[Engine]:
    with Ledger.open("memory:") as ledger:
        yield Engine(ledger=ledger)


def order_of(engine: Engine) -> fulfillmap.OrderRecord:
    assert engine._ledger is not None
    record = engine._ledger.order(ORDER)
    assert record is not None
    return record


def outcome_event(
    event_type: str,
    object_id: str,
    items: list[tuple[str, str | None, int, int | None]],
    **more: Any,
) -> dict[str, Any]:
    """A fulfillment_cancellation.* or fulfillment_return.* event: items are (fulfillment order
    item id, order line id or None, quantity, quantityAccepted or None)."""
    lines = []
    for fo_item, line, quantity, accepted in items:
        item: dict[str, Any] = {"fulfillmentOrderItemId": fo_item, "quantity": quantity}
        if line is not None:
            item["fulfillmentOrderItemUpstreamId"] = line
        if accepted is not None:
            item["quantityAccepted"] = accepted
        lines.append(item)
    obj = {"id": object_id, "fulfillmentOrderId": FO, "upstreamId": ORDER, "items": lines, **more}
    return {"id": f"evt_{event_type}_{object_id}", "type": event_type, "data": {"object": obj}}


def fo_event(event_type: str, event_id: str, **counters: dict[str, int]) -> dict[str, Any]:
    """The example fulfillment order event with per-line counters, e.g. cancelled={PHONE: 1}."""
    event = copy.deepcopy(example("cancelled-event"))
    event["id"], event["type"] = event_id, event_type
    for item in event["data"]["object"]["items"]:
        for name in ("backordered", "shipped", "cancelled", "returned"):
            item[name] = counters.get(name, {}).get(item["upstreamId"], 0)
        taken = sum(item[n] for n in ("backordered", "shipped", "cancelled", "returned"))
        item["pending"] = item["quantity"] - taken
    return event


def shipment(event_id: str, shipment_id: str, lines: dict[str, int]) -> dict[str, Any]:
    """The example shipped event carrying ``lines`` (order line -> units)."""
    event = copy.deepcopy(example("shipped-event"))
    event["id"] = event_id
    event["data"]["object"]["id"] = shipment_id
    fo_items = {WIDGETS: "650398674428", PHONE: "650398674429", CABLES: "650398674430"}
    event["data"]["object"]["items"] = [
        {
            "id": f"{shipment_id}-{n}",
            "fulfillmentOrderItemId": fo_items[line],
            "fulfillmentOrderItemUpstreamId": line,
            "quantity": quantity,
        }
        for n, (line, quantity) in enumerate(lines.items())
    ]
    return event


def valid(kit: Any, official_schema: OfficialSchema, component: str, body: Any) -> list[str]:
    errors: list[str] = kit.error_messages(kit.strict_validator(official_schema(component)), body)
    return errors


# -- the whole flow --------------------------------------------------------------------------


def test_one_order_end_to_end(
    engine: Engine, kit: Any, official_schema: OfficialSchema, ledger_url: str
) -> None:
    """accepted -> created (201 recorded) -> backordered -> the shop cancels the phone ->
    fulfillment_cancellation.accepted -> fulfillment_order.cancelled (its payment cancelled
    once) -> the rest shipped and captured -> a return of 1 widget, received back."""
    shop = Shop()
    assert engine.process_order(order(), shop, CONTEXT).status == "done"
    assert order_of(engine).fulfillment_order_id == FO  # from the 201 send returned
    assert order_of(engine).lines[PHONE].fulfillment_order_item_id == "650398674429"
    assert engine.process(example("backordered-event"), shop).status == "done"

    asked = engine.request_cancellation(
        ORDER, {PHONE: 1}, shop, reason="requested_by_customer", request_id="shop-cancel-1"
    )
    assert (asked.status, asked.reason) == ("done", None)
    assert asked.action is not None
    assert asked.action.action == "request"
    assert (asked.action.method, asked.action.path) == ("POST", "/fulfillment-cancellations")
    assert asked.action.idempotency_key == "shop-cancel-1"
    assert asked.action.body == {
        "upstreamId": ORDER,
        "fulfillmentOrderId": FO,
        "reason": "requested_by_customer",
        "items": [
            {
                "fulfillmentOrderItemId": "650398674429",
                "fulfillmentOrderItemUpstreamId": PHONE,
                "quantity": 1,
            }
        ],
    }
    component = "GlobalFulfillmentCancellationRequest"
    assert valid(kit, official_schema, component, asked.action.body) == []
    phone = order_of(engine).lines[PHONE]
    assert (phone.being_cancelled, phone.cancellable) == (1, 0)
    again = engine.request_cancellation(ORDER, {PHONE: 1}, shop, request_id="shop-cancel-1")
    assert (again.status, again.done_by) == ("duplicate", "shop-cancel-1")

    created = outcome_event(
        "fulfillment_cancellation.created", "fcn_1", [("650398674429", PHONE, 1, 0)]
    )
    accepted = outcome_event(
        "fulfillment_cancellation.accepted", "fcn_1", [("650398674429", PHONE, 1, 1)]
    )
    assert engine.process(created, shop).status == "done"
    assert engine.process(accepted, shop).status == "done"
    assert engine.process(accepted, shop).status == "duplicate"
    assert shop.requests("/fulfillments") == []  # accepted records; it cancels no payment

    cancelled = fo_event("fulfillment_order.cancelled", "evt_fo_cancelled", cancelled={PHONE: 1})
    paid = engine.process(cancelled, shop)
    assert paid.status == "done"
    assert shop.requests("/fulfillments") == [
        {"orderId": ORDER, "items": [{"itemId": PHONE, "cancelQuantity": 1}]}
    ]
    redelivered = {**cancelled, "id": "evt_fo_cancelled_again"}  # the same counters again
    assert engine.process(redelivered, shop).status == "ignored"
    phone = order_of(engine).lines[PHONE]
    assert (phone.cancelled, phone.being_cancelled, phone.cancellable) == (1, 0, 0)

    rest = shipment("evt_shipped", "29016544906", {WIDGETS: 2, CABLES: 3})
    assert engine.process(rest, shop).status == "done"
    late = engine.request_cancellation(ORDER, {CABLES: 1}, shop)
    assert late.status == "refused"
    assert late.reason is not None
    assert "only 0 can still be cancelled" in late.reason

    returned = engine.request_return(
        ORDER, {WIDGETS: 1}, shop, reason="requested_by_customer", request_id="shop-return-1"
    )
    assert returned.status == "done"
    assert returned.action is not None
    assert returned.action.action == "request"
    assert returned.action.path == "/fulfillment-returns"
    assert returned.action.body == {
        "upstreamId": ORDER,
        "fulfillmentOrderId": FO,
        "reason": "requested_by_customer",
        "items": [{"fulfillmentOrderItemId": "650398674428", "quantity": 1}],
    }
    assert valid(kit, official_schema, "GlobalFulfillmentReturnRequest", returned.action.body) == []
    back = outcome_event("fulfillment_return.accepted", "ret_1", [("650398674428", None, 1, 1)])
    assert engine.process(back, shop).status == "done"

    record = order_of(engine)
    widgets, phone, cables = (record.lines[line] for line in (WIDGETS, PHONE, CABLES))
    assert (widgets.captured, widgets.returned, widgets.being_returned) == (2, 1, 0)
    assert (widgets.returnable, cables.returnable, phone.returnable) == (1, 3, 0)
    assert (phone.captured, phone.cancelled, cables.captured) == (0, 1, 3)
    captures_and_cancels = shop.requests("/fulfillments")
    assert sum(i.get("cancelQuantity", 0) for b in captures_and_cancels for i in b["items"]) == 1
    assert [e.kind for e in record.effects] == [
        "create",
        "notify",
        "cancellation",
        "record",
        "record",
        "cancel",
        "capture",
        "return",
        "record",
    ]


def order() -> dict[str, Any]:
    return example("order-accepted-event")["data"]["object"]


def test_the_cancelled_event_before_the_accepted_one(memory: Engine) -> None:
    """Out of order: the counter settles the units being cancelled; accepted then cancels
    nothing more, and the units are not cancellable twice."""
    shop = Shop()
    memory.process_order(order(), shop, CONTEXT)
    memory.request_cancellation(ORDER, {CABLES: 2}, shop)
    memory.process(fo_event("fulfillment_order.cancelled", "c1", cancelled={CABLES: 2}), shop)
    accepted = outcome_event(
        "fulfillment_cancellation.accepted", "fcn_1", [("650398674430", CABLES, 2, 2)]
    )
    assert memory.process(accepted, shop).status == "done"
    cables = order_of(memory).lines[CABLES]
    assert (cables.cancelled, cables.being_cancelled, cables.cancellable) == (2, 0, 1)
    assert len(shop.requests("/fulfillments")) == 1


# -- recording the ids -------------------------------------------------------------------------


def test_record_fulfillment_order_and_its_pending_event_record_once(memory: Engine) -> None:
    shop = Shop(created={})  # the create's 201 body did not reach process
    memory.process_order(order(), shop, CONTEXT)
    refused = memory.request_cancellation(ORDER, {PHONE: 1}, shop)
    assert (refused.status, refused.retry) == ("refused", True)
    assert refused.reason == (
        f"cannot cancel for order {ORDER} yet: its fulfillment order id is not recorded; wait for "
        "the 201 response to POST /fulfillment-orders (Engine.process_order or "
        "record_fulfillment_order) or the fulfillment_order.pending event"
    )
    recorded = memory.record_fulfillment_order(CREATED)
    assert recorded.status == "done"
    assert memory.record_fulfillment_order(CREATED).status == "duplicate"
    assert memory.process(example("pending-event"), shop).status == "duplicate"
    assert order_of(memory).lines[CABLES].fulfillment_order_item_id == "650398674430"
    assert memory.request_cancellation(ORDER, {PHONE: 1}, shop).status == "done"


def test_record_fulfillment_order_refuses_what_is_not_one(memory: Engine) -> None:
    with pytest.raises(FulfillmapError, match="the fulfillment order has no id"):
        memory.record_fulfillment_order({"items": []})
    without_upstream = {key: value for key, value in CREATED.items() if key != "upstreamId"}
    outcome = memory.record_fulfillment_order(without_upstream)
    assert outcome.status == "failed"
    assert outcome.reason is not None
    assert "upstreamId" in outcome.reason


def test_a_line_whose_ids_are_not_recorded_yet(memory: Engine) -> None:
    partial = copy.deepcopy(CREATED)
    partial["items"] = [i for i in partial["items"] if i["upstreamId"] != CABLES]
    memory.process_order(order(), Shop(created=partial), CONTEXT)
    refused = memory.request_return(ORDER, {CABLES: 1}, Shop())
    assert (refused.status, refused.retry) == ("refused", True)
    assert refused.reason is not None
    assert refused.reason.startswith(
        f"cannot return line {CABLES} of order {ORDER} yet: its fulfillment order item id is "
        "not recorded; wait for the 201 response"
    )


# -- refusals: nothing sent --------------------------------------------------------------------


@pytest.fixture
def accepted_order(memory: Engine) -> Engine:
    memory.process_order(order(), Shop(), CONTEXT)
    return memory


@pytest.mark.parametrize(
    ("kind", "order_id", "lines", "reason"),
    [
        (
            "cancel",
            "999",
            {PHONE: 1},
            "cannot cancel: the ledger knows nothing of order 999 (its fulfillment order was not "
            "created through this ledger, or the order was pruned)",
        ),
        (
            "cancel",
            ORDER,
            {"nope": 1},
            f"cannot cancel: order {ORDER} has no line nope (its lines: {WIDGETS}, {PHONE}, "
            f"{CABLES})",
        ),
        (
            "cancel",
            ORDER,
            {PHONE: 0},
            f"cannot cancel line {PHONE} of order {ORDER}: the quantity must be above 0, not 0",
        ),
        (
            "return",
            ORDER,
            {WIDGETS: -1},
            f"cannot return line {WIDGETS} of order {ORDER}: the quantity must be above 0, not -1",
        ),
        (
            "cancel",
            ORDER,
            {WIDGETS: 1, CABLES: 4},
            f"cannot cancel 4 of line {CABLES} of order {ORDER}: only 3 can still be cancelled "
            "(ordered 3: 0 shipped, 0 cancelled, 0 being cancelled); only pending and "
            "backordered units may be cancelled",
        ),
        (
            "return",
            ORDER,
            {WIDGETS: 1},
            f"cannot return 1 of line {WIDGETS} of order {ORDER}: only 0 can still be returned "
            "(0 shipped: 0 returned, 0 being returned); only shipped units not yet returned may "
            "be returned",
        ),
    ],
)
def test_refusals_name_the_order_or_line_and_send_nothing(
    accepted_order: Engine, kind: str, order_id: str, lines: dict[str, int], reason: str
) -> None:
    shop = Shop()
    ask = accepted_order.request_cancellation if kind == "cancel" else accepted_order.request_return
    outcome = ask(order_id, lines, shop)
    assert (outcome.status, outcome.reason, outcome.retry) == ("refused", reason, False)
    assert (outcome.action, shop.sent) == (None, [])
    assert [e.kind for e in order_of(accepted_order).effects] == ["create"]


def test_over_return_counts_what_is_being_returned(accepted_order: Engine) -> None:
    shop = Shop()
    accepted_order.process(shipment("s", "sh1", {CABLES: 3}), shop)
    assert accepted_order.request_return(ORDER, {CABLES: 2}, shop).status == "done"
    refused = accepted_order.request_return(ORDER, {CABLES: 2}, shop)
    assert refused.status == "refused"
    assert refused.reason is not None
    assert (
        "only 1 can still be returned (3 shipped: 0 returned, 2 being returned)" in refused.reason
    )
    assert accepted_order.request_return(ORDER, {CABLES: 1}, shop).status == "done"


@pytest.mark.parametrize(
    ("lines", "message"),
    [
        ({}, "give at least one order line id and its quantity"),
        ({PHONE: "1"}, f"the quantity of line {PHONE} must be a whole number"),
        ({PHONE: True}, f"the quantity of line {PHONE} must be a whole number"),
        ({"": 1}, "an order line id must be text"),
    ],
)
def test_requests_of_the_wrong_types(
    accepted_order: Engine, lines: dict[str, Any], message: str
) -> None:
    with pytest.raises(FulfillmapError, match=message):
        accepted_order.request_cancellation(ORDER, lines, Shop())
    with pytest.raises(FulfillmapError, match="the order id must be text"):
        accepted_order.request_cancellation(42, {PHONE: 1}, Shop())  # type: ignore[arg-type]
    with pytest.raises(FulfillmapError, match="the reason must be text"):
        accepted_order.request_return(ORDER, {PHONE: 1}, Shop(), reason="")


def test_without_a_ledger() -> None:
    with pytest.raises(FulfillmapError, match="this Engine has no ledger"):
        Engine().request_cancellation(ORDER, {PHONE: 1}, Shop())


# -- what became of them -----------------------------------------------------------------------


def test_a_rejection_notifies_and_frees_the_units(accepted_order: Engine) -> None:
    shop = Shop()
    accepted_order.request_cancellation(ORDER, {CABLES: 2}, shop)
    rejected = outcome_event(
        "fulfillment_cancellation.rejected",
        "fcn_9",
        [("650398674430", CABLES, 2, 0)],
        state="rejected",
    )
    outcome = accepted_order.process(rejected, shop)
    assert outcome.status == "done"
    assert outcome.action is not None
    assert outcome.action.action == "notify"
    assert outcome.action.body == {
        "event": "fulfillment_cancellation.rejected",
        "id": "fcn_9",
        "orderId": ORDER,
        "fulfillmentOrderId": FO,
        "state": "rejected",
        "items": [
            {
                "itemId": CABLES,
                "fulfillmentOrderItemId": "650398674430",
                "quantity": 2,
                "quantityAccepted": 0,
            }
        ],
    }
    cables = order_of(accepted_order).lines[CABLES]
    assert (cables.being_cancelled, cables.cancellable) == (0, 3)


def test_a_partial_acceptance_frees_the_refused_units(accepted_order: Engine) -> None:
    shop = Shop()
    accepted_order.request_cancellation(ORDER, {CABLES: 3}, shop)
    partly = outcome_event(
        "fulfillment_cancellation.accepted", "fcn_2", [("650398674430", CABLES, 3, 1)]
    )
    accepted_order.process(partly, shop)
    cables = order_of(accepted_order).lines[CABLES]
    assert (cables.being_cancelled, cables.cancellable) == (1, 2)
    effect = order_of(accepted_order).effects[-1]
    assert (effect.lines[CABLES].requested, effect.lines[CABLES].accepted) == (3, 1)


def test_a_rejected_return_frees_the_units(accepted_order: Engine) -> None:
    shop = Shop()
    accepted_order.process(shipment("s", "sh1", {WIDGETS: 2}), shop)
    accepted_order.request_return(ORDER, {WIDGETS: 2}, shop)
    approved = outcome_event("fulfillment_return.pending", "ret_7", [("650398674428", None, 2, 0)])
    assert accepted_order.process(approved, shop).status == "done"
    assert order_of(accepted_order).lines[WIDGETS].being_returned == 2
    rejected = outcome_event("fulfillment_return.rejected", "ret_7", [("650398674428", None, 2, 0)])
    outcome = accepted_order.process(rejected, shop)
    assert outcome.action is not None
    assert outcome.action.action == "notify"
    widgets = order_of(accepted_order).lines[WIDGETS]
    assert (widgets.being_returned, widgets.returned, widgets.returnable) == (0, 0, 2)


def test_events_of_an_order_the_ledger_does_not_know_are_ignored(memory: Engine) -> None:
    event = outcome_event("fulfillment_cancellation.accepted", "fcn_1", [("1", "2", 1, 1)])
    event["data"]["object"]["upstreamId"] = "999"
    outcome = memory.process(event, Shop())
    assert outcome.status == "ignored"
    assert outcome.reason == "an order the ledger does not know: not asked for through it"
    del event["data"]["object"]["upstreamId"]  # a cancellation made outside fulfillmap
    assert memory.process(event, Shop()).status == "ignored"


def test_malformed_outcome_events(accepted_order: Engine) -> None:
    with pytest.raises(fulfillmap.EventError, match=r"has no data\.object"):
        accepted_order.process(
            {"id": "e", "type": "fulfillment_return.accepted", "data": {}}, Shop()
        )
    event = outcome_event("fulfillment_return.accepted", "ret_1", [("650398674428", None, 1, 1)])
    del event["data"]["object"]["items"][0]["quantity"]
    outcome = accepted_order.process(event, Shop())
    assert outcome.status == "failed"
    assert outcome.reason is not None
    assert "items[0].quantity" in outcome.reason


def test_handle_without_a_ledger_routes_the_outcome_events() -> None:
    engine = Engine()
    event = outcome_event(
        "fulfillment_cancellation.rejected", "fcn_1", [("650398674429", PHONE, 1, 0)]
    )
    action = engine.handle(event)
    assert (action.action, action.mapping, action.idempotency_key) == (
        "notify",
        "outcome-event-to-record",
        "fcn_1",
    )


# -- the schema ---------------------------------------------------------------------------------


def test_a_version_1_ledger_is_migrated_with_its_data(tmp_path: Path) -> None:
    from fulfillmap.events._ledger import MIGRATIONS

    url = f"sqlite:///{tmp_path}/ledger.db"
    with Ledger.open(url, migrate=False) as ledger, ledger.transaction() as tx:
        tx.run("CREATE TABLE fulfillmap_version (version INTEGER NOT NULL)")
        for statement in MIGRATIONS[0]:
            tx.run(statement)
        tx.run("INSERT INTO fulfillmap_version (version) VALUES (1)")
        tx.run("INSERT INTO fulfillmap_orders VALUES ('o', 'fo', 0, 0)")
        tx.run(
            "INSERT INTO fulfillmap_lines (order_id, line_id, quantity, captured) VALUES ('o', 'l', 3, 1)"
        )
    with Ledger.open(url, migrate=False) as ledger:
        assert ledger.migrate() == (1, 2)
        record = ledger.order("o")
    assert record is not None
    line = record.lines["l"]
    assert (line.being_cancelled, line.being_returned, line.cancellable, line.returnable) == (
        0,
        0,
        2,
        1,
    )
