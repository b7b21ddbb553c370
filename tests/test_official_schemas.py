"""Golden outputs and our target schemas against Digital River's official OpenAPI spec.

The spec's component schemas are converted to strict draft-07 JSON Schemas (see
``to_strict_json_schema`` in conftest.py): refs inlined, ``nullable`` honoured, readOnly properties
dropped and ``additionalProperties: false`` on every object that lists properties.
"""

from __future__ import annotations

import copy
import re
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import pytest

OfficialSchema = Callable[[str], dict[str, Any]]

TARGETS = {
    "fulfillment-order-request.schema.json": "GlobalFulfillmentOrderRequest",
    "fulfillment-capture-request.schema.json": "FulfillmentRequest",
    "fulfillment-cancel-request.schema.json": "FulfillmentRequest",
    "fulfillment-cancellation-request.schema.json": "GlobalFulfillmentCancellationRequest",
    "fulfillment-return-request.schema.json": "GlobalFulfillmentReturnRequest",
}


def _types(schema: Mapping[str, Any]) -> set[str] | None:
    declared = schema.get("type")
    if declared is None:
        return None
    return set(declared) if isinstance(declared, list) else {declared}


def _consistency_problems(
    root: Mapping[str, Any],
    ours: Mapping[str, Any],
    official: Mapping[str, Any],
    where: str,
    kit: Any,
) -> list[str]:
    """What our schema allows beyond, or requires less than, the strict official one."""
    ours = kit.resolve_local(root, ours)
    problems: list[str] = []
    our_types, official_types = _types(ours), _types(official)
    if official_types is not None and (our_types is None or not our_types <= official_types):
        problems.append(f"{where}: type {our_types} not within official {official_types}")
    if "enum" in official and not set(ours.get("enum", [object()])) <= set(official["enum"]):
        problems.append(f"{where}: enum {ours.get('enum')} not within {official['enum']}")
    for name, child in ours.get("properties", {}).items():
        official_child = official.get("properties", {}).get(name)
        if official_child is None:
            problems.append(f"{where}.{name}: not an official (writable) property")
        else:
            problems += _consistency_problems(root, child, official_child, f"{where}.{name}", kit)
    missing = set(official.get("required", [])) - set(ours.get("required", []))
    if missing:
        problems.append(f"{where}: officially required {sorted(missing)} not required here")
    extra = ours.get("additionalProperties", False)
    if extra is not False:
        official_extra = official.get("additionalProperties", "properties" not in official)
        if official_extra is False:
            problems.append(f"{where}: allows additional properties, the spec does not")
        elif isinstance(extra, dict) and isinstance(official_extra, dict):
            problems += _consistency_problems(root, extra, official_extra, f"{where}.*", kit)
    if "items" in ours:
        if "items" not in official:
            problems.append(f"{where}: an array here, not in the spec")
        else:
            problems += _consistency_problems(
                root, ours["items"], official["items"], f"{where}[]", kit
            )
    return problems


# --------------------------------------------------------------------------- the spec is there


def test_spec_is_found(kit: Any) -> None:
    path: Path = kit.find_openapi_spec()
    assert path.name == "digital-river-openapi.json"
    assert path.parent.parent.name == "shared"


def test_missing_spec_fails_loudly(kit: Any) -> None:
    # A start whose ancestors cannot hold shared/ (tmp_path's might: CI clones beside shared/).
    nowhere = Path("/fulfillmap-test-nonexistent/a/b")
    with pytest.raises(pytest.fail.Exception, match="OpenAPI spec not found"):
        kit.find_openapi_spec(nowhere)


def test_spec_is_the_expected_document(openapi_spec: dict[str, Any]) -> None:
    assert openapi_spec["openapi"].startswith("3.0")
    components = openapi_spec["components"]["schemas"]
    for name in ("GlobalFulfillmentOrderRequest", "FulfillmentRequest", "FulfillmentRequestItem"):
        assert name in components


# --------------------------------------------------------------------------- goldens vs the spec


def test_golden_expected_matches_official_schema(
    kit: Any, official_schema: OfficialSchema, request_case: Any
) -> None:
    validator = kit.strict_validator(official_schema(request_case.schemas.official))
    assert kit.error_messages(validator, request_case.expected()) == []


