"""Broken mapping files: every problem at load time, each with FILE:LINE:COL."""

from __future__ import annotations

import json
import textwrap
from pathlib import Path

import fulfillmap
import pytest

HEAD = """\
name: broken
source: {name: s, schema: source.json}
target: {name: t, schema: target.json}
"""


def problems(tmp_path: Path, text: str, *, target: object = None) -> list[str]:
    (tmp_path / "source.json").write_text("{}")
    (tmp_path / "target.json").write_text(json.dumps({} if target is None else target))
    path = tmp_path / "m.yaml"
    path.write_text(textwrap.dedent(text))
    with pytest.raises(fulfillmap.SpecError) as caught:
        fulfillmap.load(path)
    prefix = f"{path}:"
    lines = str(caught.value).splitlines()
    assert all(line.startswith(prefix) for line in lines), lines
    assert [str(p) for p in caught.value.problems] == lines
    return [line.removeprefix(prefix) for line in lines]


def test_invalid_yaml_has_the_position(tmp_path: Path) -> None:
    found = problems(tmp_path, HEAD + "fields:\n  a: [b\n")
    assert len(found) == 1
    assert found[0].startswith("6:1: invalid YAML")


def test_empty_file(tmp_path: Path) -> None:
    assert problems(tmp_path, "") == ["1:1: the file is empty; a mapping is a YAML object"]


def test_several_documents(tmp_path: Path) -> None:
    found = problems(tmp_path, HEAD + "fields: {a: b}\n---\nname: other\n")
    assert "invalid YAML" in found[0]


def test_not_an_object(tmp_path: Path) -> None:
    assert problems(tmp_path, "- a\n- b\n") == [
        '1:1: expected an object, not ["a", "b"]'  # values as JSON, never Python reprs
    ]


def test_all_problems_at_once_in_file_order(tmp_path: Path) -> None:
    text = """\
        fields:
          a: {form: x}
          b: "items[?"
          c: {plugin: nope}
          d: {from: "nofunc(x)"}
          e: {from: "upper(x, y)"}
          f: {from: x, value: 1}
          g: {each: items}
          h: {from: x, where: "y"}
          i: {from: x, required: true, default: 1}
          j: {from: x, scope: everywhere}
          k: 5
        """
    found = problems(tmp_path, HEAD + textwrap.dedent(text))
    expected = [
        "5:6: give exactly one of from, value, plugin or fields (at fields.a)",
        "5:7: unknown key 'form' (did you mean 'from'?)",
        "6:14: invalid JMESPath expression `items[?`: the expression ends too early at character 8",
        "7:15: unknown plugin field 'nope'",
        "8:13: unknown function nofunc() in `nofunc(x)`",
        "9:13: upper() takes 1 argument(s), not 2, in `upper(x, y)`",
        "10:6: give exactly one of from, value, plugin or fields (found from, value)",
        "11:6: give exactly one of from, value, plugin or fields",
        "11:7: 'each' needs 'fields' beside it",
        "12:16: 'where' needs 'each' beside it",
        "13:6: a field with a default is never absent: drop 'required'",
        '14:23: expected one of "current", "root", "context", not "everywhere"',
        "15:6: expected text (a JMESPath expression) or an object, not 5",
    ]
    for line in expected:
        assert any(item.startswith(line) for item in found), (line, found)
    assert found == sorted(found, key=lambda item: tuple(int(n) for n in item.split(":")[:2]))


def test_quoted_expression_column_points_inside_the_quotes(tmp_path: Path) -> None:
    found = problems(tmp_path, HEAD + "fields:\n  a: 'x.[y'\n")
    # the expression starts at column 7, after the quote; it ends too early after 4 characters
    assert found[0].startswith("5:11: invalid JMESPath expression `x.[y`")


def test_unknown_top_level_key_and_missing_keys(tmp_path: Path) -> None:
    found = problems(tmp_path, "name: Bad Name\nfieldz: {}\n")
    assert "1:1: missing key: source" in found
    assert "1:1: missing key: fields" in found
    assert any(f.startswith("2:1: unknown key 'fieldz' (did you mean 'fields'?)") for f in found)
    assert any(
        f.startswith('1:7: "Bad Name" is not a valid mapping name: lower-case words joined by')
        for f in found
    )


