"""The evaluator: a whole mapping compiled to one specialised Python function.

``generate(spec, registry)`` writes the source of ``build(root, context)``, much as Jinja
compiles a template: plain paths become direct dict lookups, the JMESPath expressions become
Python statements (``_jmespath``), nested objects and ``each`` loops become inline code, the
rules become inline checks. The function returns ``(body, warnings)`` and raises, itself, the
precise failure (``_runtime``: the field, the expression, the data path, the loop indices);
``generate(..., traced=True)`` writes the same function with calls to a ``Recorder`` between
the statements (``build(root, context, rec)``), for ``CompiledMapping.trace``.

Nothing from the mapping file ever becomes source text: target keys and expression keys are
``repr`` literals written here, every constant, field, rule, plugin function and untranslated
expression is bound in the function's namespace under a name made here.
"""

from __future__ import annotations

import linecache
from functools import partial
from types import NoneType
from typing import Any

import jmespath.functions
import jmespath.parser
from fulfillmap.errors import Problem, SpecError
from fulfillmap.evaluate import _runtime as runtime
from fulfillmap.evaluate._jmespath import Code, Emitter, Unsupported
from fulfillmap.evaluate._runtime import Loop, Program, RuleOrder, Site, Sites
from fulfillmap.language._expressions import (
    MISSING,
    calls_on_paths,
    loaded_expression,
    read_paths,
)
from fulfillmap.language._spec import (
    Computed,
    Constant,
    Field,
    FieldKind,
    From,
    MappingSpec,
    Nested,
    Rule,
    Scope,
    walk_fields,
)
from fulfillmap.plugins._registry import Registry
from fulfillmap.plugins._types import FieldInput, is_reads_only

__all__ = ["MAX_ARRAY_DEPTH", "Program", "check_depth", "generate"]

#: arrays nested in arrays, at most (each level is two nested blocks of Python, which allows 20)
MAX_ARRAY_DEPTH = 6

#: the values stored as they are (a tuple: the classes found first are checked first)
_PLAIN = (str, int, float, bool)

_RUNTIME: dict[str, Any] = {
    "_step": runtime.step,
    "_copy": runtime.copy_value,
    "_required": runtime.required,
    # FieldInput(...) without its Python __new__: tuple.__new__(FieldInput, (values))
    "_tuple_new": tuple.__new__,
    "_FieldInput": FieldInput,
    "_read_only": runtime.read_only,
    "_PLAIN": _PLAIN,
    "_Absent": runtime.Absent,
    "_NotAList": runtime.NotAList,
    "_violation": runtime.violation,
    "_broken": runtime.broken,
    "_each_broken": runtime.each_broken,
    "_not_a_list": runtime.not_a_list,
    "_report": runtime.report,
    "_plugin_failed": runtime.plugin_failed,
    "_SCALARS": runtime.SCALARS,
    "_RuleFailed": runtime.RuleFailed,
    "MISSING": MISSING,
}


def generate(
    spec: MappingSpec,
    registry: Registry,
    *,
    traced: bool = False,
    max_values: int = runtime.MAX_VALUES,
    rules: tuple[Rule, ...] | None = None,
) -> Program:
    """The generated function of ``spec``: ``build(root, context)``, or with ``traced``,
    ``build(root, context, rec)`` that also reports every step to ``rec``. A field whose
    expression or plugin gives more than ``max_values`` values fails. With ``rules`` (source
    rules of ``spec``), ``build(root, context)`` checks those only, on their own, and
    returns ``({}, warnings)``: the warnings of ``fused_source_rules`` when the generated
    function stopped before their loop ended."""
    check_depth(spec)
    writer = _Writer(registry, traced)
    writer.emit.namespace.update(
        _plugin_value=partial(runtime.plugin_value, max_values),
        _copy_b=partial(runtime.copy_bounded, max_values),
        _required_b=partial(runtime.required_bounded, max_values),
    )
    if rules is None:
        writer.function(spec)
    else:
        writer.rules_only(rules)
    writer.sites.lines = tuple(writer.emit.line_sites)
    variant = " (traced)" if traced else "" if rules is None else " (rules)"
    filename = f"<fulfillmap mapping {spec.name!r}{variant}>"
    parameters = "root, context, rec" if traced else "root, context"
    build = writer.emit.compile("build", parameters, filename)
    source: str = build.__source__  # type: ignore[attr-defined]
    linecache.cache[filename] = (len(source), None, source.splitlines(True), filename)
    return Program(build, source)


def check_depth(spec: MappingSpec) -> None:
    """Refuse, as a ``SpecError``, arrays nested deeper than the generated code can hold."""
    deepest = _deepest(spec.fields, 0)
    if deepest is not None:
        location = deepest.location
        message = f"arrays are nested more than {MAX_ARRAY_DEPTH} deep here; flatten the mapping"
        raise SpecError([Problem(location.file, location.line, location.column, message)])


def _deepest(fields: tuple[Field, ...], depth: int) -> Field | None:
    for field in fields:
        kind = field.kind
        if not isinstance(kind, Nested):
            continue
        inner = depth + (kind.each is not None)
        if inner > MAX_ARRAY_DEPTH:
            return field
        found = _deepest(kind.fields, inner)
        if found is not None:
            return found
    return None