def test_capture_and_cancel_items_carry_a_quantity(kit: Any) -> None:
    """The spec's rule for FulfillmentRequestItem: quantity and/or cancelQuantity (G15)."""
    cases = [c for c in kit.golden_cases() if c.schemas.official == "FulfillmentRequest"]
    assert cases
    for case in cases:
        for item in case.expected()["items"]:
            assert {"quantity", "cancelQuantity"} & set(item), case.id


@pytest.mark.parametrize(("target", "component"), sorted(TARGETS.items()))
def test_target_schema_is_consistent_with_spec(
    kit: Any, official_schema: OfficialSchema, target: str, component: str
) -> None:
    ours = kit.load_schema(target)
    problems = _consistency_problems(ours, ours, official_schema(component), component, kit)
    assert problems == []


def test_consistency_check_bites(kit: Any, official_schema: OfficialSchema) -> None:
    ours = copy.deepcopy(kit.load_schema("fulfillment-capture-request.schema.json"))
    ours["properties"]["items"]["items"]["properties"]["skuId"] = {"type": "string"}
    ours["properties"]["courier"] = {"type": "string"}
    ours["required"] = ["shipmentId"]
    ours["properties"]["orderId"]["type"] = "integer"
    official = official_schema("FulfillmentRequest")
    problems = _consistency_problems(ours, ours, official, "FulfillmentRequest", kit)
    assert sorted(problems) == sorted(
        [
            "FulfillmentRequest.orderId: type {'integer'} not within official {'string'}",
            "FulfillmentRequest.items[].skuId: not an official (writable) property",
            "FulfillmentRequest.courier: not an official (writable) property",
            "FulfillmentRequest: officially required ['items', 'orderId'] not required here",
        ]
    )


# --------------------------------------------------------------------------- the conversion bites


def _fo_request() -> dict[str, Any]:
    return {
        "currency": "USD",
        "upstreamOrderTime": "2024-03-12T15:04:27Z",
        "shipTo": {"address": {"line1": "10380 Bren Rd W", "country": "US"}, "name": "Jane Doe"},
        "shippingChoice": {"id": "SG", "signatureRequiredType": "adult", "dutiesPaid": False},
        "items": [{"inventoryItemId": "sku_1", "quantity": 2, "tax": {"amount": 1.61}}],
    }


def _capture() -> dict[str, Any]:
    return {
        "orderId": "278815640336",
        "shipmentId": "29016544906",
        "items": [{"itemId": "183926740336", "shipmentItemId": "8760948870", "quantity": 2}],
    }


def _errors(kit: Any, official_schema: OfficialSchema, component: str, doc: Any) -> list[str]:
    errors: list[str] = kit.error_messages(kit.strict_validator(official_schema(component)), doc)
    return errors


def test_baseline_requests_are_valid(kit: Any, official_schema: OfficialSchema) -> None:
    assert _errors(kit, official_schema, "GlobalFulfillmentOrderRequest", _fo_request()) == []
    assert _errors(kit, official_schema, "FulfillmentRequest", _capture()) == []


@pytest.mark.parametrize(
    ("path", "value", "message"),
    [
        ((), ("giftWrap", True), "('giftWrap' was unexpected)"),
        (("shipTo", "address"), ("line3", "x"), "('line3' was unexpected)"),
        (("shippingChoice",), ("currency", "USD"), "('currency' was unexpected)"),
        (("items", 0), ("state", "pending"), "('state' was unexpected)"),
        (("items", 0, "tax"), ("rate", 0.08), "('rate' was unexpected)"),
    ],
)
def test_extra_property_fails(
    kit: Any,
    official_schema: OfficialSchema,
    path: tuple[str | int, ...],
    value: tuple[str, Any],
    message: str,
) -> None:
    doc = _fo_request()
    node: Any = doc
    for part in path:
        node = node[part]
    node[value[0]] = value[1]
    errors = _errors(kit, official_schema, "GlobalFulfillmentOrderRequest", doc)
    assert any(message in error for error in errors), errors


