"""Target-schema validation: jsonschema-rs's verdicts against jsonschema's on the golden bodies
and mutated ones, the formats fulfillmap checks, and the detailed error on failure."""

from __future__ import annotations

import json
import subprocess
import sys
from decimal import Decimal
from pathlib import Path
from typing import Any

import fulfillmap
import pytest
from fulfillmap import MappingError
from fulfillmap.language._schemas import (
    SchemaValidator,
    describe_error,
    is_date_time,
    is_email,
)
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

GOLDEN = Path(__file__).resolve().parent / "golden"
EXPECTED = sorted(GOLDEN.glob("*/*.expected.json"))
MAPPINGS = {name: fulfillmap.load(name) for name in fulfillmap.shipped_mappings()}


def _verdicts(validator: SchemaValidator, body: Any) -> tuple[bool, bool]:
    """(jsonschema-rs's verdict, jsonschema's)."""
    return bool(validator._fast.is_valid(body)), not list(validator._reference.iter_errors(body))


@pytest.mark.parametrize("path", EXPECTED, ids=[f"{p.parent.name}/{p.name}" for p in EXPECTED])
def test_golden_bodies_are_valid_for_both(path: Path) -> None:
    validator = MAPPINGS[path.parent.name]._target._validator
    assert _verdicts(validator, json.loads(path.read_text())) == (True, True)


_VALUES = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-2, 2),
    st.floats(-2, 2, allow_nan=False),
    st.sampled_from(
        ["", "x", "USD", "usd", "a@b", "a b@c", "2024-03-12T15:04:27Z", "2024-02-30T00:00:00Z"]
    ),
    st.builds(list),
    st.builds(dict),
    st.builds(lambda: {"unknown": 1}),
)


