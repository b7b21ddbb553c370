"""Data paths (``fulfillmap.paths``) and the one wording of schema validation errors."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import fulfillmap
import pytest
from fulfillmap.evaluate._runtime import read_only
from fulfillmap.language._schemas import describe_error
from fulfillmap.paths import excerpt, format_path, parse_path, rebase, truncate
from jsonschema import Draft7Validator


@pytest.mark.parametrize(
    ("path", "text"),
    [((), ""), (("items",), "items"), (("items", 1, "tax"), "items[1].tax"), ((0, "a"), "[0].a")],
)
def test_paths_format_and_parse_back(path: tuple[Any, ...], text: str) -> None:
    assert format_path(path) == text
    assert parse_path(text) == path


@pytest.mark.parametrize(
    ("prefix", "path", "rebased"),
    [
        ("data.object", "items[1].id", "data.object.items[1].id"),
        ("data.object", "[2]", "data.object[2]"),
        ("data.object", None, "data.object"),
        ("", "id", "id"),
        (("data", "object"), "id", "data.object.id"),
    ],
)
def test_rebase(prefix: Any, path: str | None, rebased: str) -> None:
    assert rebase(prefix, path) == rebased


def test_truncate_and_excerpt() -> None:
    assert truncate("x" * 100, 10) == '"xxxxxxxxx... (len=102)'
    circular: list[Any] = []
    circular.append(circular)
    assert truncate(circular) == "a list"
    # the read-only views plugins see read as the JSON they show
    assert truncate(read_only({"a": [1, {"b": None}]})) == '{"a": [1, {"b": null}]}'
    assert truncate(read_only([1, "x"])) == '[1, "x"]'
    assert truncate(b"raw") == "a bytes"
    source = {"items": [{"id": 1}, {"tax": None}]}
    assert excerpt(source, {}, "items[1].tax.amount") == "items[1].tax: null"
    assert excerpt(source, {"q": 2}, "context.q") == "context.q: 2"
    assert excerpt(source, {}, None) == ""


@pytest.mark.parametrize(
    ("schema", "value", "message"),
    [
        ({"type": "integer"}, "2", 'expected an integer, not "2"'),
        ({"type": ["string", "null"]}, 2, "expected text or null, not 2"),
        ({"enum": ["a", "b"]}, "c", 'expected one of "a", "b", not "c"'),
        ({"const": 1}, 2, "expected 1, not 2"),
        ({"required": ["a", "b"]}, {"a": 1}, "missing key: b"),
        (
            {"properties": {"a": {}}, "additionalProperties": False},
            {"x": 1},
            "unknown key(s): x",
        ),
        ({"minimum": 1}, 0, "expected a number at least 1, not 0"),
        ({"minLength": 1}, "", '"" is too short: at least 1 character(s)'),
        ({"maxItems": 1}, [1, 2], "expected at most 1 element(s), got 2"),
        ({"pattern": "^a$"}, "b", '"b" is not a valid value: it must match the pattern "^a$"'),
    ],
)
def test_schema_errors_read_as_json(schema: dict[str, Any], value: Any, message: str) -> None:
    (error,) = Draft7Validator(schema).iter_errors(value)
    assert describe_error(error) == message


@pytest.mark.parametrize(
    ("expression", "document", "said"),
    [
        ("length(a)", {"a": 5}, "length() takes text or an array or an object, not a number"),
        ("sum(a)", {"a": [1, None]}, "sum() takes an array of numbers (it was given null"),
        ("a > `0`", {"a": "1"}, "> compares two numbers or two texts, not text and a number"),
        ("abs(a)", {"a": True}, "abs() takes a number, not a boolean"),
    ],
)
def test_an_expression_that_cannot_run_is_told_in_jsons_words(
    tmp_path: Path, expression: str, document: dict[str, Any], said: str
) -> None:
    """docs/errors.md: values are named as JSON names them, never as Python does (jmespath
    said ``received: "NoneType"``, Python ``'>' not supported between instances of 'str'``)."""
    (tmp_path / "s.json").write_text("{}")
    (tmp_path / "m.yaml").write_text(
        "name: m\nsource: {name: s, schema: s.json}\ntarget: {name: t, schema: s.json}\n"
        f"fields:\n  x:\n    from: {json.dumps(expression)}\n"
    )
    with pytest.raises(fulfillmap.MappingError) as caught:
        fulfillmap.load(tmp_path / "m.yaml").apply(document)
    assert said in str(caught.value)
    assert "NoneType" not in str(caught.value)
    assert "instances of" not in str(caught.value)