class _Writer:
    """Writes the statements of a mapping into a ``Code``: objects, fields, values."""

    def __init__(self, registry: Registry, traced: bool) -> None:
        self.registry = registry
        self.traced = traced
        self.emit = Code(_RUNTIME)
        self.read = _Reader(self.emit, registry)
        self.sites = Sites()
        self.emit.namespace["_fail"] = self.sites.fail
        self.rules = _Rules(self)
        #: object local -> the values to create it with, until it is created
        self.pending: dict[str, list[tuple[str, str]]] = {}

    def function(self, spec: MappingSpec) -> None:
        emit = self.emit
        emit.line("w = []")
        emit.dicts.update(("root", "context"))
        if any(self.viewed(field.kind) for field in walk_fields(spec.fields)):
            emit.line("rr, rc = _read_only(root), _read_only(context)")  # what plugins see
        with emit.block("try:"):
            for document in ("root", "context"):  # objects: every path read once, up front
                self.read.up_front(document, _document_paths(spec, document))
            paths = _plain_paths(spec.fields, "root") + _rule_paths(spec.rules, "root")
            self.read.hoist(_shared_prefixes(paths))
            self.rules.fuse(spec)
            source = [rule for rule in spec.rules if rule.on == "source"]
            fused = [rule for rule in source if rule in self.rules.fused]
            self.rules.write([rule for rule in source if rule not in fused], "root")
            self.rules.write([rule for rule in spec.rules if rule.on == "context"], "context")
            body = self.object(spec.fields, "root")
            self.rules.write(fused, "root")  # gathered in their loops: reported now
            self.rules.write([rule for rule in spec.rules if rule.on == "result"], body)
            order = self.constant(rule_order(spec)) if self.rules.fused else ""
            if self.rules.fused:  # warnings in rule order, as if no rule had been fused
                emit.line(f"if w: w.sort(key={order})")
        with emit.block("except Exception as x:"):
            if self.rules.fused:  # the warnings found before the failure, in that order too
                emit.line(f"if w: w.sort(key={order})")
            emit.line("raise _fail(x, locals(), None)")
        emit.line(f"return {body}, w")

    def rules_only(self, rules: tuple[Rule, ...]) -> None:
        """The function that checks ``rules`` (source rules) and nothing else."""
        emit = self.emit
        emit.line("w = []")
        emit.dicts.update(("root", "context"))
        with emit.block("try:"):
            self.rules.write(list(rules), "root")
        with emit.block("except Exception as x:"):
            emit.line("raise _fail(x, locals(), None)")
        emit.line("return {}, w")

    def record(self, call: str) -> None:
        """A call to the recorder, in the traced variant only."""
        if self.traced:
            self.emit.line(f"rec.{call}")

    # -- objects and fields -------------------------------------------------------------

    def object(self, fields: tuple[Field, ...], data: str) -> str:
        """Emit an object built from ``fields`` read from ``data``; return its local. The
        values always stored, up to the first that may be left out, are written as one
        ``{...}`` once known (but when traced: the recorder reads the object after each)."""
        self.read.hoist(_shared_prefixes(_plain_paths(fields, data)))
        out = self.emit.temp("o")
        self.pending[out] = []
        if self.traced:
            self.open(out)
        for field in fields:
            self.field(field, out, data)
        self.open(out)
        return out

    def open(self, out: str) -> None:
        """Create the object ``out`` with the values stored so far, if not yet created."""
        pending = self.pending.pop(out, None)
        if pending is not None:
            self.emit.line(f"{out} = {{{', '.join(f'{key}: {value}' for key, value in pending)}}}")
            self.emit.dicts.add(out)

    def put(self, out: str, key: str, value: str) -> None:
        """Store ``value`` under ``key`` (a ``repr``) in the object ``out``."""
        pending = self.pending.get(out)
        if pending is not None:
            pending.append((key, value))
        else:
            self.emit.line(f"{out}[{key}] = {value}")

    def field(self, field: Field, out: str, current: str) -> None:
        emit = self.emit
        emit.line(f"# field {field.target_path!r}")  # repr: one line, whatever the name
        data = field.scope.pick(current, "root", "context")
        kind = field.kind
        site = self.sites.site(Site(field, data))
        if isinstance(kind, Constant):
            value = emit.temp("v")
            emit.line(f"{value} = {self.constant(kind.value)}")
        elif isinstance(kind, From):
            value = self.from_(field, kind, data)
        elif isinstance(kind, Computed):
            value = self.computed(field, kind, current, site)
        elif kind.each is None:
            value = self.object(kind.fields, data)
        else:
            value = self.array(field, kind, kind.each, data)
        self.record(f"raw({self.constant(field, 'F')}, {data}, {value})")
        self.store(field, value, out, site)
        self.record(f"done({self.constant(field, 'F')}, {out}.get({field.name!r}, MISSING))")

    def site(self, site: Site) -> int:
        number = self.sites.site(site)
        self.emit.site = number
        return number

    def store(self, field: Field, value: str, out: str, site: int) -> None:
        """Store a field's value by its policy: required, default, or omitted when absent
        (None; an empty object for a nested one). Text, numbers and booleans are stored as
        they are; containers read from the input are copied (without nulls)."""
        emit, key, kind = self.emit, repr(field.name), field.kind
        if isinstance(kind, Constant):
            self.put(out, key, value)
            return
        built = isinstance(kind, Nested | Computed)  # already fresh: no copy
        # a JMESPath expression's value may share parts: its copy is bounded
        bounded = isinstance(kind, From) and any(
            loaded_expression(text).keys is None for text in kind.expressions
        )
        copy, require = ("_copy_b", "_required_b") if bounded else ("_copy", "_required")
        if isinstance(kind, Nested) and kind.each is None:
            if _never_empty(kind.fields):
                self.put(out, key, value)
                return
            absent = f"not {value}"
        else:
            absent = f"{value} is None"
        if emit.classes.get(value) in _PLAIN:  # text, a number or a boolean: stored as it is
            self.put(out, key, value)
            return
        if field.required:
            if not isinstance(kind, From):  # a From field's last expression set its site
                emit.site = site
            if built:
                emit.line(f"if {absent}: raise _Absent")
            else:
                emit.line(f"if {value}.__class__ not in _PLAIN: {value} = {require}({value})")
            self.put(out, key, value)
        elif field.has_default:
            default = self.constant(field.default)
            if built:
                with emit.block(f"if {absent}:"):
                    emit.line(f"{value} = {default}")
            else:
                with emit.block(f"if {value}.__class__ not in _PLAIN:"):
                    emit.line(f"{value} = {default} if {value} is None else {copy}({value})")
            self.put(out, key, value)
        elif built:
            self.open(out)
            emit.line(f"if not ({absent}): {out}[{key}] = {value}")
        else:
            self.open(out)
            plain = f"{value} if {value}.__class__ in _PLAIN else {copy}({value})"
            emit.line(f"if {value} is not None: {out}[{key}] = {plain}")

    def constant(self, value: Any, hint: str = "K") -> str:
        """An expression giving ``value``: containers are copied each time, fields and
        rules are bound once."""
        if isinstance(value, dict | list):
            name = self.emit.constant(runtime.copy_value(value), hint)
            return f"_copy({name})"
        return self.emit.constant(value, hint)

    # -- value sources ------------------------------------------------------------------

    def from_(self, field: Field, kind: From, data: str) -> str:
        """The first expression whose value is neither missing nor null; else None."""
        if len(kind.expressions) == 1:  # the translation's own local when it has one
            self.site(Site(field, data, kind.expressions[0]))
            out = self.read.evaluate(kind.expressions[0], data, "v")
            self.record(f"tried(0, {out})")
            return out
        out = self.emit.temp("v")
        for position, text in enumerate(kind.expressions):
            self.site(Site(field, data, text))
            if position == 0:
                self.read.value(text, data, out)
                self.record(f"tried({position}, {out})")
                continue
            with self.emit.block(f"if {out} is None:"):
                self.read.value(text, data, out)
                self.record(f"tried({position}, {out})")
        return out

    def viewed(self, kind: FieldKind) -> bool:
        """Is this a plugin's field whose function is given read-only views?"""
        return isinstance(kind, Computed) and not is_reads_only(self.registry.fields[kind.plugin])

    def computed(self, field: Field, kind: Computed, current: str, site: int) -> str:
        emit, out = self.emit, self.emit.temp("v")
        function = emit.constant(self.registry.fields[kind.plugin], "plugin")
        args = emit.constant(dict(kind.args), "args")
        name, path = emit.constant(kind.plugin, "name"), emit.constant(field.target_path, "path")
        emit.site = site
        if self.viewed(kind):
            view = {"root": "rr"}.get(current, f"_read_only({current})")
            documents = f"rr, {view}, rc"
        else:  # the function promises not to change them
            documents = f"root, {current}, context"
        call = f"_tuple_new(_FieldInput, ({documents}, {args}, {path}))"
        with emit.block("try:"):
            emit.line(f"{out} = {function}({call})")
        with emit.block("except Exception as x:"):
            emit.line(f"raise _plugin_failed({name}, x) from x")
        scalar = f"{out} is None or {out}.__class__ in _SCALARS"  # absent (None) most often
        emit.line(f"if not ({scalar}): {out} = _plugin_value({name}, {out})")
        return out

    def array(self, field: Field, kind: Nested, each: str, data: str) -> str:
        """``each``: one object per element (that passes ``where``), or None when absent."""
        emit = self.emit
        elements, out, element, index = (
            emit.temp("a"),
            emit.temp("v"),
            emit.temp("e"),
            emit.temp("i"),
        )
        each_site = self.site(Site(field, data, each))
        self.read.value(each, data, elements)
        keys = loaded_expression(each).keys
        before, _ = self.rules.fused_in(field)
        # the source index is len(out) when nothing is skipped and no rule needs it
        counted = self.traced or kind.where is not None or bool(before)
        loop = self.sites.loop(Loop(field, keys or (), index if counted else None, out))
        emit.line(f"{out} = None")
        with emit.block(f"if {elements} is not None:"):
            emit.line(f"if {elements}.__class__ is not list: raise _NotAList({elements})")
            emit.line(f"{out} = []")
            header = (
                f"{index}, {element} in enumerate({elements})"
                if counted
                else f"{element} in {elements}"
            )
            with emit.block(f"for {header}:"):
                prefix = self.constant(keys or (), "each")
                self.record(f"enter({prefix}, {index}, len({out}), {self.constant(field.scope)})")
                with emit.block("try:"):
                    if _leaf(kind):  # written twice: for an object (nearly always), else
                        with emit.block(f"if {element}.__class__ is dict:"):
                            self.body(field, kind, element, index, out, an_object=True)
                        with emit.block("else:"):
                            self.body(field, kind, element, index, out, an_object=False)
                    else:
                        self.body(field, kind, element, index, out, an_object=False)
                with emit.block("except Exception as x:"):
                    emit.line(f"raise _fail(x, locals(), {loop})")
                self.record("leave()")
        emit.site = each_site
        return out

    def body(
        self, field: Field, kind: Nested, element: str, index: str, out: str, an_object: bool
    ) -> None:
        """The body of an ``each`` loop. For an element known to be an object (``an_object``),
        every path its rules, ``where`` and fields read from it is read once, up front (none
        can fail), and ``where`` reuses the verdicts of the rules checked just before it."""
        emit = self.emit
        before, _ = self.rules.fused_in(field)
        expected: dict[str, type] = {}
        if an_object:
            emit.dicts.add(element)
            self.read.up_front(element, _element_paths(kind, before, element))
            expected = self.expected(kind, before, element)
        if expected:  # written twice more: values of the classes expected, anything else
            tests = (
                f"{local}.__class__ is {self.constant(cls)}" for local, cls in expected.items()
            )
            with emit.block(f"if {' and '.join(tests)}:"):
                emit.classes.update(expected)
                self.finish(field, kind, element, index, out, an_object)
                for local in expected:
                    del emit.classes[local]
            with emit.block("else:"):
                self.finish(field, kind, element, index, out, an_object)
        else:
            self.finish(field, kind, element, index, out, an_object)
        if an_object:
            emit.dicts.discard(element)
            self.read.forget(element)

    def finish(
        self, field: Field, kind: Nested, element: str, index: str, out: str, an_object: bool
    ) -> None:
        """Filter the element, build its object, check the rules on it."""
        item = self.element(field, kind, element, index, out, an_object)
        for rule in self.rules.fused_in(field)[1]:  # on the object just built
            self.rules.fused_check(rule, item, f"len({out}) - 1")

    def expected(self, kind: Nested, rules: list[Rule], element: str) -> dict[str, type]:
        """The values read up front from an element that a function returns as they are
        when of a class it names (``whole_number(quantity)``: an int): local -> that class
        (its first other than null). Tested once per element, the functions' calls and the
        checks of those values' classes are then left out. A value given to functions that
        name different classes (``whole_number(id)``, ``to_id(id)``) is not guessed at."""
        expected: dict[str, type | None] = {}
        for text in _element_texts(kind, rules, element):
            for name, keys in calls_on_paths(loaded_expression(text)):
                function = self.registry.functions.get(name)
                local = self.emit.reads.get((element, keys))
                if function is None or local is None or len(function.signature) != 1:
                    continue
                kept = [cls for cls in function.unchanged if cls is not NoneType]
                if kept and expected.setdefault(local, kept[0]) is not kept[0]:
                    expected[local] = None
        return {local: cls for local, cls in expected.items() if cls is not None}

    def element(
        self, field: Field, kind: Nested, element: str, index: str, out: str, an_object: bool
    ) -> str:
        """Filter the element, build its object."""
        emit = self.emit
        before, _ = self.rules.fused_in(field)
        reads = any(source == element for source, _ in _plain_paths(kind.fields, element))
        texts = [kind.where or "", *(rule.check for rule in before)]
        plain = any(text and loaded_expression(text).keys is not None for text in texts)
        self.read.element(element, reads or plain)
        reused = _reused(kind.where, before) if an_object else set()
        verdicts: dict[str, str] = {}  # rule check's tree -> the local of its verdict
        for rule in before:  # on every element, before ``where``
            verdict = self.rules.fused_check(rule, element, index, keep=rule in reused)
            if rule in reused:
                verdicts[repr(_tree(rule.check))] = verdict
        if kind.where is not None:
            self.site(Site(field, element, kind.where, where=True))
            if not (an_object and self.guards(field, kind.where, element, index, verdicts)):
                test = emit.temp("w")
                self.read.value(kind.where, element, test)
                with emit.block(f"if {emit.falsy(test)}:"):
                    self.skip(field, kind.where, index)
        outer = dict(self.read.prefixes)  # prefixes hoisted in the loop stay in it
        item = self.object(kind.fields, element)
        self.read.prefixes = outer
        emit.line(f"{out}.append({item})")
        return item

    def guards(
        self, field: Field, where: str, element: str, index: str, verdicts: dict[str, str]
    ) -> bool:
        """Write ``where`` (``a && b && c``) as one test per operand that skips the element
        when it is false, an operand that is a rule's check by that rule's verdict; False,
        having written nothing, when an operand is left to jmespath's interpreter."""
        emit, translator = self.emit, self.read.translator
        whole = frozenset(verdicts)  # a rule's check that is itself ``a && b``: one operand
        operands = _operands(_tree(where), whole) if loaded_expression(where).keys is None else []
        try:
            if not operands or not all(
                repr(node) in verdicts or translator.supports(node) for node in operands
            ):
                return False
        except Unsupported:
            return False
        for node in operands:
            verdict = verdicts.get(repr(node))
            if verdict is not None:  # True, False, or None with the error it raised
                with emit.block(f"if {verdict} is not True:"):
                    emit.line(f"if {verdict} is None: raise x{verdict}")
                    self.skip(field, where, index)
                continue
            value = translator.jmespath(node, element)
            with emit.block(f"if {emit.falsy(value)}:"):
                self.skip(field, where, index)
        return True

    def skip(self, field: Field, where: str, index: str) -> None:
        """Leave out the element ``where`` is false for."""
        text = self.constant(where, "where")
        self.record(f"skipped({self.constant(field, 'F')}, {index}, {text})")
        self.record("leave()")
        self.emit.line("continue")


