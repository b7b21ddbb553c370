"""JMESPath expressions as fields use them: plain dotted paths are looked up directly (and
tell a missing key from a null value); everything else goes through ``jmespath.compile``.

jmespath is imported when an expression is first compiled: a compiled mapping loaded from the
cache uses ``MISSING``, ``type_name`` and the truth functions, and compiles none.
"""

from __future__ import annotations

import functools
import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Final

from fulfillmap.errors import FulfillmapError
from fulfillmap.language._limits import Limits, limits

if TYPE_CHECKING:
    import jmespath
    import jmespath.exceptions
    import jmespath.parser

__all__ = [
    "MISSING",
    "Expression",
    "WrongType",
    "calls_on_paths",
    "compile_expression",
    "function_calls",
    "is_false",
    "is_json",
    "is_true",
    "loaded_expression",
    "read_paths",
    "type_name",
]

_PLAIN: Final = re.compile(r"[A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z_][A-Za-z0-9_]*)*\Z")


class _Missing:
    """The value of a key that is not there (as opposed to ``None``, a JSON null)."""

    _instance: _Missing | None = None

    def __new__(cls) -> _Missing:
        if cls._instance is None:
            cls._instance = super().__new__(cls)
        return cls._instance

    def __repr__(self) -> str:
        return "MISSING"

    def __bool__(self) -> bool:
        return False

    def __reduce__(self) -> str:
        return "MISSING"


MISSING: Final = _Missing()


class WrongType(Exception):
    """A plain path stepped into something that is not an object."""

    def __init__(self, keys: tuple[str, ...], value: Any) -> None:
        self.keys = keys  #: the path up to the offending value
        self.value = value
        where = f" at {'.'.join(keys)}" if keys else ""  # none: the value itself (an element)
        super().__init__(f"expected an object{where}, got {type_name(value)}")


@dataclass(frozen=True, slots=True)
class Expression:
    """A compiled expression: ``keys`` for a plain path, else a parsed JMESPath expression."""

    text: str
    keys: tuple[str, ...] | None
    parsed: jmespath.parser.ParsedResult | None

    def lookup(self, data: Any) -> Any:
        """A plain path's value: the value, ``None`` for null, or ``MISSING``.

        Raises ``WrongType`` when a step of the path is neither an object nor null.
        """
        assert self.keys is not None
        for depth, key in enumerate(self.keys):
            if isinstance(data, dict):
                data = data.get(key, MISSING)
                if data is MISSING:
                    return MISSING
            elif data is None:
                return None
            else:
                raise WrongType(self.keys[:depth], data)
        return data

    def search(self, data: Any, options: jmespath.Options) -> Any:
        """The expression's value (``None`` for null *or* missing, when not a plain path)."""
        if self.keys is not None:
            value = self.lookup(data)
            return None if value is MISSING else value
        assert self.parsed is not None
        return self.parsed.search(data, options)


@functools.cache
def _too_complex_class() -> type[jmespath.exceptions.LexerError]:
    """``TooComplex``, made when first raised (its base class is jmespath's)."""
    import jmespath.exceptions

    class TooComplex(jmespath.exceptions.LexerError):
        """An expression over one of the limits (``Limits``): too long, too deeply nested,
        or with too long a literal. A ``LexerError``, so that it is reported as any invalid
        expression is, with its position."""

        def __init__(self, position: int, message: str) -> None:
            super().__init__(lexer_position=position, lexer_value="", message=message)

    return TooComplex


def _too_complex(position: int, message: str) -> jmespath.exceptions.LexerError:
    return _too_complex_class()(position, message)  # type: ignore[call-arg]


