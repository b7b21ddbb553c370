"""``fulfillmap trace``, and the trace a ``MappingError`` carries up to the failure."""

from __future__ import annotations

import json
import pickle
from pathlib import Path
from typing import Any

import pytest
from fulfillmap.cli import main
from fulfillmap.errors import MappingError
from fulfillmap.evaluate._mapping import load
from fulfillmap.paths import excerpt, truncate
from fulfillmap.tooling._render import render_trace, trace_json

REPO = Path(__file__).resolve().parent.parent
GOLDEN = REPO / "tests" / "golden" / "order-to-fulfillment-order"
MISSING_TAX = GOLDEN / "errors" / "item-missing-tax.input.json"
BILLTO = GOLDEN / "billto-fallback.input.json"


def read(path: Path) -> Any:
    return json.loads(path.read_text(encoding="utf-8"))


def test_truncate_keeps_short_values_and_cuts_long_ones() -> None:
    assert truncate("abc") == '"abc"'
    assert truncate({"a": [1, None]}) == '{"a": [1, null]}'
    long = "x" * 100
    assert truncate(long, 10) == f'"xxxxxxxxx... (len={len(long) + 2})'


@pytest.mark.parametrize(
    ("path", "expected"),
    [
        ("items[1].tax.amount", 'items[1]: {"id": "b"}'),
        ("items[0].tax", 'items[0].tax: {"amount": 1}'),
        ("items[7].id", 'items: [{"tax": {"amount": 1}}, {"id": "b"}]'),
        ("context.shippingQuote.name", 'context.shippingQuote: {"id": 5}'),
        ("nothing", '(the whole input): {"items": [{"tax": {"amount": 1}}, {"id": "b"}]}'),
    ],
)
def test_excerpt_shows_the_deepest_existing_value(path: str, expected: str) -> None:
    source = {"items": [{"tax": {"amount": 1}}, {"id": "b"}]}
    assert excerpt(source, {"shippingQuote": {"id": 5}}, path) == expected


def test_excerpt_without_a_data_path_is_empty() -> None:
    assert excerpt({"a": 1}, None, None) == ""


def test_text_trace_shows_reads_fallbacks_plugins_and_omissions() -> None:
    mapping = load("order-to-fulfillment-order")
    text = render_trace(mapping.trace(read(BILLTO)), "order.yaml")
    lines = text.splitlines()
    assert lines[0] == (
        "trace of mapping 'order-to-fulfillment-order' (order.yaml): 24 set, 11 omitted"
    )
    assert (
        '  33:3    name = "Martha Hudson"  <- billTo.name (fallback 2 of 2; shipTo.name is missing)'
        in lines
    )
    assert (
        'phone = "+44 20 7946 0018"  <- billTo.phone (fallback 2 of 2; shipTo.phone is null)'
        in text
    )
    assert 'currency = "GBP"  <- upper(currency) (reads currency)' in text
    assert (
        "shippingChoice.dutiesPaid: omitted (plugin 'duties-paid' gave no value)"
        "  [plugin duties-paid]" in text
    )
    assert 'items[0].inventoryItemId = "sku_pipe_briar"  <- skuId (reads items[0].skuId)' in text
    assert "items = [1 element]" in text
    assert "shippingChoice = {1 key}" in text
    assert lines[-1] == "ok"


def test_text_trace_shows_skipped_elements_defaults_and_constants(write_mapping: Any) -> None:
    path = write_mapping(
        "fields:\n"
        "  orderId: {from: data.object.upstreamId, default: unknown}\n"
        "  items:\n"
        "    each: data.object.items\n"
        "    where: cancelled > `0`\n"
        "    fields:\n"
        "      itemId: {value: fixed}\n"
        "      cancelQuantity: cancelled\n",
    )
    event = {"data": {"object": {"items": [{"cancelled": 0}, {"cancelled": 2}]}}}
    text = render_trace(load(path).trace(event))
    assert 'orderId = "unknown"  (default: data.object.upstreamId is missing)' in text
    assert "items: skipped (data.object.items[0] left out: `cancelled > `0`` is not true)" in text
    assert 'items[0].itemId = "fixed"  (constant)' in text
    assert (
        "items[0].cancelQuantity = 2  <- cancelled (reads data.object.items[1].cancelled)" in text
    )
    assert text.splitlines()[0].endswith(": 1 defaulted, 1 skipped, 1 constant, 2 set")


def test_json_trace_of_a_failure() -> None:
    mapping = load("order-to-fulfillment-order")
    data = trace_json(mapping.trace(read(MISSING_TAX)), mapping.spec.file)
    assert data["ok"] is False
    assert data["body"] is None
    assert data["file"] == mapping.spec.file
    failed = data["steps"][-1]
    assert failed == {
        "target": "items[1].tax.amount",
        "outcome": "failed",
        "location": f"{mapping.spec.file}:104:11",
        "expression": None,
        "fallback": None,
        "attempts": [
            {"expression": "tax.amount", "reads": ["items[1].tax.amount"], "found": "missing"}
        ],
        "plugin": None,
        "reason": "required value is absent: tax.amount is missing",
    }
    assert data["error"]["field"] == "items[1].tax.amount"
    assert data["error"]["data_path"] == "items[1].tax.amount"
    json.dumps(data)