class _Reader:
    """Writes how values are read from the data: plain paths (from hoisted prefixes when
    several fields share them) and JMESPath expressions."""

    def __init__(self, code: Code, registry: Registry) -> None:
        self.emit = code
        self.options = registry.options
        #: (data local, keys) -> the local holding that path prefix's value
        self.prefixes: dict[tuple[str, tuple[str, ...]], str] = {}
        #: data local -> the local to look plain paths up from (a dict, or a stand-in)
        self.stepped: dict[str, str] = {"root": "root", "context": "context"}
        #: locals holding an array element (a dict, nearly always)
        self.elements: set[str] = set()
        functions = registry.options.custom_functions or jmespath.functions.Functions()
        self.translator = Emitter(code, functions, registry.functions)

    def element(self, data: str, reads: bool) -> None:
        """``data`` is an array element; when plain paths are ``read`` from it, they are
        looked up through a local that is a dict or a stand-in (an optimisation only)."""
        self.elements.add(data)
        self.stepped.pop(data, None)
        if data in self.emit.dicts:
            self.stepped[data] = data
            return
        if not reads:
            return
        stepped = self.emit.temp("d")
        self.emit.line(f"{stepped} = {data} if {data}.__class__ is dict else _step({data})")
        self.emit.dicts.add(stepped)
        self.stepped[data] = stepped

    def up_front(self, data: str, paths: list[tuple[str, ...]]) -> None:
        """Read each path from ``data`` (an object) once, as JMESPath does (null through
        anything that is not an object): later reads of them are these locals."""
        for keys in paths:
            local, key = self.emit.temp("k"), repr(keys[-1])
            if len(keys) == 1:
                self.emit.line(f"{local} = {data}.get({key})")
            else:
                parent = self.emit.reads[data, keys[:-1]]
                self.emit.line(
                    f"{local} = {parent}.get({key}) if {parent}.__class__ is dict "
                    f"else None if {parent} is None else _field({parent}, {key})"
                )
            self.emit.reads[data, keys] = local

    def forget(self, data: str) -> None:
        """Leaving the code where ``data`` was read up front."""
        reads = self.emit.reads
        self.emit.reads = {read: local for read, local in reads.items() if read[0] != data}

    def hoist(self, prefixes: list[tuple[str, tuple[str, ...]]]) -> None:
        """Look up, once, the path prefixes that several fields share (``data.object``).
        A missing or null prefix is an empty dict here (nothing is found through it)."""
        for source, keys in prefixes:
            if (source, keys) in self.prefixes:
                continue
            local = self.emit.temp("p")
            self.lookup(keys, source, local, hoisting=True)
            self.emit.line(f"if {local}.__class__ is not dict: {local} = _step({local})")
            self.prefixes[source, keys] = local
            self.emit.dicts.add(local)

    def evaluate(self, text: str, data: str, hint: str) -> str:
        """Emit what gives the expression's value on ``data``; return the local holding it:
        the translation's own result (a ``t`` local, written by it alone) where one is written
        without a fallback, else a new local (``hint``) written by ``value``."""
        expression = loaded_expression(text)
        if expression.parsed is not None and (data in self.emit.dicts or data not in self.elements):
            try:
                result = self.translator.jmespath(expression.parsed.parsed, data)
            except Unsupported:
                pass
            else:
                if result.startswith("t"):
                    return result
                out = self.emit.temp(hint)  # the data, a constant or a value read up front
                self.emit.line(f"{out} = {result}")
                if result in self.emit.booleans:
                    self.emit.booleans.add(out)
                if result in self.emit.classes:
                    self.emit.classes[out] = self.emit.classes[result]
                return out
        out = self.emit.temp(hint)
        self.value(text, data, out)
        return out

    def known(self, text: str, data: str) -> str | None:
        """The local already holding the value of ``text`` (a one-key plain path read up
        front from ``data``), if any: nothing needs evaluating, nothing can fail."""
        keys = loaded_expression(text).keys
        if keys is None or len(keys) != 1:
            return None
        return self.emit.reads.get((self.stepped.get(data, data), keys))

    def value(self, text: str, data: str, out: str) -> None:
        """Emit ``out = `` the expression's value on ``data``, None when missing or null."""
        emit, expression = self.emit, loaded_expression(text)
        if expression.keys is not None:
            self.lookup(expression.keys, data, out)
            return
        assert expression.parsed is not None
        parsed = expression.parsed
        if data in emit.dicts or data not in self.elements:
            self.translate(parsed, data, out)
            return
        # an array element: translated for a dict (nearly always), jmespath's own else
        with emit.block(f"if {data}.__class__ is dict:"):
            emit.dicts.add(data)
            self.translate(parsed, data, out)
            emit.dicts.discard(data)
            emit.booleans.discard(out)
        with emit.block("else:"):
            self.interpret(parsed, data, out)

    def translate(self, parsed: jmespath.parser.ParsedResult, data: str, out: str) -> None:
        emit = self.emit
        try:
            result = self.translator.jmespath(parsed.parsed, data)
        except Unsupported:
            self.interpret(parsed, data, out)
            return
        emit.line(f"{out} = {result}")
        if result in emit.booleans:
            emit.booleans.add(out)

    def interpret(self, parsed: jmespath.parser.ParsedResult, data: str, out: str) -> None:
        """``out = `` jmespath's own interpreter's value (what the translation must equal)."""
        bound, options = self.emit.constant(parsed), self.emit.constant(self.options)
        self.emit.line(f"{out} = {bound}.search({data}, {options})")

    def lookup(self, keys: tuple[str, ...], data: str, out: str, *, hoisting: bool = False) -> None:
        """Emit ``out = `` the value at ``keys`` from ``data``, starting from the longest
        hoisted prefix. Steps through null find nothing; a step into anything else but a
        dict raises ``WrongStep`` (``hoisting``: is a stand-in, so that the field that reads
        through it raises, in its turn)."""
        emit, start = self.emit, self.stepped.get(data, data)
        for length in range(len(keys) - 1, 0, -1):
            hoisted = self.prefixes.get((data, keys[:length]))
            if hoisted is not None:
                start, keys = hoisted, keys[length:]
                break
        if start not in emit.dicts:
            emit.line(f"{out} = {start}")
            emit.line(f"if {out}.__class__ is not dict: {out} = _step({out})")
            start = out
        for key in keys[:-1]:
            self.get(out, start, key, hoisting)
            emit.line(f"if {out}.__class__ is not dict: {out} = _step({out})")
            start = out
        self.get(out, start, keys[-1], hoisting)

    def get(self, out: str, start: str, key: str, hoisting: bool) -> None:
        read = self.emit.reads.get((start, (key,)))
        if read is not None:  # read up front (``start`` is an element that is an object)
            self.emit.line(f"{out} = {read}")
        elif hoisting and start not in ("root", "context"):
            self.emit.line(
                f"{out} = {start}.get({key!r}) if {start}.__class__ is dict else {start}"
            )
        else:
            self.emit.line(f"{out} = {start}.get({key!r})")