def test_duplicate_and_non_text_keys_and_dates(tmp_path: Path) -> None:
    text = HEAD + "fields:\n  a: x\n  a: y\n  1: z\n  d: {value: 2024-01-01}\n"
    found = problems(tmp_path, text)
    assert "6:3: duplicate key 'a' (first defined on line 5)" in found
    assert "7:3: keys must be text, not 1; quote the key" in found
    assert "8:14: '2024-01-01' is not a JSON value; quote it to make it text" in found


def test_null_value_and_default_are_refused(tmp_path: Path) -> None:
    found = problems(
        tmp_path, HEAD + "fields:\n  a: {value: null}\n  b: {from: x, default: null}\n"
    )
    assert any(f.startswith("5:14: null is not allowed here") for f in found)
    assert any(f.startswith("6:25: null is not allowed here") for f in found)


def test_schema_references(tmp_path: Path) -> None:
    (tmp_path / "bad.json").write_text("{not json")
    text = """\
        name: refs
        source: {name: s, schema: nowhere.json}
        target: {name: t, schema: bad.json}
        fields: {a: b}
        """
    found = problems(tmp_path, text)
    assert any(f.startswith("2:27: schema") and "does not exist" in f for f in found), found
    assert any(f.startswith("3:27: schema") and "not valid JSON" in f for f in found), found


def test_unknown_packaged_schema_and_invalid_schema(tmp_path: Path) -> None:
    text = """\
        name: refs
        source: {name: s, schema: "fulfillmap:nope.json"}
        target: {name: t, schema: target.json}
        fields: {a: b}
        """
    found = problems(tmp_path, text, target={"type": "no-such-type"})
    assert any("no shipped schema named 'nope.json'" in f for f in found), found
    assert any("is not a valid JSON Schema" in f for f in found), found


def test_target_fields_must_exist_in_a_closed_target_schema(tmp_path: Path) -> None:
    target = {
        "type": "object",
        "additionalProperties": False,
        "properties": {
            "orderId": {"type": "string"},
            "items": {"$ref": "#/definitions/items"},
        },
        "definitions": {
            "items": {
                "type": "array",
                "items": {
                    "type": "object",
                    "additionalProperties": False,
                    "properties": {"itemId": {}},
                },
            }
        },
    }
    text = HEAD + "fields:\n  orderID: x\n  items:\n    each: y\n    fields:\n      itemID: z\n"
    found = problems(tmp_path, text, target=target)
    assert found == [
        "5:3: the target schema has no field 'orderID' (did you mean 'orderId'?) (at fields.orderID)",
        "9:7: the target schema has no field 'itemID' (did you mean 'itemId'?) (at fields.items.fields.itemID)",
    ]


def test_rules_are_checked(tmp_path: Path) -> None:
    text = """\
        fields: {a: b}
        rules:
          - {name: r, check: "a >", message: m}
          - {name: r, check: a, message: m, severity: fatal}
          - {name: s, check: a}
        """
    found = problems(tmp_path, HEAD + textwrap.dedent(text))
    assert any("invalid JMESPath expression `a >`" in f for f in found)
    assert any("another rule is already named 'r'" in f for f in found)
    assert any('expected one of "error", "warn", not "fatal"' in f for f in found)
    assert any("missing key: message" in f for f in found)


def test_missing_file_and_unknown_name() -> None:
    with pytest.raises(fulfillmap.FulfillmapError, match="does not exist"):
        fulfillmap.load("no/such/mapping.yaml")
    with pytest.raises(
        fulfillmap.FulfillmapError, match=r"no mapping named 'nope'.*order-to-fulfillment-order"
    ):
        fulfillmap.load("nope")


def test_shipped_mappings_are_valid() -> None:
    names = fulfillmap.shipped_mappings()
    assert {
        "order-to-fulfillment-order",
        "shipped-event-to-fulfillment",
        "cancelled-event-to-fulfillment",
    } <= set(names)
    for name in names:
        assert fulfillmap.load(name).name == name


def test_shipped_mappings_start_with_the_schema_modeline() -> None:
    from importlib.resources import files

    for name in fulfillmap.shipped_mappings():
        first = files("fulfillmap.mappings").joinpath(f"{name}.yaml").read_text().splitlines()[0]
        assert first == "# yaml-language-server: $schema=../schemas/mapping.schema.json"


def test_unknown_target_fields_are_reported_with_other_problems(tmp_path: Path) -> None:
    target = {"type": "object", "additionalProperties": False, "properties": {"orderId": {}}}
    found = problems(
        tmp_path, HEAD + "fields:\n  orderID: x\n  other: {plugin: nope}\n", target=target
    )
    assert any(f.startswith("5:3: the target schema has no field 'orderID'") for f in found), found
    assert any("unknown plugin field 'nope'" in f for f in found), found