def compile_expression(text: str) -> Expression:
    """Compile ``text``; raises ``jmespath.exceptions.JMESPathError`` (``ParseError``, or
    ``TooComplex``, a ``LexerError``, over a limit) when it is invalid.

    The limits are checked before jmespath reads the text: its lexer takes time quadratic in
    a literal's length (1 MB: 14 s) and its parser and interpreter recurse once per level of
    nesting (2,000 ``||`` or parentheses: RecursionError).
    """
    bounds = limits()
    if len(text) > bounds.max_expression_length:
        raise _too_complex(0, _over("is longer than", bounds.max_expression_length, "characters"))
    if _PLAIN.match(text):
        return loaded_expression(text)
    _check_text(text, bounds)
    expression = loaded_expression(text)
    assert expression.parsed is not None
    tree = dict(expression.parsed.parsed)
    _check_tree(tree, bounds.max_expression_depth)
    _, most = growth(tree)
    if most > bounds.max_expression_growth:
        raise _too_complex(0, _grows(most, bounds.max_expression_growth))
    return expression


def _grows(most: int, limit: int) -> str:
    return (
        f"the expression may build values {most:,} times the size of its input, more than "
        f"{limit:,} (the limit; FULFILLMAP_MAX_EXPRESSION_GROWTH changes it): each "
        "multi-select holding a value twice ({a: @, b: @}) doubles what follows it"
    )


@functools.lru_cache(maxsize=256)  # each holds its parsed tree: the garbage collector walks them
def loaded_expression(text: str) -> Expression:
    """``text`` parsed, without the limits: for an expression of a mapping that loaded
    (``compile_expression`` checked it then), as the generator reads it, often several
    times; the limits may have changed since (``set_limits``) and must not fail it. Only
    after the checks for any other text (jmespath's lexer and parser are what they bound)."""
    if _PLAIN.match(text):
        return Expression(text, tuple(text.split(".")), None)
    import jmespath

    return Expression(text, None, jmespath.compile(text))


def _over(what: str, limit: int, unit: str, variable: str = "EXPRESSION_LENGTH") -> str:
    return (
        f"the expression {what} {limit:,} {unit} (the limit; FULFILLMAP_MAX_{variable} changes it)"
    )


#: a literal or quoted name (to its end, or to the end of the text), or a bracket
_TOKEN = re.compile(
    r"`[^`\\]*(?:\\.[^`\\]*)*`?|'[^'\\]*(?:\\.[^'\\]*)*'?"
    r'|"[^"\\]*(?:\\.[^"\\]*)*"?|[\[\](){}]',
    re.DOTALL,
)
_OPEN = frozenset("([{")


def _check_text(text: str, bounds: Limits) -> None:
    """Bracket nesting and literal lengths, from a scan that skips quoted text (only done
    when the text is long enough, or has brackets enough, to be over a limit)."""
    brackets = sum(text.count(bracket) for bracket in _OPEN)
    if brackets <= bounds.max_expression_depth and len(text) <= bounds.max_literal_length + 2:
        return
    depth = 0
    for token in _TOKEN.finditer(text):
        found = token.group()
        if found in _OPEN:
            depth += 1
            if depth > bounds.max_expression_depth:
                limit = bounds.max_expression_depth
                reason = _over("nests more than", limit, "levels deep", "EXPRESSION_DEPTH")
                raise _too_complex(token.start(), reason)
        elif len(found) == 1 and found not in "`'\"":
            depth -= 1
        elif len(found) - 2 > bounds.max_literal_length:
            limit = bounds.max_literal_length
            reason = _over("holds a literal of more than", limit, "characters", "LITERAL_LENGTH")
            raise _too_complex(token.start(), reason)


def _check_tree(tree: dict[str, Any], limit: int) -> None:
    """Refuse a parsed expression nested deeper than ``limit`` (``a || b || ...`` is a chain as
    deep as it is long), an expression reference (``&a``) anywhere but as a function's
    argument, and a literal that is not JSON (``1e400``, NaN, a lone surrogate): none has a
    JSON value. Walked without recursion."""
    stack = [(tree, 1, False)]
    while stack:
        node, depth, argument = stack.pop()
        if depth > limit:
            raise _too_complex(
                0, _over("nests more than", limit, "levels deep", "EXPRESSION_DEPTH")
            )
        kind = node.get("type")
        if kind == "expref" and not argument:
            raise _too_complex(0, _EXPREF)
        if kind == "literal" and not is_json(node.get("value")):
            raise _too_complex(
                0, f"the literal {_literal(node.get('value'))} is not JSON{_NOT_JSON}"
            )
        stack.extend(
            (child, depth + 1, kind == "function_expression")
            for child in node.get("children", ())
            if isinstance(child, dict)
        )


