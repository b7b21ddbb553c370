"""JMESPath -> Python statements: the fast evaluator of the expressions mappings use.

``Code`` is the body of a generated Python function being written; ``Emitter.jmespath`` appends
to it the statements that evaluate one parsed JMESPath expression and returns the name of the
local variable holding its value. Every node type of the language is translated except expression
references (``&expr``, used by ``sort_by``, ``map`` ...), for which ``Unsupported`` is raised so
that the caller keeps jmespath's own interpreter.

The generated text only ever contains identifiers made here, ``repr`` of the expression's own
keys and integer indices, and names bound in the function's namespace (literals, helpers,
functions): never anything from the data being mapped. The translation must give the same
value as ``jmespath.search`` for every document, or raise where jmespath raises (the
equivalence tests run the official compliance suite and generated documents through both).
"""

from __future__ import annotations

import operator
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from decimal import Decimal
from numbers import Number
from types import NoneType
from typing import TYPE_CHECKING, Any

from fulfillmap.errors import FulfillmapError
from fulfillmap.language._expressions import MISSING, is_false, is_json
from fulfillmap.paths import truncate
from fulfillmap.plugins._guarded import describe, failed
from fulfillmap.plugins._types import JMESPathFunction, Shortcut

if TYPE_CHECKING:  # a compiled mapping from the cache calls these helpers without jmespath
    import jmespath.functions

__all__ = ["Code", "Emitter", "Unsupported", "compile_jmespath", "falsy", "is_false"]

Node = Mapping[str, Any]

#: how deeply the generated code may indent, and nest loops and ``try`` blocks (Python
#: allows 20 of those in one function); an expression that would go deeper is left to jmespath
_MAX_DEPTH = 60
_MAX_BLOCKS = 18
#: node type -> (indentation levels, loops) its children are written inside
_NESTS = {
    "and_expression": (1, 0),
    "or_expression": (1, 0),
    "projection": (2, 1),
    "filter_projection": (2, 1),
    "value_projection": (2, 1),
    "multi_select_list": (1, 0),
    "multi_select_dict": (1, 0),
}
#: builtin functions inlined for the argument types where their result is plain Python's:
#: name -> (the value, the condition, the class of the value whichever gives it, if one);
#: other arguments go through jmespath (and its errors)
_INLINE_BUILTINS: dict[str, tuple[str, str, type | None]] = {
    "sum": ("sum({0})", "type({0}) is list and all(type(x) in _NUMBERS for x in {0})", None),
    "length": ("len({0})", "type({0}) in _SIZED", int),
    "type": ("_TYPE_OF[{0}.__class__]", "{0}.__class__ in _TYPE_OF", str),
}
_ORDERING = {"lt": operator.lt, "gt": operator.gt, "lte": operator.le, "gte": operator.ge}
_SYMBOLS = {"lt": "<", "gt": ">", "lte": "<=", "gte": ">="}
_EQUALS = {"eq": "==", "ne": "!="}
#: JMESPath type name -> the Python type names jmespath's type check accepts
_TYPE_NAMES = {
    "boolean": ("bool",),
    "array": ("list", "_Projection"),
    "object": ("dict", "OrderedDict"),
    "null": ("NoneType",),
    "string": ("unicode", "str"),
    "number": ("float", "int", "long"),
}

#: the builtin classes behind those names
_CLASSES: Mapping[str, type] = {
    cls.__name__: cls for cls in (bool, list, dict, type(None), str, float, int)
}


class Unsupported(Exception):
    """The expression uses something the translator leaves to jmespath's interpreter."""


# -- the runtime helpers generated code calls (each exactly as jmespath's interpreter does) --


def field(value: Any, key: str) -> Any:
    """``key`` of anything that is not exactly a ``dict`` (the generated code inlines dicts)."""
    try:
        return value.get(key)
    except AttributeError:
        return None


def _actual_number(value: Any) -> bool:
    if value.__class__ in _NUMBER_CLASSES:
        return True
    return isinstance(value, Number) and not isinstance(value, bool)


#: JMESPath's numbers, as the generated code tests them (a bool is not one)
_NUMBER_CLASSES = (int, float)
#: the classes whose truth in Python is JMESPath's (null first: the false value most found)
_TRUTH_CLASSES = (type(None), bool, str, list, dict)


