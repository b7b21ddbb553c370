"""``validate`` shows everything in one run, in words: structural problems beside the static
schema checks, routes' event types against Digital River's, pattern failures explained by the
schema's description (never the regex), values as JSON (never Python reprs)."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest
from fulfillmap.cli import main
from fulfillmap.errors import did_you_mean
from fulfillmap.language._routes import DIGITAL_RIVER_EVENT_TYPES, SHOP_EVENT_TYPES
from fulfillmap.paths import truncate


def _validate(capsys: pytest.CaptureFixture[str], *paths: Path) -> tuple[int, list[str]]:
    code = main(["validate", *map(str, paths)])
    return code, capsys.readouterr().out.splitlines()


def test_structural_problems_and_static_checks_in_one_run(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "order.yaml"
    path.write_text(
        textwrap.dedent(
            """\
            name: order-to-warehouse
            source: {name: Order, schema: "fulfillmap:order.schema.json"}
            target: {name: FO, schema: "fulfillmap:fulfillment-order-request.schema.json"}
            fields:
              currency: {from: upper(currency), required: "yes"}
              upstreamOrderTime: {from: createdTme, required: true}
              shipTo: {from: shipTo, required: true}
              shippingChoice:
                required: true
                fields:
                  id: {from: nope(shippingChoice.serviceLevel), required: true}
              items:
                each: items
                required: true
                fields:
                  inventoryItemId: {from: skuID, required: true}
                  quantity: {from: quantity, required: true}
            rules:
              - {name: Bad_Name, check: id, message: m}
            """
        ),
        encoding="utf-8",
    )
    code, lines = _validate(capsys, path)
    assert code == 1
    assert [line.split(": ", 1)[1] for line in lines] == [
        'expected true or false, not "yes" (at fields.currency.required)',
        "warning: `createdTme` reads createdTme, which the source schema does not define "
        "(did you mean 'createdTime'?) (at fields.upstreamOrderTime)",
        "unknown function nope() in `nope(shippingChoice.serviceLevel)` "
        "(at fields.shippingChoice.fields.id.from)",
        "warning: `skuID` reads skuID, which the source schema does not define "
        "(did you mean 'skuId'?) (at fields.items.fields.inventoryItemId)",
        '"Bad_Name" is not a valid rule name: lower-case words joined by hyphens, unique in '
        "the mapping, e.g. line-counters-add-up; error messages name the rule. (at rules[0].name)",
    ]


def test_a_misnamed_field_is_reported_with_what_it_misses(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "cancel.yaml"
    path.write_text(
        textwrap.dedent(
            """\
            name: cancel
            source: {name: Event, schema: "fulfillmap:cancelled-event.schema.json"}
            target: {name: Cancel, schema: "fulfillmap:fulfillment-cancel-request.schema.json"}
            fields:
              "order id": {from: data.object.upstreamId, required: true}
              items:
                each: data.object.items
                required: true
                fields:
                  itemId: {from: upstreamID, required: true}
                  cancelQuantity: {from: cancelled, required: true}
            """
        ),
        encoding="utf-8",
    )
    code, lines = _validate(capsys, path)
    assert code == 1
    assert lines[0] == f"{path}:1:1: the target schema requires 'orderId', but no field produces it"
    assert lines[1].startswith(f'{path}:5:3: "order id" is not a valid field name: a letter,')
    assert "the target schema has no field 'order id' (did you mean 'orderId'?)" in lines[2]
    assert "`upstreamID` reads upstreamID" in lines[3]
    assert len(lines) == 4


def test_a_broken_field_is_not_reported_as_missing(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "cancel.yaml"
    path.write_text(
        textwrap.dedent(
            """\
            name: cancel
            source: {name: Event, schema: "fulfillmap:cancelled-event.schema.json"}
            target: {name: Cancel, schema: "fulfillmap:fulfillment-cancel-request.schema.json"}
            fields:
              orderId: {from: "data.object.[", required: true}
              items: {form: data.object.items}
            """
        ),
        encoding="utf-8",
    )
    code, lines = _validate(capsys, path)
    assert code == 1
    assert "invalid JMESPath expression" in lines[0]
    assert "give exactly one of from, value, plugin or fields" in lines[1]
    assert "unknown key 'form'" in lines[2]
    assert len(lines) == 3  # orderId and items stand aside: lint does not call them missing


def test_routes_event_types_are_checked_against_digital_rivers(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "routes.yaml"
    path.write_text(
        "routes:\n"
        "  fulfillment_order.shiped:\n"
        "    mapping: shipped-event-to-fulfillment\n"
        "    request: post /fulfillments\n",
        encoding="utf-8",
    )
    code, lines = _validate(capsys, path)
    assert code == 1
    assert lines == [
        f"{path}:2:3: warning: 'fulfillment_order.shiped' is not an event type Digital River "
        "documents for fulfillments (did you mean 'fulfillment_order.shipped'?); events of the "
        "type meant would be ignored (at routes.fulfillment_order.shiped)",
        f'{path}:4:14: "post /fulfillments" is not a valid HTTP request: a method (POST, PUT, '
        "PATCH or DELETE), one space and a path starting with '/', e.g. 'POST /fulfillments': "
        "the mapped body is sent to Digital River with it. (at routes.fulfillment_order.shiped"
        ".request)",
    ]
    path.write_text(
        "routes:\n  fulfillment_order.shiped:\n    mapping: shipped-event-to-fulfillment\n"
        "    request: POST /fulfillments\n",
        encoding="utf-8",
    )
    assert main(["validate", str(path)]) == 0  # an unknown type is a warning...
    assert main(["validate", "--strict", str(path)]) == 1  # ...that --strict refuses
    capsys.readouterr()


def test_the_shipped_routes_use_only_digital_rivers_event_types() -> None:
    """And the shop's own requests (their events are fulfillmap's: Engine.request_*)."""
    from fulfillmap.language._resources import shipped_mapping_names
    from fulfillmap.language._routes import shipped_route_table
    from fulfillmap.plugins._registry import default_registry

    table = shipped_route_table(default_registry(), shipped_mapping_names())
    assert table.warnings == ()
    assert set(table.routes) <= {*DIGITAL_RIVER_EVENT_TYPES, *SHOP_EVENT_TYPES}


@pytest.mark.parametrize(
    ("value", "shown"),
    [
        ("2", '"2"'),
        ({"x": 1}, '{"x": 1}'),
        (__import__("decimal").Decimal("2.50"), "2.50"),
        ([__import__("decimal").Decimal("1e400")], "[1E+400]"),
        (b"x", "a bytes"),
        ("é" * 100, '"' + "é" * 59 + "... (len=102)"),
    ],
)
def test_values_in_messages_are_json(value: object, shown: str) -> None:
    assert truncate(value) == shown


def test_did_you_mean() -> None:
    names = ["shipment-to-tracking", "shipped-event-to-fulfillment"]
    assert did_you_mean("tracking", names) == " (did you mean 'shipment-to-tracking'?)"
    assert did_you_mean("shipment-to-trackin", names) == " (did you mean 'shipment-to-tracking'?)"
    assert did_you_mean("to", names) == ""  # in both: no guess
    assert did_you_mean("order.blocked", ["order.accepted"], cutoff=0.8) == ""


def test_the_event_type_shape_is_the_routes_schemas() -> None:
    from fulfillmap.language._resources import routes_schema
    from fulfillmap.language._routes import _EVENT_TYPE

    pattern = routes_schema()["properties"]["routes"]["propertyNames"]["pattern"]
    assert f"^{_EVENT_TYPE.pattern}$" == pattern
