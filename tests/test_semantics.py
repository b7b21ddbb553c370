"""The mapping language's semantics, on small mappings written by the tests."""

from __future__ import annotations

import json
import textwrap
from collections.abc import Callable
from pathlib import Path
from typing import Any

import fulfillmap
import pytest

Write = Callable[..., fulfillmap.CompiledMapping]


@pytest.fixture
def write(tmp_path: Path) -> Write:
    """Write a mapping with the given fields (YAML text) and load it."""

    def write(fields: str, *, rules: str = "", target: dict[str, Any] | None = None) -> Any:
        (tmp_path / "source.json").write_text("{}")
        (tmp_path / "target.json").write_text(json.dumps(target or {}))
        text = textwrap.dedent(
            """\
            name: test-mapping
            source: {name: a source, schema: source.json}
            target: {name: a target, schema: target.json}
            fields:
            """
        )
        text += textwrap.indent(textwrap.dedent(fields), "  ")
        if rules:
            text += "rules:\n" + textwrap.indent(textwrap.dedent(rules), "  ")
        path = tmp_path / "mapping.yaml"
        path.write_text(text)
        return fulfillmap.load(path)

    return write


def test_plain_paths_and_omitted_absent_values(write: Write) -> None:
    mapping = write("a: x.y\nb: missing.path\nc: nulled\n")
    assert mapping.apply({"x": {"y": 1}, "nulled": None}) == {"a": 1}


@pytest.mark.parametrize("kept", [0, False, "", [], {}])
def test_fallbacks_skip_only_missing_and_null(write: Write, kept: Any) -> None:
    mapping = write("v: {from: [a, b, c]}\n")
    assert mapping.apply({"a": None, "b": kept, "c": "other"}) == {"v": kept}
    assert mapping.apply({"c": "other"}) == {"v": "other"}


def test_jmespath_or_would_skip_falsy_values_but_fallbacks_do_not(write: Write) -> None:
    mapping = write("fallback: {from: [a, b]}\njmespath: a || b\n")
    assert mapping.apply({"a": "", "b": 5}) == {"fallback": "", "jmespath": 5}


def test_required_missing_and_null_are_told_apart(write: Write) -> None:
    mapping = write("v: {from: [a.b, c], required: true}\n")
    with pytest.raises(fulfillmap.MappingError) as caught:
        mapping.apply({"a": {"b": None}})
    assert "a.b is null, c is missing" in str(caught.value)
    assert caught.value.field == "v"
    assert caught.value.data_path == "a.b"


def test_default_is_used_for_missing_and_null_but_not_for_falsy(write: Write) -> None:
    mapping = write("v: {from: a, default: {k: [1]}}\n")
    assert mapping.apply({}) == {"v": {"k": [1]}}
    assert mapping.apply({"a": None}) == {"v": {"k": [1]}}
    assert mapping.apply({"a": 0}) == {"v": 0}
    first = mapping.apply({})
    first["v"]["k"].append(2)
    assert mapping.apply({}) == {"v": {"k": [1]}}, "a default must not be shared between results"


def test_constants_are_copied(write: Write) -> None:
    mapping = write("c: {value: {list: [1, 2]}}\nn: {value: 0}\n")
    first = mapping.apply({})
    first["c"]["list"].clear()
    assert mapping.apply({}) == {"c": {"list": [1, 2]}, "n": 0}


def test_copied_objects_drop_nulls_at_any_depth(write: Write) -> None:
    mapping = write("shipTo: shipTo\n")
    source = {
        "shipTo": {"name": None, "address": {"line1": None, "country": "US"}, "tags": [{"a": None}]}
    }
    assert mapping.apply(source) == {"shipTo": {"address": {"country": "US"}, "tags": [{}]}}


def test_a_null_element_of_an_array_is_kept_in_its_place(write: Write) -> None:
    """QA finding: the docs said the output never contains null; a null *member* of an object
    is dropped, but a null element of an array is kept, since dropping it would shift the
    positions of the elements after it (docs/mapping-language.md, Absent values)."""
    mapping = write("deepnull: {from: obj}\nconstant: {value: [null, {a: null}]}\n")
    assert mapping.apply({"obj": {"n": {"o": [None, 1], "gone": None}}}) == {
        "deepnull": {"n": {"o": [None, 1]}},
        "constant": [None, {}],
    }


def test_nested_object_with_no_values_is_absent(write: Write) -> None:
    mapping = write("outer:\n  fields:\n    a: x\n    b: y\n")
    assert mapping.apply({}) == {}
    assert mapping.apply({"y": 2}) == {"outer": {"b": 2}}


