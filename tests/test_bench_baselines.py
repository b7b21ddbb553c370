"""The benchmark's hand-written baselines (bench/handwritten.py) do the mappings' work.

A baseline that skipped a check would flatter it, one that did more would flatter fulfillmap:
each must give the mapping's output (number types included) wherever ``apply`` succeeds and
fail wherever it fails, on every golden input and error, and on variants that make each
required value, plugin check and rule matter.
"""

from __future__ import annotations

import copy
import importlib.util
import json
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from types import ModuleType
from typing import Any

import fulfillmap
import jsonschema_rs
import pytest

REPO = Path(__file__).resolve().parent.parent
GOLDEN = REPO / "tests" / "golden"


def _handwritten() -> ModuleType:
    spec = importlib.util.spec_from_file_location("handwritten", REPO / "bench" / "handwritten.py")
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


HANDWRITTEN = _handwritten()
MAPPINGS: dict[str, Callable[[Any, Any], Any]] = HANDWRITTEN.MAPPINGS


def _inputs(pattern: str) -> list[tuple[str, Path]]:
    return [
        (name, path) for name in sorted(MAPPINGS) for path in sorted((GOLDEN / name).glob(pattern))
    ]


def _context(path: Path) -> dict[str, Any]:
    context = path.with_name(path.name.replace(".input.", ".context."))
    return json.loads(context.read_text()) if context.exists() else {}


def _outcome(run: Callable[[], Any], errors: tuple[type[Exception], ...]) -> str:
    """The result as JSON text (key order and number types exact: 2 is not 2.0), or "fails"."""
    try:
        return json.dumps(run())
    except errors:
        return "fails"


def assert_same_work(name: str, source: Any, context: dict[str, Any]) -> str:
    """The baseline's output is the mapping's (key order included), or both fail: without
    validation, and with the target schema's (jsonschema-rs, as the benchmark validates).
    Returns the outcome of ``apply`` with validation."""
    mapping = fulfillmap.load(name)
    validator = jsonschema_rs.Draft7Validator(dict(mapping.target_schema), validate_formats=True)

    def handwritten(validate: bool) -> Any:
        body = MAPPINGS[name](copy.deepcopy(source), context)
        if validate:
            validator.validate(body)
        return body

    for validate in (False, True):
        ours = _outcome(
            lambda v=validate: mapping.apply(copy.deepcopy(source), context, validate=v),
            (fulfillmap.MappingError,),
        )
        theirs = _outcome(lambda v=validate: handwritten(v), (ValueError,))
        assert theirs == ours, f"validate={validate}"
    return ours


def test_there_is_a_baseline_for_each_documented_mapping() -> None:
    assert set(MAPPINGS) == {ORDER, SHIPPED, CANCELLED}


@pytest.mark.parametrize(("name", "path"), _inputs("*.input.json"), ids=lambda p: str(p)[-40:])
def test_same_output_on_every_golden_input(name: str, path: Path) -> None:
    expected = json.loads(path.with_name(path.name.replace(".input.", ".expected.")).read_text())
    outcome = assert_same_work(name, json.loads(path.read_text()), _context(path))
    assert outcome != "fails"
    assert json.dumps(json.loads(outcome), sort_keys=True) == json.dumps(expected, sort_keys=True)


@pytest.mark.parametrize(
    ("name", "path"), _inputs("errors/*.input.json"), ids=lambda p: str(p)[-40:]
)
def test_fails_on_every_golden_error(name: str, path: Path) -> None:
    assert assert_same_work(name, json.loads(path.read_text()), {}) == "fails"


def _set(path: str, value: Any) -> Callable[[Any], None]:
    """A change to a document: the value at a dotted ``path`` (``items.1.tax``) set, or
    removed when ``value`` is ``DELETE``."""
    *parents, last = path.split(".")

    def change(document: Any) -> None:
        for part in parents:
            document = document[int(part) if isinstance(document, list) else part]
        key = int(last) if isinstance(document, list) else last
        if value is DELETE:
            del document[key]
        else:
            document[key] = value

    return change


