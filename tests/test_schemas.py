"""Our JSON Schemas, the example payloads and the golden files agree with each other."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from jsonschema.validators import validator_for

REPO = Path(__file__).resolve().parent.parent
SCHEMA_FILES = sorted((REPO / "schemas").glob("*.json"))
EXAMPLE_FILES = sorted((REPO / "examples").glob("*.json"))
# Schemas owned by the data side (mapping.schema.json belongs to the engine).
DATA_SCHEMAS = [
    "order.schema.json",
    "shipped-event.schema.json",
    "cancelled-event.schema.json",
    "fulfillment-order-request.schema.json",
    "fulfillment-capture-request.schema.json",
    "fulfillment-cancel-request.schema.json",
    "pending-event.schema.json",
    "backordered-event.schema.json",
    "shipment.schema.json",
    "fulfillment-order-record.schema.json",
    "backorder-notification.schema.json",
    "shipment-tracking.schema.json",
    "shop-request.schema.json",
    "fulfillment-cancellation-request.schema.json",
    "fulfillment-return-request.schema.json",
    "outcome-event.schema.json",
    "request-outcome.schema.json",
]
TARGET_SCHEMAS = [
    "fulfillment-order-request.schema.json",
    "fulfillment-capture-request.schema.json",
    "fulfillment-cancel-request.schema.json",
    "fulfillment-order-record.schema.json",
    "backorder-notification.schema.json",
    "shipment-tracking.schema.json",
    "fulfillment-cancellation-request.schema.json",
    "fulfillment-return-request.schema.json",
    "request-outcome.schema.json",
]


def _load(path: Path) -> Any:
    with path.open(encoding="utf-8") as handle:
        return json.load(handle)


@pytest.mark.parametrize("path", SCHEMA_FILES, ids=[p.name for p in SCHEMA_FILES])
def test_schema_is_valid(path: Path) -> None:
    schema = _load(path)
    validator_for(schema).check_schema(schema)


def test_data_schemas_exist() -> None:
    assert {p.name for p in SCHEMA_FILES} >= set(DATA_SCHEMAS)


@pytest.mark.parametrize("name", DATA_SCHEMAS)
def test_data_schema_header(kit: Any, name: str) -> None:
    schema = kit.load_schema(name)
    assert schema["$schema"] == "http://json-schema.org/draft-07/schema#"
    assert schema["$id"] == f"https://fulfillmap.dev/schemas/{name}"
    assert schema["title"]
    assert schema["description"]


@pytest.mark.parametrize("name", DATA_SCHEMAS)
def test_every_property_is_documented(kit: Any, name: str) -> None:
    root = kit.load_schema(name)
    undocumented = [
        f"{where}/properties/{prop}"
        for where, node in kit.walk_schemas(root)
        for prop, child in node.get("properties", {}).items()
        if not all(
            key in child or key in kit.resolve_local(root, child)
            for key in ("title", "description")
        )
    ]
    assert undocumented == []


@pytest.mark.parametrize("name", TARGET_SCHEMAS)
def test_target_schema_is_closed_and_null_free(kit: Any, name: str) -> None:
    """Every object with properties forbids others; no target value may be null."""
    root = kit.load_schema(name)
    problems: list[str] = []
    for where, node in kit.walk_schemas(root):
        if "properties" in node and node.get("additionalProperties") is not False:
            problems.append(f"{where}: additionalProperties is not false")
        types = node.get("type", [])
        if "null" in (types if isinstance(types, list) else [types]):
            problems.append(f"{where}: allows null")
        if None in node.get("enum", []):
            problems.append(f"{where}: enum allows null")
    assert problems == []


# --------------------------------------------------------------------------- golden files


def test_golden_layout(kit: Any) -> None:
    """Only known mappings; every case has an expected file, every error case an error file."""
    golden: Path = kit.golden_dir
    assert sorted(p.name for p in golden.iterdir() if p.is_dir()) == sorted(kit.mappings)
    stray: list[str] = []
    for path in sorted(golden.rglob("*.json")):
        case, _, kind = path.name.rpartition(".")[0].rpartition(".")
        in_errors = path.parent.name == "errors"
        allowed = {"input", "context", "error"} if in_errors else {"input", "context", "expected"}
        partner = "error" if in_errors else "expected"
        if kind not in allowed or not path.with_name(f"{case}.input.json").exists():
            stray.append(str(path.relative_to(golden)))
        elif kind == "input" and not path.with_name(f"{case}.{partner}.json").exists():
            stray.append(f"{path.relative_to(golden)} has no .{partner}.json")
    assert stray == []


def test_golden_cases_are_found(kit: Any) -> None:
    names = {case.id for case in kit.golden_cases()}
    assert {
        "order-to-fulfillment-order/e1-us-domestic",
        "order-to-fulfillment-order/e6-landed-cost",
        "order-to-fulfillment-order/billto-fallback",
        "order-to-fulfillment-order/sparse",
        "order-to-fulfillment-order/lowercase-currency",
        "order-to-fulfillment-order/empty-string-name-kept",
        "shipped-event-to-fulfillment/e5-partial-shipment",
        "shipped-event-to-fulfillment/no-tracking",
        "shipped-event-to-fulfillment/float-quantity",
        "shipped-event-to-fulfillment/digitalRiverVersion-envelope",
        "cancelled-event-to-fulfillment/e4-partial-cancel",
        "cancelled-event-to-fulfillment/full-cancel",
        "cancelled-event-to-fulfillment/numeric-ids",
        "cancellation-request-to-fulfillment-cancellation/backordered-phone",
        "return-request-to-fulfillment-return/one-shipped-widget",
        "outcome-event-to-record/cancellation-accepted",
        "outcome-event-to-record/return-accepted",
    } <= names
    assert len(kit.golden_errors()) >= 5


def test_golden_expected_matches_target_schema(kit: Any, golden_case: Any) -> None:
    validator = kit.strict_validator(kit.load_schema(golden_case.schemas.target))
    assert kit.error_messages(validator, golden_case.expected()) == []


def test_golden_input_matches_source_schema(kit: Any, golden_case: Any) -> None:
    validator = kit.source_validator(kit.load_schema(golden_case.schemas.source))
    assert kit.error_messages(validator, golden_case.input()) == []


def test_golden_context_shape(golden_case: Any) -> None:
    """A context only carries the persisted shipping quote (for signatureRequiredType),
    whether inventory was reserved (for reservationId), or the ledger's record of the order
    (the shop's requests: its fulfillmentOrderId)."""
    context = golden_case.context()
    assert set(context) <= {"shippingQuote", "inventoryReserved", "ledger"}
    assert context.get("inventoryReserved", False) in {True, False}
    assert set(context.get("ledger", {})) <= {"orderId", "fulfillmentOrderId", "lines"}
    quote = context.get("shippingQuote", {})
    assert quote.get("signatureRequiredType", "standard") in {"standard", "adult"}


def test_golden_error_file_shape(golden_error: Any) -> None:
    error = golden_error.error()
    needed = {"rule" if "rule" in error else "field", "data_path", "message_contains"}
    assert needed <= set(error) <= {"field", "data_path", "message_contains", "rule"}
    assert error["message_contains"] in {
        "required",
        "missing",
        "type",
        "expected an array, got text",
    }


def test_golden_error_input_is_rejected_at_data_path(kit: Any, golden_error: Any) -> None:
    """The source schema rejects every error input, at (or above) the documented data_path."""
    validator = kit.source_validator(kit.load_schema(golden_error.schemas.source))
    locations: list[str] = []
    for error in validator.iter_errors(golden_error.input()):
        where = kit.data_path(list(error.absolute_path))
        if error.validator == "required":
            missing = [name for name in error.validator_value if name not in error.instance]
            locations += [f"{where}.{name}" if where else name for name in missing]
        else:
            locations.append(where)
    expected = golden_error.error()["data_path"]
    assert locations, "the source schema accepts an input the mapping must reject"
    assert any(expected == loc or expected.startswith(f"{loc}.") for loc in locations), locations


# --------------------------------------------------------------------------- examples


def test_every_example_is_known(kit: Any) -> None:
    assert sorted(p.name for p in EXAMPLE_FILES) == sorted(kit.examples)


@pytest.mark.parametrize("path", EXAMPLE_FILES, ids=[p.name for p in EXAMPLE_FILES])
def test_example_is_pretty_printed(path: Path) -> None:
    text = path.read_text(encoding="utf-8")
    assert text == json.dumps(json.loads(text), indent=2, ensure_ascii=False) + "\n"


def test_every_example_matches_its_source_schema(kit: Any) -> None:
    """Examples with a schema in conftest.EXAMPLES validate against it (some have none yet)."""
    checked = 0
    for path in EXAMPLE_FILES:
        target = kit.examples[path.name]
        if target is None:
            continue
        schema_name, pointer = target
        validator = kit.source_validator(kit.load_schema(schema_name))
        assert kit.error_messages(validator, kit.json_pointer(_load(path), pointer)) == [], path
        checked += 1
    assert checked >= 4


def test_order_example_is_the_accepted_event_object(kit: Any) -> None:
    examples: Path = kit.examples_dir
    event = _load(examples / "order-accepted-event.json")
    assert event["type"] == "order.accepted"
    assert _load(examples / "order.json") == event["data"]["object"]


@pytest.mark.parametrize(
    ("name", "event_type"),
    [
        ("pending-event.json", "fulfillment_order.pending"),
        ("backordered-event.json", "fulfillment_order.backordered"),
        ("shipped-event.json", "fulfillment_order.shipped"),
        ("cancelled-event.json", "fulfillment_order.cancelled"),
    ],
)
def test_event_example_type(kit: Any, name: str, event_type: str) -> None:
    assert _load(kit.examples_dir / name)["type"] == event_type


# --------------------------------------------------------------------------- schemas bite


def _order(kit: Any) -> dict[str, Any]:
    order: dict[str, Any] = kit.load_json(kit.examples_dir / "order.json")
    return order


def test_order_schema_tolerates_odd_but_valid_shapes(kit: Any) -> None:
    order = _order(kit)
    order["newFieldFromDigitalRiver"] = {"anything": [1, 2]}
    order["importerOfRecordTax"] = None
    order["shipTo"]["address"] = {"line1": None, "city": None, "country": "US"}
    order["shipTo"]["phone"] = None
    order["items"][0]["importerTax"] = {}
    order["items"][0]["duties"] = {}
    order["items"][0]["extra"] = True
    validator = kit.source_validator(kit.load_schema("order.schema.json"))
    assert kit.error_messages(validator, order) == []


@pytest.mark.parametrize(
    ("mutate", "message"),
    [
        (lambda o: o.pop("createdTime"), "'createdTime' is a required property"),
        (lambda o: o["shipTo"]["address"].pop("country"), "'country' is a required property"),
        (lambda o: o["shippingChoice"].pop("serviceLevel"), "'serviceLevel' is a required"),
        (lambda o: o["items"][0].update(quantity=0), "less than the minimum of 1"),
        (lambda o: o["items"][0].update(skuId=17), "17 is not of type 'string'"),
        (lambda o: o.update(id=278815640336), "is not of type 'string'"),
        (lambda o: o.update(items=[]), "should be non-empty"),
    ],
)
def test_order_schema_rejects_unmappable_orders(kit: Any, mutate: Any, message: str) -> None:
    order = _order(kit)
    mutate(order)
    validator = kit.source_validator(kit.load_schema("order.schema.json"))
    assert any(message in m for m in kit.error_messages(validator, order))


def test_shipped_schema_accepts_integral_float_quantity_only(kit: Any) -> None:
    event: dict[str, Any] = kit.load_json(kit.examples_dir / "shipped-event.json")
    validator = kit.source_validator(kit.load_schema("shipped-event.schema.json"))
    event["data"]["object"]["items"][0]["quantity"] = 2.0
    assert kit.error_messages(validator, event) == []
    event["data"]["object"]["items"][0]["quantity"] = 1.5
    assert any("multiple of 1" in m for m in kit.error_messages(validator, event))


def test_cancelled_schema_needs_a_cancelled_line(kit: Any) -> None:
    event: dict[str, Any] = kit.load_json(kit.examples_dir / "cancelled-event.json")
    validator = kit.source_validator(kit.load_schema("cancelled-event.schema.json"))
    for line in event["data"]["object"]["items"]:
        line["cancelled"] = 0
    assert kit.error_messages(validator, event) != []


def test_cancelled_schema_needs_upstream_id_only_on_cancelled_lines(kit: Any) -> None:
    event: dict[str, Any] = kit.load_json(kit.examples_dir / "cancelled-event.json")
    validator = kit.source_validator(kit.load_schema("cancelled-event.schema.json"))
    items = event["data"]["object"]["items"]
    del items[0]["upstreamId"]  # cancelled == 0: not needed
    assert kit.error_messages(validator, event) == []
    del items[2]["upstreamId"]  # cancelled == 1: needed
    assert any("'upstreamId' is a required" in m for m in kit.error_messages(validator, event))


@pytest.mark.parametrize(
    ("schema_name", "output", "message"),
    [
        (
            "fulfillment-capture-request.schema.json",
            {
                "orderId": "1",
                "shipmentId": "2",
                "items": [{"itemId": "3", "shipmentItemId": "4", "quantity": 2.0}],
            },
            "2.0 is not of type 'integer'",
        ),
        (
            "fulfillment-cancel-request.schema.json",
            {"orderId": "1", "shipmentId": "2", "items": [{"itemId": "3", "cancelQuantity": 1}]},
            "Additional properties are not allowed ('shipmentId'",
        ),
        (
            "fulfillment-cancel-request.schema.json",
            {"orderId": "1", "items": []},
            "should be non-empty",
        ),
        (
            "fulfillment-order-request.schema.json",
            {
                "currency": "usd",
                "upstreamOrderTime": "2024-03-12T15:04:27Z",
                "shipTo": {"address": {"country": "US"}},
                "shippingChoice": {"id": "SG"},
                "items": [{"inventoryItemId": "sku", "quantity": 1}],
            },
            "does not match '^[A-Z]{3}$'",
        ),
        (
            "fulfillment-order-request.schema.json",
            {
                "currency": "USD",
                "upstreamOrderTime": "12 March 2024",
                "shipTo": {"address": {"country": "US"}},
                "shippingChoice": {"id": "SG"},
                "items": [{"inventoryItemId": "sku", "quantity": 1}],
            },
            "is not a 'date-time'",
        ),
    ],
)
def test_target_schema_bites(kit: Any, schema_name: str, output: Any, message: str) -> None:
    validator = kit.strict_validator(kit.load_schema(schema_name))
    assert any(message in m for m in kit.error_messages(validator, output))
