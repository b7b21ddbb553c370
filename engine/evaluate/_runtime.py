"""What generated code calls at run time, and what it raises.

The generated function of a mapping (``_codegen``) evaluates fields with inline statements and
calls these helpers for the rest: copying values, stepping through paths, calling plugins and
reporting rule violations. When something fails it raises a small signal (``Absent``,
``WrongStep``, ``NotAList``, ``PluginFailed`` or whatever an expression raised), and the
function's own handlers (one around the whole body, one around each ``each`` loop) call
``Sites.fail``, which explains the signal once, on the error path only: the field, the
expression, the data path, the indices of the loops it was in. ``CompiledMapping`` then turns
that ``Failure`` (or a rule's ``RuleFailed``) into a ``MappingError``.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, Protocol

from fulfillmap.evaluate._rules import Violation
from fulfillmap.language._expressions import (
    MISSING,
    WrongType,
    compile_expression,
    read_paths,
    type_name,
)
from fulfillmap.language._spec import Computed, Field, From, Nested, Rule, Scope


class Recording(Protocol):
    """What the error handler tells the traced variant's recorder (``_trace.Recorder``)."""

    def failed(self, field: Field, failure: Exception) -> None: ...


__all__ = [
    "MAX_VALUES",
    "SCALARS",
    "Absent",
    "Failure",
    "Loop",
    "NotAList",
    "PluginFailed",
    "Program",
    "RuleFailed",
    "RuleOrder",
    "Site",
    "Sites",
    "Stop",
    "TooLarge",
    "WrongStep",
    "broken",
    "copy_bounded",
    "copy_value",
    "each_broken",
    "explain_absent",
    "not_a_list",
    "plugin_failed",
    "plugin_value",
    "report",
    "required",
    "step",
    "violation",
]

#: values copied as they are (immutable); anything else goes through ``copy_value``
SCALARS: tuple[type, ...] = (str, int, float, bool, type(None))  # those found most first
#: the classes of JSON values a plugin may return as they are
_JSON_SCALARS: frozenset[str] = frozenset({"str", "int", "float", "bool", "NoneType", "Decimal"})


def copy_value(value: Any) -> Any:
    """A deep copy of a JSON value with every null-valued key dropped, at any depth.

    Tuples (which a plugin may return) become lists, as JSON has only arrays; the read-only
    views plugins are given become what they show."""
    if isinstance(value, dict):
        return {
            key: item if item.__class__ in SCALARS else copy_value(item)
            for key, item in value.items()
            if item is not None
        }
    if isinstance(value, list | tuple):
        return [item if item.__class__ in SCALARS else copy_value(item) for item in value]
    if value.__class__ is Decimal:  # an amount (G3): no isinstance against the ABCs below
        return value
    if isinstance(value, ReadOnlyDict | ReadOnlyList):
        return copy_value(value._data)
    return value


#: the most values (objects, arrays and scalars, counted as they would be copied) one field
#: may produce from a JMESPath expression or a plugin (``load(..., max_values=...)``)
MAX_VALUES = 1_000_000


class TooLarge(Exception):
    """A value to copy into the output holds more values than allowed."""

    def __init__(self, limit: int) -> None:
        super().__init__(f"the value is too large: more than {limit:,} values (max_values)")
        self.limit = limit


def copy_bounded(limit: int, value: Any) -> Any:
    """``copy_value``, for values an expression or a plugin built (which may share parts, so
    that the copy would grow exponentially): ``TooLarge`` past ``limit`` values."""
    if value.__class__ in SCALARS:
        return value
    budget, stack = limit, [value]
    while stack:
        item = stack.pop()
        budget -= 1
        if budget < 0:
            raise TooLarge(limit)
        if isinstance(item, dict | ReadOnlyDict):
            stack.extend(item.values())
        elif isinstance(item, list | tuple | ReadOnlyList):
            stack.extend(item)
    return copy_value(value)


def required_bounded(limit: int, value: Any) -> Any:
    """``required``, with ``copy_bounded``."""
    if value is None:
        raise Absent
    return copy_bounded(limit, value)


# -- what plugins see: read-only views of the input and the context --------------------------


