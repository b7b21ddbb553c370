"""The example plugin package (examples/fulfillmap-gift-plugin), installed by ``make install``
and found through its ``fulfillmap`` entry point, like any third-party plugin."""

from __future__ import annotations

import copy
import json
from importlib.metadata import entry_points
from pathlib import Path
from typing import Any

import pytest
from fulfillmap.cli import main
from fulfillmap.errors import MappingError
from fulfillmap.evaluate._mapping import load
from fulfillmap.plugins._registry import default_registry

REPO = Path(__file__).resolve().parent.parent
PLUGIN_DIR = REPO / "examples" / "fulfillmap-gift-plugin"
MAPPING = PLUGIN_DIR / "order-with-gift.yaml"
CONTEXT = PLUGIN_DIR / "examples" / "gift.context.json"


@pytest.fixture(scope="module")
def order() -> Any:
    return json.loads((REPO / "examples" / "order.json").read_text(encoding="utf-8"))


def test_the_plugin_is_installed_through_its_entry_point() -> None:
    found = {e.name: e.value for e in entry_points(group="fulfillmap")}
    assert found.get("gift-example") == "fulfillmap_gift.plugin", (
        "the example plugin is not installed: run `make install`"
    )
    registry = default_registry()
    assert "gift-note" in registry.fields
    assert "gift_wrap" in registry.functions


def test_gift_message_from_the_context(order: Any) -> None:
    context = json.loads(CONTEXT.read_text(encoding="utf-8"))
    body = load(MAPPING).apply(order, context)
    assert body["metadata"] == {"giftNote": "Happy birthday, Sam! Love, Jane"}
    assert body["shippingChoice"]["signatureRequiredType"] == "adult"


def test_gift_message_is_cut_to_max_length(order: Any) -> None:
    body = load(MAPPING).apply(order, {"gift": {"message": "x" * 150}})
    assert body["metadata"]["giftNote"] == "x" * 100


def test_gift_wrap_from_line_item_metadata(order: Any) -> None:
    wrapped = copy.deepcopy(order)
    wrapped["items"][-1]["metadata"] = {"giftWrap": "true"}
    body = load(MAPPING).apply(wrapped)
    assert body["metadata"] == {"giftWrap": True}


@pytest.mark.parametrize("metadata", [None, {}, {"giftWrap": False}, {"giftWrap": "no"}, "odd"])
def test_no_gift_means_no_metadata(order: Any, metadata: Any) -> None:
    plain = copy.deepcopy(order)
    plain["items"][0]["metadata"] = metadata
    body = load(MAPPING).apply(plain, {"gift": {"message": "   "}})
    assert "metadata" not in body


@pytest.mark.parametrize(
    ("gift", "reason"),
    [
        ("hello", "context.gift must be an object, not str"),
        ({"message": 7}, "context.gift.message must be text, not int"),
    ],
)
def test_bad_gift_context_names_the_plugin_and_field(order: Any, gift: Any, reason: str) -> None:
    with pytest.raises(MappingError) as caught:
        load(MAPPING).apply(order, {"gift": gift})
    error = caught.value
    assert error.plugin == "gift-note"
    assert error.field == "metadata.giftNote"
    assert reason in error.reason
    assert error.trace[-1].plugin == "gift-note"


def test_the_example_mapping_validates_cleanly(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["validate", "--strict", str(MAPPING)]) == 0
    assert capsys.readouterr().out == f"{MAPPING}: ok\n"


def test_without_the_plugin_the_mapping_is_invalid() -> None:
    from fulfillmap.errors import SpecError
    from fulfillmap.plugins import builtin
    from fulfillmap.plugins._registry import plugin_manager

    manager = plugin_manager(entry_points=False)
    manager.register(builtin)
    with pytest.raises(SpecError) as caught:
        load(MAPPING, plugins=manager)
    messages = [problem.message for problem in caught.value.problems]
    assert any("unknown plugin field 'gift-note'" in m for m in messages)
    assert any("unknown function gift_wrap()" in m for m in messages)