DELETE = object()
ORDER = "order-to-fulfillment-order"
SHIPPED = "shipped-event-to-fulfillment"
CANCELLED = "cancelled-event-to-fulfillment"
QUOTE = {"shippingQuote": {"id": "SG", "signatureRequiredType": "adult"}}
#: (mapping, golden case, change, context, whether the mapping fails)
VARIANTS: list[tuple[str, str, Callable[[Any], None], dict[str, Any], bool]] = [
    (ORDER, "e1-us-domestic", _set("id", None), QUOTE, False),
    (ORDER, "e1-us-domestic", _set("items.0.id", DELETE), QUOTE, False),
    (ORDER, "e1-us-domestic", _set("currency", None), QUOTE, True),
    (ORDER, "e1-us-domestic", _set("currency", 840), QUOTE, True),
    (ORDER, "e1-us-domestic", _set("createdTime", DELETE), QUOTE, True),
    (ORDER, "e1-us-domestic", _set("shipTo", None), QUOTE, True),
    (ORDER, "e1-us-domestic", _set("shippingChoice.serviceLevel", None), QUOTE, True),
    (ORDER, "e1-us-domestic", _set("shippingChoice", "SG"), QUOTE, True),
    (ORDER, "e1-us-domestic", _set("items", DELETE), QUOTE, True),
    (ORDER, "e1-us-domestic", _set("items", []), QUOTE, True),  # by the target schema
    (ORDER, "e1-us-domestic", _set("items.0.skuId", None), QUOTE, True),
    (ORDER, "e1-us-domestic", _set("items.0.quantity", DELETE), QUOTE, True),
    (ORDER, "e1-us-domestic", _set("items.0.amount", None), QUOTE, False),
    (ORDER, "e1-us-domestic", _set("items.0.tax", None), QUOTE, True),
    (ORDER, "e1-us-domestic", _set("importerOfRecordTax", True), QUOTE, False),
    (ORDER, "e1-us-domestic", _set("importerOfRecordTax", False), QUOTE, False),
    (ORDER, "e1-us-domestic", _set("importerOfRecordTax", "yes"), QUOTE, True),
    (ORDER, "e1-us-domestic", _set("billTo", None), QUOTE, False),
    (ORDER, "e1-us-domestic", _set("shipTo.name", None), QUOTE, False),
    (ORDER, "e1-us-domestic", lambda order: None, {}, False),
    (ORDER, "e1-us-domestic", lambda order: None, {"shippingQuote": None}, False),
    (ORDER, "e1-us-domestic", lambda order: None, {"shippingQuote": {"id": "SG"}}, False),
    (ORDER, "e1-us-domestic", lambda order: None, {"shippingQuote": {"id": "EXP"}}, True),
    (ORDER, "e1-us-domestic", lambda order: None, {"shippingQuote": "SG"}, True),
    (
        ORDER,
        "e1-us-domestic",
        lambda order: None,
        {"shippingQuote": {"signatureRequiredType": "none"}},
        True,
    ),
    (SHIPPED, "e5-partial-shipment", _set("data.object.trackingUrl", None), {}, False),
    (SHIPPED, "e5-partial-shipment", _set("data.object.id", None), {}, True),
    (
        SHIPPED,
        "e5-partial-shipment",
        _set("data.object.fulfillmentOrderUpstreamId", None),
        {},
        True,
    ),
    (SHIPPED, "e5-partial-shipment", _set("data.object.items", None), {}, True),
    (SHIPPED, "e5-partial-shipment", _set("data.object.items.0.id", None), {}, True),
    (SHIPPED, "e5-partial-shipment", _set("data.object.items.0.quantity", 2.0), {}, False),
    (SHIPPED, "e5-partial-shipment", _set("data.object.items.0.quantity", 2.5), {}, True),
    (SHIPPED, "e5-partial-shipment", _set("data.object.items.0.quantity", 0), {}, True),
    (SHIPPED, "e5-partial-shipment", _set("data.object.items.0.quantity", None), {}, True),
    (SHIPPED, "e5-partial-shipment", _set("data.object.items.0.quantity", "1"), {}, True),
    (
        SHIPPED,
        "e5-partial-shipment",
        _set("data.object.items.0.fulfillmentOrderItemUpstreamId", ""),
        {},
        True,
    ),
    (SHIPPED, "e5-partial-shipment", _set("data", None), {}, True),
    (CANCELLED, "e4-partial-cancel", _set("data.object.upstreamId", DELETE), {}, True),
    (CANCELLED, "e4-partial-cancel", _set("data.object.items", "none"), {}, True),
    (CANCELLED, "e4-partial-cancel", _set("data.object.items.0.pending", None), {}, True),
    (CANCELLED, "e4-partial-cancel", _set("data.object.items.0.returned", DELETE), {}, True),
    (CANCELLED, "e4-partial-cancel", _set("data.object.items.0.quantity", 99), {}, True),
    (CANCELLED, "e4-partial-cancel", _set("data.object.items.0.upstreamId", None), {}, False),
    (CANCELLED, "e4-partial-cancel", _set("data.object.items.2.upstreamId", None), {}, True),
    (CANCELLED, "e4-partial-cancel", _set("data.object.items.2.upstreamId", ""), {}, True),
    (CANCELLED, "e4-partial-cancel", _set("data.object.items.2.cancelled", 1.0), {}, False),
    (CANCELLED, "e4-partial-cancel", _set("data.object.items", []), {}, True),  # target schema
]


