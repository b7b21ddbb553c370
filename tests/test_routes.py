"""Routes files: the shipped one, and every problem of a bad one at its FILE:LINE:COL."""

from __future__ import annotations

import json
import re
import textwrap
from pathlib import Path

import pytest
from fulfillmap import Engine, FulfillmapError, SpecError, shipped_mappings
from fulfillmap.language._routes import Route, load_routes, shipped_route_table
from fulfillmap.plugins._registry import default_registry

REPO = Path(__file__).resolve().parent.parent
ROUTED = {
    "order.accepted": ("request", "order-to-fulfillment-order"),
    "fulfillment_order.pending": ("record", "pending-event-to-record"),
    "fulfillment_order.backordered": ("notify", "backordered-event-to-notification"),
    "fulfillment_order.shipped": ("request", "shipped-event-to-fulfillment"),
    "fulfillment_order.cancelled": ("request", "cancelled-event-to-fulfillment"),
    "shop.cancellation_requested": ("request", "cancellation-request-to-fulfillment-cancellation"),
    "shop.return_requested": ("request", "return-request-to-fulfillment-return"),
    "fulfillment_cancellation.created": ("record", "outcome-event-to-record"),
    "fulfillment_cancellation.accepted": ("record", "outcome-event-to-record"),
    "fulfillment_cancellation.rejected": ("notify", "outcome-event-to-record"),
    "fulfillment_return.created": ("record", "outcome-event-to-record"),
    "fulfillment_return.pending": ("notify", "outcome-event-to-record"),
    "fulfillment_return.accepted": ("record", "outcome-event-to-record"),
    "fulfillment_return.rejected": ("notify", "outcome-event-to-record"),
}


def test_shipped_routes() -> None:
    table = shipped_route_table(default_registry(), shipped_mappings())
    assert set(table.routes) == set(ROUTED)
    for event_type, (action, mapping) in ROUTED.items():
        first = table[event_type][0]
        assert (first.action, first.mapping) == (action, mapping)
    accepted, fallback = table["order.accepted"]
    assert accepted == Route(
        "order.accepted",
        "request",
        accepted.location,
        mapping="order-to-fulfillment-order",
        method="POST",
        path="/fulfillment-orders",
        input="data.object",
        when="data.object.shipTo",
        key="data.object.id",
        description=accepted.description,
    )
    assert (fallback.action, fallback.mapping) == ("ignore", None)
    assert table["fulfillment_order.shipped"][0].key == "to_id(data.object.id)"
    assert table["fulfillment_order.pending"][0].key == "to_id(data.object.id)"
    assert table["no.such"] == ()