def test_cli_trace_text_and_json(capsys: pytest.CaptureFixture[str]) -> None:
    context = str(REPO / "examples" / "order.context.json")
    args = ["trace", "order-to-fulfillment-order", str(REPO / "examples" / "order.json")]
    assert main([*args, "--context", context]) == 0
    out = capsys.readouterr().out
    assert 'shippingChoice.signatureRequiredType = "adult"  [plugin signature-required-type]' in out
    assert out.endswith("ok\n")
    assert main([*args, "--format", "json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["ok"] is True
    assert data["body"]["currency"] == "USD"


def test_cli_trace_of_a_failing_input_exits_1_and_still_prints(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert main(["trace", "order-to-fulfillment-order", str(MISSING_TAX)]) == 1
    out = capsys.readouterr().out
    assert "items[0].tax.amount = 1.61" in out  # the steps before the failure
    assert "items[1].tax.amount: FAILED (required value is absent" in out
    assert out.splitlines()[-1].startswith(
        "failed: mapping 'order-to-fulfillment-order', field 'items[1].tax.amount'"
    )


def test_cli_trace_of_bad_json_is_a_clean_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    bad = tmp_path / "bad.json"
    bad.write_text("{", encoding="utf-8")
    assert main(["trace", "order-to-fulfillment-order", str(bad)]) == 1
    captured = capsys.readouterr()
    assert captured.out == ""
    assert "is not valid JSON" in captured.err


def test_mapping_error_carries_the_trace_up_to_the_failure() -> None:
    mapping = load("order-to-fulfillment-order")
    with pytest.raises(MappingError) as caught:
        mapping.apply(read(MISSING_TAX))
    error = caught.value
    assert error.trace[-1].target == "items[1].tax.amount"
    assert error.trace[-1].outcome == "failed"
    assert all(step.outcome != "failed" for step in error.trace[:-1])
    assert error.data.startswith('items[1]: {"id": "183926750336"')
    assert error.data.endswith(")")
    assert "... (len=" in error.data
    assert "\n" not in str(error)  # the message itself stays one paragraph
    details = error.details().splitlines()
    assert details[0] == str(error)
    assert details[1] == (
        "trace up to the failure (mapping file line:column, after 19 earlier step(s)):"
    )
    assert len(details) == 2 + 20 + 1
    assert details[-2].split()[:3] == ["104:11", "items[1].tax.amount:", "FAILED"]
    assert details[-1] == f"input at {error.data}"
    assert error.details(last=1).splitlines()[2].startswith("  104:11")


def test_mapping_error_with_its_trace_pickles() -> None:
    mapping = load("order-to-fulfillment-order")
    with pytest.raises(MappingError) as caught:
        mapping.apply(read(MISSING_TAX))
    copy = pickle.loads(pickle.dumps(caught.value))
    assert copy.details() == caught.value.details()
    assert copy.trace == caught.value.trace


def test_errors_before_any_field_have_no_trace() -> None:
    mapping = load("order-to-fulfillment-order")
    with pytest.raises(MappingError) as caught:
        mapping.apply([])
    assert caught.value.trace == ()
    assert caught.value.data == ""
    assert caught.value.details() == str(caught.value)


def test_a_rule_failure_carries_no_field_steps(write_mapping: Any) -> None:
    path = write_mapping(
        "fields:\n"
        "  orderId: data.object.upstreamId\n"
        "rules:\n"
        "  - {name: has-id, check: data.object.upstreamId, message: no upstream id}\n",
    )
    with pytest.raises(MappingError, match="no upstream id") as caught:
        load(path).apply({"data": {"object": {}}})
    assert caught.value.trace == ()


def test_success_records_no_trace(monkeypatch: pytest.MonkeyPatch) -> None:
    mapping = load("order-to-fulfillment-order")

    def no_trace(*args: Any, **kwargs: Any) -> Any:
        raise AssertionError("traced on the success path")

    monkeypatch.setattr(type(mapping), "trace", no_trace)
    assert mapping.apply(read(BILLTO))["currency"] == "GBP"


def test_a_trace_that_fails_does_not_hide_the_error(monkeypatch: pytest.MonkeyPatch) -> None:
    mapping = load("order-to-fulfillment-order")

    def broken(*args: Any, **kwargs: Any) -> Any:
        raise RuntimeError("tracing broke")

    monkeypatch.setattr(type(mapping), "trace", broken)
    with pytest.raises(MappingError, match="required value is absent") as caught:
        mapping.apply(read(MISSING_TAX))
    assert caught.value.trace == ()


def test_cli_map_prints_one_paragraph_and_the_trace_with_verbose(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert main(["map", "order-to-fulfillment-order", str(MISSING_TAX)]) == 1
    captured = capsys.readouterr()
    assert captured.out == ""
    warning, error = captured.err.splitlines()  # the warning found before it (no quote)
    assert warning.startswith("fulfillmap: warning: mapping 'order-to-fulfillment-order', rule")
    assert error.startswith("fulfillmap: error: mapping 'order-to-fulfillment-order'")
    assert main(["map", "--verbose", "order-to-fulfillment-order", str(MISSING_TAX)]) == 1
    captured = capsys.readouterr()
    assert captured.out == ""
    lines = captured.err.splitlines()[1:]
    assert lines[0].startswith("fulfillmap: error: mapping 'order-to-fulfillment-order', field")
    assert lines[1].startswith("trace up to the failure")
    assert "items[1].tax.amount: FAILED" in lines[-2]
    assert lines[-1].startswith("input at items[1]: ")
    assert "Traceback" not in captured.err