@pytest.mark.parametrize(
    ("name", "case", "change", "context", "fails"),
    VARIANTS,
    ids=[f"{name[:9]}-{index}" for index, (name, *_) in enumerate(VARIANTS)],
)
def test_same_outcome_on_variants(
    name: str, case: str, change: Callable[[Any], None], context: dict[str, Any], fails: bool
) -> None:
    source = json.loads((GOLDEN / name / f"{case}.input.json").read_text())
    change(source)
    assert (assert_same_work(name, source, context) == "fails") is fails


def test_the_order_warnings_are_the_warn_rules() -> None:
    source = json.loads((GOLDEN / ORDER / "e1-us-domestic.input.json").read_text())
    del source["id"], source["items"][1]["id"]
    result = fulfillmap.load(ORDER).run(source, validate=False)
    expected = [(w.rule, w.data_path) for w in result.warnings]
    assert (
        HANDWRITTEN.order_warnings(source)
        == expected
        == [
            ("order-has-id", ""),
            ("lines-have-ids", "items[1]"),
        ]
    )


def test_the_handle_baseline_writes_what_fulfillmap_handle_writes(tmp_path: Path) -> None:
    """bench/handle.py, the process ``fulfillmap handle`` is timed against, gives the same
    Action lines byte for byte and fails on the same lines (the bench checks the bytes again
    on its own files)."""
    examples = REPO / "examples"
    accepted, shipped, cancelled = (
        json.loads((examples / f"{name}-event.json").read_text())
        for name in ("order-accepted", "shipped", "cancelled")
    )
    digital = copy.deepcopy(accepted)
    del digital["data"]["object"]["shipTo"]
    zero = copy.deepcopy(shipped)
    zero["data"]["object"]["items"][0]["quantity"] = 0
    unknown = {"id": "evt-9", "type": "order.charge.captured", "data": {"object": {}}}
    events = [accepted, shipped, cancelled, digital, zero, unknown, {"id": "x", "type": "t"}]
    path = tmp_path / "events.jsonl"
    path.write_text("".join(json.dumps(event) + "\n" for event in events))
    context = str(examples / "order.context.json")
    ours = subprocess.run(
        [
            str(Path(sys.executable).with_name("fulfillmap")),
            "handle",
            str(path),
            "--context",
            context,
        ],
        capture_output=True,
        check=False,
    )
    theirs = subprocess.run(
        [sys.executable, str(REPO / "bench" / "handle.py"), str(path), context],
        capture_output=True,
        check=False,
    )
    assert ours.stdout.count(b"\n") == 5
    assert theirs.stdout == ours.stdout
    assert theirs.returncode == ours.returncode == 1

    def failed(stderr: bytes) -> list[str]:
        return [
            line.split(":")[0] for line in stderr.decode().splitlines() if line.startswith("LINE")
        ]

    assert failed(theirs.stderr) == failed(ours.stderr) == ["LINE 5", "LINE 7"]
