"""Regressions found by integration testing: realistic payloads and broken inputs."""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path
from typing import Any

import fulfillmap
import pytest
from fulfillmap import Engine

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"


def _example(name: str) -> dict[str, Any]:
    event: dict[str, Any] = json.loads((EXAMPLES / f"{name}.json").read_text(encoding="utf-8"))
    return event


def test_events_parsed_with_decimal_floats_are_mapped() -> None:
    """G3 advises ``parse_float=Decimal``; G20 says counters may come as 1.0. JMESPath's
    functions (``sum`` in the counters rule) must take a Decimal as the number it is."""
    text = (EXAMPLES / "cancelled-event.json").read_text(encoding="utf-8")
    event = json.loads(text.replace('"cancelled": 1', '"cancelled": 1.0'), parse_float=Decimal)
    assert event["data"]["object"]["items"][2]["cancelled"] == Decimal("1.0")
    action = Engine().handle(event)
    assert action.body == {
        "orderId": "278815640336",
        "items": [{"itemId": "183926760336", "cancelQuantity": 1}],
    }


def test_jmespath_functions_take_decimals(tmp_path: Path) -> None:
    (tmp_path / "any.json").write_text("{}")
    (tmp_path / "m.yaml").write_text(
        "name: m\nsource: {name: s, schema: any.json}\ntarget: {name: t, schema: any.json}\n"
        "fields:\n  kind: type(amount)\n  total: sum(amounts)\n  top: max(amounts)\n"
    )
    mapping = fulfillmap.load(tmp_path / "m.yaml")
    source = {"amount": Decimal("1.5"), "amounts": [1, Decimal("2.5")]}
    assert mapping.apply(source) == {
        "kind": "number",
        "total": Decimal("3.5"),
        "top": Decimal("2.5"),
    }
    with pytest.raises(fulfillmap.MappingError, match=r"sum\(\), invalid type"):
        mapping.apply({"amounts": [1, "2"]})