class _Rules:
    """Writes the rules' checks: each rule's violations are gathered, then reported (the
    first of an ``error`` rule stops the mapping; a ``warn`` rule's become warnings)."""

    def __init__(self, writer: _Writer) -> None:
        self.writer = writer
        self.emit = writer.emit
        #: rules checked inside a top-level array field's loop: rule -> (bound, list local)
        self.fused: dict[Rule, tuple[str, str]] = {}
        self._fields: dict[str, tuple[list[Rule], list[Rule]]] = {}

    def fuse(self, spec: MappingSpec) -> None:
        """Check some rules over a top-level array inside that array field's loop (``_fusions``):
        their violations are gathered there and reported where the rule stands."""
        for field, before, after in _fusions(spec):
            self._fields[field.target_path] = (before, after)
            for rule in before + after:
                bound, found = self.writer.constant(rule, "R"), self.found(rule)
                if found != "w":
                    self.emit.line(f"{found} = []")
                self.fused[rule] = (bound, found)

    def found(self, rule: Rule, *, fused: bool = True) -> str:
        """Where a rule's violations go: in a list of the rule's own, reported where the rule
        stands; but, when not traced (the trace shows each rule's), a ``warn`` rule's straight
        among the warnings ``w`` (sorted by rule at the end), and the first of an ``error``
        rule checked where it stands raises at once (``!``)."""
        if self.writer.traced or (rule.severity != "warn" and fused):
            return self.emit.temp("rv")
        return "w" if rule.severity == "warn" else "!"

    @staticmethod
    def add(found: str, violation: str) -> str:
        """The statement that puts a violation where ``found`` says."""
        return f"raise _RuleFailed({violation})" if found == "!" else f"{found}.append({violation})"

    def fused_in(self, field: Field) -> tuple[list[Rule], list[Rule]]:
        return self._fields.get(field.target_path, ([], []))

    def fused_check(self, rule: Rule, data: str, index: str, *, keep: bool = False) -> str:
        """Check ``rule`` on an element; return its verdict's local (``keep``: True or False,
        or None when the check raised, with the error in ``x`` + that local's name, for the
        ``where`` that reuses it)."""
        bound, found = self.fused[rule]
        self.emit.line(f"# rule {rule.name!r}")
        return self.check(rule, bound, data, index, found, keep=keep)

    def write(self, rules: list[Rule], document: str) -> None:
        for rule in rules:
            self.rule(rule, document)

    def rule(self, rule: Rule, document: str) -> None:
        emit, writer = self.emit, self.writer
        if self.fused.get(rule, ("", ""))[1] == "w":
            return  # checked in its array's loop, its violations already among the warnings
        emit.line(f"# rule {rule.name!r}")
        emit.site = 0
        if rule in self.fused:  # checked in its array's loop: reported here
            bound, found = self.fused[rule]
        else:
            bound, found = writer.constant(rule, "R"), self.found(rule, fused=False)
            if found not in ("w", "!"):
                emit.line(f"{found} = []")
            if rule.each is None:
                self.check(rule, bound, document, None, found)
            else:
                self.each(rule, rule.each, bound, document, found)
        writer.record(f"checked({bound}, {found})")
        if found not in ("w", "!"):
            emit.line(f"if {found}: _report({found}, w)")

    def each(self, rule: Rule, each: str, bound: str, document: str, found: str) -> None:
        """Check ``rule`` on every element of the array ``each`` (none when it is absent)."""
        emit, writer = self.emit, self.writer
        elements, element, index = emit.temp("a"), emit.temp("e"), emit.temp("i")
        with emit.block("try:"):
            writer.read.value(each, document, elements)
        with emit.block("except Exception as x:"):
            emit.line(self.add(found, f"_each_broken({bound}, x, {document})"))
        with emit.block("else:"):
            with emit.block(f"if {elements}.__class__ is list:"):
                loop = f"for {index}, {element} in enumerate({elements}):"
                with emit.block(loop):
                    plain = loaded_expression(rule.check).keys is not None
                    writer.read.element(element, plain)
                    self.check(rule, bound, element, index, found)
            with emit.block(f"elif {elements} is not None:"):
                emit.line(self.add(found, f"_not_a_list({bound}, {elements})"))

    def check(
        self,
        rule: Rule,
        bound: str,
        data: str,
        index: str | None,
        found: str,
        *,
        keep: bool = False,
    ) -> str:
        emit, at, read = self.emit, index or "None", self.writer.read
        known = read.known(rule.check, data)
        if known is not None and not keep:  # a value read up front: nothing can fail
            emit.line(f"if {emit.falsy(known)}: {self.add(found, f'_violation({bound}, {at})')}")
            return known
        with emit.block("try:"):  # the verdict: a local of its own (``keep`` sets it)
            verdict = read.evaluate(rule.check, data, "r")
        with emit.block("except Exception as x:"):
            emit.line(self.add(found, f"_broken({bound}, {at}, x, {data})"))
            if keep:
                emit.line(f"{verdict}, x{verdict} = None, x")
        with emit.block("else:"):
            failed = emit.falsy(verdict)
            if not keep:
                emit.line(f"if {failed}: {self.add(found, f'_violation({bound}, {at})')}")
                return verdict
            with emit.block(f"if {failed}:"):
                emit.line(self.add(found, f"_violation({bound}, {at})"))
                emit.line(f"{verdict} = False")
            if verdict not in emit.booleans:  # a comparison's true is True already
                with emit.block("else:"):
                    emit.line(f"{verdict} = True")
        return verdict


