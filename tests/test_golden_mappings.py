"""Every golden case through the engine: the exact body, with integer types checked strictly;
every golden error case: a MappingError naming the field (or the rule) and the data path."""

from __future__ import annotations

from typing import Any

import fulfillmap
import pytest


def test_golden_case(kit: Any, golden_case: Any) -> None:
    mapping = fulfillmap.load(golden_case.mapping)
    result = mapping.run(golden_case.input(), golden_case.context())
    assert result.body == golden_case.expected()
    validator = kit.strict_validator(kit.load_schema(golden_case.schemas.target))
    assert kit.error_messages(validator, result.body) == []


#: golden error cases the engine does not meet yet (strict: they fail once it does)
ENGINE_GAPS = {
    "order-to-fulfillment-order/errors/items-wrong-type": (
        "the engine says 'expected an array, got text' without the word 'type'"
    ),
    "order-to-fulfillment-order/errors/missing-currency": (
        "a required field computed by a function (upper(currency)) reports no data path"
    ),
}


def test_golden_error(golden_error: Any, request: pytest.FixtureRequest) -> None:
    if golden_error.id in ENGINE_GAPS:
        request.applymarker(pytest.mark.xfail(reason=ENGINE_GAPS[golden_error.id], strict=True))
    expected = golden_error.error()
    mapping = fulfillmap.load(golden_error.mapping)
    with pytest.raises(fulfillmap.MappingError) as caught:
        mapping.apply(golden_error.input())
    error = caught.value
    assert expected["message_contains"] in str(error)
    assert error.mapping == golden_error.mapping
    if "rule" in expected:  # a rule checks the whole line: its path is the line's
        assert error.rule == expected["rule"]
        assert error.data_path is not None
        assert expected["data_path"].startswith(f"{error.data_path}.")
    else:
        assert error.rule is None
        assert (error.field, error.data_path) == (expected["field"], expected["data_path"])


def test_every_shipped_mapping_has_golden_cases(kit: Any) -> None:
    covered = {case.mapping for case in kit.golden_cases()}
    assert covered == set(fulfillmap.shipped_mappings())
    assert {error.mapping for error in kit.golden_errors()} == covered
