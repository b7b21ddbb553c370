"""The shipped mappings against hand-written golden outputs (tests/golden), type-exact."""

from __future__ import annotations

import copy
import json
from collections.abc import Callable
from typing import Any

import fulfillmap
import pytest


def typed(value: Any) -> Any:
    """A structure in which 2 and 2.0 (and True and 1) compare unequal."""
    if isinstance(value, dict):
        return {key: typed(item) for key, item in value.items()}
    if isinstance(value, list):
        return [typed(item) for item in value]
    return (type(value).__name__, value)


def test_golden_output(golden_case: Any) -> None:
    mapping = fulfillmap.load(golden_case.mapping)
    result = mapping.apply(golden_case.input(), golden_case.context())
    assert typed(result) == typed(golden_case.expected())


def test_golden_output_is_valid_for_digital_river(
    request_case: Any, kit: Any, official_schema: Callable[[str], dict[str, Any]]
) -> None:
    mapping = fulfillmap.load(request_case.mapping)
    result = mapping.apply(request_case.input(), request_case.context())
    validator = kit.strict_validator(official_schema(request_case.schemas.official))
    assert kit.error_messages(validator, result) == []


def test_golden_input_is_neither_mutated_nor_aliased(golden_case: Any) -> None:
    source, context = golden_case.input(), golden_case.context()
    before = copy.deepcopy((source, context))
    result = fulfillmap.load(golden_case.mapping).apply(source, context)
    assert (source, context) == before
    inputs = {id(node) for node in _containers(source)} | {id(n) for n in _containers(context)}
    assert not inputs & {id(node) for node in _containers(result)}


def test_golden_output_has_no_nulls(golden_case: Any) -> None:
    result = fulfillmap.load(golden_case.mapping).apply(golden_case.input(), golden_case.context())
    assert "null" not in json.dumps(result)


def test_golden_error(golden_error: Any) -> None:
    expected = golden_error.error()
    with pytest.raises(fulfillmap.MappingError) as caught:
        fulfillmap.load(golden_error.mapping).apply(golden_error.input())
    error = caught.value
    assert error.mapping == golden_error.mapping
    if "rule" in expected:  # a rule checks the whole line: its path is the line's
        assert error.rule == expected["rule"]
        assert error.data_path is not None
        path = expected["data_path"]
        assert path == error.data_path or path.startswith(f"{error.data_path}.")
    else:
        assert error.rule is None
        assert error.field == expected["field"]
        assert error.data_path == expected["data_path"]
    assert expected["message_contains"] in str(error)
    assert error.location
    assert ".yaml:" in error.location


def test_every_shipped_mapping_has_golden_cases(kit: Any) -> None:
    covered = {case.mapping for case in kit.golden_cases()}
    assert covered == set(fulfillmap.shipped_mappings())
    assert {error.mapping for error in kit.golden_errors()} == covered


def _containers(value: Any) -> list[Any]:
    found: list[Any] = []
    stack = [value]
    while stack:
        node = stack.pop()
        if isinstance(node, dict):
            found.append(node)
            stack.extend(node.values())
        elif isinstance(node, list):
            found.append(node)
            stack.extend(node)
    return found