def _fusions(spec: MappingSpec) -> list[tuple[Field, list[Rule], list[Rule]]]:
    """The rules checked inside a top-level array field's loop (one pass instead of two), per
    field: ``warn`` source rules over the same source array, on each element before
    ``where``; result rules over the built array, on each object built (a source ``error``
    rule must stop the mapping before any field is evaluated: it is never fused)."""
    found = []
    for field in spec.fields:
        kind = field.kind
        if not isinstance(kind, Nested) or kind.each is None or field.has_default:
            continue
        keys = loaded_expression(kind.each).keys
        before = [
            rule
            for rule in spec.rules
            if rule.on == "source"
            and rule.severity != "error"
            and field.scope is not Scope.CONTEXT
            and rule.each is not None
            and keys is not None
            and loaded_expression(rule.each).keys == keys
        ]
        after = [rule for rule in spec.rules if rule.on == "result" and rule.each == field.name]
        found.append((field, before, after))
    return found


def fused_source_rules(spec: MappingSpec) -> tuple[Rule, ...]:
    """The source rules the generated function checks in an array field's loop: when it
    stops before that loop ends, some of their elements were never checked."""
    return tuple(rule for _, before, _ in _fusions(spec) for rule in before)


def _plain_paths(fields: tuple[Field, ...], current: str) -> list[tuple[str, tuple[str, ...]]]:
    """(data local, keys) of every plain path these fields (and nested objects) look up."""
    found: list[tuple[str, tuple[str, ...]]] = []
    for field in fields:
        data = field.scope.pick(current, "root", "context")
        kind = field.kind
        texts = kind.expressions if isinstance(kind, From) else ()
        if isinstance(kind, Nested) and kind.each is not None:
            texts = (kind.each,)
        elif isinstance(kind, Nested):
            found += _plain_paths(kind.fields, data)
        for text in texts:
            keys = loaded_expression(text).keys
            if keys is not None:
                found.append((data, keys))
    return found


