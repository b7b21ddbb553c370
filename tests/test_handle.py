"""Engine.handle: routing, the Action contract, envelopes, rules, and integrator overrides."""

from __future__ import annotations

import copy
import dataclasses
import json
import pickle
import textwrap
from pathlib import Path
from typing import Any

import fulfillmap
import pytest
from fulfillmap import Action, Engine, EventError, MappingError, SpecError

REPO = Path(__file__).resolve().parent.parent
EXAMPLES = REPO / "examples"
GOLDEN = REPO / "tests" / "golden"


def _json(path: Path) -> Any:
    return json.loads(path.read_text(encoding="utf-8"))


def _example(name: str) -> dict[str, Any]:
    event: dict[str, Any] = _json(EXAMPLES / f"{name}.json")
    return event


@pytest.fixture(scope="module")
def engine() -> Engine:
    return Engine()


# -- the lifecycle ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("example", "action", "request_line", "mapping", "golden"),
    [
        (
            "order-accepted-event",
            "request",
            "POST /fulfillment-orders",
            "order-to-fulfillment-order",
            "order-to-fulfillment-order/e1-us-domestic",
        ),
        (
            "pending-event",
            "record",
            None,
            "pending-event-to-record",
            "pending-event-to-record/e2-pending",
        ),
        (
            "backordered-event",
            "notify",
            None,
            "backordered-event-to-notification",
            "backordered-event-to-notification/e3-backordered",
        ),
        (
            "shipped-event",
            "request",
            "POST /fulfillments",
            "shipped-event-to-fulfillment",
            "shipped-event-to-fulfillment/e5-partial-shipment",
        ),
        (
            "cancelled-event",
            "request",
            "POST /fulfillments",
            "cancelled-event-to-fulfillment",
            "cancelled-event-to-fulfillment/e4-partial-cancel",
        ),
    ],
)
def test_every_lifecycle_event(
    engine: Engine,
    example: str,
    action: str,
    request_line: str | None,
    mapping: str,
    golden: str,
) -> None:
    event = _example(example)
    context = _json(EXAMPLES / "order.context.json")
    handled = engine.handle(event, context)
    assert handled.action == action
    method, path = request_line.split(" ") if request_line else (None, None)
    assert (handled.method, handled.path) == (method, path)
    assert handled.mapping == mapping
    assert (handled.event_id, handled.event_type) == (event["id"], event["type"])
    assert handled.body == _json(GOLDEN / f"{golden}.expected.json")
    assert handled.warnings == ()


def test_captures_are_keyed_by_shipment_and_the_rest_by_event(engine: Engine) -> None:
    shipped = engine.handle(_example("shipped-event"))
    assert shipped.idempotency_key == "29016544906"
    cancelled = _example("cancelled-event")
    assert engine.handle(cancelled).idempotency_key == cancelled["id"]


def test_a_shipment_delivered_twice_has_one_key(engine: Engine) -> None:
    first = _example("shipped-event")
    again = copy.deepcopy(first)
    again["id"] = "evt_11111111-2222-4333-8444-555555555555"
    assert engine.handle(first).idempotency_key == engine.handle(again).idempotency_key


def test_handle_does_not_change_the_event(engine: Engine) -> None:
    event = _example("order-accepted-event")
    before = copy.deepcopy(event)
    engine.handle(event)
    assert event == before


# -- the Action contract ------------------------------------------------------------------------

CONTRACT_KEYS = {
    "action",
    "method",
    "path",
    "body",
    "mapping",
    "event",
    "idempotencyKey",
    "warnings",
    "reason",
}


def test_action_json_contract(engine: Engine) -> None:
    handled = engine.handle(_example("shipped-event")).to_json()
    assert set(handled) == CONTRACT_KEYS
    assert handled["action"] == "request"
    assert (handled["method"], handled["path"]) == ("POST", "/fulfillments")
    assert handled["event"] == {
        "id": "evt_d290f1ee-6c54-4b01-90e6-d701748f0851",
        "type": "fulfillment_order.shipped",
    }
    assert handled["idempotencyKey"] == "29016544906"
    assert (handled["warnings"], handled["reason"]) == ([], None)
    assert json.loads(json.dumps(handled)) == handled


