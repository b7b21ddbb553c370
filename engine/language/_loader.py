"""Stage 1, load: YAML text -> plain data plus the file position of every node.

Only YAML's safe subset is read (no arbitrary objects). Duplicate keys, non-string keys and
values that JSON cannot hold (dates, binary) are problems, not silently accepted.
"""

from __future__ import annotations

import datetime
import math
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml
from fulfillmap.errors import Problem, SpecError
from fulfillmap.language._limits import limits

try:  # libyaml is several times faster where it is installed
    from yaml import CSafeLoader as _SafeLoader
except ImportError:  # pragma: no cover - depends on how PyYAML was built
    from yaml import SafeLoader as _SafeLoader  # type: ignore[assignment]

_CORE = "tag:yaml.org,2002:"
_BOOL = f"{_CORE}bool"
_INT = f"{_CORE}int"
_FLOAT = f"{_CORE}float"
_MERGE = f"{_CORE}merge"
#: the tags a mapping file may hold, written or implied: YAML 1.2's JSON-like core (dates
#: and binary are read, then refused as values JSON cannot hold, with a hint)
_ALLOWED_TAGS = frozenset(
    f"{_CORE}{name}"
    for name in ("str", "int", "float", "bool", "null", "map", "seq", "timestamp", "binary")
)
#: YAML 1.2 core schema numbers: no octal 017, no 1_000, no sexagesimal 10:30
_INT_PATTERN = re.compile(r"[-+]?(?:[0-9]+|0o[0-7]+|0x[0-9a-fA-F]+)\Z")
_FLOAT_PATTERN = re.compile(
    r"(?:[-+]?(?:\.[0-9]+|[0-9]+(?:\.[0-9]*)?)(?:[eE][-+]?[0-9]+)?"
    r"|[-+]?\.(?:inf|Inf|INF)|\.(?:nan|NaN|NAN))\Z"
)


class _Loader(_SafeLoader):
    """YAML's safe subset with YAML 1.2 core schema booleans and numbers.

    YAML 1.1 also reads yes/no/on/off as booleans, so ``on: result`` or ``value: no`` would
    silently become ``True``/``False``; here they stay text. Its numbers are as surprising:
    ``017`` is 15, ``10:30`` is 630, ``1_0`` is 10; here ``017`` is 17 and the others text.
    """

    yaml_implicit_resolvers = {  # noqa: RUF012 - PyYAML's own class-level table
        first: [(tag, pattern) for tag, pattern in resolvers if tag not in (_BOOL, _INT, _FLOAT)]
        for first, resolvers in _SafeLoader.yaml_implicit_resolvers.items()
    }


_Loader.add_implicit_resolver(
    _BOOL, re.compile(r"^(?:true|True|TRUE|false|False|FALSE)$"), list("tTfF")
)
_Loader.add_implicit_resolver(_INT, _INT_PATTERN, list("-+0123456789"))
_Loader.add_implicit_resolver(_FLOAT, _FLOAT_PATTERN, list("-+.0123456789"))


def _construct_int(loader: Any, node: yaml.ScalarNode) -> int:
    text = loader.construct_scalar(node)
    if not _INT_PATTERN.match(text):
        raise yaml.constructor.ConstructorError(
            None, None, f"'{text}' is not a YAML 1.2 integer", node.start_mark
        )
    limit = limits().max_yaml_digits
    if len(text) > limit + 1:
        raise yaml.constructor.ConstructorError(
            None,
            None,
            f"an integer of more than {limit} digits (the limit; "
            "FULFILLMAP_MAX_YAML_DIGITS changes it)",
            node.start_mark,
        )
    sign, digits = (-1, text[1:]) if text[0] == "-" else (1, text.lstrip("+"))
    base = {"0o": 8, "0x": 16}.get(digits[:2], 10)
    return sign * int(digits[2:] if base != 10 else digits, base)


def _construct_float(loader: Any, node: yaml.ScalarNode) -> float:
    text = loader.construct_scalar(node)
    if not _FLOAT_PATTERN.match(text):
        raise yaml.constructor.ConstructorError(
            None, None, f"'{text}' is not a YAML 1.2 number", node.start_mark
        )
    if len(text) > limits().max_yaml_digits:
        raise yaml.constructor.ConstructorError(
            None, None, "a number too long to be a mapping's", node.start_mark
        )
    return float(text.lower().replace(".inf", "inf").replace(".nan", "nan"))