def _leaf(kind: Nested) -> bool:
    """Are there no arrays inside the objects of this ``each``? (Its body is then written
    twice: a loop inside would be written twice per level.)"""
    return not any(
        isinstance(inner.kind, Nested) and inner.kind.each is not None
        for inner in walk_fields(kind.fields)
    )


def _element_paths(kind: Nested, rules: list[Rule], element: str) -> list[tuple[str, ...]]:
    """The paths the rules, ``where`` and fields of an ``each`` read from its element."""
    return _paths_read(_element_texts(kind, rules, element))


def _element_texts(kind: Nested, rules: list[Rule], element: str) -> list[str]:
    """The expressions the rules, ``where`` and fields of an ``each`` evaluate on its element."""
    texts = [rule.check for rule in rules] + ([kind.where] if kind.where is not None else [])
    return texts + _texts_on(kind.fields, element, element)


def _document_paths(spec: MappingSpec, document: str) -> list[tuple[str, ...]]:
    """The paths the rules and fields read from the whole ``root`` or ``context``."""
    on = {"root": "source", "context": "context"}[document]
    texts = [rule.check if rule.each is None else rule.each for rule in spec.rules if rule.on == on]
    return _paths_read(texts + _texts_on(spec.fields, "root", document))


def _paths_read(texts: list[str]) -> list[tuple[str, ...]]:
    """The paths these expressions read from the object they are evaluated on, each after
    its prefixes: the whole path of a JMESPath expression, the first key of a plain one
    (which steps on, as plain paths do)."""
    paths: dict[tuple[str, ...], None] = {}
    for text in texts:
        expression = loaded_expression(text)
        for path in read_paths(expression) if expression.keys is None else [expression.keys[:1]]:
            paths.update((path[:length], None) for length in range(1, len(path) + 1))
    return list(paths)


