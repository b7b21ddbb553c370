"""The fast path: a whole mapping compiled to one specialised Python function.

``generate(spec, registry)`` writes the source of ``build(root, context)``, much as Jinja
compiles a template: plain paths become direct dict lookups, the JMESPath expressions become
Python statements (``jmespath_translate``), nested objects and ``each`` loops become inline
code. Target keys appear as ``repr`` literals; every constant, plugin function and untranslated
expression is bound in the function's namespace. Nothing from the data ever becomes source.

The generated builder only knows the happy path. Wherever the reference evaluator
(``compiler.compile_spec``) would fail (a required value absent, a step into a non-object, an
expression or a plugin that raises) the generated code raises ``SlowPath`` or lets the
exception through, and ``CompiledMapping`` runs the reference evaluator, which raises the
detailed error. Results are the reference's by construction of the tests, which compare the
two on every golden input and on generated variants.
"""

from __future__ import annotations

import linecache
from collections.abc import Callable, Mapping
from typing import Any

import jmespath.functions
from fulfillmap.plugins.hookspecs import FieldInput

from .compiler import copy_value
from .expressions import MISSING, compile_expression
from .jmespath_translate import Emitter, Unsupported
from .registry import Registry
from .spec import Computed, Constant, Field, From, MappingSpec, Nested, Scope

__all__ = ["FastBuilder", "SlowPath", "generate"]

#: (source, context) -> the target document; raises on anything but the happy path
FastBuilder = Callable[[Any, Mapping[str, Any]], dict[str, Any]]


class SlowPath(Exception):
    """The generated code met a case it leaves to the reference evaluator (an error)."""


def generate(spec: MappingSpec, registry: Registry) -> FastBuilder:
    """The generated builder of ``spec`` (its source is in ``builder.__source__``)."""
    writer = _Writer(registry)
    writer.emit.line("current = root")
    result = writer.object(spec.fields, "current", root_is_current=True)
    writer.emit.line(f"return {result}")
    filename = f"<fulfillmap mapping {spec.name!r}>"
    builder: FastBuilder = writer.emit.compile("build", "root, context", filename)
    source: str = builder.__source__  # type: ignore[attr-defined]
    linecache.cache[filename] = (len(source), None, source.splitlines(True), filename)
    return builder


def _absent(value: Any) -> Any:
    return None if value is MISSING else value