def test_ignore_action_json(engine: Engine) -> None:
    event = {"id": "e-1", "type": "order.complete", "data": {"object": {"id": "1"}}}
    handled = engine.handle(event).to_json()
    assert handled == {
        "action": "ignore",
        "method": None,
        "path": None,
        "body": None,
        "mapping": None,
        "event": {"id": "e-1", "type": "order.complete"},
        "idempotencyKey": "e-1",
        "warnings": [],
        "reason": "no route for event type 'order.complete'",
    }


def test_action_is_immutable(engine: Engine) -> None:
    handled = engine.handle(_example("pending-event"))
    with pytest.raises(dataclasses.FrozenInstanceError):
        handled.action = "ignore"  # type: ignore[misc]
    with pytest.raises(dataclasses.FrozenInstanceError):
        engine.directory = "elsewhere"  # type: ignore[misc]


def test_order_without_ship_to_is_ignored_by_its_route(engine: Engine) -> None:
    event = _example("order-accepted-event")
    del event["data"]["object"]["shipTo"]
    handled = engine.handle(event)
    assert handled.action == "ignore"
    assert handled.mapping is None
    assert handled.body is None
    assert handled.reason is not None
    assert "digital goods only" in handled.reason


# -- envelopes (G10, G16) ------------------------------------------------------------------------


def test_envelope_drift_is_tolerated(engine: Engine) -> None:
    event = _example("pending-event")
    event.pop("digitalriverVersion")
    event["digitalRiverVersion"] = "2021-12-13"
    event["webhookIds"] = ["498f81d7-988e-45ad-9d06-9577f51de5ea"]
    event["pendingWebhooks"] = 1
    event["data"].pop("previousAttributes")
    event["id"] = "b1d7a3e2-0c6f-4a8e-9f21-7e3c5d9a8b10"
    assert engine.handle(event).action == "record"


def test_numeric_event_id_becomes_text(engine: Engine) -> None:
    event = {"id": 42, "type": "order.complete", "data": {"object": {}}}
    handled = engine.handle(event)
    assert (handled.event_id, handled.idempotency_key) == ("42", "42")


@pytest.mark.parametrize(
    ("event", "data_path", "message"),
    [
        ([], None, "an event is a JSON object, not an array"),
        ({"id": "e", "data": {"object": {}}}, "type", "the event has no type"),
        ({"id": "e", "type": 7, "data": {"object": {}}}, "type", "has a number as type"),
        ({"id": "e", "type": "", "data": {"object": {}}}, "type", "has empty text as type"),
        ({"type": "a.b", "data": {"object": {}}}, "id", "the a.b event has no id"),
        ({"id": True, "type": "a.b", "data": {"object": {}}}, "id", "a boolean as id"),
        ({"id": "e", "type": "a.b"}, "data", "the a.b event e has no data"),
        ({"id": "e", "type": "a.b", "data": []}, "data", "an array as data"),
        ({"id": "e", "type": "a.b", "data": {}}, "data.object", "has no data.object"),
        (
            {"id": "e", "type": "a.b", "data": {"object": None}},
            "data.object",
            "null as data.object",
        ),
        (
            {"id": "e", "type": "a.b", "data": {"object": [1]}},
            "data.object",
            "an array as data.object",
        ),
    ],
)
def test_malformed_envelope(
    engine: Engine, event: Any, data_path: str | None, message: str
) -> None:
    with pytest.raises(EventError, match="malformed event") as caught:
        engine.handle(event)
    assert caught.value.data_path == data_path
    assert message in str(caught.value)