def _texts_on(fields: tuple[Field, ...], current: str, data: str) -> list[str]:
    """The expressions of these fields (and of their objects') evaluated on ``data``, where
    ``current`` is what their scope ``current`` reads."""
    texts: list[str] = []
    for field in fields:
        source, kind = field.scope.pick(current, "root", "context"), field.kind
        if isinstance(kind, From) and source == data:
            texts += kind.expressions
        elif isinstance(kind, Nested) and kind.each is not None and source == data:
            texts.append(kind.each)
        elif isinstance(kind, Nested) and kind.each is None:
            texts += _texts_on(kind.fields, source, data)
    return texts


def _reused(where: str | None, rules: list[Rule]) -> set[Rule]:
    """The rules whose check is an operand of ``where``'s ``&&`` (JMESPath expressions, not
    plain paths): ``where`` reuses their verdicts instead of evaluating them again."""
    if where is None or loaded_expression(where).keys is not None:
        return set()
    checks = {
        repr(_tree(rule.check)): rule
        for rule in rules
        if loaded_expression(rule.check).keys is None
    }
    parts = {repr(node) for node in _operands(_tree(where), frozenset(checks))}
    return {rule for check, rule in checks.items() if check in parts}


def _tree(text: str) -> dict[str, Any]:
    parsed = loaded_expression(text).parsed
    assert parsed is not None
    return dict(parsed.parsed)