def equals(left: Any, right: Any) -> bool:
    """``==``: like Python's, but 0 and 1 are never equal to false and true."""
    if _actual_number(left) and left in (0, 1):
        return not isinstance(right, bool) and bool(left == right)
    if _actual_number(right) and right in (0, 1):
        return not isinstance(left, bool) and bool(left == right)
    return bool(left == right)


def order(compare: Callable[[Any, Any], Any], left: Any, right: Any) -> Any:
    """``<``, ``>``, ``<=``, ``>=``: on numbers and text only, else null."""
    if left is None or right is None:
        return None
    comparable = (_actual_number(left) or isinstance(left, str)) and (
        _actual_number(right) or isinstance(right, str)
    )
    return compare(left, right) if comparable else None


def negate(value: Any) -> bool:
    """``!``: 0 is not false in JMESPath, so ``!0`` is false."""
    if _actual_number(value) and value == 0:
        return False
    return not value


def flatten(value: Any) -> Any:
    if not isinstance(value, list):
        return None
    merged: list[Any] = []
    for element in value:
        if isinstance(element, list):
            merged.extend(element)
        else:
            merged.append(element)
    return merged


def values(value: Any) -> Any:
    """An object's values for ``*``, or ``None`` when it has none."""
    try:
        return value.values()
    except AttributeError:
        return None


def index(value: Any, position: int) -> Any:
    if not isinstance(value, list):
        return None
    try:
        return value[position]
    except IndexError:
        return None


_HELPERS: dict[str, Any] = {
    "_field": field,
    "_failed": failed,
    "_false": is_false,
    "_equals": equals,
    "_order": order,
    "_negate": negate,
    "_flatten": flatten,
    "_values": values,
    "_index": index,
    "_NUMBERS": _NUMBER_CLASSES,
    "_TRUTH": _TRUTH_CLASSES,
    "_SIZED": (str, list, dict),
    # what JMESPath's type() says of a value of each exact class (a Decimal is a number)
    "_TYPE_OF": {
        str: "string",
        int: "number",
        float: "number",
        Decimal: "number",
        bool: "boolean",
        dict: "object",
        list: "array",
        NoneType: "null",
    },
    "MISSING": MISSING,
}


def falsy(local: str) -> str:
    """Python text: is the value of ``local`` false as JMESPath says? Plain Python's ``not``
    for the classes whose truth is JMESPath's (``_TRUTH``: null, booleans, text, arrays,
    objects); a number is never false (0 neither); ``is_false`` decides anything else. What
    Python finds true, JMESPath does too."""
    return (
        f"not {local} and ({local} is None or {local}.__class__ not in _NUMBERS "
        f"and ({local}.__class__ in _TRUTH or _false({local})))"
    )


class Code:
    """One generated function being written: its lines, its locals and its namespace. Lines
    are only ever appended; nothing written is edited afterwards."""

    def __init__(self, namespace: Mapping[str, Any]) -> None:
        self.namespace: dict[str, Any] = dict(namespace)
        #: locals that hold a dict whenever the emitted code reads them (lookups need no check)
        self.dicts: set[str] = set()
        #: locals that always hold true, false or null (comparisons, negations): Python's
        #: truth is JMESPath's for them
        self.booleans: set[str] = set()
        #: local -> its class, where the code being written knows it exactly (a value read
        #: up front whose class was tested once for the whole element: ``_Writer.body``)
        self.classes: dict[str, type] = {}
        #: (dict local, keys) -> the local already holding that path's JMESPath value
        #: (read once, up front, for an array element that is an object)
        self.reads: dict[tuple[str, tuple[str, ...]], str] = {}
        self.lines: list[str] = []
        #: what the lines written from now on do, for their errors (a ``Sites`` number)
        self.site = 0
        #: line number (the ``def`` is line 1) -> the site of that line
        self.line_sites: list[int] = [0, 0]
        self.depth = 1
        self.blocks = 0  #: loops and ``try`` blocks around the next line
        self._count = 0

    def falsy(self, local: str) -> str:
        """Python text: is the value of ``local`` false as JMESPath says?"""
        known = self.classes.get(local)
        if known in _NUMBER_CLASSES:  # never false
            return "False"
        if known in _TRUTH_CLASSES or local in self.booleans:
            return f"not {local}"
        return falsy(local)

    def line(self, text: str) -> None:
        self.lines.append("    " * self.depth + text)
        self.line_sites.append(self.site)

    @contextmanager
    def block(self, header: str) -> Iterator[None]:
        self.line(header)
        counted = header.startswith(("for ", "try:"))
        self.depth += 1
        self.blocks += counted
        yield
        self.depth -= 1
        self.blocks -= counted

    def temp(self, hint: str = "t") -> str:
        self._count += 1
        return f"{hint}{self._count}"

    def constant(self, value: Any, hint: str = "K") -> str:
        """Bind ``value`` in the namespace; return its name."""
        name = f"_{hint}{self._count + 1}"
        self._count += 1
        self.namespace[name] = value
        return name

    def compile(self, name: str, parameters: str, filename: str) -> Callable[..., Any]:
        """Compile the written lines as ``def name(parameters)`` and return the function."""
        source = f"def {name}({parameters}):\n" + "\n".join(self.lines) + "\n"
        try:
            code = compile(source, filename, "exec")
        except SyntaxError as exc:  # blocks nested deeper than Python allows
            raise Unsupported(f"cannot compile the generated code: {exc}") from exc
        exec(code, self.namespace)  # the text is ours: see the module docstring
        function: Callable[..., Any] = self.namespace[name]
        function.__source__ = source  # type: ignore[attr-defined]
        return function