def test_event_error_is_a_mapping_error_and_pickles(engine: Engine) -> None:
    with pytest.raises(MappingError) as caught:
        engine.handle({"id": "e", "type": "a.b", "data": {}})
    copied = pickle.loads(pickle.dumps(caught.value))
    assert isinstance(copied, EventError)
    assert str(copied) == str(caught.value)


# -- errors and rules, with paths in the event ---------------------------------------------------


def test_mapping_error_paths_are_paths_in_the_event(engine: Engine) -> None:
    event = _example("order-accepted-event")
    del event["data"]["object"]["items"][1]["tax"]
    with pytest.raises(MappingError) as caught:
        engine.handle(event)
    assert caught.value.field == "items[1].tax.amount"
    assert caught.value.data_path == "data.object.items[1].tax.amount"


def test_warn_rule_is_reported_and_the_body_produced(engine: Engine) -> None:
    event = _example("pending-event")
    event["data"]["object"]["items"][2]["pending"] = 2  # 2 + 0 + ... != 3
    handled = engine.handle(event)
    assert handled.body == _json(GOLDEN / "pending-event-to-record/e2-pending.expected.json")
    [warning] = handled.to_json()["warnings"]
    assert warning["rule"] == "line-counters-add-up"
    assert warning["severity"] == "warn"
    assert warning["dataPath"] == "data.object.items[2]"
    assert "do not add up" in warning["message"]
    assert warning["location"].endswith("pending-event-to-record.yaml:32:5")


MISSING = object()


def _lines(example: str, *changes: tuple[int, str, Any]) -> dict[str, Any]:
    """An example event with ``data.object.items[line][key] = value`` for each change."""
    event = _example(example)
    for line, key, value in changes:
        item = event["data"]["object"]["items"][line]
        if value is MISSING:
            del item[key]
        else:
            item[key] = value
    return event


#: the example's cancelled line 0 as fully cancelled too, so that the event cancels two lines
_LINE_0_CANCELLED = ((0, "pending", 0), (0, "cancelled", 2))
_CANCEL_LINE_0 = [{"itemId": "183926740336", "cancelQuantity": 2}]
_CANCEL_LINE_2 = [{"itemId": "183926760336", "cancelQuantity": 1}]
_CAPTURE_LINE_0 = [{"itemId": "183926740336", "shipmentItemId": "8760948870", "quantity": 2}]
_CAPTURE_LINE_1 = [{"itemId": "183926750336", "shipmentItemId": "8760948871", "quantity": 1}]