def growth(node: dict[str, Any]) -> tuple[int, int]:
    """Bounds on how many times the size of the value an expression is applied to the value
    it gives, and every value it builds on the way, can be (their sizes walked by
    ``to_string``, a comparison or the output's copy). A multi-select that holds a value twice
    doubles it (``{a: @, b: @}``; one of parts of different keys, ``{a: x, b: y}``, does
    not), and an expression applied to each result of another multiplies their growths
    (``x | y``, ``x.y``, a projection, a function's ``&expr``): forty doublings in a row (400
    characters) build ~10^12 times their input, which would be walked for ever. Not
    recursion-free: the tree is at most ``max_expression_depth`` deep when this runs."""
    kind = node.get("type")
    children = [child for child in node.get("children", ()) if isinstance(child, dict)]
    found = [growth(child) for child in children]
    sizes, most = [size for size, _ in found], max((most for _, most in found), default=1)
    if kind in _CHAINED:  # the others run on each of the first one's results
        after = sizes[0] * max(sizes[1:], default=1)
        inside = sizes[0] * max((most for _, most in found[1:]), default=1)
        return after, max(found[0][1], inside, after)
    if kind == "function_expression":  # an &expr runs on each element of the others
        kinds = [child.get("type") for child in children]
        values = [bound for bound, kind in zip(found, kinds, strict=True) if kind != "expref"]
        each = [bound for bound, kind in zip(found, kinds, strict=True) if kind == "expref"]
        given = max(sum(size for size, _ in values), 1)
        size = given * max((size for size, _ in each), default=1)
        inside = given * max((most for _, most in each), default=1)
        return size, max(most, inside, size)
    if kind in ("comparator", "not_expression"):  # a boolean
        return 1, most
    if kind in ("or_expression", "and_expression"):  # one of the operands
        return max(sizes), most
    size = _together(children, sizes) if kind in _MULTI else max(sizes, default=1)
    return size, max(most, size)  # a multi-select, a part of its input, a literal


_MULTI = ("multi_select_list", "multi_select_dict")


def _together(children: list[dict[str, Any]], sizes: list[int]) -> int:
    """The growth of a multi-select: its parts that start with different keys of the input
    are parts of different values (their sizes add up to at most the largest growth among
    them); any other parts may be the same value, held again."""
    by_key: dict[str, int] = {}
    shared = 0
    for child, size in zip(children, sizes, strict=True):
        key = _first_key(child)
        if key is None:
            shared += size
        else:
            by_key[key] = by_key.get(key, 0) + size
    return max(shared + max(by_key.values(), default=0), 1)


#: nodes whose later children run on the results of their first
_CHAINED = (
    "subexpression", "pipe", "index_expression", "projection", "value_projection",
    "filter_projection",
)  # fmt: skip


def _first_key(node: dict[str, Any]) -> str | None:
    """The key of the input an expression starts with (``x`` of ``x.y[0]``), if any."""
    while node.get("type") in ("key_val_pair", *_CHAINED):
        node = node["children"][0]
    return node["value"] if node.get("type") == "field" else None


_EXPREF = (
    "an expression reference (&...) is only an argument of a function (sort_by, min_by, "
    "max_by, map): it has no JSON value of its own"
)
_NOT_JSON = (
    " (NaN and infinity, e.g. 1e400, are not JSON numbers; nor is text with a lone surrogate)"
)


def is_json(value: Any) -> bool:
    """Is a literal's value JSON (no NaN or infinity, no lone surrogate), as the output
    writer decides (imported here: compiling is off a cached mapping's path)?"""
    from fulfillmap.language._jsonio import dump_document

    try:
        dump_document(value, compact=True)
    except FulfillmapError:
        return False
    return True