class Emitter:
    """Translates JMESPath expressions into statements of a ``Code``."""

    def __init__(
        self, code: Code, functions: jmespath.functions.Functions, plugins: Mapping[str, Any]
    ) -> None:
        self.code = code
        code.namespace.update(_HELPERS)
        code.namespace["_call"] = functions.call_function
        self.plugins = plugins  #: name -> JMESPathFunction (simple signatures are inlined)

    # -- JMESPath -----------------------------------------------------------------------

    def jmespath(self, node: Node, value: str) -> str:
        """Emit statements evaluating ``node`` on local ``value``; return the result's local.

        Raises ``Unsupported``, having emitted nothing, when the translator leaves ``node``
        to jmespath's interpreter: expression references (``&expr``), or an expression that
        would nest deeper than Python allows here."""
        if not self.supports(node):
            raise Unsupported("the expression nests too deeply")
        return self._emit(node, value)

    def supports(self, node: Node) -> bool:
        """Can ``node`` be translated here? Raises ``Unsupported`` for what is left to
        jmespath's interpreter (``&expr``); False when it would nest too deeply."""
        depth, blocks = self._needs(node)
        return self.code.depth + depth <= _MAX_DEPTH and self.code.blocks + blocks <= _MAX_BLOCKS

    def _needs(self, node: Node) -> tuple[int, int]:
        """How deeply ``node``'s code indents, and how many loops it nests."""
        if not hasattr(self, f"_node_{node['type']}"):  # &expr: sort_by, map, max_by ...
            raise Unsupported(f"JMESPath {node['type']} nodes are left to jmespath")
        depth, blocks = 0, 0
        for child in node.get("children", ()):
            if isinstance(child, Mapping) and "type" in child:
                inner = self._needs(child)
                depth, blocks = max(depth, inner[0]), max(blocks, inner[1])
        if node["type"] == "function_expression" and node["value"] in self.plugins:
            return max(depth, 2), max(blocks, 1)  # its call in a ``try`` in an ``if``
        extra = _NESTS.get(node["type"], (0, 0))
        return depth + extra[0], blocks + extra[1]

    def _emit(self, node: Node, value: str) -> str:
        result: str = getattr(self, f"_node_{node['type']}")(node, value)
        return result

    def _node_field(self, node: Node, value: str) -> str:
        read = self.code.reads.get((value, (node["value"],)))
        if read is not None:
            return read
        key, out = repr(node["value"]), self.code.temp()
        if value in self.code.dicts:
            self.code.line(f"{out} = {value}.get({key})")
            return out
        self.code.line(
            f"{out} = {value}.get({key}) if {value}.__class__ is dict "
            f"else None if {value} is None else _field({value}, {key})"
        )
        return out

    def _chain(self, node: Node, value: str) -> str:
        for child in node["children"]:
            value = self._emit(child, value)
        return value

    _node_index_expression = _node_pipe = _chain

    def _node_subexpression(self, node: Node, value: str) -> str:
        """``a.b.c``: from the longest leading path already read (``reads``), if any."""
        children, keys = node["children"], []
        for child in children:
            if child["type"] != "field":
                break
            keys.append(child["value"])
        for length in range(len(keys), 1, -1):
            read = self.code.reads.get((value, tuple(keys[:length])))
            if read is not None:
                value, children = read, children[length:]
                break
        for child in children:
            value = self._emit(child, value)
        return value

    def _node_current(self, node: Node, value: str) -> str:
        return value

    _node_identity = _node_current

    def _node_literal(self, node: Node, value: str) -> str:
        return self.code.constant(node["value"], "L")

    def _node_index(self, node: Node, value: str) -> str:
        out = self.code.temp()
        self.code.line(f"{out} = _index({value}, {int(node['value'])!r})")
        return out

    def _node_slice(self, node: Node, value: str) -> str:
        out, bounds = self.code.temp(), self.code.constant(slice(*node["children"]), "S")
        self.code.line(f"{out} = {value}[{bounds}] if isinstance({value}, list) else None")
        return out

    def _node_comparator(self, node: Node, value: str) -> str:
        operation = node["value"]
        left = self._emit(node["children"][0], value)
        right = self._emit(node["children"][1], value)
        out = self.code.temp()
        if operation in ("eq", "ne"):
            if self._null_against_known(left, right):  # known now: the value is not null
                return self.code.constant(operation == "ne", "L")
            simple = self._simple_equality(left, right, operation)
            if simple is not None:
                self.code.line(f"{out} = {simple}")
                self.code.booleans.add(out)
                return out
            negation = "not " if operation == "ne" else ""
            numbers = f"{left}.__class__ in _NUMBERS and {right}.__class__ in _NUMBERS"
            self.code.line(
                f"{out} = {_truth(f'{left} {_EQUALS[operation]} {right}')} if {numbers} "
                f"else {negation}_equals({left}, {right})"
            )
            self.code.booleans.add(out)  # both ways give True or False
            return out
        sides = (left, right)
        checks = [f"{side}.__class__ in _NUMBERS" for side in sides if not self._number(side)]
        compare = self.code.constant(_ORDERING[operation], "op")
        fallback = f"_order({compare}, {left}, {right})"
        self.code.booleans.add(out)  # True or False; null when the sides do not compare
        compared = _truth(f"{left} {_SYMBOLS[operation]} {right}")
        if not checks:
            self.code.line(f"{out} = {compared}")
            return out
        self.code.line(f"{out} = {compared} if {' and '.join(checks)} else {fallback}")
        return out

    def _null_against_known(self, left: str, right: str) -> bool:
        """Is one side the null literal and the other of a class known here, not null?"""
        return any(
            self._literal(side) is None and self.code.classes.get(other) not in (None, type(None))
            for side, other in ((left, right), (right, left))
        )

    def _simple_equality(self, left: str, right: str, operation: str) -> str | None:
        """``==``/``!=`` against a null or text literal: plain Python (nothing else equals
        null, and text equals only the same text, so JMESPath's number rules never apply)."""
        for side, other in ((left, right), (right, left)):
            literal = self._literal(side)
            if literal is None:
                return f"{other} is None" if operation == "eq" else f"{other} is not None"
            if literal.__class__ is str:
                return f"{other} == {side}" if operation == "eq" else f"{other} != {side}"
        return None

    def _number(self, name: str) -> bool:
        """Is local ``name`` known to be an int or a float (so needs no type check)?"""
        return self._class_of(name) in _NUMBER_CLASSES

    def _node_and_expression(self, node: Node, value: str) -> str:
        return self._short_circuit(node, value, stop_when_false=True)

    def _node_or_expression(self, node: Node, value: str) -> str:
        return self._short_circuit(node, value, stop_when_false=False)

    def _short_circuit(self, node: Node, value: str, *, stop_when_false: bool) -> str:
        left = self._emit(node["children"][0], value)
        truth = self._truth_of(left)
        if truth is not None:  # known here: ``a || b`` is a when a is true, else b ...
            if truth is stop_when_false:  # ... and ``a && b`` is b when a is true, else a
                return self._emit(node["children"][1], value)
            return left
        test = self.code.falsy(left)
        out = self.code.temp()
        self.code.line(f"{out} = {left}")
        with self.code.block(f"if not ({test}):" if stop_when_false else f"if {test}:"):
            right = self._emit(node["children"][1], value)
            self.code.line(f"{out} = {right}")
        if left in self.code.booleans and right in self.code.booleans:
            self.code.booleans.add(out)
        return out

    def _literal(self, local: str) -> Any:
        """The value of a literal's local (``_L...``), or ``MISSING`` for any other local."""
        return self.code.namespace.get(local, MISSING) if local.startswith("_L") else MISSING

    def _class_of(self, local: str) -> type | None:
        """The class of ``local``'s value where known here (a literal's, or ``classes``)."""
        literal = self._literal(local)
        return literal.__class__ if literal is not MISSING else self.code.classes.get(local)

    def _truth_of(self, local: str) -> bool | None:
        """Is ``local`` true as JMESPath says, where known here (a literal, or a number)?"""
        literal = self._literal(local)
        if literal is not MISSING:
            return not is_false(literal)
        return True if self.code.classes.get(local) in _NUMBER_CLASSES else None

    def _node_not_expression(self, node: Node, value: str) -> str:
        operand, out = self._emit(node["children"][0], value), self.code.temp()
        if operand in self.code.booleans:
            self.code.line(f"{out} = not {operand}")
        else:
            self.code.line(
                f"{out} = not {operand} if {operand}.__class__ in _TRUTH else _negate({operand})"
            )
        self.code.booleans.add(out)
        return out

    def _node_function_expression(self, node: Node, value: str) -> str:
        name: str = node["value"]
        if name == "sum" and _listed(node, value, self.code.dicts) and name not in self.plugins:
            # sum([a, b, c]) of an object's fields: 0 + a + b + c when all are numbers
            items = [self._emit(child, value) for child in node["children"][0]["children"]]
            numbers = [f"{item}.__class__ in _NUMBERS" for item in items if not self._number(item)]
            listed = f"_call('sum', [[{', '.join(items)}]])"
            out, total = self.code.temp(), " + ".join(["0", *items])
            self.code.line(
                f"{out} = {total} if {' and '.join(numbers)} else {listed}"
                if numbers
                else f"{out} = {total}"
            )
            if all(self._class_of(item) is int for item in items):
                self.code.classes[out] = int  # a sum of integers
            return out
        args = [self._emit(child, value) for child in node["children"]]
        out = self.code.temp()
        plugin = self.plugins.get(name)
        call = f"_call({name!r}, [{', '.join(args)}])"
        if name in _INLINE_BUILTINS and len(args) == 1 and name not in self.plugins:
            # the common case inline; anything else through jmespath's own call
            direct, check, cls = _INLINE_BUILTINS[name]
            self.code.line(
                f"{out} = {direct.format(args[0])} if {check.format(args[0])} else {call}"
            )
            if cls is not None:
                self.code.classes[out] = cls
            return out
        if plugin is None or len(plugin.signature) != len(args):
            self.code.line(f"{out} = {call}")
            return out
        checks = [
            self._type_check(arg, types) for arg, types in zip(args, plugin.signature, strict=True)
        ]
        if None in checks:  # a type the inline check does not know: jmespath checks it
            self.code.line(f"{out} = {call}")
            return out
        keyword = "if"
        for condition, result in self._shortcuts(plugin, args, checks):
            if not condition:  # a value of a class known here, whatever its value
                if keyword == "if":
                    return result
                with self.code.block("else:"):
                    self.code.line(f"{out} = {result}")
                return out
            with self.code.block(f"{keyword} {condition}:"):
                self.code.line(f"{out} = {result}")
            keyword = "elif"
        if plugin.unchanged and len(args) == 1:  # the values it returns as they are: no call
            if keyword == "if" and self.code.classes.get(args[0]) in plugin.unchanged:
                return args[0]  # a value of a class known here
            kept = self.code.constant(_classes(plugin.unchanged), "kept")
            with self.code.block(f"{keyword} {args[0]}.__class__ in {kept}:"):
                self.code.line(f"{out} = {args[0]}")
            keyword = "elif"
        test = " and ".join(check for check in checks if check)
        if test:
            with self.code.block(f"{keyword} {test}:"):
                self._call_plugin(plugin, args, out)
            with self.code.block("else:"):  # a wrong type: jmespath's own call raises its error
                self.code.line(f"{out} = {call}")
        elif keyword == "elif":
            with self.code.block("else:"):
                self._call_plugin(plugin, args, out)
        else:
            self._call_plugin(plugin, args, out)
        return out

    def _call_plugin(self, plugin: JMESPathFunction, args: list[str], out: str) -> None:
        """``out = `` the plugin's function called (as ``plugins._guarded.guarded`` does)."""
        function, name = self.code.constant(plugin.function, "fn"), repr(plugin.name)
        with self.code.block("try:"):
            self.code.line(f"{out} = {function}({', '.join(args)})")
        with self.code.block("except Exception as x:"):
            self.code.line(f"raise _failed({name}, x)")

    def _shortcuts(
        self, plugin: JMESPathFunction, args: list[str], checks: list[str | None]
    ) -> list[tuple[str, str]]:
        """(test of the first argument, result) for each of the plugin's shortcuts for this
        call, when its other arguments are literals of the types it takes; the last test ""
        when the first argument's class is known here and its shortcut has no test."""
        values = [self._literal(arg) for arg in args[1:]]
        if plugin.shortcuts is None or not args or any(checks[1:]) or MISSING in values:
            return []
        accepted, known = _accepted(plugin.signature[0]), self._class_of(args[0])
        found = []
        for shortcut in _shortcuts_of(plugin, values):
            if accepted is not None and shortcut.cls not in accepted:
                continue  # a value it refuses: the call raises jmespath's error
            if known is not None and shortcut.cls is not known:
                continue
            tests = [] if known is not None else [self._class_test(args[0], shortcut.cls)]
            if shortcut.test is not None:
                tests.append(f"{self.code.constant(shortcut.test, 'test')}({args[0]})")
            found.append((" and ".join(tests), self.code.constant(shortcut.result, "L")))
            if not tests:
                break  # every value now takes it
        return found

    def _class_test(self, local: str, cls: type) -> str:
        """Is ``local``'s value of exactly the class ``cls`` (a builtin one by its name)?"""
        if cls is NoneType:
            return f"{local} is None"
        name = cls.__name__ if _CLASSES.get(cls.__name__) is cls else self.code.constant(cls, "C")
        return f"{local}.__class__ is {name}"

    def _type_check(self, arg: str, types: tuple[str, ...]) -> str | None:
        """The inline form of jmespath's argument type check ("" when any type will do)."""
        if any(kind not in _TYPE_NAMES for kind in types if kind != "any"):
            return None
        classes = _accepted(types)
        if classes is None:
            return ""
        if self._class_of(arg) in classes:
            return ""  # a literal, or a value of a class known here, that passes
        return f"{arg}.__class__ in {self.code.constant(classes, 'types')}"

    def _node_projection(self, node: Node, value: str) -> str:
        return self._project(node, self._emit(node["children"][0], value), None)

    def _node_filter_projection(self, node: Node, value: str) -> str:
        base = self._emit(node["children"][0], value)
        return self._project(node, base, node["children"][2])

    def _node_value_projection(self, node: Node, value: str) -> str:
        base, elements = self._emit(node["children"][0], value), self.code.temp()
        self.code.line(f"{elements} = _values({base})")
        return self._loop(node["children"][1], elements, None, f"{elements} is not None")

    def _project(self, node: Node, base: str, condition: Node | None) -> str:
        return self._loop(node["children"][1], base, condition, f"isinstance({base}, list)")

    def _loop(self, body: Node, base: str, condition: Node | None, guard: str) -> str:
        out, element = self.code.temp(), self.code.temp("e")
        self.code.line(f"{out} = None")
        with self.code.block(f"if {guard}:"):
            self.code.line(f"{out} = []")
            with self.code.block(f"for {element} in {base}:"):
                if condition is not None:
                    test = self._emit(condition, element)
                    self.code.line(f"if {self.code.falsy(test)}: continue")
                item = self._emit(body, element)
                self.code.line(f"if {item} is not None: {out}.append({item})")
        return out

    def _node_flatten(self, node: Node, value: str) -> str:
        base, out = self._emit(node["children"][0], value), self.code.temp()
        self.code.line(f"{out} = _flatten({base})")
        return out

    def _node_multi_select_list(self, node: Node, value: str) -> str:
        out = self.code.temp()
        self.code.line(f"{out} = None")
        with self.code.block(f"if {value} is not None:"):
            items = [self._emit(child, value) for child in node["children"]]
            self.code.line(f"{out} = [{', '.join(items)}]")
        return out

    def _node_key_val_pair(self, node: Node, value: str) -> str:
        return self._emit(node["children"][0], value)

    def _node_multi_select_dict(self, node: Node, value: str) -> str:
        out = self.code.temp()
        self.code.line(f"{out} = None")
        with self.code.block(f"if {value} is not None:"):
            pairs = [
                f"{child['value']!r}: {self._emit(child, value)}" for child in node["children"]
            ]
            self.code.line(f"{out} = {{{', '.join(pairs)}}}")
        return out


