"""Rules (checks on the source and the result) and tracing."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import fulfillmap
import pytest

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"

MAPPING = """\
name: counted
source: {name: s, schema: any.json}
target: {name: t, schema: any.json}
fields:
  lines:
    each: items
    where: "n > `0`"
    fields:
      id: {from: [id, legacyId], required: true}
      n: n
      note: {from: note, default: none}
rules:
  - name: counters-add-up
    each: items
    check: "sum([a, b]) == n"
    message: a + b must equal n
  - name: has-lines
    check: "length(items) > `0`"
    message: no lines
    severity: warn
  - name: positive
    on: result
    each: lines
    check: "n > `1`"
    message: small quantity
    severity: warn
"""


@pytest.fixture
def mapping(tmp_path: Path) -> fulfillmap.CompiledMapping:
    (tmp_path / "any.json").write_text("{}")
    (tmp_path / "m.yaml").write_text(MAPPING)
    return fulfillmap.load(tmp_path / "m.yaml")


def item(n: int, **extra: Any) -> dict[str, Any]:
    return {"id": f"i{n}", "n": n, "a": n, "b": 0, **extra}


def test_error_rule_stops_with_rule_and_data_path(mapping: fulfillmap.CompiledMapping) -> None:
    with pytest.raises(fulfillmap.MappingError) as caught:
        mapping.apply({"items": [item(1), item(2, b=5)]})
    error = caught.value
    assert error.rule == "counters-add-up"
    assert error.data_path == "items[1]"
    assert error.expression == "sum([a, b]) == n"
    assert "a + b must equal n" in str(error)
    assert error.location
    assert error.location.endswith("m.yaml:13:5")


def test_warn_rules_are_reported_and_the_body_produced(mapping: fulfillmap.CompiledMapping) -> None:
    result = mapping.run({"items": [item(1), item(2)]})
    assert result.body == {
        "lines": [{"id": "i1", "n": 1, "note": "none"}, {"id": "i2", "n": 2, "note": "none"}]
    }
    assert [(w.rule, w.data_path, w.on) for w in result.warnings] == [
        ("positive", "lines[0]", "result")
    ]
    assert str(result.warnings[0]) == "rule 'positive' (warn) at lines[0]: small quantity"
    assert [w.rule for w in mapping.run({"items": []}).warnings] == ["has-lines"]


def test_a_check_that_cannot_run_is_a_violation(mapping: fulfillmap.CompiledMapping) -> None:
    with pytest.raises(fulfillmap.MappingError, match="the check failed to run"):
        mapping.apply({"items": [{"id": "x", "n": 1, "a": "text", "b": 0}]})
    with pytest.raises(fulfillmap.MappingError, match="expected an array, got text"):
        mapping.apply({"items": "oops"})


def test_trace_reports_reads_fallbacks_defaults_and_skips(
    mapping: fulfillmap.CompiledMapping,
) -> None:
    trace = mapping.trace({"items": [{"legacyId": "L", "n": 0, "a": 0, "b": 0}, item(3)]})
    assert trace.error is None
    steps = {(step.target, step.outcome) for step in trace.steps}
    assert ("lines", "skipped") in steps
    by_target = {step.target: step for step in trace.steps if step.outcome != "skipped"}
    first = by_target["lines[0].id"]
    assert (first.value, first.expression, first.fallback) == ("i3", "id", 0)
    assert first.attempts[0].reads == ("items[1].id",)
    note = by_target["lines[0].note"]
    assert (note.outcome, note.value) == ("default", "none")
    assert trace.body == {"lines": [{"id": "i3", "n": 3, "note": "none"}]}


def test_trace_of_a_failure_stops_at_the_failure(mapping: fulfillmap.CompiledMapping) -> None:
    trace = mapping.trace({"items": [item(1), {"n": 2, "a": 2, "b": 0, "legacyId": None}]})
    assert trace.body is None
    assert trace.error is not None
    assert trace.error.field == "lines[1].id"
    failed = [step for step in trace.steps if step.outcome == "failed"]
    assert len(failed) == 1
    assert [(a.expression, a.reads, a.found) for a in failed[0].attempts] == [
        ("id", ("items[1].id",), "missing"),
        ("legacyId", ("items[1].legacyId",), "null"),
    ]


def test_trace_of_a_shipped_mapping() -> None:
    order = json.loads((EXAMPLES / "order.json").read_text())
    del order["shipTo"]["phone"]
    order["billTo"]["phone"] = "555"
    trace = fulfillmap.load("order-to-fulfillment-order").trace(order)
    phone = next(step for step in trace.steps if step.target == "phone")
    assert (phone.fallback, phone.expression, phone.value) == (1, "billTo.phone", "555")
    duties = next(step for step in trace.steps if step.target == "shippingChoice.dutiesPaid")
    assert (duties.outcome, duties.plugin) == ("omitted", "duties-paid")
    assert trace.body == fulfillmap.load("order-to-fulfillment-order").apply(order)


def test_order_mapping_refuses_an_order_whose_ids_are_missing() -> None:
    """G9: without the ids no later event could be matched, so nothing is requested."""
    order = json.loads((EXAMPLES / "order.json").read_text())
    mapping = fulfillmap.load("order-to-fulfillment-order")
    context = json.loads((EXAMPLES / "order.context.json").read_text())
    assert mapping.run(order, context).warnings == ()
    order["items"][1]["id"] = None
    with pytest.raises(fulfillmap.MappingError) as caught:
        mapping.run(order, context)
    assert (caught.value.rule, caught.value.data_path) == ("lines-have-ids", "items[1]")
    del order["id"]
    with pytest.raises(fulfillmap.MappingError) as caught:
        mapping.run(order, context)
    assert (caught.value.rule, caught.value.data_path) == ("order-has-id", None)


def test_order_mapping_warns_without_a_shipping_quote() -> None:
    """G6: the signature requirement is only on the chosen quote; without it, a warning."""
    order = json.loads((EXAMPLES / "order.json").read_text())
    result = fulfillmap.load("order-to-fulfillment-order").run(order)
    assert [(w.rule, w.data_path, w.on) for w in result.warnings] == [
        ("shipping-quote-given", "context", "context")
    ]
    assert "signatureRequiredType" not in result.body["shippingChoice"]


def test_an_error_rule_over_an_array_that_is_not_one_names_the_rule() -> None:
    mapping = fulfillmap.load("order-to-fulfillment-order")
    order = json.loads((EXAMPLES / "order.json").read_text())
    order["items"] = "3 items"
    with pytest.raises(fulfillmap.MappingError) as caught:
        mapping.apply(order)
    assert caught.value.rule == "lines-have-ids"
    assert caught.value.data_path == "items"
    assert "expected an array, got text" in str(caught.value)


@pytest.mark.parametrize("bad", [float("nan"), float("inf"), 2.5])
def test_order_quantities_pass_to_integer_and_refuse_nan_and_infinity(bad: float) -> None:
    order = json.loads((EXAMPLES / "order.json").read_text())
    order["items"][0]["quantity"] = 2.0
    mapping = fulfillmap.load("order-to-fulfillment-order")
    assert mapping.apply(order)["items"][0]["quantity"].__class__ is int
    order["items"][1]["quantity"] = bad
    with pytest.raises(fulfillmap.MappingError, match="to_integer\\(\\) takes a whole number") as e:
        mapping.apply(order)
    assert e.value.field == "items[1].quantity"
    assert "Decimal(" not in str(e.value)
    assert "nan" not in str(e.value)  # JSON's words: NaN, Infinity


def test_a_context_rule_checks_what_the_caller_passed(write_mapping: Any) -> None:
    path = write_mapping(
        "rules:\n"
        "  - {name: quotes-have-ids, on: context, each: quotes, check: id, message: no id}\n"
        "  - {name: warehouse-given, on: context, check: warehouse, message: none,"
        " severity: warn}\n"
        "fields:\n"
        "  orderId: {from: data.object.upstreamId, required: true}\n"
        "  items: {value: [{itemId: a, cancelQuantity: 1}]}\n"
    )
    mapping = fulfillmap.load(path)
    event = {"data": {"object": {"upstreamId": "o-1"}}}
    context = {"quotes": [{"id": "SG"}], "warehouse": "w-7"}
    assert mapping.run(event, context).warnings == ()  # the generated builder's verdict
    assert mapping.apply(event, context)["orderId"] == "o-1"
    [warning] = mapping.run(event, {"quotes": []}).warnings
    assert (warning.rule, warning.data_path, warning.on) == (
        "warehouse-given",
        "context",
        "context",
    )
    with pytest.raises(fulfillmap.MappingError) as caught:
        mapping.apply(event, {"quotes": [{"id": "SG"}, {}], "warehouse": "w-7"})
    assert (caught.value.rule, caught.value.data_path) == ("quotes-have-ids", "context.quotes[1]")


def test_an_error_through_the_engine_keeps_its_trace_and_data() -> None:
    event = json.loads((EXAMPLES / "order-accepted-event.json").read_text())
    del event["data"]["object"]["currency"]
    direct = fulfillmap.load("order-to-fulfillment-order")
    with pytest.raises(fulfillmap.MappingError) as mapped:
        direct.apply(event["data"]["object"])
    with pytest.raises(fulfillmap.MappingError) as handled:
        fulfillmap.Engine().handle(event)
    error = handled.value
    assert error.data_path == "data.object.currency"
    assert error.trace
    assert len(error.trace) == len(mapped.value.trace)
    assert error.trace[-1].outcome == "failed"
    assert error.data == mapped.value.data
    assert "trace up to the failure" in error.details()


def test_warn_rules_reach_apply_callers_as_python_warnings(
    mapping: fulfillmap.CompiledMapping,
) -> None:
    with pytest.warns(fulfillmap.FulfillmapWarning, match="rule 'has-lines' \\(warn\\): no lines"):
        assert mapping.apply({"items": []}) == {"lines": []}


def test_rules_checked_in_a_loop_report_in_rule_order(tmp_path: Path) -> None:
    """A warn rule over the array a field maps is checked in that field's loop (one pass);
    its warnings still come in rule order, before those of later rules."""
    (tmp_path / "any.json").write_text("{}")
    (tmp_path / "m.yaml").write_text(
        "name: ordered\n"
        "source: {name: s, schema: any.json}\n"
        "target: {name: t, schema: any.json}\n"
        "fields:\n"
        "  lines: {each: items, where: 'n > `1`', fields: {n: n}}\n"
        "rules:\n"
        "  - {name: a, each: items, check: 'n > `0`', message: m, severity: warn}\n"
        "  - {name: b, check: 'length(items) > `5`', message: m, severity: warn}\n"
        "  - {name: c, on: result, each: lines, check: 'n > `2`', message: m, severity: warn}\n"
    )
    mapping = fulfillmap.load(tmp_path / "m.yaml")
    items = [{"n": 0}, {"n": 2}, {"n": -1}, {"n": 3}]
    for result in (mapping.run({"items": items}), mapping.trace({"items": items})):
        warnings = result.warnings if isinstance(result, fulfillmap.Result) else result.violations
        assert [(w.rule, w.data_path) for w in warnings] == [
            ("a", "items[0]"),
            ("a", "items[2]"),
            ("b", ""),
            ("c", "lines[0]"),
        ]


def _shipment_with_nothing_to_capture() -> dict[str, Any]:
    path = Path(__file__).resolve().parent.parent / "examples" / "shipped-event.json"
    event: dict[str, Any] = json.loads(path.read_text())
    for item in event["data"]["object"]["items"]:
        item["quantity"] = 0
    return event


def test_the_warnings_found_before_a_failure_reach_the_caller() -> None:
    """Each line was left out with a warning, then no line is left: the error carries those
    warnings (why), through every entry point, in rule then line order, and when pickled."""
    import pickle
    import warnings as python_warnings

    expected = [
        ("quantities-are-positive", "data.object.items[0]"),
        ("quantities-are-positive", "data.object.items[1]"),
    ]
    mapping = fulfillmap.load("shipped-event-to-fulfillment")
    event = _shipment_with_nothing_to_capture()
    with pytest.raises(fulfillmap.MappingError) as caught:
        mapping.apply_with_warnings(event)
    assert caught.value.rule == "some-line-is-captured"
    assert [(w.rule, w.data_path) for w in caught.value.warnings] == expected
    again = pickle.loads(pickle.dumps(caught.value))
    assert [(w.rule, w.data_path) for w in again.warnings] == expected
    with python_warnings.catch_warnings(record=True) as issued:  # apply issues them too
        python_warnings.simplefilter("always")
        with pytest.raises(fulfillmap.MappingError):
            mapping.apply(event)
    assert [str(w.message).split("'")[1] for w in issued] == [rule for rule, _ in expected]
    traced = mapping.trace(event)
    assert traced.error is not None
    assert [(w.rule, w.data_path) for w in traced.violations] == expected
    with pytest.raises(fulfillmap.MappingError) as caught:
        fulfillmap.Engine().handle(event)
    assert [(w.rule, w.data_path) for w in caught.value.warnings] == expected
    order = json.loads(
        (
            Path(__file__).resolve().parent.parent / "examples" / "order-accepted-event.json"
        ).read_text()
    )
    del order["data"]["object"]["items"][0]["tax"]  # fails; the quote's warning found before
    with pytest.raises(fulfillmap.MappingError) as caught:
        fulfillmap.Engine().handle(order)  # the route's input is data.object: paths rebased
    assert [(w.rule, w.data_path) for w in caught.value.warnings] == [
        ("shipping-quote-given", "context")
    ]


def test_the_warnings_before_a_target_schema_failure_reach_the_caller() -> None:
    mapping = fulfillmap.load("order-to-fulfillment-order")
    order = json.loads(
        (Path(__file__).resolve().parent.parent / "examples" / "order.json").read_text()
    )
    order["currency"] = "usdollar"  # not a currency code: the target schema refuses it
    order["shipTo"]["taxId"] = "X1"
    with pytest.raises(fulfillmap.MappingError) as caught:
        mapping.apply_with_warnings(order, {})
    assert [w.rule for w in caught.value.warnings] == [
        "ship-to-keys-are-known",
        "shipping-quote-given",
    ]


def test_rules_checked_in_an_array_loop_report_every_line_when_the_mapping_fails() -> None:
    """The shipped mapping's warn rules on its lines are checked in the items field's loop (one
    pass). A failure before that loop (orderId absent) left every line unchecked, and their
    warnings out of the error, which the same rules written on their own reported (they are
    checked before the fields): the error carries every line's warnings either way."""
    event = json.loads(
        (Path(__file__).resolve().parent.parent / "examples" / "shipped-event.json").read_text()
    )
    items = event["data"]["object"]["items"]
    items[0]["quantity"] = 0
    items[1]["fulfillmentOrderItemUpstreamId"] = 1.5
    del event["data"]["object"]["fulfillmentOrderUpstreamId"]
    for run in (
        fulfillmap.load("shipped-event-to-fulfillment").apply_with_warnings,
        fulfillmap.Engine().handle,
    ):
        with pytest.raises(fulfillmap.MappingError) as caught:
            run(event)
        assert caught.value.field == "orderId"
        assert [(w.rule, w.data_path) for w in caught.value.warnings] == [
            ("lines-have-upstream-ids", "data.object.items[1]"),
            ("quantities-are-positive", "data.object.items[0]"),
        ]
