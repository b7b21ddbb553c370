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
import re
import subprocess
import sys
from collections.abc import Callable
from decimal import Decimal
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
    """The body and the warnings (rule, data path) as JSON text (key order and number types
    exact: 2 is not 2.0), or "fails"."""
    try:
        return json.dumps(run())
    except errors:
        return "fails"


def assert_same_work(name: str, source: Any, context: dict[str, Any]) -> str:
    """The baseline's output is the mapping's (key order included) with the same warnings,
    or both fail: without validation, and with the target schema's (jsonschema-rs, as the
    benchmark validates). Returns the outcome of ``apply_with_warnings`` with validation."""
    mapping = fulfillmap.load(name)
    validator = jsonschema_rs.Draft7Validator(dict(mapping.target_schema), validate_formats=True)

    def ours(validate: bool) -> Any:
        result = mapping.apply_with_warnings(copy.deepcopy(source), context, validate=validate)
        return result.body, [(w.rule, w.data_path) for w in result.warnings]

    def handwritten(validate: bool) -> Any:
        body, warnings = MAPPINGS[name](copy.deepcopy(source), context)
        if validate:
            validator.validate(body)
        return body, warnings

    for validate in (False, True):
        expected = _outcome(lambda v=validate: ours(v), (fulfillmap.MappingError,))
        theirs = _outcome(lambda v=validate: handwritten(v), (ValueError,))
        assert theirs == expected, f"validate={validate}"
    return expected


def test_there_is_a_baseline_for_each_documented_mapping() -> None:
    assert set(MAPPINGS) == {ORDER, SHIPPED, CANCELLED}


@pytest.mark.parametrize(("name", "path"), _inputs("*.input.json"), ids=lambda p: str(p)[-40:])
def test_same_output_on_every_golden_input(name: str, path: Path) -> None:
    expected = json.loads(path.with_name(path.name.replace(".input.", ".expected.")).read_text())
    outcome = assert_same_work(name, json.loads(path.read_text()), _context(path))
    assert outcome != "fails"
    body, _ = json.loads(outcome)
    assert json.dumps(body, sort_keys=True) == json.dumps(expected, sort_keys=True)


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
RESERVED = {**QUOTE, "inventoryReserved": True}
LINE = "data.object.items"


def _both(*changes: Callable[[Any], None]) -> Callable[[Any], None]:
    def change(document: Any) -> None:
        for one in changes:
            one(document)

    return change


def _unchanged(document: Any) -> None:
    pass