#: classes in the order a value's class is checked against them (a tuple compares by
#: identity, one by one: cheaper than a set's hash for the few classes of JSON values)
_FIRST = (str, int, float, bool, dict, list, type(None))


def _accepted(types: tuple[str, ...]) -> tuple[type, ...] | None:
    """The classes that pass jmespath's check of ``types`` at once (None: any value does).
    Exactly these: anything else (a subclass, a class of another name) goes to jmespath's own
    check, which decides as it always does."""
    if "any" in types or not types:
        return None
    names = frozenset(name for kind in types for name in _TYPE_NAMES.get(kind, ()))
    return _classes(_CLASSES[name] for name in names if name in _CLASSES)


def _shortcuts_of(plugin: JMESPathFunction, values: list[Any]) -> Sequence[Shortcut]:
    """The plugin's shortcuts for a call whose arguments after the first are ``values``;
    a ``FulfillmapError`` naming the function when they are not ``Shortcut``s of JSON
    results (a plugin's bug, found when a mapping calling it is compiled)."""
    assert plugin.shortcuts is not None
    try:
        found = plugin.shortcuts(*values)
        wrong = [one for one in found if not isinstance(one, Shortcut)]
    except Exception as exc:
        message = f"function {plugin.name}(): shortcuts failed: {describe(exc)}"
        raise FulfillmapError(message) from exc
    if wrong or not all(isinstance(one.cls, type) and is_json(one.result) for one in found):
        shown = wrong[0] if wrong else found
        raise FulfillmapError(
            f"function {plugin.name}(): its shortcuts must be Shortcut(cls, result, test) "
            f"with a class and a JSON result, not {truncate(shown)}"
        )
    return found


