"""The fast path: a whole mapping compiled to one specialised Python function.

``generate(spec, registry)`` writes the source of ``build(root, context)``, much as Jinja
compiles a template: plain paths become direct dict lookups, the JMESPath expressions become
Python statements (``jmespath_translate``), nested objects and ``each`` loops become inline
code. Target keys appear as ``repr`` literals; every constant, plugin function and untranslated
expression is bound in the function's namespace. Nothing from the data ever becomes source.

The generated builder only knows the happy path, rules included: it checks the mapping's
rules inline and succeeds only when every rule holds. Wherever the reference evaluator
(``compiler.compile_spec`` and ``rules``) would fail or report (a required value absent, a step
into a non-object, an element that is not an object, an expression or a plugin that raises, a
rule that does not hold, even a ``warn`` one) the generated code raises ``SlowPath`` or lets the
exception through, and ``CompiledMapping`` runs the reference evaluator, which gives the
detailed error or the warnings. Results are the reference's by construction of the tests,
which compare the two on every golden input and on generated variants.
"""

from __future__ import annotations

import linecache
from collections.abc import Callable, Mapping
from typing import Any

import jmespath.functions
from fulfillmap.evaluate._compiler import copy_value
from fulfillmap.evaluate._jmespath import Emitter, Unsupported
from fulfillmap.language._expressions import compile_expression
from fulfillmap.language._spec import (
    Computed,
    Constant,
    Field,
    From,
    MappingSpec,
    Nested,
    Rule,
    Scope,
)
from fulfillmap.plugins._registry import Registry
from fulfillmap.plugins.hookspecs import FieldInput

__all__ = ["FastBuilder", "SlowPath", "generate"]

#: (source, context) -> the target document; raises on anything but the happy path
FastBuilder = Callable[[Any, Mapping[str, Any]], dict[str, Any]]


class SlowPath(Exception):
    """The generated code met a case it leaves to the reference evaluator (an error)."""


def generate(spec: MappingSpec, registry: Registry) -> FastBuilder:
    """The generated builder of ``spec`` (its source is in ``builder.__source__``)."""
    writer = _Writer(registry)
    writer.emit.line("current = root")
    writer.emit.dicts.update(("root", "current", "context"))
    source_rules = [rule for rule in spec.rules if rule.on == "source"]
    result_rules = [rule for rule in spec.rules if rule.on == "result"]
    paths = _plain_paths(spec.fields, "current") + _rule_paths(source_rules, "current")
    writer.hoist(_shared_prefixes(paths), True)
    writer.fuse(spec.fields, source_rules, result_rules)
    writer.rules([rule for rule in source_rules if rule not in writer.fused], "current")
    writer.rules([rule for rule in spec.rules if rule.on == "context"], "context")
    result = writer.object(spec.fields, "current", current_is_dict=True)
    writer.rules([rule for rule in result_rules if rule not in writer.fused], result)
    writer.emit.line(f"return {result}")
    filename = f"<fulfillmap mapping {spec.name!r}>"
    builder: FastBuilder = writer.emit.compile("build", "root, context", filename)
    source: str = builder.__source__  # type: ignore[attr-defined]
    linecache.cache[filename] = (len(source), None, source.splitlines(True), filename)
    return builder


_EMPTY: Mapping[str, Any] = {}


def _required(value: Any) -> Any:
    """A required value that is not plain text, number or boolean: absent is the reference
    evaluator's case (its error); a container is copied."""
    if value is None:
        raise SlowPath
    return copy_value(value)


def _step(value: Any) -> Mapping[str, Any]:
    """A step of a path through ``value`` that is not a dict: through null nothing is found
    (an empty dict stands in); anything else is the reference evaluator's case."""
    if value is None:
        return _EMPTY
    raise SlowPath