#: a problem on one line: (event, the warnings as (rule, data path), the lines still acted on)
LINE_PROBLEMS = {
    "cancel: another line's counters do not add up": (
        _lines("cancelled-event", (0, "pending", 1)),
        [("line-counters-add-up", "data.object.items[0]")],
        _CANCEL_LINE_2,
    ),
    "cancel: another line lacks returned (counted as 0)": (
        _lines("cancelled-event", (0, "returned", MISSING)),
        [],
        _CANCEL_LINE_2,
    ),
    "cancel: the cancelled line's counters do not add up": (
        _lines("cancelled-event", *_LINE_0_CANCELLED, (2, "cancelled", 2)),
        [("line-counters-add-up", "data.object.items[2]")],
        _CANCEL_LINE_0,
    ),
    "cancel: a cancelled line without upstream id": (
        _lines("cancelled-event", *_LINE_0_CANCELLED, (2, "upstreamId", MISSING)),
        [("cancelled-lines-have-upstream-ids", "data.object.items[2]")],
        _CANCEL_LINE_0,
    ),
    "cancel: a fractional cancelled count": (
        _lines("cancelled-event", *_LINE_0_CANCELLED, (2, "cancelled", 0.5), (2, "pending", 2.5)),
        [
            ("line-counters-add-up", "data.object.items[2]"),
            ("cancelled-counts-are-whole", "data.object.items[2]"),
        ],
        _CANCEL_LINE_0,
    ),
    # a count below 0 lets the cancelled count pass the quantity though the counters add up
    "cancel: a count below 0 and a cancelled count above the quantity": (
        _lines("cancelled-event", *_LINE_0_CANCELLED, (2, "pending", -3), (2, "cancelled", 6)),
        [("line-counters-add-up", "data.object.items[2]")],
        _CANCEL_LINE_0,
    ),
    **{
        f"cancel: another line's {key} is {value!r}": (
            _lines("cancelled-event", (0, key, value)),
            [("line-counters-add-up", "data.object.items[0]")]
            + (
                [("cancelled-counts-are-whole", "data.object.items[0]")]
                if key == "cancelled"
                else []
            ),
            _CANCEL_LINE_2,
        )
        for key, value in (
            ("pending", "1"),
            ("pending", True),
            ("returned", [0]),
            ("cancelled", "0"),
        )
    },
    **{
        f"capture: a line with upstream id {value!r}": (
            _lines("shipped-event", (0, "fulfillmentOrderItemUpstreamId", value)),
            [("lines-have-upstream-ids", "data.object.items[0]")],
            _CAPTURE_LINE_1,
        )
        for value in (None, "", MISSING)
    },
    "capture: a line without id": (
        _lines("shipped-event", (1, "id", MISSING)),
        [("lines-have-shipment-item-ids", "data.object.items[1]")],
        _CAPTURE_LINE_0,
    ),
    **{
        f"capture: a line with quantity {value!r}": (
            _lines("shipped-event", (1, "quantity", value)),
            [("quantities-are-positive", "data.object.items[1]")],
            _CAPTURE_LINE_0,
        )
        for value in (0, -1, 0.0, 1.5, "1", MISSING)
    },
}


@pytest.mark.parametrize("case", LINE_PROBLEMS.values(), ids=list(LINE_PROBLEMS))
def test_a_problem_on_one_line_leaves_out_that_line_only(
    engine: Engine, case: tuple[Any, ...]
) -> None:
    event, warnings, lines = case
    handled = engine.handle(event)
    assert handled.action == "request"
    assert handled.body is not None
    assert handled.body["items"] == lines
    assert [(w.rule, w.data_path) for w in handled.warnings] == warnings


def test_an_event_s_own_ledger_is_dropped(engine: Engine) -> None:
    """A line's ``ledger`` is the ledger's alone (``Engine.process``): one the event brings
    (a ``ledger.cancelled`` of -5 would cancel 6 of 3 units) is not read."""
    event = _lines("cancelled-event", (2, "ledger", {"cancelled": -5}), (0, "ledger", "x"))
    event["ledger"] = {"fulfillmentOrderId": "forged"}
    before = copy.deepcopy(event)
    handled = engine.handle(event)
    assert handled.body is not None
    assert handled.body["items"] == _CANCEL_LINE_2
    assert handled.warnings == ()
    assert event == before  # the caller's event is left as it was
    assert fulfillmap.events._handler.without_ledger(_example("cancelled-event")) == _example(
        "cancelled-event"
    )


def test_backordered_above_ordered_is_notified_with_a_warning(engine: Engine) -> None:
    event = _lines("backordered-event", (0, "backordered", 2), (0, "quantity", 2))
    handled = engine.handle(event)
    assert handled.body is not None
    assert handled.body["items"][0]["backordered"] == 2
    assert [w.rule for w in handled.warnings] == ["backordered-within-ordered"]


#: nothing left to act on: (event, rule, words in the message)
NOTHING_TO_DO = {
    "cancel: the only cancelled line has no upstream id": (
        _lines("cancelled-event", (2, "upstreamId", MISSING)),
        "some-line-is-cancelled",
        "no line of the event can be cancelled",
    ),
    "capture: no line has an upstream id": (
        _lines(
            "shipped-event",
            (0, "fulfillmentOrderItemUpstreamId", None),
            (1, "fulfillmentOrderItemUpstreamId", None),
        ),
        "some-line-is-captured",
        "no line of the shipment can be captured",
    ),
    "backordered total above ordered": (
        _lines("backordered-event", (0, "totalBackordered", 2)),
        "some-line-is-backordered",
        "no line is left to notify",
    ),
    "no backordered line": (
        _lines("backordered-event", (0, "backordered", 0)),
        "some-line-is-backordered",
        "no line is left to notify",
    ),
}