#: (mapping, golden case, change, context, whether the mapping fails)
VARIANTS: list[tuple[str, str, Callable[[Any], None], dict[str, Any], bool]] = [
    (ORDER, "e1-us-domestic", _set("id", None), QUOTE, True),
    (ORDER, "e1-us-domestic", _set("id", {"a": 1, "b": None}), QUOTE, True),  # target schema
    (ORDER, "e1-us-domestic", _set("items.0.id", DELETE), QUOTE, True),
    (ORDER, "e1-us-domestic", _set("items.0.id", ""), QUOTE, True),
    (ORDER, "e1-us-domestic", _set("id", ""), QUOTE, True),
    (ORDER, "e1-us-domestic", _set("state", "in_review"), QUOTE, True),
    (ORDER, "e1-us-domestic", _set("state", None), QUOTE, False),
    (ORDER, "e1-us-domestic", _set("state", DELETE), QUOTE, False),
    (ORDER, "e1-us-domestic", _set("items.1", "line"), QUOTE, True),
    (ORDER, "e1-us-domestic", _set("currency", None), QUOTE, True),
    (ORDER, "e1-us-domestic", _set("currency", 840), QUOTE, True),
    (ORDER, "e1-us-domestic", _set("createdTime", DELETE), QUOTE, True),
    (ORDER, "e1-us-domestic", _set("locale", ["en", None]), QUOTE, True),  # target schema
    (ORDER, "e1-us-domestic", _set("shipTo", None), QUOTE, True),
    (ORDER, "e1-us-domestic", _set("shipTo", "home"), QUOTE, True),
    (ORDER, "e1-us-domestic", _set("shipTo.address", None), QUOTE, True),
    (ORDER, "e1-us-domestic", _set("shipTo.address.country", None), QUOTE, True),
    (ORDER, "e1-us-domestic", _set("shipTo.address.line2", None), QUOTE, False),
    (ORDER, "e1-us-domestic", _set("shipTo.address.county", "Hennepin"), QUOTE, False),
    (ORDER, "e1-us-domestic", _set("shipTo.taxId", "X1"), QUOTE, False),
    (ORDER, "e1-us-domestic", _set("shipTo.organization", "Acme"), QUOTE, False),
    (
        ORDER,
        "e1-us-domestic",
        _set("shipTo.additionalAddressInfo", {"division": "N", "floor": 3}),
        QUOTE,
        False,
    ),
    (ORDER, "e1-us-domestic", _set("shipTo.additionalAddressInfo", {}), QUOTE, False),
    (ORDER, "e1-us-domestic", _set("shipTo.additionalAddressInfo", "N"), QUOTE, True),
    (ORDER, "e1-us-domestic", _set("shipTo.name", {"first": "Jane", "last": None}), QUOTE, True),
    (ORDER, "e1-us-domestic", _set("shippingChoice.serviceLevel", None), QUOTE, True),
    (ORDER, "e1-us-domestic", _set("shippingChoice", "SG"), QUOTE, True),
    (ORDER, "e1-us-domestic", _set("items", DELETE), QUOTE, True),
    (ORDER, "e1-us-domestic", _set("items", "none"), QUOTE, True),
    (ORDER, "e1-us-domestic", _set("items", []), QUOTE, True),  # by the target schema
    (ORDER, "e1-us-domestic", _set("items.0.skuId", None), QUOTE, True),
    (ORDER, "e1-us-domestic", _set("items.0.quantity", DELETE), QUOTE, True),
    (ORDER, "e1-us-domestic", _set("items.0.quantity", 2.0), QUOTE, False),
    (ORDER, "e1-us-domestic", _set("items.0.quantity", 2.5), QUOTE, True),
    (ORDER, "e1-us-domestic", _set("items.0.quantity", True), QUOTE, True),
    (ORDER, "e1-us-domestic", _set("items.0.amount", None), QUOTE, False),
    (ORDER, "e1-us-domestic", _set("items.0.tax", None), QUOTE, True),
    (ORDER, "e1-us-domestic", _set("items.0.tax", "8%"), QUOTE, True),
    (ORDER, "e1-us-domestic", _set("importerOfRecordTax", True), QUOTE, False),
    (ORDER, "e1-us-domestic", _set("importerOfRecordTax", False), QUOTE, False),
    (ORDER, "e1-us-domestic", _set("importerOfRecordTax", "yes"), QUOTE, True),
    (ORDER, "e1-us-domestic", _set("billTo", None), QUOTE, False),
    (ORDER, "e1-us-domestic", _set("billTo", "same"), QUOTE, False),  # not read: shipTo has all
    (
        ORDER,
        "e1-us-domestic",
        _both(_set("shipTo.phone", None), _set("billTo", "same")),
        QUOTE,
        True,
    ),
    (ORDER, "e1-us-domestic", _set("shipTo.name", None), QUOTE, False),
    (ORDER, "e1-us-domestic", _unchanged, {}, False),
    (ORDER, "e1-us-domestic", _unchanged, {"shippingQuote": None}, False),
    (ORDER, "e1-us-domestic", _unchanged, {"shippingQuote": {}}, False),
    (ORDER, "e1-us-domestic", _unchanged, {"shippingQuote": {"id": "SG"}}, False),
    (ORDER, "e1-us-domestic", _unchanged, {"shippingQuote": {"id": "EXP"}}, True),
    (ORDER, "e1-us-domestic", _unchanged, {"shippingQuote": "SG"}, True),
    (ORDER, "e1-us-domestic", _unchanged, {"shippingQuote": {"signatureRequiredType": "no"}}, True),
    (ORDER, "e1-us-domestic", _unchanged, RESERVED, False),
    (ORDER, "e1-us-domestic", _unchanged, {**QUOTE, "inventoryReserved": False}, False),
    (ORDER, "e1-us-domestic", _unchanged, {**QUOTE, "inventoryReserved": "yes"}, True),
    (ORDER, "e1-us-domestic", _set("checkoutId", None), RESERVED, True),
    (ORDER, "e1-us-domestic", _set("checkoutId", ""), RESERVED, True),
    (SHIPPED, "e5-partial-shipment", _set("data.object.trackingUrl", None), {}, False),
    (SHIPPED, "e5-partial-shipment", _set("data.object.trackingUrl", ["u", None]), {}, True),
    (SHIPPED, "e5-partial-shipment", _set("data.object.id", None), {}, True),
    (
        SHIPPED,
        "e5-partial-shipment",
        _set("data.object.fulfillmentOrderUpstreamId", None),
        {},
        True,
    ),
    (SHIPPED, "e5-partial-shipment", _set("data.object.items", None), {}, True),
    (SHIPPED, "e5-partial-shipment", _set("data.object.items", {}), {}, True),
    (SHIPPED, "e5-partial-shipment", _set("data.object.items", []), {}, True),
    (SHIPPED, "e5-partial-shipment", _set("data.object.items.0.id", None), {}, False),
    (SHIPPED, "e5-partial-shipment", _set("data.object.items.0.id", 0), {}, False),  # "0" (G1)
    (SHIPPED, "e5-partial-shipment", _set("data.object.items.0.id", 8760948870), {}, False),
    (SHIPPED, "e5-partial-shipment", _set("data.object.items.0.id", 2.0), {}, False),
    (SHIPPED, "e5-partial-shipment", _set("data.object.items.0.id", 1.5), {}, False),  # left out
    (SHIPPED, "e5-partial-shipment", _set("data.object.items.0.id", True), {}, False),
    (SHIPPED, "e5-partial-shipment", _set("data.object.items.0.id", ""), {}, False),
    (SHIPPED, "e5-partial-shipment", _set("data.object.items.0.id", ["1"]), {}, False),
    (SHIPPED, "e5-partial-shipment", _set("data.object.id", 29016544906), {}, False),
    # upstream ids as numbers (G1): their digits; what is not an id leaves its line out
    (
        SHIPPED,
        "e5-partial-shipment",
        _set(f"{LINE}.0.fulfillmentOrderItemUpstreamId", 18),
        {},
        False,
    ),
    (
        SHIPPED,
        "e5-partial-shipment",
        _set(f"{LINE}.0.fulfillmentOrderItemUpstreamId", 1.5),
        {},
        False,
    ),
    (
        SHIPPED,
        "e5-partial-shipment",
        _set(f"{LINE}.0.fulfillmentOrderItemUpstreamId", True),
        {},
        False,
    ),
    (
        SHIPPED,
        "e5-partial-shipment",
        _set(f"{LINE}.0.fulfillmentOrderItemUpstreamId", {}),
        {},
        False,
    ),
    (SHIPPED, "e5-partial-shipment", _set("data.object.fulfillmentOrderUpstreamId", 27), {}, False),
    (SHIPPED, "e5-partial-shipment", _set("data.object.fulfillmentOrderUpstreamId", 2.5), {}, True),
    (CANCELLED, "e4-partial-cancel", _set(f"{LINE}.2.upstreamId", 183926760336), {}, False),
    (CANCELLED, "e4-partial-cancel", _set(f"{LINE}.2.upstreamId", 1.5), {}, True),
    (CANCELLED, "e4-partial-cancel", _set("data.object.upstreamId", 278815640336), {}, False),
    (CANCELLED, "e4-partial-cancel", _set("data.object.upstreamId", True), {}, True),
    (SHIPPED, "e5-partial-shipment", _set("data.object.id", True), {}, True),
    (SHIPPED, "e5-partial-shipment", _set("data.object.id", None), {}, True),
    (SHIPPED, "e5-partial-shipment", _set("data.object.items.0.quantity", 2.0), {}, False),
    (SHIPPED, "e5-partial-shipment", _set("data.object.items.0.quantity", 2.5), {}, False),
    (SHIPPED, "e5-partial-shipment", _set("data.object.items.0.quantity", 0), {}, False),
    (SHIPPED, "e5-partial-shipment", _set("data.object.items.0.quantity", -1), {}, False),
    (SHIPPED, "e5-partial-shipment", _set("data.object.items.0.quantity", None), {}, False),
    (SHIPPED, "e5-partial-shipment", _set("data.object.items.0.quantity", "1"), {}, False),
    (SHIPPED, "e5-partial-shipment", _set("data.object.items.0.quantity", True), {}, False),
    (
        SHIPPED,
        "e5-partial-shipment",
        _set("data.object.items.0.fulfillmentOrderItemUpstreamId", ""),
        {},
        False,
    ),
    (SHIPPED, "e5-partial-shipment", _set("data.object.items.0", None), {}, False),
    (SHIPPED, "e5-partial-shipment", _set("data.object.items.0", "line"), {}, False),
    (
        SHIPPED,
        "e5-partial-shipment",
        _both(*(_set(f"{LINE}.{i}.quantity", 0) for i in range(2))),
        {},
        True,
    ),
    (
        SHIPPED,
        "e5-partial-shipment",
        _both(_set(f"{LINE}.0.id", None), _set(f"{LINE}.1.quantity", 0)),
        {},
        True,
    ),
    (SHIPPED, "e5-partial-shipment", _set("data", None), {}, True),
    (SHIPPED, "e5-partial-shipment", _set("data.object", []), {}, True),
    (CANCELLED, "e4-partial-cancel", _set("data.object.upstreamId", DELETE), {}, True),
    (CANCELLED, "e4-partial-cancel", _set("data.object.items", "none"), {}, True),
    (CANCELLED, "e4-partial-cancel", _set("data.object.items", None), {}, True),
    (CANCELLED, "e4-partial-cancel", _set("data.object.items", []), {}, True),
    (CANCELLED, "e4-partial-cancel", _set("data.object.items.0.pending", None), {}, False),
    (CANCELLED, "e4-partial-cancel", _set("data.object.items.0.pending", "2"), {}, False),
    (CANCELLED, "e4-partial-cancel", _set("data.object.items.0.returned", DELETE), {}, False),
    (CANCELLED, "e4-partial-cancel", _set("data.object.items.0.quantity", 99), {}, False),
    (CANCELLED, "e4-partial-cancel", _set("data.object.items.0.quantity", True), {}, False),
    (CANCELLED, "e4-partial-cancel", _set("data.object.items.0.cancelled", 0.5), {}, False),
    (CANCELLED, "e4-partial-cancel", _set("data.object.items.0.cancelled", "1"), {}, False),
    (CANCELLED, "e4-partial-cancel", _set("data.object.items.2.cancelled", "1"), {}, True),
    (CANCELLED, "e4-partial-cancel", _set("data.object.items.0", None), {}, False),
    (CANCELLED, "e4-partial-cancel", _set("data.object.items.0", 7), {}, False),
    (CANCELLED, "e4-partial-cancel", _set("data.object.items.0.upstreamId", None), {}, False),
    (CANCELLED, "e4-partial-cancel", _set("data.object.items.2.upstreamId", None), {}, True),
    (CANCELLED, "e4-partial-cancel", _set("data.object.items.2.upstreamId", ""), {}, True),
    (
        CANCELLED,
        "e4-partial-cancel",
        _set("data.object.items.2.upstreamId", 0),
        {},
        False,
    ),  # "0", G1
    (CANCELLED, "e4-partial-cancel", _set("data.object.items.2.cancelled", 1.0), {}, False),
    (CANCELLED, "e4-partial-cancel", _set("data.object.items.2.cancelled", 1.5), {}, True),
    (CANCELLED, "e4-partial-cancel", _set("data.object.items.2.cancelled", -1), {}, True),
    (CANCELLED, "e4-partial-cancel", _set("data.object.items.2.cancelled", True), {}, True),
    (CANCELLED, "e4-partial-cancel", _set("data.object.items.2.pending", True), {}, True),
    (CANCELLED, "e4-partial-cancel", _set("data.object.items.2.pending", "2"), {}, True),
    (CANCELLED, "e4-partial-cancel", _set("data.object.items.2.pending", 1.0), {}, True),
    (CANCELLED, "e4-partial-cancel", _set("data.object.items.2.pending", 2.0), {}, False),
    # a count below 0 would let the cancelled count pass the quantity: the line is left out
    (
        CANCELLED,
        "e4-partial-cancel",
        _both(_set(f"{LINE}.2.pending", -2), _set(f"{LINE}.2.cancelled", 5)),
        {},
        True,
    ),
    (CANCELLED, "e4-partial-cancel", _set(f"{LINE}.0.shipped", -1), {}, False),
    (CANCELLED, "e4-partial-cancel", _set(f"{LINE}.0.returned", [0]), {}, False),
    (CANCELLED, "e4-partial-cancel", _set(f"{LINE}.2.pending", Decimal("2.0")), {}, False),
    (CANCELLED, "e4-partial-cancel", _set(f"{LINE}.2.quantity", Decimal("3")), {}, False),
    (CANCELLED, "e4-partial-cancel", _set(f"{LINE}.2.ledger", {"cancelled": 1}), {}, True),
    (CANCELLED, "e4-partial-cancel", _set(f"{LINE}.2.ledger", {"cancelled": 2}), {}, True),
    (CANCELLED, "e4-partial-cancel", _set(f"{LINE}.2.ledger", {"cancelled": 0}), {}, False),
    (CANCELLED, "e4-partial-cancel", _set(f"{LINE}.2.ledger", {"cancelled": 0.5}), {}, True),
    (CANCELLED, "e4-partial-cancel", _set(f"{LINE}.2.ledger", {"cancelled": "1"}), {}, True),
    (CANCELLED, "e4-partial-cancel", _set(f"{LINE}.0.ledger", {"cancelled": "1"}), {}, True),
    (CANCELLED, "e4-partial-cancel", _set(f"{LINE}.0.ledger", {"cancelled": ""}), {}, False),
    (CANCELLED, "e4-partial-cancel", _set(f"{LINE}.0.ledger", {"cancelled": True}), {}, False),
    (CANCELLED, "e4-partial-cancel", _set(f"{LINE}.2.ledger", {}), {}, False),
    (CANCELLED, "e4-partial-cancel", _set(f"{LINE}.2.ledger", "none"), {}, False),
    (
        CANCELLED,
        "e4-partial-cancel",
        _both(
            _set(f"{LINE}.2.cancelled", 3),
            _set(f"{LINE}.2.pending", 0),
            _set(f"{LINE}.2.ledger", {"cancelled": 1}),
        ),
        {},
        False,
    ),
    (
        CANCELLED,
        "e4-partial-cancel",
        _both(
            _set(f"{LINE}.0.cancelled", 2),
            _set(f"{LINE}.0.pending", 0),
            _set(f"{LINE}.0.ledger", {"cancelled": 3}),
            _set(f"{LINE}.1.cancelled", 1),
            _set(f"{LINE}.1.pending", 0),
            _set(f"{LINE}.1.upstreamId", None),
        ),
        {},
        False,
    ),
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


def test_the_variants_make_every_warn_rule_fire() -> None:
    """Each ``warn`` rule of the three mappings is violated by some variant, so that the
    baselines' warnings are compared for each."""
    fired = set()
    for name, case, change, context, _ in VARIANTS:
        source = json.loads((GOLDEN / name / f"{case}.input.json").read_text())
        change(source)
        outcome = assert_same_work(name, source, context)
        if outcome != "fails":
            fired |= {rule for rule, _ in json.loads(outcome)[1]}
    rules = {
        rule.name
        for name in MAPPINGS
        for rule in fulfillmap.load(name).spec.rules
        if rule.severity == "warn"
    }
    assert fired == rules


def _events() -> list[Any]:
    """Events of each kind of outcome of the three flows: a request with and without
    warnings, an event ignored by a route or for want of one, a failed event."""
    examples = REPO / "examples"
    accepted, shipped, cancelled = (
        json.loads((examples / f"{name}-event.json").read_text())
        for name in ("order-accepted", "shipped", "cancelled")
    )
    digital = copy.deepcopy(accepted)
    del digital["data"]["object"]["shipTo"]
    unknown_keys = copy.deepcopy(accepted)
    unknown_keys["data"]["object"]["shipTo"]["taxId"] = "X1"
    one_zero = copy.deepcopy(shipped)
    one_zero["data"]["object"]["items"][0]["quantity"] = 0
    all_zero = copy.deepcopy(one_zero)
    all_zero["data"]["object"]["items"][1]["quantity"] = 0
    nothing_cancelled = copy.deepcopy(cancelled)
    nothing_cancelled["data"]["object"]["items"][2].update(pending=1, cancelled=0)
    forged = copy.deepcopy(cancelled)  # an event's own ledger is dropped: a line is cancelled
    forged["data"]["object"]["items"][2]["ledger"] = {"cancelled": 1}
    text_count = copy.deepcopy(cancelled)
    text_count["data"]["object"]["items"][0]["cancelled"] = "0"  # left out, with a warning
    unknown = {"id": "evt-9", "type": "order.charge.captured", "data": {"object": {}}}
    return [
        *(accepted, shipped, cancelled, digital, unknown_keys, one_zero, all_zero),
        *(nothing_cancelled, forged, text_count, unknown, {"id": "x", "type": "t"}),
    ]


#: where a warning's rule is in its mapping file, which only fulfillmap says
_LOCATION = re.compile(rb'"location":"[^"]*"')


@pytest.mark.parametrize("options", [[], ["--decimal"]], ids=["floats", "decimal"])
def test_the_handle_baseline_writes_what_fulfillmap_handle_writes(
    tmp_path: Path, options: list[str]
) -> None:
    """bench/handle.py, the process ``fulfillmap handle`` is timed against, gives the same
    Action lines byte for byte (but the warnings' mapping file lines) and fails on the same
    lines (the bench checks the bytes again on its own files), reading amounts as floats or,
    with ``--decimal``, as Decimals (G3)."""
    path = tmp_path / "events.jsonl"
    path.write_text("".join(json.dumps(event) + "\n" for event in _events()))
    context = str(REPO / "examples" / "order.context.json")
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
        [sys.executable, str(REPO / "bench" / "handle.py"), str(path), context, *options],
        capture_output=True,
        check=False,
    )
    assert ours.stdout.count(b"\n") == 10
    assert ours.stdout.count(b'"location":"') == 4
    assert theirs.stdout == _LOCATION.sub(b'"location":null', ours.stdout)
    assert theirs.returncode == ours.returncode == 1

    def failed(stderr: bytes) -> list[str]:  # the failing lines (not the warnings before them)
        lines = stderr.decode().splitlines()
        return [
            line.split(":")[0]
            for line in lines
            if line.startswith("LINE") and ": warning: " not in line
        ]

    assert failed(theirs.stderr) == failed(ours.stderr) == ["LINE 7", "LINE 12"]