def test_read_only_property_fails(kit: Any, official_schema: OfficialSchema) -> None:
    doc = _capture()
    doc["items"][0]["skuId"] = "ed7b06bd-7b2e-4525-9156-cd6fcbe7fe42"
    errors = _errors(kit, official_schema, "FulfillmentRequest", doc)
    assert errors == ["items[0]: Additional properties are not allowed ('skuId' was unexpected)"]


def test_read_only_properties_are_gone(official_schema: OfficialSchema) -> None:
    item = official_schema("FulfillmentRequest")["properties"]["items"]["items"]
    assert "skuId" not in item["properties"]
    assert "itemId" in item["properties"]
    shipment = official_schema("Shipment")
    assert "id" not in shipment["properties"]  # readOnly in the response resource
    assert "fulfillmentOrderUpstreamId" in shipment["properties"]


@pytest.mark.parametrize(
    ("component", "path", "allowed"),
    [
        ("FulfillmentRequest", ("items", 0, "quantity"), True),
        ("FulfillmentRequest", ("items", 0, "itemId"), False),
        ("FulfillmentRequest", ("orderId",), False),
        ("FulfillmentRequest", ("trackingNumber",), False),
        ("GlobalFulfillmentOrderRequest", ("shipTo", "name"), True),
        ("GlobalFulfillmentOrderRequest", ("shipTo", "address", "line1"), True),
        ("GlobalFulfillmentOrderRequest", ("shipTo", "address", "line2"), False),
        ("GlobalFulfillmentOrderRequest", ("shipTo", "address", "country"), False),
        ("GlobalFulfillmentOrderRequest", ("shippingChoice", "signatureRequiredType"), True),
        ("GlobalFulfillmentOrderRequest", ("shippingChoice", "dutiesPaid"), True),
        ("GlobalFulfillmentOrderRequest", ("shippingChoice", "id"), False),
        ("GlobalFulfillmentOrderRequest", ("currency",), False),
        ("GlobalFulfillmentOrderRequest", ("name",), False),
        ("GlobalFulfillmentOrderRequest", ("items", 0, "tax", "amount"), False),
    ],
)
def test_null_allowed_only_where_nullable(
    kit: Any,
    official_schema: OfficialSchema,
    component: str,
    path: tuple[str | int, ...],
    allowed: bool,
) -> None:
    doc = _capture() if component == "FulfillmentRequest" else _fo_request()
    node: Any = doc
    for part in path[:-1]:
        node = node[part]
    node[path[-1]] = None
    errors = _errors(kit, official_schema, component, doc)
    assert (errors == []) is allowed, errors


@pytest.mark.parametrize(
    ("mutate", "message"),
    [
        (lambda d: d.pop("currency"), "'currency' is a required property"),
        (lambda d: d["shipTo"]["address"].pop("country"), "'country' is a required property"),
        (lambda d: d["shippingChoice"].pop("id"), "'id' is a required property"),
        (lambda d: d["items"][0].pop("inventoryItemId"), "'inventoryItemId' is a required"),
        (lambda d: d["items"][0]["tax"].pop("amount"), "'amount' is a required property"),
        (lambda d: d["items"][0].update(quantity=2.0), "2.0 is not of type 'integer'"),
        (lambda d: d["items"][0].update(quantity="2"), "'2' is not of type 'integer'"),
        (lambda d: d["shippingChoice"].update(signatureRequiredType="x"), "'x' is not one of"),
        (lambda d: d.update(upstreamOrderTime="yesterday"), "is not a 'date-time'"),
        (lambda d: d.update(email="not-an-email"), "is not a 'email'"),
    ],
)
def test_official_constraints_are_kept(
    kit: Any, official_schema: OfficialSchema, mutate: Callable[[Any], Any], message: str
) -> None:
    doc = _fo_request()
    mutate(doc)
    errors = _errors(kit, official_schema, "GlobalFulfillmentOrderRequest", doc)
    assert any(message in error for error in errors), errors


# --------------------------------------------------------------------------- converter units