def _classes(classes: Iterable[type]) -> tuple[type, ...]:
    """``classes`` as a tuple, those of JSON values found most first."""
    order = {cls: position for position, cls in enumerate(_FIRST)}
    return tuple(sorted(set(classes), key=lambda cls: (order.get(cls, len(order)), cls.__name__)))


def _truth(comparison: str) -> str:
    """``comparison``'s True or False, written as a test (``True if a > b else False``):
    CPython specialises a comparison of two ints or two floats followed by a jump, not one
    whose result is stored."""
    return f"(True if {comparison} else False)"


def _listed(node: Node, value: str, dicts: set[str]) -> bool:
    """Is the function's one argument a list written out (``[a, b]``) over a known dict?"""
    children = node["children"]
    return (
        len(children) == 1
        and children[0]["type"] == "multi_select_list"
        and bool(children[0]["children"])
        and value in dicts
    )


def compile_jmespath(
    text: str,
    functions: jmespath.functions.Functions | None = None,
    plugins: Mapping[str, Any] | None = None,
) -> Callable[[Any], Any]:
    """``text`` as a Python function of the data; raises ``Unsupported`` (or jmespath's
    ``ParseError``) when it cannot be translated."""
    import jmespath.functions
    import jmespath.parser

    parsed = jmespath.parser.Parser().parse(text).parsed
    code = Code({})
    result = Emitter(code, functions or jmespath.functions.Functions(), plugins or {}).jmespath(
        parsed, "data"
    )
    code.line(f"return {result}")
    return code.compile("evaluate", "data", f"<jmespath {text!r}>")
