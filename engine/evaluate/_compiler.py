"""Stage 3, compile: the syntax tree -> one function that builds the target document.

Every expression is compiled and every plugin looked up here, once; the returned function
only evaluates. It never mutates or aliases its input: values are copied (dropping nulls),
and absent values (missing or null) follow each field's policy: omit, default or fail.
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

import jmespath
from fulfillmap.language._expressions import (
    MISSING,
    Expression,
    WrongType,
    compile_expression,
    is_true,
    read_paths,
    type_name,
)
from fulfillmap.language._spec import Computed, Constant, Field, From, MappingSpec, Nested, Scope
from fulfillmap.plugins._registry import Registry
from fulfillmap.plugins.hookspecs import FieldInput

if TYPE_CHECKING:
    from fulfillmap.evaluate._trace import Recorder

__all__ = ["Builder", "Failure", "compile_spec"]

#: (current, root, context) -> value, or MISSING when the value is absent
Getter = Callable[[Any, Any, Mapping[str, Any]], Any]
#: (source, root, context) -> the target document
Builder = Callable[[Any, Any, Mapping[str, Any]], dict[str, Any]]


class Failure(Exception):
    """Why a field failed. Internal: loops add their indices while it unwinds, and the
    compiled mapping turns it into a ``MappingError``."""

    def __init__(
        self,
        reason: str,
        field: Field,
        *,
        expression: str | None = None,
        data_path: list[str | int] | None = None,
        plugin: str | None = None,
    ) -> None:
        super().__init__(reason)
        self.reason = reason
        self.field = field
        self.expression = expression
        self.plugin = plugin
        self.data_path: list[str | int] = list(data_path or [])
        self.anchored = field.scope is not Scope.CURRENT  #: data_path is complete
        if field.scope is Scope.CONTEXT:
            self.data_path.insert(0, "context")
        self.indices: list[int] = []  #: output indices, innermost first

    def enter(
        self, each: list[str | int], source_index: int, output_index: int, scope: Scope
    ) -> None:
        """Called by an array field's loop: prefix the element's position."""
        self.indices.append(output_index)
        if not self.anchored:
            self.data_path[:0] = [*each, source_index]
            if scope is Scope.CONTEXT:
                self.data_path.insert(0, "context")
            self.anchored = scope is not Scope.CURRENT


def compile_spec(
    spec: MappingSpec, registry: Registry, recorder: Recorder | None = None
) -> Builder:
    """The function that builds ``spec``'s target document from a source document.

    With a ``recorder``, every field reports what it read and produced (for tracing and
    coverage); the result is the same, only slower.
    """
    return _object_builder(spec.fields, _Compiler(registry, recorder))


#: values copied as they are (immutable); anything else goes through ``copy_value``
SCALARS: frozenset[type] = frozenset({str, int, float, bool, type(None)})


def copy_value(value: Any) -> Any:
    """A deep copy of a JSON value with every null-valued key dropped, at any depth.

    Tuples (which a plugin may return) become lists, as JSON has only arrays."""
    if isinstance(value, dict):
        return {
            key: item if item.__class__ in SCALARS else copy_value(item)
            for key, item in value.items()
            if item is not None
        }
    if isinstance(value, list | tuple):
        return [item if item.__class__ in SCALARS else copy_value(item) for item in value]
    return value


def _object_builder(fields: tuple[Field, ...], compiler: _Compiler) -> Builder:
    entries = tuple((field.name, compiler.field(field)) for field in fields)

    def build(current: Any, root: Any, context: Mapping[str, Any]) -> dict[str, Any]:
        result: dict[str, Any] = {}
        for key, get in entries:
            value = get(current, root, context)
            if value is not MISSING:
                result[key] = value
        return result

    return build


def _pick(scope: Scope, current: Any, root: Any, context: Mapping[str, Any]) -> Any:
    if scope is Scope.CURRENT:
        return current
    return root if scope is Scope.ROOT else context


class _Compiler:
    def __init__(self, registry: Registry, recorder: Recorder | None) -> None:
        self.registry = registry
        self.options: jmespath.Options = registry.options
        self.recorder = recorder

    def field(self, field: Field) -> Getter:
        kind = field.kind
        if isinstance(kind, From):
            get = self._from(field, kind)
        elif isinstance(kind, Constant):
            get = _constant(kind.value)
        elif isinstance(kind, Computed):
            get = self._computed(field, kind)
        elif kind.each is None:
            get = self._object(field, kind)
        else:
            get = self._array(field, kind, kind.each)
        if self.recorder is None:
            return _with_policy(field, get, self._why_absent(field))
        get = _observe_raw(field, get, self.recorder)
        return _observe(field, _with_policy(field, get, self._why_absent(field)), self.recorder)

    # -- value sources ------------------------------------------------------------------

    def _from(self, field: Field, kind: From) -> Getter:
        expressions = tuple(compile_expression(text) for text in kind.expressions)
        scope, evaluate = field.scope, self._evaluator(field)

        def get(current: Any, root: Any, context: Mapping[str, Any]) -> Any:
            data = _pick(scope, current, root, context)
            for expression in expressions:
                value = evaluate(expression, data)
                if value is not None and value is not MISSING:
                    return copy_value(value)
            return MISSING

        return get

    def _computed(self, field: Field, kind: Computed) -> Getter:
        function = self.registry.fields[kind.plugin]
        args, name, path = dict(kind.args), kind.plugin, field.target_path

        def get(current: Any, root: Any, context: Mapping[str, Any]) -> Any:
            try:
                value = function(FieldInput(root, current, context, args, path))
            except Exception as exc:
                # a ValueError is the plugin's own message for bad input (the contract);
                # anything else keeps its type, which says more than `'b'` of a KeyError
                said = str(exc) if isinstance(exc, ValueError) else f"{type(exc).__name__}: {exc}"
                reason = f"plugin '{name}' failed: {said}"
                raise Failure(reason, field, plugin=name) from exc
            return MISSING if value is None else copy_value(value)

        return get

    def _object(self, field: Field, kind: Nested) -> Getter:
        build, scope = _object_builder(kind.fields, self), field.scope

        def get(current: Any, root: Any, context: Mapping[str, Any]) -> Any:
            return build(_pick(scope, current, root, context), root, context) or MISSING

        return get

    def _array(self, field: Field, kind: Nested, each: str) -> Getter:
        build, scope = _object_builder(kind.fields, self), field.scope
        source = compile_expression(each)
        where = compile_expression(kind.where) if kind.where is not None else None
        evaluate = self._evaluator(field)
        prefix: list[str | int] = list(source.keys) if source.keys is not None else []
        recorder = self.recorder

        def get(current: Any, root: Any, context: Mapping[str, Any]) -> Any:
            elements = evaluate(source, _pick(scope, current, root, context))
            if elements is None or elements is MISSING:
                return MISSING
            if not isinstance(elements, list):
                reason = f"wrong type: expected an array, got {type_name(elements)}"
                raise Failure(reason, field, expression=each, data_path=prefix)
            result: list[Any] = []
            for index, element in enumerate(elements):
                if recorder is not None:
                    recorder.enter(prefix, index, len(result), scope)
                try:
                    if where is None or is_true(evaluate(where, element)):
                        result.append(build(element, root, context))
                    elif recorder is not None:
                        recorder.skipped(field, index, kind.where or "")
                except Failure as failure:
                    failure.enter(prefix, index, len(result), scope)
                    raise
                finally:
                    if recorder is not None:
                        recorder.leave()
            return result

        return get

    # -- evaluation and absence ---------------------------------------------------------

    def _evaluator(self, field: Field) -> Callable[[Expression, Any], Any]:
        options = self.options

        def evaluate(expression: Expression, data: Any) -> Any:
            if expression.keys is not None:
                try:
                    return expression.lookup(data)
                except WrongType as exc:
                    reason = f"wrong type: expected an object, got {type_name(exc.value)}"
                    path: list[str | int] = list(exc.keys)
                    raise Failure(
                        reason, field, expression=expression.text, data_path=path
                    ) from None
            assert expression.parsed is not None
            try:
                return expression.parsed.search(data, options)
            except Exception as exc:
                reason = f"cannot evaluate the expression: {exc}"
                reads = read_paths(expression)
                path = list(reads[0]) if len(reads) == 1 else []
                raise Failure(reason, field, expression=expression.text, data_path=path) from exc

        return evaluate

    def _why_absent(self, field: Field) -> Callable[[Any, Any, Mapping[str, Any]], Failure]:
        """How to explain, on the error path only, why a required field is absent."""
        kind = field.kind

        def explain(current: Any, root: Any, context: Mapping[str, Any]) -> Failure:
            if isinstance(kind, From):
                return _explain_from(field, kind, _pick(field.scope, current, root, context))
            if isinstance(kind, Computed):
                return Failure(
                    "required value is absent: the plugin gave none", field, plugin=kind.plugin
                )
            if isinstance(kind, Nested) and kind.each is not None:
                return Failure(
                    "required array is absent (its source is missing or null)",
                    field,
                    expression=kind.each,
                )
            return Failure("required object is absent: none of its fields has a value", field)

        return explain


def _explain_from(field: Field, kind: From, data: Any) -> Failure:
    states: list[str] = []
    path: list[str | int] = []
    for text in kind.expressions:
        reads = read_paths(compile_expression(text))
        if len(reads) != 1:
            states.append(f"`{text}` is null or missing")
            continue
        keys = reads[0]
        path = path or list(keys)
        state = _state(keys, data)
        states.append(f"{'.'.join(keys)} is {state}" if state else f"`{text}` is null")
    reason = f"required value is absent: {', '.join(states)}"
    if data is None:
        reason += " (the object it is read from is itself null)"
    return Failure(reason, field, expression=", ".join(kind.expressions), data_path=path)


def _state(keys: tuple[str, ...], data: Any) -> str:
    """``missing`` or ``null`` for the value at ``keys``; empty when it has a value."""
    try:
        value = Expression(".".join(keys), keys, None).lookup(data)
    except WrongType:
        return "not reachable"
    return "missing" if value is MISSING else ("null" if value is None else "")


def _constant(value: Any) -> Getter:
    if isinstance(value, dict | list):
        frozen = copy.deepcopy(value)
        return lambda current, root, context: copy_value(frozen)
    return lambda current, root, context: value


def _observe_raw(field: Field, get: Getter, recorder: Recorder) -> Getter:
    def observed(current: Any, root: Any, context: Mapping[str, Any]) -> Any:
        value = get(current, root, context)
        recorder.raw(field, _pick(field.scope, current, root, context), value)
        return value

    return observed


def _observe(field: Field, get: Getter, recorder: Recorder) -> Getter:
    def observed(current: Any, root: Any, context: Mapping[str, Any]) -> Any:
        try:
            value = get(current, root, context)
        except Failure as failure:
            recorder.failed(field, failure)
            raise
        recorder.done(field, value)
        return value

    return observed


def _with_policy(field: Field, get: Getter, explain: Callable[..., Failure]) -> Getter:
    if field.required:

        def required(current: Any, root: Any, context: Mapping[str, Any]) -> Any:
            value = get(current, root, context)
            if value is MISSING:
                raise explain(current, root, context)
            return value

        return required
    if field.has_default:
        fallback = _constant(field.default)

        def defaulted(current: Any, root: Any, context: Mapping[str, Any]) -> Any:
            value = get(current, root, context)
            return fallback(current, root, context) if value is MISSING else value

        return defaulted
    return get
