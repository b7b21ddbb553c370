"""Differences between JSON values, as mapping test reports show them."""

from __future__ import annotations

from typing import Any

import pytest
from fulfillmap.language._expressions import MISSING
from fulfillmap.tooling._jsondiff import Difference, differences, show


def test_equal_values_have_no_differences() -> None:
    value = {"a": [1, {"b": None}], "c": "x", "d": 1.5, "e": True}
    assert differences(value, value) == []
    assert differences(value, value, subset=True) == []


def test_each_place_is_named_in_document_order() -> None:
    expected = {"a": 1, "b": {"c": [1, 2]}, "d": "x"}
    actual = {"z": 0, "a": 2, "b": {"c": [1, 2, 3]}, "y": 1}
    assert differences(expected, actual) == [
        Difference("a", 1, 2),
        Difference("b.c[2]", MISSING, 3),
        Difference("d", "x", MISSING),
        Difference("z", MISSING, 0),
        Difference("y", MISSING, 1),
    ]


@pytest.mark.parametrize(
    ("expected", "actual"),
    [(1, 1.0), (1.0, 1), (True, 1), (0, False), (None, 0), ("1", 1), ([], {}), ({}, None)],
)
def test_json_types_are_told_apart(expected: Any, actual: Any) -> None:
    assert differences(expected, actual) == [Difference("", expected, actual)]


def test_a_subset_ignores_other_keys_at_any_depth_but_not_array_lengths() -> None:
    actual = {"a": {"b": 1, "c": 2}, "d": [{"e": 1, "f": 2}], "g": 3}
    assert differences({"a": {"b": 1}, "d": [{"e": 1}]}, actual, subset=True) == []
    assert differences({"d": []}, actual, subset=True) == [
        Difference("d[0]", MISSING, {"e": 1, "f": 2})
    ]
    assert differences({"a": {"x": 1}}, actual, subset=True) == [Difference("a.x", 1, MISSING)]


def test_differences_read_as_sentences() -> None:
    assert str(Difference("a", 1, 2)) == "a: expected 1, got 2"
    assert str(Difference("a", 1, 1.0)) == "a: expected 1 (integer), got 1.0 (decimal)"
    assert str(Difference("a", "1", 1)) == 'a: expected "1" (text), got 1 (integer)'
    assert (
        str(Difference("a[0]", {"b": 1}, MISSING))
        == 'a[0]: expected {"b": 1}, got nothing (absent)'
    )
    assert str(Difference("a", MISSING, None)) == "a: not expected, got null"
    assert str(Difference("", {}, [])) == "the output: expected {} (object), got [] (array)"


def test_long_values_are_cut_short() -> None:
    text = show({"key": "x" * 200})
    assert text == '{"key": "' + "x" * 71 + "... (len=211)"  # the one truncator: paths.truncate
    assert text.endswith("... (len=211)")
    assert show("é") == '"é"'