class _Writer:
    """Writes the statements of each field into the emitter."""

    def __init__(self, registry: Registry) -> None:
        self.registry = registry
        #: (data local, keys) -> the local holding that path prefix's value
        self.prefixes: dict[tuple[str, tuple[str, ...]], str] = {}
        functions = registry.options.custom_functions or jmespath.functions.Functions()
        self.emit = Emitter(functions, registry.functions)
        self.emit.namespace.update(
            _get=dict.get,
            _absent=_absent,
            _copy=copy_value,
            _SCALARS=frozenset({str, int, float, bool, type(None)}),
            _FieldInput=FieldInput,
            SlowPath=SlowPath,
        )

    def object(self, fields: tuple[Field, ...], current: str, *, root_is_current: bool) -> str:
        """Emit an object built from ``fields``; return the local holding it."""
        self.hoist(_shared_prefixes(_plain_paths(fields, current)), root_is_current)
        out = self.emit.temp("o")
        self.emit.line(f"{out} = {{}}")
        for field in fields:
            self.field(field, out, current, known_dict=root_is_current)
        return out

    def hoist(self, prefixes: list[tuple[str, tuple[str, ...]]], root_is_current: bool) -> None:
        """Look up, once, the path prefixes that several fields share (``data.object``).
        A prefix that is missing, null or not an object is None here: the fields' own
        lookups then fail over to the exact lookup."""
        for data, keys in prefixes:
            if (data, keys) in self.prefixes:
                continue
            dict_data = data == "root" or root_is_current
            local, lookup = self.emit.temp("p"), self.lookup(keys, data, dict_data)
            with self.emit.block("try:"):
                self.emit.line(f"{local} = {lookup}")
            with self.emit.block("except TypeError:"):
                self.emit.line(f"{local} = None")
            self.prefixes[data, keys] = local

    def field(self, field: Field, out: str, current: str, *, known_dict: bool) -> None:
        emit, key = self.emit, repr(field.name)
        emit.line(f"# {field.target_path}")
        data = {Scope.CURRENT: current, Scope.ROOT: "root", Scope.CONTEXT: "context"}[field.scope]
        dict_data = data == "root" or (known_dict and field.scope is Scope.CURRENT)
        kind = field.kind
        if isinstance(kind, Constant):
            emit.line(f"{out}[{key}] = {self.constant(kind.value)}")
            return
        if isinstance(kind, From):
            value = self.from_(kind, data, dict_data)
        elif isinstance(kind, Computed):
            value = self.computed(field, kind, current)
        elif kind.each is None:
            value = self.object(kind.fields, data, root_is_current=dict_data)
        else:
            value = self.array(kind, kind.each, data, dict_data)
        # absent: None, or an empty object for a nested one
        empty_object = isinstance(kind, Nested) and kind.each is None
        test = value if empty_object else f"{value} is not None"
        absent = f"not {value}" if empty_object else f"{value} is None"
        if field.required:
            emit.line(f"if {absent}: raise SlowPath")
            emit.line(f"{out}[{key}] = {value}")
        elif field.has_default:
            with emit.block(f"if {absent}:"):
                emit.line(f"{value} = {self.constant(field.default)}")
            emit.line(f"{out}[{key}] = {value}")
        else:
            emit.line(f"if {test}: {out}[{key}] = {value}")

    def constant(self, value: Any) -> str:
        """An expression giving a fresh copy of ``value`` (containers are copied each time)."""
        name = self.emit.constant(copy_value(value) if isinstance(value, dict | list) else value)
        return f"_copy({name})" if isinstance(value, dict | list) else name

    # -- value sources ------------------------------------------------------------------

    def from_(self, kind: From, data: str, dict_data: bool) -> str:
        """The first expression whose value is neither missing nor null, copied; else None."""
        out = self.emit.temp("v")
        for position, text in enumerate(kind.expressions):
            if position == 0:
                self.value(text, data, dict_data, out)
                continue
            with self.emit.block(f"if {out} is None:"):
                self.value(text, data, dict_data, out)
        self.emit.line(f"if {out}.__class__ not in _SCALARS: {out} = _copy({out})")
        return out

    def value(self, text: str, data: str, dict_data: bool, out: str) -> None:
        """Emit ``out = `` the expression's value, None when missing or null."""
        emit, expression = self.emit, compile_expression(text)
        if expression.keys is not None:
            self.path(expression.keys, text, data, dict_data, out)
            return
        assert expression.parsed is not None
        try:
            result = emit.jmespath(expression.parsed.parsed, data)
        except Unsupported:
            parsed, options = emit.constant(expression.parsed), emit.constant(self.registry.options)
            emit.line(f"{out} = {parsed}.search({data}, {options})")
            return
        emit.line(f"{out} = {result}")

    def path(self, keys: tuple[str, ...], text: str, data: str, dict_data: bool, out: str) -> None:
        """A plain path: direct lookups. A missing key gives None; a step into anything but
        an object or null goes to the exact lookup, which raises ``WrongType``."""
        emit, lookup = self.emit, self.lookup(keys, data, dict_data)
        if len(keys) == 1 and dict_data:
            emit.line(f"{out} = {lookup}")
            return
        exact = emit.constant(compile_expression(text).lookup, "lookup")
        with emit.block("try:"):
            emit.line(f"{out} = {lookup}")
        with emit.block("except TypeError:"):  # a missing or null step, or the wrong type
            emit.line(f"{out} = _absent({exact}({data}))")

    def lookup(self, keys: tuple[str, ...], data: str, dict_data: bool) -> str:
        """The chain of ``dict.get`` calls for a plain path, from its longest hoisted prefix.
        It raises ``TypeError`` at a step into anything but a dict."""
        start = data
        for length in range(len(keys) - 1, 0, -1):
            hoisted = self.prefixes.get((data, keys[:length]))
            if hoisted is not None:
                start, keys, dict_data = hoisted, keys[length:], False
                break
        lookup = f"{start}.get({keys[0]!r})" if dict_data else f"_get({start}, {keys[0]!r})"
        for key in keys[1:]:
            lookup = f"_get({lookup}, {key!r})"
        return lookup

    def computed(self, field: Field, kind: Computed, current: str) -> str:
        emit, out = self.emit, self.emit.temp("v")
        function = emit.constant(self.registry.fields[kind.plugin], "plugin")
        args = emit.constant(dict(kind.args), "args")
        path = repr(field.target_path)
        emit.line(f"{out} = {function}(_FieldInput(root, {current}, context, {args}, {path}))")
        emit.line(f"if {out}.__class__ not in _SCALARS: {out} = _copy({out})")
        return out

    def array(self, kind: Nested, each: str, data: str, dict_data: bool) -> str:
        """``each``: one object per element (that passes ``where``), or None when absent."""
        emit = self.emit
        elements, out, element = emit.temp("a"), emit.temp("v"), emit.temp("e")
        self.value(each, data, dict_data, elements)
        emit.line(f"{out} = None")
        with emit.block(f"if {elements} is not None:"):
            emit.line(f"if not isinstance({elements}, list): raise SlowPath")
            emit.line(f"{out} = []")
            with emit.block(f"for {element} in {elements}:"):
                if kind.where is not None:
                    test = emit.temp("w")
                    self.value(kind.where, element, False, test)
                    emit.line(f"if {test} is not True and _false({test}): continue")
                outer = dict(self.prefixes)  # prefixes hoisted in the loop stay in it
                item = self.object(kind.fields, element, root_is_current=False)
                self.prefixes = outer
                emit.line(f"{out}.append({item})")
        return out


def _plain_paths(fields: tuple[Field, ...], current: str) -> list[tuple[str, tuple[str, ...]]]:
    """(data local, keys) of every plain path these fields (and nested objects) look up."""
    found: list[tuple[str, tuple[str, ...]]] = []
    for field in fields:
        data = {Scope.CURRENT: current, Scope.ROOT: "root", Scope.CONTEXT: "context"}[field.scope]
        kind = field.kind
        texts = kind.expressions if isinstance(kind, From) else ()
        if isinstance(kind, Nested) and kind.each is not None:
            texts = (kind.each,)
        elif isinstance(kind, Nested):
            found += _plain_paths(kind.fields, data)
        for text in texts:
            keys = compile_expression(text).keys
            if keys is not None:
                found.append((data, keys))
    return found


def _shared_prefixes(
    paths: list[tuple[str, tuple[str, ...]]],
) -> list[tuple[str, tuple[str, ...]]]:
    """For each path, its longest proper prefix that another path shares."""
    counts: dict[tuple[str, tuple[str, ...]], int] = {}
    for data, keys in paths:
        for length in range(1, len(keys)):
            counts[data, keys[:length]] = counts.get((data, keys[:length]), 0) + 1
    chosen: dict[tuple[str, tuple[str, ...]], None] = {}
    for data, keys in paths:
        for length in range(len(keys) - 1, 0, -1):
            if counts[data, keys[:length]] >= 2:
                chosen[data, keys[:length]] = None
                break
    return list(chosen)