def _literal(value: Any) -> str:
    text = repr(value) if not isinstance(value, str) else json.dumps(value)
    return text if len(text) <= 40 else text[:37] + "..."


def function_calls(expression: Expression) -> Iterator[tuple[str, int]]:
    """Every function the expression calls, with its number of arguments."""
    if expression.parsed is None:
        return
    stack = [expression.parsed.parsed]
    while stack:
        node = stack.pop()
        if node.get("type") == "function_expression":
            yield node["value"], len(node["children"])
        stack.extend(child for child in node.get("children", ()) if isinstance(child, dict))


def read_paths(expression: Expression) -> tuple[tuple[str, ...], ...]:
    """The plain paths an expression reads from the object it is evaluated on.

    ``upper(currency)`` reads ``currency``; ``shipTo.name || billTo.name`` reads both.
    Paths inside projections and filters (relative to array elements) are left out.
    """
    if expression.keys is not None:
        return (expression.keys,)
    assert expression.parsed is not None
    tree: dict[str, Any] = dict(expression.parsed.parsed)
    return tuple(dict.fromkeys(_paths(tree)))


_LEFT_ONLY = frozenset(
    {
        "projection",
        "filter_projection",
        "value_projection",
        "flatten",
        "index_expression",
        "pipe",
        "key_val_pair",
    }
)
_ALL_CHILDREN = frozenset(
    {
        "function_expression",
        "or_expression",
        "and_expression",
        "not_expression",
        "comparator",
        "multi_select_list",
        "multi_select_dict",
    }
)


def _paths(node: dict[str, Any]) -> Iterator[tuple[str, ...]]:
    for chain in map(_chain, _on_current(node)):
        if chain is not None:
            yield chain


def calls_on_paths(expression: Expression) -> tuple[tuple[str, tuple[str, ...]], ...]:
    """(function, path) of each function the expression calls with one argument, a plain
    path of the object it is evaluated on: ``whole_number(quantity) > `0``` gives
    ``("whole_number", ("quantity",))``."""
    if expression.parsed is None:
        return ()
    found: dict[tuple[str, tuple[str, ...]], None] = {}
    for node in _on_current(dict(expression.parsed.parsed), whole=True):
        children = node.get("children", [])
        if node.get("type") == "function_expression" and len(children) == 1:
            chain = _chain(children[0])
            if chain is not None:
                found[node["value"], chain] = None
    return tuple(found)


def _on_current(node: dict[str, Any], *, whole: bool = False) -> Iterator[dict[str, Any]]:
    """The nodes evaluated on the object the expression is, outermost first, down to each
    plain path (``whole``: into each path's nodes too), not into projections' elements."""
    kind, children = node.get("type"), node.get("children", [])
    yield node
    if not whole and _chain(node) is not None:
        return
    if kind == "subexpression" or kind in _LEFT_ONLY:
        if children:
            yield from _on_current(children[0], whole=whole)
    elif kind in _ALL_CHILDREN:
        for child in children:
            yield from _on_current(child, whole=whole)


def _chain(node: dict[str, Any]) -> tuple[str, ...] | None:
    if node.get("type") == "field":
        return (node["value"],)
    if node.get("type") == "subexpression":
        parts = [_chain(child) for child in node["children"]]
        if all(part is not None for part in parts):
            return tuple(key for part in parts if part for key in part)
    return None


def is_true(value: Any) -> bool:
    """JMESPath truthiness: false, null, "", [] and {} are false (and so is a missing value);
    everything else is true."""
    return not is_false(value)


def is_false(value: Any) -> bool:
    """The negation of ``is_true``."""
    return (
        value is None
        or value is False
        or value is MISSING
        or value == ""
        or value == []
        or value == {}
    )


def type_name(value: Any) -> str:
    """The JSON name of a Python value's type."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, str):
        return "text"
    if isinstance(value, dict):
        return "an object"
    if isinstance(value, list):
        return "an array"
    if isinstance(value, int | float) or type(value).__name__ == "Decimal":
        return "a number"
    return type(value).__name__