def test_merge_keys_are_overridden_by_the_mappings_own_keys(tmp_path: Path) -> None:
    (tmp_path / "any.json").write_text("{}")
    path = tmp_path / "m.yaml"
    path.write_text(
        "name: merged\nsource: {name: s, schema: any.json}\ntarget: {name: t, schema: any.json}\n"
        "fields:\n"
        "  a: &required {from: x, required: true}\n"
        "  b: &b\n    <<: *required\n    from: y\n"
        "  c: *b\n"
    )
    mapping = fulfillmap.load(path)
    assert mapping.apply({"x": 1, "y": 2}) == {"a": 1, "b": 2, "c": 2}
    with pytest.raises(fulfillmap.MappingError) as caught:
        mapping.apply({"x": 1})
    assert caught.value.field == "b"


def test_a_key_twice_beside_a_merge_is_still_a_duplicate(tmp_path: Path) -> None:
    found = problems(
        tmp_path, HEAD + "fields:\n  a: &r {from: x}\n  b:\n    <<: *r\n    from: y\n    from: z\n"
    )
    assert any("duplicate key 'from' (first defined on line 8)" in f for f in found), found


def test_aliases_that_expand_without_end_are_refused(tmp_path: Path) -> None:
    lines = ["a0: &a0 [x, x, x, x, x, x, x, x, x, x]"]
    lines += [f"a{i}: &a{i} [{', '.join([f'*a{i - 1}'] * 10)}]" for i in range(1, 8)]
    path = tmp_path / "laughs.yaml"
    path.write_text("\n".join(lines) + "\n")
    with pytest.raises(fulfillmap.SpecError, match="more than 200,000 values"):
        fulfillmap.load(path)


def test_expressions_without_a_json_value_are_refused(tmp_path: Path) -> None:
    """An expression reference outside a function's arguments, and a literal that is not
    JSON, have no JSON value: refused at load, where they stand (not in the output)."""
    text = """\
        fields:
          a: {each: x, fields: {b: "&y"}}
          c: "`1e400`"
          d: "sort_by(x, &y)[0]"
          e: '`["\\ud800"]`'
          f: "[&y]"
        """
    found = problems(tmp_path, HEAD + textwrap.dedent(text))
    assert len(found) == 4, found
    assert found[0].startswith("5:29: invalid JMESPath expression `&y`: an expression reference")
    assert "the literal inf is not JSON" in found[1]
    assert "is not JSON" in found[2]
    assert "an expression reference (&...) is only an argument of a function" in found[3]


def test_a_mapping_of_too_many_fields_is_refused_before_it_is_checked(tmp_path: Path) -> None:
    fields = "".join(f"  f{index}: {{fields: {{a: x, b: y}}}}\n" for index in range(1_700))
    found = problems(tmp_path, HEAD + "fields:\n" + fields)
    assert found == [
        "5:3: the mapping has 5,100 fields and rules, more than 5,000 (the limit; "
        "FULFILLMAP_MAX_FIELDS changes it) (at fields)"
    ]


def test_aliases_of_a_long_text_count_by_its_size(tmp_path: Path) -> None:
    """Ten aliases of ten aliases ... of a 5,000-character text: a 1 kB file, 50 MB of text."""
    text = "x" * 5_000
    levels = [f"  a: {{value: &a0 [&s '{text}', {', '.join(['*s'] * 9)}]}}\n"]
    levels += [
        f"  l{n}: {{value: &a{n} [{', '.join([f'*a{n - 1}'] * 10)}]}}\n" for n in range(1, 5)
    ]
    found = problems(tmp_path, HEAD + "fields:\n" + "".join(levels))
    assert len(found) == 1
    assert "values once its aliases are expanded (a text counting one more per 100" in found[0]


def test_an_expression_in_a_yaml_block_is_quoted_on_one_line(tmp_path: Path) -> None:
    """A problem is one FILE:LINE:COL line (CI annotations read them so): an expression
    written as a YAML block is quoted with its line breaks as spaces."""
    found = problems(
        tmp_path,
        HEAD
        + "fields:\n  name: |\n    shipTo.name ||\n    uper(x)\n  two:\n    from: >-\n      a ||\n      b.[\n",
    )
    assert all("\n" not in problem for problem in found)
    assert any("unknown function uper() in `shipTo.name || uper(x)`" in p for p in found)
    assert any("invalid JMESPath expression `a || b.[`" in p for p in found)