class ReadOnlyDict(Mapping[str, Any]):
    """A read-only view of a JSON object, whose objects and arrays are read-only views too:
    a plugin cannot change the input or the context (``isinstance(view, Mapping)`` holds)."""

    __slots__ = ("_data",)

    def __init__(self, data: dict[str, Any]) -> None:
        self._data = data

    def __getitem__(self, key: str) -> Any:
        return read_only(self._data[key])

    def get(self, key: str, default: Any = None) -> Any:
        value = self._data.get(key, default)  # read_only(value), inline: plugins call it most
        if value.__class__ is dict:
            return ReadOnlyDict(value)
        return ReadOnlyList(value) if value.__class__ is list else value

    def __iter__(self) -> Iterator[str]:
        return iter(self._data)

    def __len__(self) -> int:
        return len(self._data)

    def __contains__(self, key: object) -> bool:
        return key in self._data

    def __repr__(self) -> str:
        return f"ReadOnlyDict({self._data!r})"


class ReadOnlyList(Sequence[Any]):
    """A read-only view of a JSON array (``isinstance(view, Sequence)`` holds)."""

    __slots__ = ("_data",)

    def __init__(self, data: list[Any]) -> None:
        self._data = data

    def __getitem__(self, index: Any) -> Any:
        return read_only(self._data[index])

    def __len__(self) -> int:
        return len(self._data)

    def __repr__(self) -> str:
        return f"ReadOnlyList({self._data!r})"


def read_only(value: Any) -> Any:
    """``value`` as a plugin may see it: objects and arrays as read-only views."""
    if value.__class__ is dict:
        return ReadOnlyDict(value)
    if value.__class__ is list:
        return ReadOnlyList(value)
    return value


# -- signals: raised by generated code, explained by Sites.fail ------------------------------


class Stop(Exception):
    """An explained failure, on its way out of the generated function (with the warnings
    found before it, once out)."""

    warnings: Sequence[Violation] = ()


class Absent(Exception):
    """A required value is absent."""


class WrongStep(Exception):
    """A plain path stepped into something that is neither an object nor null."""


class NotAList(Exception):
    """An ``each`` expression gave something that is not an array."""

    def __init__(self, value: Any) -> None:
        super().__init__(type_name(value))
        self.value = value


class PluginFailed(Exception):
    """A plugin's field function raised, or returned what is not a JSON value."""

    def __init__(self, plugin: str, reason: str) -> None:
        super().__init__(reason)
        self.plugin = plugin
        self.reason = reason


class _NotAnObject:
    """Stands for a path prefix that is neither an object nor null: looking anything up
    through it is a wrong step (raised where a field reads through it, not before)."""

    __slots__ = ()

    def get(self, key: str) -> Any:
        raise WrongStep


_EMPTY: Mapping[str, Any] = {}
_NOT_AN_OBJECT = _NotAnObject()


def step(value: Any) -> Any:
    """A step of a plain path through ``value`` that is not a dict: nothing is found through
    null (an empty dict stands in); through anything else, a lookup raises ``WrongStep``."""
    return _EMPTY if value is None else _NOT_AN_OBJECT


def required(value: Any) -> Any:
    """A required value that is not plain text, number or boolean: absent raises, a
    container is copied."""
    if value is None:
        raise Absent
    return copy_value(value)


def plugin_failed(name: str, exc: Exception) -> PluginFailed:
    """The failure of a plugin's field function that raised ``exc`` (the generated code calls
    the function itself, once, with a ``FieldInput``; then this, or ``plugin_value``)."""
    failure = PluginFailed(name, f"plugin '{name}' failed: {_exception(exc)}")
    failure.__cause__ = exc
    return failure


def plugin_value(limit: int, name: str, value: Any) -> Any:
    """A plugin's result that is not text, a number, a boolean or null: checked to be a JSON
    value of at most ``limit`` values, and copied (without nulls)."""
    problem = _not_json(value)
    if problem:
        raise PluginFailed(name, f"plugin '{name}' returned {problem}, which is not JSON")
    try:
        return copy_bounded(limit, value)
    except TooLarge as exc:
        raise PluginFailed(name, f"plugin '{name}' returned {exc}") from None


def _exception(exc: Exception) -> str:
    """``KeyError: 'b'``; a ``ValueError``'s message alone (plugins raise it for bad input)."""
    if type(exc) is ValueError:
        return str(exc)
    return f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__


