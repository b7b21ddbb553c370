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
    assert warning["location"].endswith("pending-event-to-record.yaml:14:5")


def _set(example: str, line: int, key: str, value: Any) -> dict[str, Any]:
    """An example event with ``data.object.items[line][key]`` set (deleted for MISSING)."""
    event = _example(example)
    item = event["data"]["object"]["items"][line]
    if value is MISSING:
        del item[key]
    else:
        item[key] = value
    return event


MISSING = object()

#: (event, rule, where: ("data_path" | "field", path), words in the message)
RULE_FAILURES = {
    "cancel counters do not add up": (
        _set("cancelled-event", 2, "cancelled", 2),  # 2 pending + 2 cancelled != 3
        "line-counters-add-up",
        ("data_path", "data.object.items[2]"),
        "do not add up",
    ),
    "cancel counter missing": (
        _set("cancelled-event", 0, "returned", MISSING),
        "line-counters-add-up",
        ("data_path", "data.object.items[0]"),
        "check failed to run",
    ),
    "cancelled line without upstream id": (
        _set("cancelled-event", 2, "upstreamId", MISSING),
        "cancelled-lines-have-upstream-ids",
        ("data_path", "data.object.items[2]"),
        "cannot be mapped back",
    ),
    **{
        f"shipped line with upstream id {value!r}": (
            _set("shipped-event", 0, "fulfillmentOrderItemUpstreamId", value),
            "lines-have-upstream-ids",
            ("data_path", "data.object.items[0]"),
            "cannot be mapped back",
        )
        for value in (None, "", MISSING)
    },
    **{
        f"capture quantity {value!r}": (
            _set("shipped-event", 1, "quantity", value),
            "quantities-are-positive",
            ("field", "items[1]"),
            "quantity above 0",
        )
        for value in (0, -1, 0.0)
    },
    "backordered total above ordered": (
        _set("backordered-event", 0, "totalBackordered", 2),
        "total-backordered-within-ordered",
        ("data_path", "data.object.items[0]"),
        "above the ordered quantity",
    ),
    "no backordered line": (
        _set("backordered-event", 0, "backordered", 0),
        "some-line-is-backordered",
        ("data_path", None),
        "nothing to notify",
    ),
}


@pytest.mark.parametrize("case", RULE_FAILURES.values(), ids=list(RULE_FAILURES))
def test_error_rule_stops_the_event(engine: Engine, case: tuple[Any, ...]) -> None:
    event, rule, (attribute, path), words = case
    with pytest.raises(MappingError, match=words) as caught:
        engine.handle(event)
    assert caught.value.rule == rule
    assert getattr(caught.value, attribute) == path


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


def test_result_rule_guards_an_edited_cancel_mapping(tmp_path: Path) -> None:
    text = _shipped_mapping("cancelled-event-to-fulfillment").replace(
        "    where: cancelled != (ledger.cancelled || `0`)\n", ""
    )
    _write(tmp_path, "cancel-all-lines.yaml", text)
    with pytest.raises(MappingError, match="cancelQuantity above 0") as caught:
        Engine(tmp_path).handle(_example("cancelled-event"))
    assert caught.value.rule == "quantities-are-positive"
    assert caught.value.field == "items[0]"


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
