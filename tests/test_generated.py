"""The generated function and its traced variant: the same output, warnings and
``MappingError`` (every field of it) on every golden input, on generated variants of them, and
on generated documents for a mapping that uses every construct; and never an exception that
is not a ``MappingError``."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import fulfillmap
import pytest
from fulfillmap import CompiledMapping, MappingError
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

TESTS = Path(__file__).resolve().parent
GOLDEN = sorted((TESTS / "golden").glob("*/**/*.input.json"))
FEATURES = TESTS / "mappings" / "features.yaml"
MAPPINGS = {name: fulfillmap.load(name) for name in fulfillmap.shipped_mappings()}
MAPPINGS["features"] = fulfillmap.load(FEATURES)


def _golden(path: Path) -> tuple[CompiledMapping, Any, Any]:
    name = path.parent.parent.name if path.parent.name == "errors" else path.parent.name
    context = path.with_name(path.name.replace(".input.", ".context."))
    return (
        MAPPINGS[name],
        json.loads(path.read_text()),
        json.loads(context.read_text()) if context.exists() else {},
    )


def _error(error: MappingError) -> tuple[Any, ...]:
    fields = (error.field, error.expression, error.data_path, error.location, error.plugin)
    return ("error", error.reason, *fields, error.rule, str(error))


def _outcome(mapping: CompiledMapping, source: Any, context: Any) -> tuple[Any, ...]:
    """What ``apply_with_warnings`` gave: the exact JSON text (key order and number types
    count) and the warnings, or the error's every field. Anything else fails the test."""
    try:
        result = mapping.apply_with_warnings(source, context, validate=False)
    except MappingError as error:
        return _error(error)
    return ("body", json.dumps(result.body), result.warnings)


def _traced(mapping: CompiledMapping, source: Any, context: Any) -> tuple[Any, ...]:
    trace = mapping.trace(source, context, validate=False)
    if trace.error is not None:
        return _error(trace.error)
    return ("body", json.dumps(trace.body), trace.violations)


def assert_same(mapping: CompiledMapping, source: Any, context: Any) -> None:
    """``apply`` and ``trace`` run the two variants of one generated function: they agree."""
    assert _outcome(mapping, source, context) == _traced(mapping, source, context)


@pytest.mark.parametrize("path", GOLDEN, ids=[f"{p.parent.name}/{p.name}" for p in GOLDEN])
def test_golden_inputs_give_the_same_result_or_error(path: Path) -> None:
    assert_same(*_golden(path))


def test_every_mapping_is_generated() -> None:
    for mapping in MAPPINGS.values():
        assert "def build(root, context):" in mapping.source_code
        assert "def build(root, context, rec):" in mapping._traced.source


# -- generated variants -------------------------------------------------------------------

_SCALARS = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-3, 3),
    st.floats(-3, 3, allow_nan=False).map(lambda f: round(f, 1)),
    st.sampled_from(["", "usd", "x", "0042"]),
)
_JSON = st.recursive(
    _SCALARS,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text("abc", max_size=2), inner),
    max_leaves=6,
)
_MISSING = object()


def _paths(value: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    found = [prefix]
    if isinstance(value, dict):
        for key, item in value.items():
            found += _paths(item, (*prefix, key))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            found += _paths(item, (*prefix, index))
    return found


def _mutate(document: Any, path: tuple[Any, ...], replacement: Any) -> Any:
    """``document`` with the value at ``path`` replaced (or removed: ``_MISSING``)."""
    if not path:
        return document if replacement is _MISSING else replacement
    copy = json.loads(json.dumps(document))
    parent = copy
    for part in path[:-1]:
        parent = parent[part]
    if replacement is _MISSING:
        del parent[path[-1]]
    else:
        parent[path[-1]] = replacement
    return copy


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_golden_variants_give_the_same_result_or_error(data: st.DataObject) -> None:
    mapping, source, context = _golden(data.draw(st.sampled_from(GOLDEN)))
    for _ in range(data.draw(st.integers(1, 3))):
        path = data.draw(st.sampled_from(_paths(source)))
        replacement = data.draw(st.one_of(st.just(_MISSING), _SCALARS, _JSON))
        source = _mutate(source, path, replacement)
    assert_same(mapping, source, context)


_KEYS = st.sampled_from(
    [
        "a",
        "b",
        "c",
        "x",
        "id",
        "name",
        "items",
        "qty",
        "sku",
        "tags",
        "enabled",
        "flag",
        "missing",
        "not",
        "there",
        "importerOfRecordTax",
        "quote",
    ]
)
_SHAPED = st.recursive(
    _SCALARS,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(_KEYS, inner, max_size=5),
    max_leaves=25,
)


@settings(max_examples=600, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    source=st.dictionaries(_KEYS, _SHAPED, max_size=8),
    context=st.dictionaries(_KEYS, _SHAPED, max_size=2),
)
def test_every_construct_gives_the_same_result_or_error(source: Any, context: Any) -> None:
    assert_same(MAPPINGS["features"], source, context)


def test_a_where_on_a_missing_key_keeps_no_element() -> None:
    source = {"id": 1, "items": [{"sku": "s", "qty": 1, "tags": [{"name": "n"}]}]}
    body = MAPPINGS["features"].apply(source, validate=False)
    assert body["lines"] == [{"sku": "s", "qty": 1, "order": 1, "tag": "line", "tags": []}]