def test_arrays_with_where_and_per_element_errors(write: Write) -> None:
    fields = """\
        lines:
          each: items
          where: "n > `0`"
          fields:
            id: {from: id, required: true}
            n: n
        """
    mapping = write(fields)
    items = [{"id": "a", "n": 0}, {"id": "b", "n": 2}, {"n": 3}]
    with pytest.raises(fulfillmap.MappingError) as caught:
        mapping.apply({"items": items})
    error = caught.value
    assert error.field == "lines[1].id", "the output index (after filtering)"
    assert error.data_path == "items[2].id", "the input index"
    assert mapping.apply({"items": items[:2]}) == {"lines": [{"id": "b", "n": 2}]}
    assert mapping.apply({"items": []}) == {"lines": []}
    assert mapping.apply({"items": None}) == {}


def test_nested_arrays_report_both_indices(write: Write) -> None:
    fields = """\
        outer:
          each: a
          fields:
            inner:
              each: b
              fields:
                v: {from: v, required: true}
        """
    mapping = write(fields)
    with pytest.raises(fulfillmap.MappingError) as caught:
        mapping.apply({"a": [{"b": [{"v": 1}]}, {"b": [{"v": 1}, {"v": None}]}]})
    assert caught.value.field == "outer[1].inner[1].v"
    assert caught.value.data_path == "a[1].b[1].v"


@pytest.mark.parametrize(
    ("source", "field", "data_path"),
    [
        ({"items": "x"}, "lines", "items"),
        ({"items": [5]}, "lines[0].id", "items[0]"),
        ({"items": [{"id": {"x": 1}, "deep": "text"}]}, "lines[0].deep", "items[0].deep"),
    ],
)
def test_wrong_types_are_mapping_errors(
    write: Write, source: dict[str, Any], field: str, data_path: str
) -> None:
    mapping = write("lines:\n  each: items\n  fields:\n    id: id\n    deep: deep.er\n")
    with pytest.raises(fulfillmap.MappingError) as caught:
        mapping.apply(source)
    assert "wrong type" in str(caught.value)
    assert (caught.value.field, caught.value.data_path) == (field, data_path)


def test_scopes(write: Write) -> None:
    fields = """\
        lines:
          each: items
          fields:
            id: id
            currency: {from: currency, scope: root}
            note: {from: notes.gift, scope: context}
        """
    mapping = write(fields)
    result = mapping.apply({"currency": "USD", "items": [{"id": "1"}]}, {"notes": {"gift": "hi"}})
    assert result == {"lines": [{"id": "1", "currency": "USD", "note": "hi"}]}


def test_context_scope_errors_name_the_context(write: Write) -> None:
    mapping = write("q: {from: quote.id, scope: context, required: true}\n")
    with pytest.raises(fulfillmap.MappingError) as caught:
        mapping.apply({}, {"quote": {}})
    assert caught.value.data_path == "context.quote.id"


def test_builtin_functions(write: Write) -> None:
    mapping = write("c: upper(c)\ni: to_id(i)\nq: to_integer(q)\nn: upper(missing)\n")
    assert mapping.apply({"c": "usd", "i": 5774321009, "q": 2.0}) == {
        "c": "USD",
        "i": "5774321009",
        "q": 2,
    }
    with pytest.raises(fulfillmap.MappingError) as caught:
        mapping.apply({"q": 2.5})
    assert "to_integer() takes a whole number" in str(caught.value)
    assert caught.value.expression == "to_integer(q)"


def test_jmespath_runtime_errors_are_mapping_errors(write: Write) -> None:
    mapping = write("v: sum(values)\n")
    with pytest.raises(fulfillmap.MappingError) as caught:
        mapping.apply({"values": ["a"]})
    assert caught.value.expression == "sum(values)"
    assert caught.value.field == "v"


def test_money_and_ids_pass_through_unchanged(write: Write) -> None:
    from decimal import Decimal

    mapping = write("a: a\nb: b\nid: id\n")
    result = mapping.apply({"a": Decimal("1.605"), "b": 0.1, "id": "000417"})
    assert result == {"a": Decimal("1.605"), "b": 0.1, "id": "000417"}
    assert type(result["a"]) is Decimal


def test_non_object_input_and_context(write: Write) -> None:
    mapping = write("a: a\n")
    for bad in ([], "x", None, 3):
        with pytest.raises(fulfillmap.MappingError, match="must be a JSON object"):
            mapping.apply(bad)
    with pytest.raises(fulfillmap.MappingError, match="context must be a JSON object"):
        mapping.apply({}, [1])  # type: ignore[arg-type]