def _not_json(value: Any, depth: int = 0) -> str:
    """What in ``value`` is not a JSON value (``a set``), or ""."""
    if depth > 200:
        return "a value nested too deeply"
    if isinstance(value, dict | ReadOnlyDict):
        for key, item in value.items():
            if not isinstance(key, str):
                return f"an object key {type(key).__name__}"
            found = _not_json(item, depth + 1)
            if found:
                return found
        return ""
    if isinstance(value, list | tuple | ReadOnlyList):
        return next((found for item in value if (found := _not_json(item, depth + 1))), "")
    if type(value).__name__ in _JSON_SCALARS:
        return ""
    return f"a {type(value).__name__}"


# -- explaining a failure (the error path) ---------------------------------------------------


class Failure(Stop):
    """Why a field failed. Loops add their indices while it unwinds, and the compiled
    mapping turns it into a ``MappingError``."""

    def __init__(
        self,
        reason: str,
        field: Field,
        *,
        expression: str | None = None,
        data_path: Sequence[str | int] | None = None,
        plugin: str | None = None,
        relative: bool = False,
    ) -> None:
        super().__init__(reason)
        self.reason = reason
        self.field = field
        self.expression = expression
        self.plugin = plugin
        scope = Scope.CURRENT if relative else field.scope
        self.data_path: list[str | int] = [*scope.base(), *(data_path or ())]
        #: is data_path complete (a field reading the root or the context)?
        self.anchored = scope is not Scope.CURRENT
        self.indices: list[int] = []  #: output indices, innermost first

    def enter(
        self, each: list[str | int], source_index: int, output_index: int, scope: Scope
    ) -> None:
        """Called by an array field's loop: prefix the element's position."""
        self.indices.append(output_index)
        if not self.anchored:
            self.data_path[:0] = [*scope.base(), *each, source_index]
            self.anchored = scope is not Scope.CURRENT


class RuleFailed(Stop):
    """An ``error`` rule does not hold."""

    def __init__(self, violation: Violation) -> None:
        super().__init__(violation.message)
        self.violation = violation


@dataclass(frozen=True, slots=True)
class Site:
    """A place in the generated code where something can fail: a field, the local holding
    the data it reads (for the explanation), the expression being evaluated there."""

    field: Field
    data: str
    expression: str | None = None
    where: bool = False  #: the array's ``where``, read from its element


@dataclass(frozen=True, slots=True)
class Loop:
    """An ``each`` loop of the generated code: what its handler needs to add the indices."""

    field: Field
    prefix: tuple[str | int, ...]  #: the source path of the array, when plain
    index: str | None  #: the local of the source index; None: it is len(out), nothing skipped
    out: str  #: the local of the output list


class Sites:
    """The sites and loops of one generated function, and its error handler ``fail``."""

    def __init__(self) -> None:
        self.sites: list[Site | None] = [None]  #: site 0: nothing that can fail
        self.loops: list[Loop] = []
        #: line number of the generated function -> the site its statement belongs to
        self.lines: tuple[int, ...] = ()

    def site(self, site: Site) -> int:
        self.sites.append(site)
        return len(self.sites) - 1

    def loop(self, loop: Loop) -> int:
        self.loops.append(loop)
        return len(self.loops) - 1

    def fail(self, exc: Exception, frame: Mapping[str, Any], loop: int | None) -> Exception:
        """The exception to raise in place of ``exc``: a ``Failure`` that says where and
        why (with the indices of ``loop``, when it leaves one), or ``exc`` itself (an
        explained failure, a rule's, or one that is not the mapping's: a bug, a
        ``RecursionError``). Where: the site of the generated function's line that ``exc``
        went through (its traceback's first entry, the generated function's own frame)."""
        failure: Exception = exc
        traceback = exc.__traceback__
        line = traceback.tb_lineno if traceback is not None else 0
        found = self.sites[self.lines[line] if 0 <= line < len(self.lines) else 0]
        if not isinstance(exc, Stop | RecursionError) and found is not None:
            failure = _explain(exc, found, frame.get(found.data))
            failure.__cause__ = exc.__cause__ if isinstance(exc, PluginFailed) else exc
            recorder: Recording | None = frame.get("rec")
            if recorder is not None:
                recorder.failed(found.field, failure)
        if loop is None and isinstance(failure, Stop):  # leaving the function: its warnings
            failure.warnings = tuple(frame.get("w") or ())
        if loop is not None and isinstance(failure, Failure):
            info, index = self.loops[loop], self.loops[loop].index
            built = len(frame[info.out])
            source = built if index is None else frame[index]
            failure.enter(list(info.prefix), source, built, info.field.scope)
        return failure