_Loader.add_constructor(_INT, _construct_int)
_Loader.add_constructor(_FLOAT, _construct_float)

__all__ = ["Document", "Mark", "SpecPath", "format_path", "parse_yaml"]

SpecPath = tuple[str | int, ...]


@dataclass(frozen=True, slots=True)
class Mark:
    """A 1-based position in a file, and the YAML scalar style found there."""

    line: int
    column: int
    style: str | None = None


@dataclass(frozen=True)
class Document:
    """A parsed mapping file: its data and where each value (and each key) stands."""

    file: str
    data: Any
    directory: Path | None
    marks: dict[SpecPath, Mark] = field(repr=False)
    key_marks: dict[SpecPath, Mark] = field(repr=False)
    #: problems found while reading (duplicate keys, non-JSON values), reported by validation
    problems: list[Problem] = field(default_factory=list)

    def mark(self, path: SpecPath, *, key: bool = False) -> Mark:
        """The position of ``path`` (of its key, with ``key=True``), else its nearest ancestor."""
        table = self.key_marks if key else self.marks
        for end in range(len(path), -1, -1):
            found = table.get(path[:end]) or self.marks.get(path[:end])
            if found:
                return found
        return Mark(1, 1)

    def problem(self, path: SpecPath, message: str, *, key: bool = False) -> Problem:
        mark = self.mark(path, key=key)
        return Problem(self.file, mark.line, mark.column, message, format_path(path))


def format_path(path: SpecPath) -> str:
    """``("fields", "items", 0)`` -> ``fields.items[0]``."""
    text = ""
    for part in path:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else part)
    return text


def parse_yaml(text: str, file: str, directory: Path | None = None) -> Document:
    """Parse one YAML document; raise SpecError listing every problem found."""
    loader = _Loader(text)
    try:
        _check_depth(text, file)
        node = loader.get_single_node()
        builder = _Builder(loader, file)
        data = builder.build(node, ()) if node is not None else None
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line, column = (mark.line + 1, mark.column + 1) if mark else (1, 1)
        reason = " ".join(str(part) for part in (exc.context, exc.problem) if part)
        raise SpecError([Problem(file, line, column, f"invalid YAML: {reason}")]) from exc
    except yaml.YAMLError as exc:
        raise SpecError([Problem(file, 1, 1, f"invalid YAML: {exc}")]) from exc
    except _TooLarge as exc:
        where = _mark(exc.node)
        reason = (
            f"the document holds more than {MAX_NODES:,} values once its aliases are "
            f"expanded (a text counting one more per {_TEXT_PER_VALUE} characters); a mapping "
            "needs far fewer (aliases of aliases?)"
        )
        raise SpecError([Problem(file, where.line, where.column, reason)]) from None
    finally:
        loader.dispose()
    if node is None:
        raise SpecError([Problem(file, 1, 1, "the file is empty; a mapping is a YAML object")])
    return Document(file, data, directory, builder.marks, builder.key_marks, builder.problems)


def _check_depth(text: str, file: str) -> None:
    """Refuse a document whose collections nest deeper than ``Limits.max_yaml_depth``, from
    the parser's events, before anything recursive (the composer, the builder) reads it."""
    limit = limits().max_yaml_depth
    if text.count("[") + text.count("{") + text.count(":") + text.count("-") <= limit:
        return
    depth = 0
    for event in yaml.parse(text, Loader=_SafeLoader):
        if isinstance(event, yaml.CollectionStartEvent):
            depth += 1
            if depth > limit:
                where = event.start_mark
                line, column = (where.line + 1, where.column + 1) if where else (1, 1)
                reason = (
                    f"lists and objects nest more than {limit} deep (the limit; "
                    "FULFILLMAP_MAX_YAML_DEPTH changes it)"
                )
                raise SpecError([Problem(file, line, column, reason)])
        elif isinstance(event, yaml.CollectionEndEvent):
            depth -= 1