@pytest.mark.parametrize("case", NOTHING_TO_DO.values(), ids=list(NOTHING_TO_DO))
def test_an_event_with_nothing_left_to_do_is_refused(engine: Engine, case: tuple[Any, ...]) -> None:
    event, rule, words = case
    with pytest.raises(MappingError, match=words) as caught:
        engine.handle(event)
    assert caught.value.rule == rule


def test_uncancelled_line_needs_no_upstream_id(engine: Engine) -> None:
    event = _example("cancelled-event")
    del event["data"]["object"]["items"][0]["upstreamId"]
    assert engine.handle(event).body == {
        "orderId": "278815640336",
        "items": [{"itemId": "183926760336", "cancelQuantity": 1}],
    }


def test_backordered_total_may_be_absent(engine: Engine) -> None:
    event = _example("backordered-event")
    del event["data"]["object"]["items"][0]["totalBackordered"]
    body = engine.handle(event).body
    assert body is not None
    assert "totalBackordered" not in body["items"][0]


# -- the shipment's tracking -------------------------------------------------------------------


def test_tracking_from_the_shipped_event(engine: Engine) -> None:
    shipment = _example("shipped-event")["data"]["object"]
    body = engine.mapping("shipment-to-tracking").apply(shipment)
    assert body == _json(GOLDEN / "shipment-to-tracking/e5-shipment.expected.json")


def test_unknown_mapping_name(engine: Engine) -> None:
    with pytest.raises(fulfillmap.FulfillmapError, match="no mapping named 'tracking'"):
        engine.mapping("tracking")


# -- an integrator's directory -------------------------------------------------------------------


def _write(directory: Path, name: str, text: str) -> Path:
    path = directory / name
    path.write_text(textwrap.dedent(text), encoding="utf-8")
    return path


def _shipped_mapping(name: str) -> str:
    return (REPO / "mappings" / f"{name}.yaml").read_text(encoding="utf-8")


def test_integrator_mapping_overrides_shipped_by_name(tmp_path: Path) -> None:
    text = _shipped_mapping("pending-event-to-record").replace(
        "schema: fulfillmap:fulfillment-order-record.schema.json", "schema: record.json"
    )
    text = text.replace(
        "      inventoryItemId:\n        from: inventoryItemId\n        required: true\n", ""
    )
    _write(tmp_path, "my-record.yaml", text)
    record = json.loads((REPO / "schemas" / "fulfillment-order-record.schema.json").read_text())
    del record["properties"]["items"]["items"]["properties"]["inventoryItemId"]
    record["properties"]["items"]["items"]["required"].remove("inventoryItemId")
    (tmp_path / "record.json").write_text(json.dumps(record))
    engine = Engine(tmp_path)
    body = engine.handle(_example("pending-event")).body
    assert body is not None
    assert body["items"][0] == {
        "fulfillmentOrderItemId": "650398674428",
        "upstreamId": "183926740336",
    }
    assert engine.mapping("pending-event-to-record").spec.file == str(tmp_path / "my-record.yaml")
    assert engine.handle(_example("shipped-event")).action == "request"  # shipped ones still there