def _explain(exc: Exception, site: Site, data: Any) -> Failure:
    field, text, relative = site.field, site.expression, site.where
    if isinstance(exc, Absent):
        return explain_absent(field, data)
    if isinstance(exc, PluginFailed):
        return Failure(exc.reason, field, plugin=exc.plugin)
    if isinstance(exc, TooLarge):
        return Failure(str(exc), field, expression=text)
    if isinstance(exc, NotAList):
        reason = f"wrong type: expected an array, got {type_name(exc.value)}"
        keys = compile_expression(text or "").keys if text else None
        return Failure(reason, field, expression=text, data_path=list(keys or ()))
    if isinstance(exc, WrongStep) and text is not None:
        try:
            compile_expression(text).lookup(data)
        except WrongType as wrong:
            reason = f"wrong type: expected an object, got {type_name(wrong.value)}"
            path: list[str | int] = list(wrong.keys)
            return Failure(reason, field, expression=text, data_path=path, relative=relative)
    reads = read_paths(compile_expression(text)) if text else ()
    return Failure(
        f"cannot evaluate the expression: {expression_error(exc)}",
        field,
        expression=text,
        data_path=list(reads[0]) if len(reads) == 1 else [],
        relative=relative,
    )


def explain_absent(field: Field, data: Any) -> Failure:
    """Why a required field has no value, as an error (``required value is absent: ...``)."""
    kind, what = field.kind, "value"
    if isinstance(kind, Nested):
        what = "object" if kind.each is None else "array"
    reason = f"required {what} is absent: {why_absent(field, data)}"
    if isinstance(kind, From):
        reads = [read_paths(compile_expression(text)) for text in kind.expressions]
        path = next((list(paths[0]) for paths in reads if len(paths) == 1), [])
        return Failure(reason, field, expression=", ".join(kind.expressions), data_path=path)
    if isinstance(kind, Nested) and kind.each is not None:
        return Failure(reason, field, expression=kind.each)
    plugin = kind.plugin if isinstance(kind, Computed) else None
    return Failure(reason, field, plugin=plugin)


def why_absent(field: Field, data: Any) -> str:
    """Why ``field`` found no value in ``data``: the one wording, for errors and traces
    (``shipTo.name is missing, billTo.name is null``)."""
    kind = field.kind
    if isinstance(kind, Computed):
        return f"plugin '{kind.plugin}' gave no value"
    if isinstance(kind, Nested):
        if kind.each is None:
            return "none of its fields has a value"
        return f"`{kind.each}` is missing or null"
    if not isinstance(kind, From):
        return "it has no value"
    states = []
    for text in kind.expressions:
        reads = read_paths(compile_expression(text))
        state = found(reads[0], data) if len(reads) == 1 else "null or missing"
        if len(reads) == 1 and state != "value":
            states.append(f"{'.'.join(reads[0])} is {state}")
        else:
            states.append(f"`{text}` is {'null' if state == 'value' else state}")
    reason = ", ".join(states)
    if data is None:
        reason += " (the object it is read from is itself null)"
    return reason


def found(keys: tuple[str, ...], data: Any) -> str:
    """What is at ``keys`` in ``data``: ``value``, ``null``, ``missing`` or ``not reachable``."""
    value: Any = data
    for key in keys:
        if isinstance(value, dict):
            value = value.get(key, MISSING)
            if value is MISSING:
                return "missing"
        elif value is None:
            return "null"
        else:
            return "not reachable"
    return "null" if value is None else "value"


def violation(rule: Rule, index: int | None, message: str | None = None) -> Violation:
    """``rule`` does not hold on the document, or on the element at ``index`` of its ``each``."""
    where = "" if rule.each is None else (rule.each if index is None else f"{rule.each}[{index}]")
    return _violation_at(rule, where, rule.message if message is None else message)