def _mark(node: yaml.Node) -> Mark:
    style = node.style if isinstance(node, yaml.ScalarNode) else None
    return Mark(node.start_mark.line + 1, node.start_mark.column + 1, style)


#: how many values a document may hold once its aliases are expanded: far more than any mapping
#: needs, far fewer than a "billion laughs" of nested aliases would make
MAX_NODES = 200_000
#: a text counts as one value more for each this many characters (20 MB of text in all)
_TEXT_PER_VALUE = 100


def _tag_name(tag: str) -> str:
    """``tag:yaml.org,2002:set`` -> ``!!set``, as it is written."""
    return f"!!{tag.removeprefix(_CORE)}" if tag.startswith(_CORE) else tag


class _TooLarge(Exception):
    def __init__(self, node: yaml.Node) -> None:
        super().__init__()
        self.node = node


class _Builder:
    """Turns a composed node tree into data, recording marks and problems."""

    def __init__(self, loader: Any, file: str) -> None:
        self.loader = loader
        self.file = file
        self.marks: dict[SpecPath, Mark] = {}
        self.key_marks: dict[SpecPath, Mark] = {}
        self.problems: list[Problem] = []
        #: the collection nodes being built: an alias to one of them would recurse forever
        self._open: set[int] = set()
        self._count = 0  #: nodes built so far, aliases expanded
        self._merged: set[Mark] = set()  #: marks of keys merged in with <<
        self._flattened: dict[int, int] = {}  #: mapping node -> how many pairs were merged in

    def build(self, node: yaml.Node, path: SpecPath) -> Any:
        self._count += 1
        if self._count > MAX_NODES:  # aliases of aliases can expand without end
            raise _TooLarge(node)
        self.marks[path] = _mark(node)
        if node.tag not in _ALLOWED_TAGS:
            self._problem(
                node,
                f"the YAML tag {_tag_name(node.tag)} is not allowed: a mapping file holds data "
                "only (text, numbers, booleans, null, lists and objects)",
            )
            return None
        if isinstance(node, yaml.CollectionNode):
            if id(node) in self._open:
                self._problem(node, "a YAML alias refers to a node that contains it")
                return None
            self._open.add(id(node))
            try:
                if isinstance(node, yaml.MappingNode):
                    return self._mapping(node, path)
                return [self.build(child, (*path, i)) for i, child in enumerate(node.value)]
            finally:
                self._open.discard(id(node))
        value = self.loader.construct_object(node, deep=True)
        if isinstance(value, str) and len(value) >= _TEXT_PER_VALUE:  # by its size too
            self._count += len(value) // _TEXT_PER_VALUE
            if self._count > MAX_NODES:  # aliases of a long text: as many copies of it
                raise _TooLarge(node)
        if isinstance(value, datetime.date | bytes) or (
            isinstance(value, float) and not math.isfinite(value)
        ):
            self._problem(node, f"{node.value!r} is not a JSON value; quote it to make it text")
        return value

    def _mapping(self, node: yaml.MappingNode, path: SpecPath) -> dict[str, Any]:
        merged = self._flattened.get(id(node))
        if merged is None:  # the first visit (an alias visits the same node again)
            own = sum(1 for key_node, _ in node.value if key_node.tag != _MERGE)
            self.loader.flatten_mapping(node)  # YAML merge keys (<<): their pairs come first
            merged = self._flattened[id(node)] = len(node.value) - own
        result: dict[str, Any] = {}
        for index, (key_node, value_node) in enumerate(node.value):
            key = self.loader.construct_object(key_node, deep=True)
            if not isinstance(key, str):
                self._problem(key_node, f"keys must be text, not {key!r}; quote the key")
                continue
            child = (*path, key)
            if key in result and index >= merged and self.key_marks[child] not in self._merged:
                first = self.key_marks[child].line
                self._problem(key_node, f"duplicate key '{key}' (first defined on line {first})")
                continue
            # a key of the mapping itself overrides one merged in with <<, as YAML says
            self.key_marks[child] = mark = _mark(key_node)
            if index < merged:
                self._merged.add(mark)
            result[key] = self.build(value_node, child)
        return result

    def _problem(self, node: yaml.Node, message: str) -> None:
        mark = _mark(node)
        self.problems.append(Problem(self.file, mark.line, mark.column, message))