_TOY_SPEC: dict[str, Any] = {
    "components": {
        "schemas": {
            "Tax": {
                "type": "object",
                "readOnly": True,
                "properties": {"amount": {"type": "number"}},
            },
            "Money": {
                "type": "object",
                "description": "dropped",
                "nullable": True,
                "properties": {
                    "amount": {"type": "number", "minimum": 0, "exclusiveMinimum": True}
                },
                "required": ["amount"],
            },
            "Line": {
                "type": "object",
                "required": ["id", "sku"],
                "properties": {
                    "id": {"type": "string", "readOnly": True},
                    "sku": {"type": "string", "x-internal": 1},
                    "kind": {"type": "string", "enum": ["a", "b"], "nullable": True},
                    "tax": {"$ref": "#/components/schemas/Tax"},
                    "price": {"$ref": "#/components/schemas/Money"},
                    "tags": {"type": "object", "additionalProperties": {"type": "string"}},
                },
            },
            "Loop": {
                "type": "object",
                "properties": {"next": {"$ref": "#/components/schemas/Loop"}},
            },
            "Odd": {"type": "string", "patternProperties": {}},
        }
    }
}


def test_converter_on_a_toy_spec(kit: Any) -> None:
    assert kit.strict_component(_TOY_SPEC, "Line") == {
        "$schema": "http://json-schema.org/draft-07/schema#",
        "title": "Line",
        "type": "object",
        "required": ["sku"],
        "additionalProperties": False,
        "properties": {
            "sku": {"type": "string"},
            "kind": {"type": ["string", "null"], "enum": ["a", "b", None]},
            "price": {
                "type": ["object", "null"],
                "required": ["amount"],
                "additionalProperties": False,
                "properties": {"amount": {"type": "number", "exclusiveMinimum": 0}},
            },
            "tags": {"type": "object", "additionalProperties": {"type": "string"}},
        },
    }


def test_converter_refuses_what_it_cannot_convert(kit: Any) -> None:
    with pytest.raises(kit.conversion_error, match="recursive"):
        kit.strict_component(_TOY_SPEC, "Loop")
    with pytest.raises(kit.conversion_error, match="unsupported keyword 'patternProperties'"):
        kit.strict_component(_TOY_SPEC, "Odd")
    with pytest.raises(kit.conversion_error, match="dangling"):
        kit.strict_component(_TOY_SPEC, "Nope")


@pytest.mark.parametrize(
    "component",
    [
        "GlobalFulfillmentOrderRequest",
        "FulfillmentRequest",
        "Shipment",
        "GlobalFulfillmentOrder",
        "Order",
    ],
)
def test_relevant_components_convert(official_schema: OfficialSchema, component: str) -> None:
    schema = official_schema(component)
    assert schema["additionalProperties"] is False


def _ship_to_fields(spec_fields: Any) -> dict[str, Any]:
    """The order mapping's shipTo, as {name: its nested field names or None}."""
    from fulfillmap.language._spec import Nested

    ship_to = next(field for field in spec_fields if field.name == "shipTo")
    assert isinstance(ship_to.kind, Nested)
    return {
        field.name: (
            sorted(child.name for child in field.kind.fields)
            if isinstance(field.kind, Nested)
            else None
        )
        for field in ship_to.kind.fields
    }


def test_ship_to_is_copied_field_by_field_as_the_official_request_defines_it(
    official_schema: OfficialSchema, kit: Any
) -> None:
    """shipTo is built key by key from what Digital River's request defines (so that keys it
    adds to orders never fail the mapping), and every key it defines is copied; the warn rules
    that name the keys left out list the same keys."""
    import fulfillmap

    mapping = fulfillmap.load("order-to-fulfillment-order")
    official = official_schema("GlobalFulfillmentOrderRequest")
    shipping = kit.resolve_local(official, official["properties"]["shipTo"])
    fields = _ship_to_fields(mapping.spec.fields)
    assert sorted(fields) == sorted(shipping["properties"])
    for name in ("address", "additionalAddressInfo"):
        nested = kit.resolve_local(official, shipping["properties"][name])
        assert fields[name] == sorted(nested["properties"]), name
    checks = {rule.name: rule.check for rule in mapping.spec.rules}
    for rule, keys in (
        ("ship-to-keys-are-known", sorted(fields)),
        ("ship-to-address-keys-are-known", fields["address"]),
        ("ship-to-additional-info-keys-are-known", fields["additionalAddressInfo"]),
    ):
        listed = re.findall(r'"(\w+)"', checks[rule])
        assert sorted(listed) == keys, rule