def _violation_at(rule: Rule, where: str, message: str) -> Violation:
    if rule.on == "context":  # a path in the context, not in the input
        where = f"context.{where}" if where else "context"
    return Violation(
        rule.name, message, rule.severity, where, rule.check, str(rule.location), rule.on
    )


def broken(rule: Rule, index: int | None, exc: Exception, data: Any) -> Violation:
    """The check of ``rule`` could not run on ``data``: it has not passed."""
    return violation(
        rule, index, f"{rule.message} (the check failed to run: {_why(exc, rule.check, data)})"
    )


def each_broken(rule: Rule, exc: Exception, data: Any) -> Violation:
    """The ``each`` of ``rule`` could not be read from ``data``."""
    text = rule.each or ""
    if isinstance(exc, WrongStep):
        try:
            compile_expression(text).lookup(data)
        except WrongType as wrong:
            message = f"expected an object, got {type_name(wrong.value)}"
            return _violation_at(rule, ".".join(wrong.keys), message)
    return violation(
        rule, None, f"{rule.message} (the check failed to run: {expression_error(exc)})"
    )


def not_a_list(rule: Rule, value: Any) -> Violation:
    return violation(rule, None, f"expected an array, got {type_name(value)}")


def _why(exc: Exception, text: str, data: Any) -> str:
    """What an expression raised, as jmespath or a plain path says it."""
    if isinstance(exc, WrongStep):
        try:
            compile_expression(text).lookup(data)
        except WrongType as wrong:
            return str(wrong)
    return expression_error(exc)


#: jmespath's names of the types a function takes, as a message says them
_TAKES = {
    "array-number": "an array of numbers",
    "array-string": "an array of texts",
    "array": "an array",
    "boolean": "a boolean",
    "expref": "an expression reference (&...)",
    "null": "null",
    "number": "a number",
    "object": "an object",
    "string": "text",
}
#: Python's names of JSON types, in the TypeError of a comparison
_PYTHON_TYPES = {
    "str": "text",
    "int": "a number",
    "float": "a number",
    "Decimal": "a number",
    "NoneType": "null",
    "bool": "a boolean",
    "dict": "an object",
    "list": "an array",
}
_COMPARED = re.compile(r"'(\S+)' not supported between instances of '(\w+)' and '(\w+)'")


def expression_error(exc: Exception) -> str:
    """Why an expression failed, in JSON's words (jmespath's and Python's name types as
    Python does: ``received: "NoneType"``)."""
    name = getattr(exc, "function_name", None)
    expected = getattr(exc, "expected_types", None)
    if isinstance(name, str) and isinstance(expected, list):
        takes = " or ".join(_TAKES.get(str(kind), str(kind)) for kind in expected)
        got = type_name(getattr(exc, "current_value", None))
        if any(kind.startswith("array-") for kind in expected):
            return f"{name}() takes {takes} (it was given {got}, or an array holding {got})"
        return f"{name}() takes {takes}, not {got}"
    found = _COMPARED.fullmatch(str(exc)) if isinstance(exc, TypeError) else None
    if found is not None:
        operator, left, right = found.groups()
        sides = (_PYTHON_TYPES.get(left, left), _PYTHON_TYPES.get(right, right))
        return f"{operator} compares two numbers or two texts, not {sides[0]} and {sides[1]}"
    return str(exc)


@dataclass(frozen=True, slots=True)
class Program:
    """A generated function and its source (shown by ``fulfillmap explain``-style tools)."""

    build: Callable[..., tuple[dict[str, Any], list[Any]]]
    source: str


@dataclass(frozen=True, slots=True)
class RuleOrder:
    """The sort key of violations: their rule's position (an object rather than a lambda,
    so that the compiled-mapping cache can pickle it)."""

    positions: Mapping[str, int]

    def __call__(self, violation: Violation) -> int:
        return self.positions[violation.rule]


def report(violations: list[Violation], warnings: list[Violation]) -> None:
    """A rule's violations: the first of an ``error`` rule stops, a ``warn`` rule's are kept."""
    for found_one in violations:
        if found_one.severity == "error":
            raise RuleFailed(found_one)
        warnings.append(found_one)