def _operands(node: dict[str, Any], whole: frozenset[str] = frozenset()) -> list[dict[str, Any]]:
    """The operands of ``a && b && c`` (``[node]`` when it is not an ``&&``); an ``&&`` whose
    ``repr`` is in ``whole`` (a rule's check, written in parentheses) is one operand."""
    if node["type"] != "and_expression" or repr(node) in whole:
        return [node]
    left, right = node["children"]
    return [*_operands(left, whole), *_operands(right, whole)]


def rule_order(spec: MappingSpec) -> RuleOrder:
    """The sort key of violations: their rule's position (source rules, then context and
    result ones)."""
    rules = [
        rule for where in ("source", "context", "result") for rule in spec.rules if rule.on == where
    ]
    return RuleOrder({rule.name: position for position, rule in enumerate(rules)})


def _never_empty(fields: tuple[Field, ...]) -> bool:
    """Does an object of these fields always hold one (a required value, which fails when
    absent, a default or a constant)?"""
    return any(
        field.required or field.has_default or isinstance(field.kind, Constant) for field in fields
    )


def _rule_paths(rules: tuple[Rule, ...], document: str) -> list[tuple[str, tuple[str, ...]]]:
    """(document, keys) of the plain paths source rules read from the document itself."""
    found: list[tuple[str, tuple[str, ...]]] = []
    for rule in rules:
        if rule.on != "source":
            continue
        keys = loaded_expression(rule.each if rule.each is not None else rule.check).keys
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
