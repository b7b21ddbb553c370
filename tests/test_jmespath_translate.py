"""The JMESPath translator against ``jmespath.search``: the official compliance suite (every
case it translates) and generated documents."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import jmespath
import pytest
from fulfillmap.evaluate._jmespath import Unsupported, compile_jmespath
from fulfillmap.plugins._registry import default_registry
from hypothesis import given, settings
from hypothesis import strategies as st


def _suite_folder() -> Path:
    here = Path(__file__).resolve()
    for parent in here.parents:
        folder = parent / "shared" / "reference" / "jmespath-compliance"
        if folder.is_dir():
            return folder
    pytest.fail("the JMESPath compliance suite (shared/reference/jmespath-compliance) is missing")


def _cases() -> list[tuple[str, Any, str]]:
    cases = []
    for path in sorted(_suite_folder().glob("*.json")):
        for group in json.loads(path.read_text()):
            for case in group["cases"]:
                cases.append((path.stem, group["given"], case["expression"]))
    return cases


CASES = _cases()


def _outcome(run: Any) -> tuple[str, str]:
    """The exact JSON text of the value (types and key order count), or that it raised."""
    try:
        return "value", json.dumps(run())
    except Exception:  # the translator must raise where jmespath raises, not the same type
        return "raised", ""


def test_the_suite_is_all_there() -> None:
    assert len(CASES) == 908


# the suite itself exercises JMESPath's deprecated `literal` string syntax on purpose
@pytest.mark.filterwarnings("ignore:deprecated string literal syntax:PendingDeprecationWarning")
def test_the_translator_agrees_with_jmespath_on_the_compliance_suite() -> None:
    translated, disagreements = 0, []
    for suite, given_data, expression in CASES:
        try:
            function = compile_jmespath(expression)
        except Unsupported:
            continue
        except jmespath.exceptions.JMESPathError:  # a syntax error: jmespath raises too
            outcome = _outcome(lambda e=expression, g=given_data: jmespath.search(e, g))
            assert outcome[0] == "raised"
            continue
        translated += 1
        expected = _outcome(lambda e=expression, g=given_data: jmespath.search(e, g))
        if _outcome(lambda f=function, g=given_data: f(g)) != expected:
            disagreements.append(f"{suite}: {expression}")
    assert disagreements == []
    # all but the syntax errors, expression references (&expr) and one absurd nesting
    assert translated >= 770


def test_expression_references_are_left_to_jmespath() -> None:
    with pytest.raises(Unsupported):
        compile_jmespath("sort_by(items, &id)")


_SCALARS = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-2, 2),
    st.floats(-2, 2, allow_nan=False),
    st.text("ab", max_size=2),
)
_DOCUMENTS = st.recursive(
    _SCALARS,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.sampled_from("abc"), inner),
    max_leaves=12,
)
EXPRESSIONS = [
    "a", "a.b.c", "a[0]", "a[-1].b", "a[1:]", "a[::-1]", "a[*].b", "a[].b", "a.*", "a.*.b",
    "a[?b > `0`]", "a[?b == 'a'].c", "a[?b != `null`] | [0]", "a && b", "a || b || c", "!a",
    "a == b", "a < b", "a >= `1`", "[a, b]", "{x: a, y: b.c}", "length(a)", "to_string(a)",
    "keys(a)", "a[?!b]", "a[*][0]", "@", "a | b", "not_null(a, b, c)", "type(a)",
    "upper(a)", "to_integer(a)", "to_id(b)",
    # unknown_keys's shortcuts (null, and an object of known keys) against its calls
    'unknown_keys(a, `["a", "b"]`)', '!unknown_keys(a, `["b"]`)', "unknown_keys(a, `[]`)",
    'unknown_keys(@, `["a", "c"]`)', 'unknown_keys(a, `"a"`)', 'unknown_keys(a, `[["a"], "b"]`)',
    "is_id(a)", "is_id(b) && a", "!is_id(@)",
]  # fmt: skip


@settings(max_examples=300, deadline=None)
@given(document=_DOCUMENTS, expression=st.sampled_from(EXPRESSIONS))
def test_the_translator_agrees_with_jmespath_on_generated_documents(
    document: Any, expression: str
) -> None:
    registry = default_registry()
    options = registry.options
    assert options.custom_functions is not None
    function = compile_jmespath(expression, options.custom_functions, registry.functions)
    expected = _outcome(lambda: jmespath.search(expression, document, options))
    assert _outcome(lambda: function(document)) == expected


@settings(max_examples=200, deadline=None)
@given(
    value=st.none() | st.dictionaries(st.sampled_from("abcd"), _SCALARS) | _DOCUMENTS,
    names=st.lists(st.sampled_from("abcd"), max_size=4),
    negated=st.booleans(),
)
def test_unknown_keys_shortcuts_agree_with_its_calls(
    value: Any, names: list[str], negated: bool
) -> None:
    """The translator takes ``unknown_keys``'s shortcuts (``[]`` for null and for an object
    whose keys the literal names all name) instead of calling it: the same value, or the
    same error, as jmespath's call of the function itself."""
    registry = default_registry()
    options = registry.options
    assert options.custom_functions is not None
    expression = f"{'!' * negated}unknown_keys(a, `{json.dumps(names)}`)"
    function = compile_jmespath(expression, options.custom_functions, registry.functions)
    assert "_test" in function.__source__  # type: ignore[attr-defined]
    expected = _outcome(lambda: jmespath.search(expression, {"a": value}, options))
    assert _outcome(lambda: function({"a": value})) == expected