def test_integrator_routes_override_by_event_type(tmp_path: Path) -> None:
    _write(
        tmp_path,
        "routes.yaml",
        """\
        routes:
          fulfillment_order.pending:
            action: ignore
            description: the orchestrated model keeps the ids for us
          fulfillment_order.shipped:
            - when: data.object.trackingNumber
              mapping: shipment-to-tracking
              input: data.object
              action: notify
              key: data.object.id
          order.complete:
            action: record
            mapping: pending-event-to-record
        """,
    )
    engine = Engine(tmp_path)
    pending = engine.handle(_example("pending-event"))
    assert (pending.action, pending.reason) == (
        "ignore",
        "the orchestrated model keeps the ids for us",
    )
    shipped = engine.handle(_example("shipped-event"))
    assert (shipped.action, shipped.mapping) == ("notify", "shipment-to-tracking")
    assert shipped.idempotency_key == "29016544906"
    untracked = _example("shipped-event")
    untracked["data"]["object"]["trackingNumber"] = None
    ignored = engine.handle(untracked)
    assert ignored.action == "ignore"
    assert ignored.reason is not None
    assert "every route's condition is false" in ignored.reason
    assert engine.handle(_example("cancelled-event")).action == "request"  # shipped route kept


def test_target_schema_guards_an_edited_cancel_mapping(tmp_path: Path) -> None:
    text = _shipped_mapping("cancelled-event-to-fulfillment")
    start = text.index("    where: >-\n")
    end = text.index("    required: true\n", start)
    _write(tmp_path, "cancel-all-lines.yaml", text[:start] + text[end:])
    with pytest.raises(MappingError, match="expected a number at least 1, not 0") as caught:
        Engine(tmp_path).handle(_example("cancelled-event"))
    assert caught.value.field == "items[0].cancelQuantity"


def test_route_expressions_that_cannot_be_evaluated(tmp_path: Path) -> None:
    _write(
        tmp_path,
        "routes.yaml",
        """\
        routes:
          fulfillment_order.pending:
            when: length(data.object.id) > `0`
            mapping: pending-event-to-record
            action: record
          fulfillment_order.shipped:
            mapping: shipped-event-to-fulfillment
            request: POST /fulfillments
            key: data.object.items
        """,
    )
    engine = Engine(tmp_path)
    with pytest.raises(EventError, match="condition `length") as caught:
        engine.handle(_example("pending-event"))
    assert caught.value.location == f"{tmp_path / 'routes.yaml'}:2:3"
    with pytest.raises(EventError, match=r"idempotency key `data\.object\.items` is an array"):
        engine.handle(_example("shipped-event"))


def test_invalid_directory_reports_every_problem(tmp_path: Path) -> None:
    _write(tmp_path, "a.yaml", _shipped_mapping("shipment-to-tracking"))
    _write(tmp_path, "b.yaml", _shipped_mapping("shipment-to-tracking"))
    _write(tmp_path, "broken.yaml", "name: broken\nsource: {}\n")
    _write(
        tmp_path,
        "routes.yaml",
        """\
        routes:
          order.complete:
            mapping: shipment-to-trakcing
            action: notify
        """,
    )
    with pytest.raises(SpecError) as caught:
        Engine(tmp_path)
    text = str(caught.value)
    assert (
        f"{tmp_path / 'b.yaml'}:2:1: another mapping is already named 'shipment-to-tracking'"
        in text
    )
    assert f"{tmp_path / 'broken.yaml'}:" in text
    (tmp_path / "b.yaml").unlink()
    (tmp_path / "broken.yaml").unlink()
    with pytest.raises(SpecError) as caught:
        Engine(tmp_path)
    [problem] = caught.value.problems
    assert (problem.file, problem.line) == (str(tmp_path / "routes.yaml"), 3)
    assert "no mapping named 'shipment-to-trakcing' (did you mean 'shipment-to-tracking'?)" in str(
        problem
    )


def test_missing_directory(tmp_path: Path) -> None:
    with pytest.raises(fulfillmap.FulfillmapError, match="does not exist"):
        Engine(tmp_path / "nowhere")


def test_action_is_exported() -> None:
    assert fulfillmap.Action is Action
    assert {"Action", "Engine", "EventError"} <= set(fulfillmap.__all__)