def test_result_is_validated_against_the_target_schema(write: Write) -> None:
    target = {
        "type": "object",
        "properties": {
            "lines": {
                "type": "array",
                "items": {"type": "object", "properties": {"q": {"type": "integer"}}},
            }
        },
    }
    mapping = write("lines:\n  each: items\n  fields:\n    q: qty\n", target=target)
    with pytest.raises(fulfillmap.MappingError) as caught:
        mapping.apply({"items": [{"qty": 1}, {"qty": "2"}]})
    error = caught.value
    assert error.field == "lines[1].q"
    assert error.data_path == "items[1].qty"
    assert error.expression == "qty"
    assert 'expected an integer, not "2"' in str(error)
    assert mapping.apply({"items": [{"qty": "2"}]}, validate=False) == {"lines": [{"q": "2"}]}


def test_date_time_format_is_checked(write: Write) -> None:
    target = {"properties": {"t": {"type": "string", "format": "date-time"}}}
    mapping = write("t: t\n", target=target)
    assert mapping.apply({"t": "2024-03-12T15:04:32.118204Z"}) == {
        "t": "2024-03-12T15:04:32.118204Z"
    }
    for bad in ("2024-03-12", "2024-13-12T15:04:27Z", "yesterday"):
        with pytest.raises(fulfillmap.MappingError, match="date-time"):
            mapping.apply({"t": bad})


def test_yaml_1_2_booleans_only(write: Write) -> None:
    mapping = write("a: {value: yes}\nb: {value: off}\nc: {value: true}\n")
    assert mapping.apply({}) == {"a": "yes", "b": "off", "c": True}


def test_a_read_only_mapping_context_is_accepted(write: Write) -> None:
    from types import MappingProxyType

    mapping = write("q: {from: quote.id, scope: context}\n")
    assert mapping.apply({}, MappingProxyType({"quote": {"id": "SG"}})) == {"q": "SG"}


def test_absurdly_deep_input_is_a_mapping_error(write: Write) -> None:
    deep: dict[str, Any] = {}
    node = deep
    for _ in range(5000):
        node["x"] = {}
        node = node["x"]
    mapping = write("copy: x\n")
    with pytest.raises(fulfillmap.MappingError, match="nested too deeply"):
        mapping.apply({"x": deep})


def test_a_null_element_is_named_as_such(write: Write) -> None:
    mapping = write("lines:\n  each: items\n  fields:\n    id: {from: id, required: true}\n")
    with pytest.raises(fulfillmap.MappingError) as caught:
        mapping.apply({"items": [None]})
    assert caught.value.data_path == "items[0].id"
    assert "id is null (the object it is read from is itself null)" in str(caught.value)


def test_an_expression_that_fails_names_the_path_it_reads(write: Write) -> None:
    mapping = write("lines:\n  each: items\n  fields:\n    q: to_integer(quantity)\n")
    with pytest.raises(fulfillmap.MappingError) as caught:
        mapping.apply({"items": [{"quantity": 1}, {"quantity": "2"}]})
    assert caught.value.data_path == "items[1].quantity"
    assert caught.value.field == "lines[1].q"


def test_an_expression_that_doubles_its_output_is_bounded(write: Write) -> None:
    """Refused when loaded (max_expression_growth); and with that limit raised, what the
    field produces is still bounded (max_values)."""
    from dataclasses import replace

    from fulfillmap.language._limits import limits, set_limits

    doubling = " | ".join(["[a, a]", *(["[@, @]"] * 24)])  # 2**25 copies of a, shared
    with pytest.raises(fulfillmap.SpecError, match="33,554,432 times the size of its input"):
        write(f"x: {{from: '{doubling}'}}\n")
    previous = set_limits(replace(limits(), max_expression_growth=2**25))
    try:
        mapping = write(f"x: {{from: '{doubling}'}}\n")
    finally:
        set_limits(previous)
    with pytest.raises(fulfillmap.MappingError) as caught:  # a loaded mapping runs as it loaded
        mapping.apply({"a": "text"})
    assert caught.value.field == "x"
    assert "the value is too large: more than 1,000,000 values (max_values)" in str(caught.value)


def test_the_bound_is_configurable(write: Write) -> None:
    path = write("y: {from: '[a, a] | [@, @]'}\n").spec.file  # 7 values: 1 + 2 + 4
    with pytest.raises(fulfillmap.MappingError, match="more than 6 values"):
        fulfillmap.load(path, max_values=6).apply({"a": "t"}, validate=False)
    body = fulfillmap.load(path, max_values=7).apply({"a": "t"}, validate=False)
    assert body == {"y": [["t", "t"], ["t", "t"]]}
