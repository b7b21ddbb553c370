"""The body of an ``each`` loop over elements that are objects is written for them (each path
read once, up front; ``where`` reusing the verdicts of the rules it repeats; plugins marked
``reads_only`` given the documents themselves): it gives exactly what the general body gives
(the one written for any element), on every golden input, on generated variants of them and
on generated documents for mappings made to exercise it."""

from __future__ import annotations

import dataclasses
import json
import re
from pathlib import Path
from typing import Any

import fulfillmap
import pytest
from fulfillmap import CompiledMapping, MappingError
from fulfillmap.evaluate import _codegen
from fulfillmap.evaluate._codegen import generate
from fulfillmap.plugins import FieldInput, hookimpl, reads_only
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

TESTS = Path(__file__).resolve().parent
GOLDEN = sorted((TESTS / "golden").glob("*/**/*.input.json"))
MAPPINGS = {name: fulfillmap.load(name) for name in fulfillmap.shipped_mappings()}
MAPPINGS["features"] = fulfillmap.load(TESTS / "mappings" / "features.yaml")
MAPPINGS["lines"] = fulfillmap.load(TESTS / "mappings" / "lines.yaml")


def _general(mapping: CompiledMapping) -> CompiledMapping:
    """``mapping`` compiled with the general body for every loop."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(_codegen, "_leaf", lambda kind: False)
        program = generate(mapping.spec, mapping.registry)
    return dataclasses.replace(mapping, compiled=program)


GENERAL = {name: _general(mapping) for name, mapping in MAPPINGS.items()}


def _outcome(mapping: CompiledMapping, source: Any, context: Any) -> tuple[Any, ...]:
    try:
        result = mapping.apply_with_warnings(source, context, validate=False)
    except MappingError as error:
        fields = (error.field, error.expression, error.data_path, error.location, error.plugin)
        return ("error", error.reason, *fields, error.rule, str(error))
    return ("body", json.dumps(result.body), result.warnings)


def assert_same(name: str, source: Any, context: Any) -> None:
    specialised = _outcome(MAPPINGS[name], source, context)
    assert specialised == _outcome(GENERAL[name], source, context)


def test_the_loops_of_the_shipped_mappings_are_specialised() -> None:
    for name in ("shipped-event-to-fulfillment", "cancelled-event-to-fulfillment"):
        source, general = MAPPINGS[name].source_code, GENERAL[name].source_code
        assert re.search(r"\n +k\d+ = e\d+\.get\('quantity'\)\n", source)  # read up front
        assert re.search(r"\n +if [rt]\d+ is not True:\n", source)  # where reuses a verdict
        assert not re.search(r"\n +if [rt]\d+ is not True:\n", general)


def test_loops_are_written_for_the_classes_functions_keep() -> None:
    """``whole_number(quantity)``: an element whose quantity is an int is mapped without the
    function's call and without testing the quantity's class again (the general code is
    written for the others)."""
    from fulfillmap.language._expressions import calls_on_paths, compile_expression

    expression = compile_expression("whole_number(n) > `0` && to_id(a.b) || [x][0] && f(x, y)")
    assert calls_on_paths(expression) == (("whole_number", ("n",)), ("to_id", ("a", "b")))
    assert calls_on_paths(compile_expression("items[*].whole_number(n)")) == ()
    for name, guards in [
        ("shipped-event-to-fulfillment", 1),
        ("cancelled-event-to-fulfillment", 1),
        ("order-to-fulfillment-order", 1),
        ("lines", 1),
    ]:
        source = MAPPINGS[name].source_code
        assert (
            len(
                re.findall(
                    r"\n +if k\d+\.__class__ is _K\d+( and k\d+\.__class__ is _K\d+)*:", source
                )
            )
            == guards
        ), name
        assert "__class__ is _K" not in GENERAL[name].source_code
    lines = MAPPINGS["lines"].source_code
    assert re.search(r"if (k\d+\.__class__ is _K\d+ and ){3}k\d+\.__class__ is _K\d+:", lines)


def _golden(path: Path) -> tuple[str, Any, Any]:
    name = path.parent.parent.name if path.parent.name == "errors" else path.parent.name
    context = path.with_name(path.name.replace(".input.", ".context."))
    loaded = json.loads(context.read_text()) if context.exists() else {}
    return name, json.loads(path.read_text()), loaded


@pytest.mark.parametrize("path", GOLDEN, ids=[f"{p.parent.name}/{p.name}" for p in GOLDEN])
def test_golden_inputs(path: Path) -> None:
    assert_same(*_golden(path))


_SCALARS = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-3, 3),
    st.floats(-3, 3, allow_nan=False).map(lambda f: round(f, 1)),
    st.sampled_from(["", "x", "2"]),
)
_KEYS = st.sampled_from(
    [
        *("a", "b", "n", "total", "id", "ledger", "x", "y", "z", "items", "name", "qty", "sku"),
        *("tags", "enabled", "importerOfRecordTax", "upstreamId", "cancelled", "pending"),
    ]
)
_SHAPED = st.recursive(
    _SCALARS,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(_KEYS, inner, max_size=6),
    max_leaves=25,
)


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_golden_variants(data: st.DataObject) -> None:
    name, source, context = _golden(data.draw(st.sampled_from(GOLDEN)))
    items = source.get("items") or source.get("data", {}).get("object", {}).get("items")
    if isinstance(items, list) and items:  # change a line: a value, a key, the line itself
        index = data.draw(st.integers(0, len(items) - 1))
        line = items[index]
        if isinstance(line, dict) and line and data.draw(st.booleans()):
            line[data.draw(st.sampled_from(sorted(line)))] = data.draw(_SHAPED)
        else:
            items[index] = data.draw(_SHAPED)
    assert_same(name, source, context)


@settings(max_examples=600, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    name=st.sampled_from(["features", "lines"]),
    source=st.dictionaries(_KEYS, _SHAPED, max_size=6),
    lines=st.lists(st.dictionaries(_KEYS, _SHAPED, max_size=8) | _SHAPED, max_size=4),
)
def test_generated_documents(name: str, source: Any, lines: Any) -> None:
    assert_same(name, {**source, "items": lines}, {})


def test_where_raises_the_error_of_the_rule_verdict_it_reuses() -> None:
    """A rule's check that raised is reported by the rule; ``where``, reaching the same
    expression, fails with that error, as it does evaluating it again."""
    source = {"items": [{"id": "i", "n": 2, "a": "text", "total": 2}]}
    with pytest.raises(MappingError) as caught:
        MAPPINGS["lines"].apply(source, validate=False)
    assert "sum() takes an array of numbers (it was given text" in caught.value.reason
    assert caught.value.field == "lines"
    assert caught.value.data_path == "items[0]"
    assert _outcome(MAPPINGS["lines"], source, {}) == _outcome(GENERAL["lines"], source, {})


class Seeing:
    """Field functions that tell what they were given."""

    @hookimpl
    def fulfillmap_fields(self) -> dict[str, Any]:
        return {"viewed": self.viewed, "trusted": self.trusted}

    def viewed(self, data: FieldInput) -> str:
        return type(data.current).__name__

    @staticmethod
    @reads_only
    def trusted(data: FieldInput) -> str:
        return type(data.current).__name__


def test_a_reads_only_function_is_given_the_documents_others_read_only_views(
    tmp_path: Path,
) -> None:
    (tmp_path / "open.json").write_text('{"type": "object"}')
    (tmp_path / "m.yaml").write_text(
        "name: m\nsource: {name: s, schema: open.json}\ntarget: {name: t, schema: open.json}\n"
        "fields:\n  a: {plugin: viewed}\n  b: {plugin: trusted}\n"
        "  lines: {each: items, fields: {a: {plugin: viewed}, b: {plugin: trusted}}}\n"
    )
    manager = fulfillmap.plugin_manager(entry_points=False)
    manager.register(Seeing(), name="seeing")
    mapping = fulfillmap.load(tmp_path / "m.yaml", plugins=manager)
    body = mapping.apply({"items": [{"k": 1}]})
    assert body == {
        "a": "ReadOnlyDict",
        "b": "dict",
        "lines": [{"a": "ReadOnlyDict", "b": "dict"}],
    }