def test_the_decimal_handle_baseline_keeps_an_amounts_digits(tmp_path: Path) -> None:
    """What ``--decimal`` is for: an amount with more digits than a float holds comes out of
    fulfillmap and of ``bench/handle.py --decimal`` as it went in (G3), not rounded."""
    event = json.loads((REPO / "examples" / "order-accepted-event.json").read_text())
    text = json.dumps(event).replace('"amount": 20.0', '"amount": 20.000000000000000001', 1)
    assert "20.000000000000000001" in text
    path = tmp_path / "events.jsonl"
    path.write_text(text + "\n" + text + "\n")
    context = str(REPO / "examples" / "order.context.json")
    fulfillmap = str(Path(sys.executable).with_name("fulfillmap"))
    handle = [sys.executable, str(REPO / "bench" / "handle.py"), str(path), context]
    ours = subprocess.run(
        [fulfillmap, "handle", str(path), "--context", context], capture_output=True, check=True
    ).stdout
    exact = subprocess.run([*handle, "--decimal"], capture_output=True, check=True).stdout
    floats = subprocess.run(handle, capture_output=True, check=True).stdout
    assert ours.count(b"20.000000000000000001") == exact.count(b"20.000000000000000001") == 2
    assert b"20.000000000000000001" not in floats


def test_the_handle_baselines_warnings_are_the_mappings_words() -> None:
    """bench/handle.py words each warning as the rule's message in the mapping file (a
    warning it gives the old words of would differ only on events the bench does not hold)."""
    sys.path.insert(0, str(REPO / "bench"))
    try:
        import handle
    finally:
        sys.path.remove(str(REPO / "bench"))
    messages = {
        rule.name: rule.message
        for name in (ORDER, SHIPPED, CANCELLED)
        for rule in fulfillmap.load(name).spec.rules
    }
    assert {rule: messages[rule] for rule in handle.WARNINGS} == handle.WARNINGS