class _Writer:
    """Writes the statements of each field into the emitter."""

    def __init__(self, registry: Registry) -> None:
        self.registry = registry
        #: (data local, keys) -> the local holding that path prefix's value
        self.prefixes: dict[tuple[str, tuple[str, ...]], str] = {}
        #: per top-level array field: the rules checked in its loop, on each source element
        #: (a source rule over the same array) and on each built one (a result rule over it)
        self.element_rules: dict[str, tuple[list[Rule], list[Rule]]] = {}
        self.fused: list[Rule] = []
        functions = registry.options.custom_functions or jmespath.functions.Functions()
        self.emit = Emitter(functions, registry.functions)
        self.emit.namespace.update(
            _step=_step,
            _copy=copy_value,
            _PLAIN=frozenset({str, int, float, bool}),
            _required=_required,
            _FieldInput=FieldInput,
            SlowPath=SlowPath,
        )

    def object(self, fields: tuple[Field, ...], current: str, *, current_is_dict: bool) -> str:
        """Emit an object built from ``fields``; return the local holding it."""
        self.hoist(_shared_prefixes(_plain_paths(fields, current)), current_is_dict)
        out = self.emit.temp("o")
        self.emit.line(f"{out} = {{}}")
        self.emit.dicts.add(out)
        for field in fields:
            self.field(field, out, current, known_dict=current_is_dict)
        return out

    def hoist(self, prefixes: list[tuple[str, tuple[str, ...]]], current_is_dict: bool) -> None:
        """Look up, once, the path prefixes that several fields share (``data.object``).
        A missing or null prefix is an empty dict here (nothing is found through it)."""
        for data, keys in prefixes:
            if (data, keys) in self.prefixes:
                continue
            local = self.emit.temp("p")
            self.lookup(keys, data, data == "root" or current_is_dict, local)
            self.emit.line(f"if {local}.__class__ is not dict: {local} = _step({local})")
            self.prefixes[data, keys] = local
            self.emit.dicts.add(local)

    def field(self, field: Field, out: str, current: str, *, known_dict: bool) -> None:
        emit, key = self.emit, repr(field.name)
        emit.line(f"# field {field.target_path!r}")  # repr: one line, whatever the name
        data = {Scope.CURRENT: current, Scope.ROOT: "root", Scope.CONTEXT: "context"}[field.scope]
        dict_data = data != current or known_dict
        kind = field.kind
        if isinstance(kind, Constant):
            emit.line(f"{out}[{key}] = {self.constant(kind.value)}")
            return
        if isinstance(kind, From | Computed):
            value = (
                self.from_(kind, data, dict_data)
                if isinstance(kind, From)
                else self.computed(field, kind, current)
            )
            self.store(field, value, out)
            return
        if kind.each is None:
            value = self.object(kind.fields, data, current_is_dict=dict_data)
        else:
            before, after = self.element_rules.get(field.target_path, ([], []))
            value = self.array(kind, kind.each, data, dict_data, before, after)
        if kind.each is None and _never_empty(kind.fields):
            emit.line(f"{out}[{key}] = {value}")  # it holds a required value, or a constant
            return
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

    def store(self, field: Field, value: str, out: str) -> None:
        """Store a value read from the input or given by a plugin: text, numbers and
        booleans as they are, containers copied (without nulls), None as absent. One class
        test in the common case."""
        emit, key = self.emit, repr(field.name)
        if field.required:
            emit.line(f"if {value}.__class__ not in _PLAIN: {value} = _required({value})")
            emit.line(f"{out}[{key}] = {value}")
        elif field.has_default:
            default = self.constant(field.default)
            with emit.block(f"if {value}.__class__ not in _PLAIN:"):
                emit.line(f"{value} = {default} if {value} is None else _copy({value})")
            emit.line(f"{out}[{key}] = {value}")
        else:
            emit.line(f"if {value}.__class__ in _PLAIN: {out}[{key}] = {value}")
            emit.line(f"elif {value} is not None: {out}[{key}] = _copy({value})")

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
        return out

    def value(self, text: str, data: str, dict_data: bool, out: str) -> None:
        """Emit ``out = `` the expression's value, None when missing or null."""
        emit, expression = self.emit, compile_expression(text)
        if expression.keys is not None:
            self.lookup(expression.keys, data, dict_data, out)
            return
        assert expression.parsed is not None
        try:
            result = emit.jmespath(expression.parsed.parsed, data)
        except Unsupported:
            parsed, options = emit.constant(expression.parsed), emit.constant(self.registry.options)
            emit.line(f"{out} = {parsed}.search({data}, {options})")
            return
        emit.line(f"{out} = {result}")
        if result in emit.booleans:
            emit.booleans.add(out)

    def lookup(self, keys: tuple[str, ...], data: str, dict_data: bool, out: str) -> None:
        """Emit ``out = `` the value at ``keys`` from ``data``, starting from the longest
        hoisted prefix. Steps through null find nothing; a step into anything else but a
        dict raises ``SlowPath`` (the reference evaluator raises ``WrongType`` there)."""
        emit, start = self.emit, data
        for length in range(len(keys) - 1, 0, -1):
            hoisted = self.prefixes.get((data, keys[:length]))
            if hoisted is not None:
                start, keys, dict_data = hoisted, keys[length:], True
                break
        if not dict_data:
            emit.line(f"{out} = {start}")
            emit.line(f"if {out}.__class__ is not dict: {out} = _step({out})")
            start = out
        for key in keys[:-1]:
            emit.line(f"{out} = {start}.get({key!r})")
            emit.line(f"if {out}.__class__ is not dict: {out} = _step({out})")
            start = out
        emit.line(f"{out} = {start}.get({keys[-1]!r})")

    def computed(self, field: Field, kind: Computed, current: str) -> str:
        emit, out = self.emit, self.emit.temp("v")
        function = emit.constant(self.registry.fields[kind.plugin], "plugin")
        args = emit.constant(dict(kind.args), "args")
        path = repr(field.target_path)
        emit.line(f"{out} = {function}(_FieldInput(root, {current}, context, {args}, {path}))")
        return out

    def array(
        self,
        kind: Nested,
        each: str,
        data: str,
        dict_data: bool,
        before: list[Rule] | None = None,
        after: list[Rule] | None = None,
    ) -> str:
        """``each``: one object per element (that passes ``where``), or None when absent.
        ``before``/``after``: rules checked on each source element / each built object."""
        emit = self.emit
        elements, out, element = emit.temp("a"), emit.temp("v"), emit.temp("e")
        self.value(each, data, dict_data, elements)
        emit.line(f"{out} = None")
        with emit.block(f"if {elements} is not None:"):
            emit.line(f"if {elements}.__class__ is not list: raise SlowPath")
            emit.line(f"{out} = []")
            with emit.block(f"for {element} in {elements}:"):
                emit.line(f"if {element}.__class__ is not dict: raise SlowPath")
                emit.dicts.add(element)
                for rule in before or ():
                    emit.line(f"# rule {rule.name!r}")
                    self.check(rule.check, element, True)
                if kind.where is not None:
                    test = emit.temp("w")
                    self.value(kind.where, element, True, test)
                    emit.line(f"if not {test} and _false({test}): continue")
                outer = dict(self.prefixes)  # prefixes hoisted in the loop stay in it
                item = self.object(kind.fields, element, current_is_dict=True)
                self.prefixes = outer
                for rule in after or ():
                    emit.line(f"# rule {rule.name!r}")
                    self.check(rule.check, item, True)
                emit.line(f"{out}.append({item})")
        return out

    # -- rules --------------------------------------------------------------------------

    def fuse(self, fields: tuple[Field, ...], source: list[Rule], result: list[Rule]) -> None:
        """Check rules over a top-level array field's elements inside that field's loop.

        Any rule that does not hold hands the whole mapping over to the reference, which
        checks the rules first; so where a check runs on the fast path does not matter, only
        that every one runs on every element."""
        for field in fields:
            kind = field.kind
            if (
                not isinstance(kind, Nested)
                or kind.each is None
                or field.scope is not Scope.CURRENT
            ):
                continue
            keys = compile_expression(kind.each).keys
            before = [rule for rule in source if rule.each is not None and _keys(rule.each) == keys]
            after = [rule for rule in result if rule.each == field.name]
            if keys is not None and (before or after):
                self.element_rules[field.target_path] = (before, after)
                self.fused += before + after

    def rules(self, rules: list[Rule], document: str) -> None:
        """Emit every rule's check on ``document``: any check that does not hold raises
        ``SlowPath``, and the reference then reports the violation (error or warning)."""
        emit = self.emit
        for rule in rules:
            emit.line(f"# rule {rule.name!r}")
            if rule.each is None:
                self.check(rule.check, document, True)
                continue
            elements, element = emit.temp("a"), emit.temp("e")
            self.value(rule.each, document, True, elements)
            with emit.block(f"if {elements} is not None:"):
                emit.line(f"if {elements}.__class__ is not list: raise SlowPath")
                with emit.block(f"for {element} in {elements}:"):
                    emit.line(f"if {element}.__class__ is not dict: raise SlowPath")
                    emit.dicts.add(element)
                    self.check(rule.check, element, True)

    def check(self, text: str, data: str, dict_data: bool) -> None:
        emit, verdict = self.emit, self.emit.temp("r")
        self.value(text, data, dict_data, verdict)
        if verdict not in emit.booleans:
            emit.line(f"if not {verdict} and _false({verdict}): raise SlowPath")
            return
        # `tN = <comparison>` then `rM = tN`: test the comparison itself
        indent, (*_, compared, copied) = emit.indent(), emit.lines
        local, _, expression = compared.strip().partition(" = ")
        if copied.strip() == f"{verdict} = {local}" and compared.startswith(f"{indent}{local} ="):
            del emit.lines[-2:]
            emit.line(f"if not ({expression}): raise SlowPath")
        else:
            emit.line(f"if not {verdict}: raise SlowPath")


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


def _never_empty(fields: tuple[Field, ...]) -> bool:
    """Does an object of these fields always hold one (on the fast path, which hands a
    missing required value over)?"""
    return any(
        field.required or field.has_default or isinstance(field.kind, Constant) for field in fields
    )


def _keys(text: str) -> tuple[str, ...] | None:
    return compile_expression(text).keys


def _rule_paths(rules: list[Rule], document: str) -> list[tuple[str, tuple[str, ...]]]:
    """(document, keys) of the plain paths rules read from the document itself."""
    found: list[tuple[str, tuple[str, ...]]] = []
    for rule in rules:
        keys = compile_expression(rule.each if rule.each is not None else rule.check).keys
        if keys is not None:
            found.append((document, keys))
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