def _problems(tmp_path: Path, text: str) -> list[str]:
    path = tmp_path / "routes.yaml"
    path.write_text(textwrap.dedent(text), encoding="utf-8")
    with pytest.raises(SpecError) as caught:
        load_routes(path, default_registry(), shipped_mappings())
    return [str(problem).removeprefix(f"{path}:") for problem in caught.value.problems]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            "routes:\n  order.accepted:\n    mapping: order-to-fulfillment-order\n"
            "    requst: POST /fulfillment-orders\n",
            [
                "4:5: unknown key 'requst' (did you mean 'request'?); allowed: action, "
                "description, input, key, mapping, request, when (at routes.order.accepted.requst)",
                "3:5: give exactly one of request or action (at routes.order.accepted)",
            ],
        ),
        (
            "routes:\n  order.accepted:\n    action: notify\n    request: POST /x\n"
            "    mapping: order-to-fulfillment-order\n",
            ["3:5: give exactly one of request or action (found both) (at routes.order.accepted)"],
        ),
        (
            "routes:\n  order.accepted:\n    action: ignore\n"
            "    mapping: order-to-fulfillment-order\n",
            [
                "4:14: an ignore route maps nothing: drop 'mapping' "
                "(at routes.order.accepted.mapping)"
            ],
        ),
        (
            "routes:\n  order.accepted:\n    action: record\n",
            ["3:5: a route with action needs a mapping (at routes.order.accepted)"],
        ),
        (
            "routes:\n  order.accepted:\n    request: SEND /x\n"
            "    mapping: order-to-fulfillment-order\n",
            [
                '3:14: "SEND /x" is not a valid HTTP request: a method (POST, PUT, PATCH or '
                "DELETE), one space and a path starting with '/', e.g. 'POST /fulfillments': the "
                "mapped body is sent to Digital River with it. (at routes.order.accepted.request)"
            ],
        ),
        (
            "routes:\n  order.accepted:\n    - when: data.object.[\n      action: ignore\n",
            [
                "3:26: invalid JMESPath expression `data.object.[`: the expression ends too early "
                "at character 14 (at routes.order.accepted[0].when)"
            ],
        ),
        (
            "routes:\n  order.accepted:\n    - when: uper(data.object.currency)\n"
            "      action: ignore\n",
            [
                "3:13: unknown function uper() in `uper(data.object.currency)` "
                "(did you mean 'upper'?) (at routes.order.accepted[0].when)"
            ],
        ),
        (
            "routes:\n  Order Accepted:\n    action: ignore\n",
            [
                '2:3: "Order Accepted" is not a valid event type: lower-case words joined by '
                "dots, as Digital River names its event types, e.g. fulfillment_order.shipped. "
                "(at routes.Order Accepted)",
            ],
        ),
        (
            "routes:\n  order.accepted: []\n",
            ["2:19: expected at least 1 element(s), got 0 (at routes.order.accepted)"],
        ),
        (
            "routes:\n  order.accepted:\n    action: ignore\n"
            "  order.accepted:\n    action: ignore\n",
            ["4:3: duplicate key 'order.accepted' (first defined on line 2)"],
        ),
        (
            "routes:\n  order.accepted:\n    mapping: shipped-event-to-fulfilment\n"
            "    request: POST /fulfillments\n",
            [
                "3:14: no mapping named 'shipped-event-to-fulfilment' (did you mean "
                "'shipped-event-to-fulfillment'?); known: backordered-event-to-notification, "
                "cancellation-request-to-fulfillment-cancellation, cancelled-event-to-fulfillment, "
                "order-to-fulfillment-order, outcome-event-to-record, pending-event-to-record, "
                "return-request-to-fulfillment-return, shipment-to-tracking, "
                "shipped-event-to-fulfillment (at routes.order.accepted.mapping)"
            ],
        ),
        (
            "mapping: x\n",
            [
                "1:1: missing key: routes",
                "1:1: unknown key 'mapping'; allowed: $schema, description, routes (at mapping)",
            ],
        ),
    ],
)
def test_bad_routes_file(tmp_path: Path, text: str, expected: list[str]) -> None:
    assert sorted(_problems(tmp_path, text)) == sorted(expected)


def test_empty_routes_file(tmp_path: Path) -> None:
    [problem] = _problems(tmp_path, "")
    assert problem.startswith("1:1: the file is empty")


def test_missing_routes_file(tmp_path: Path) -> None:
    with pytest.raises(FulfillmapError, match=r"routes file .* does not exist"):
        load_routes(tmp_path / "routes.yaml", default_registry(), shipped_mappings())


def test_the_readme_routes_example_is_valid_and_works(tmp_path: Path) -> None:
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    [block] = re.findall(r"```yaml\n(routes:.*?)```", readme, re.S)
    (tmp_path / "routes.yaml").write_text(block, encoding="utf-8")
    table = load_routes(tmp_path / "routes.yaml", default_registry(), shipped_mappings())
    assert [route.action for route in table["fulfillment_order.shipped"]] == ["notify"]
    engine = Engine(tmp_path)
    event = json.loads((REPO / "examples" / "shipped-event.json").read_text(encoding="utf-8"))
    assert engine.handle(event).mapping == "shipment-to-tracking"