def _paths(value: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    found = [prefix] if prefix else []
    children = (
        value.items()
        if isinstance(value, dict)
        else enumerate(value)
        if isinstance(value, list)
        else ()
    )
    for key, item in children:
        found += _paths(item, (*prefix, key))
    return found


@settings(max_examples=500, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_mutated_bodies_get_the_same_verdict(data: st.DataObject) -> None:
    path = data.draw(st.sampled_from(EXPECTED))
    body = json.loads(path.read_text())
    for _ in range(data.draw(st.integers(1, 3))):
        target = data.draw(st.sampled_from(_paths(body) or [()]))
        if not target:
            break
        parent = body
        for part in target[:-1]:
            parent = parent[part]
        if isinstance(parent, dict) and data.draw(st.booleans()):
            del parent[target[-1]]
        else:
            parent[target[-1]] = data.draw(_VALUES)
    fast, reference = _verdicts(MAPPINGS[path.parent.name]._target._validator, body)
    assert fast == reference


def test_an_invalid_body_gets_jsonschemas_detailed_error() -> None:
    mapping = MAPPINGS["order-to-fulfillment-order"]
    body = json.loads((GOLDEN / "order-to-fulfillment-order" / "sparse.expected.json").read_text())
    body["currency"] = "usd"
    with pytest.raises(MappingError) as caught:
        mapping.check(body)
    assert caught.value.field == "currency"
    assert "is not a valid currency" in caught.value.reason
    assert caught.value.location is not None
    assert ".yaml:" in caught.value.location


def test_patterns_are_matched_as_ecma_262_says_by_both() -> None:
    """ECMA-262's ``$`` does not match before a final newline (Python's does): jsonschema's
    ``pattern`` is matched by jsonschema-rs too (in linear time: a schema's patterns are data),
    so both verdicts agree, and the error is jsonschema's."""
    validator = SchemaValidator({"type": "string", "pattern": "^[A-Z]{3}$"})
    assert _verdicts(validator, "USD\n") == (False, False)
    [error] = validator.errors("USD\n")
    assert error.message == "'USD\\n' does not match '^[A-Z]{3}$'"
    assert validator.is_valid("USD")


@pytest.mark.parametrize(
    ("value", "valid"),
    [
        ("2024-03-12T15:04:27Z", True),
        ("2024-03-12t15:04:27.123+01:00", True),
        ("2024-02-30T00:00:00Z", False),
        ("2024-03-12 15:04:27Z", False),
        ("2024-03-12T15:04:27", False),
        ("2024-03-12T23:59:60Z", True),  # a leap second, as RFC 3339 allows
        ("2024-03-12T15:04:60Z", False),
        ("2024-03-12T15:04:27.1234567Z", True),
        ("2024-03-12", False),
        (5, True),
    ],
)
def test_date_time(value: object, valid: bool) -> None:
    assert is_date_time(value) is valid
    validator = SchemaValidator({"format": "date-time"})
    assert _verdicts(validator, value) == (valid, valid)


@pytest.mark.parametrize(
    ("value", "valid"),
    [
        ("a@b.c", True),
        ("jörg@bücher.de", True),  # international addresses must not stop a fulfillment
        ("a b@c", False),
        ("a@b@c", False),
        ("ab", False),
    ],
)
def test_email(value: str, valid: bool) -> None:
    assert is_email(value) is valid
    assert _verdicts(SchemaValidator({"format": "email"}), value) == (valid, valid)


def test_email_is_checked_alike_for_every_character() -> None:
    """jsonschema-rs checks ``email`` as a pattern, Python with ``re``: the same verdicts."""
    validator = SchemaValidator({"format": "email"})
    samples = ["a@b", "a@b\n", "\na@b", "a@@b", "a@b@c"]
    for code in range(0x3100):
        samples += [f"a{chr(code)}b@c", f"a@b{chr(code)}", f"{chr(code)}@b"]
    differ = [s for s in samples if is_email(s) != _verdicts(validator, s)[0]]
    assert differ == []


def test_other_formats_are_not_checked_by_either() -> None:
    assert _verdicts(SchemaValidator({"format": "uri"}), "not a uri") == (True, True)


def test_loading_the_shipped_mappings_and_mapping_does_not_import_jsonschema() -> None:
    code = (
        "import sys, fulfillmap\n"
        "for name in fulfillmap.shipped_mappings():\n"
        "    fulfillmap.load(name)\n"
        "assert 'jsonschema' not in sys.modules, 'jsonschema imported'\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


@pytest.mark.parametrize(
    ("schema", "value", "valid"),
    [
        ({"type": "number"}, Decimal("2.50"), True),
        ({"type": "number"}, float("nan"), False),
        ({"type": "number"}, Decimal("-Infinity"), False),
        ({"type": "number"}, Decimal("sNaN"), False),
        ({"type": "number"}, True, False),
        ({"type": "integer"}, 2.0, True),
        ({"type": "integer"}, Decimal("2.00"), True),
        ({"type": "integer"}, 2.5, False),
        ({"type": "integer"}, float("inf"), False),
        ({"type": "integer"}, Decimal("NaN"), False),
        ({"type": "integer"}, False, False),
    ],
)
def test_nan_and_infinity_are_not_json_numbers_to_either_validator(
    schema: dict[str, Any], value: Any, valid: bool
) -> None:
    """The reference validator's types are JSON's, as jsonschema-rs's are: NaN and infinity
    (float or Decimal) are neither numbers nor integers, a whole Decimal is an integer."""
    validator = SchemaValidator(schema)
    assert validator._reference.is_valid(value) is valid
    assert (validator.errors(value) == []) is valid


@pytest.mark.parametrize(
    "instance",
    [{}, {"a": 1}, {"x1": 1}, {"x1": "t"}, {"b": 1}, {"a": 1, "x2": 2, "z": 3}, {"zz": None}],
)
@pytest.mark.parametrize("additional", [False, {"type": "integer"}, True])
def test_additional_properties_beside_patterns_agree(instance: Any, additional: Any) -> None:
    """``additionalProperties`` finds the keys that neither ``properties`` nor
    ``patternProperties`` names with jsonschema-rs's matching (jsonschema's own uses ``re``),
    for the same verdict as jsonschema's, and names only those keys."""
    from jsonschema import Draft7Validator

    schema = {
        "type": "object",
        "properties": {"a": {"type": "integer"}},
        "patternProperties": {"^x[0-9]$": {"type": "integer"}, "^zz$": {}},
        "additionalProperties": additional,
    }
    validator = SchemaValidator(schema)
    valid = Draft7Validator(schema).is_valid(instance)
    assert _verdicts(validator, instance) == (valid, valid)
    errors = validator.errors(instance)
    found = [describe_error(e) for e in errors if e.validator == "additionalProperties"]
    others = sorted(key for key in instance if key not in ("a", "zz") and not key[1:].isdigit())
    expected = [f"unknown key(s): {', '.join(others)}"] if additional is False and others else []
    assert found == expected


@pytest.mark.parametrize(
    ("change", "field", "data_path"),
    [
        ({"currency": "usdx"}, "currency", "currency"),  # upper(currency): the path it reads
        ({"locale": 5}, "locale", "locale"),
        ({"createdTime": "yesterday"}, "upstreamOrderTime", "createdTime"),
    ],
)
def test_a_target_schema_error_names_the_input_path(
    change: dict[str, Any], field: str, data_path: str
) -> None:
    """A value the target schema refuses is traced back to the input: through a plain path,
    or through a function of one path (``upper(currency)``)."""
    source = json.loads((GOLDEN / "order-to-fulfillment-order" / "sparse.input.json").read_text())
    source.update(change)
    with pytest.raises(MappingError) as caught:
        MAPPINGS["order-to-fulfillment-order"].apply(source, {"shippingQuote": {"id": "SG"}})
    assert (caught.value.field, caught.value.data_path) == (field, data_path)
    assert f"at input path {data_path}" in str(caught.value)
