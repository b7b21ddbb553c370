"""Stage 1, load: YAML text -> plain data plus the file position of every node.

Only YAML's safe subset is read (no arbitrary objects). Duplicate keys, non-string keys and
values that JSON cannot hold (dates, binary) are problems, not silently accepted.
"""

from __future__ import annotations

import datetime
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml
from fulfillmap.errors import Problem, SpecError

try:  # libyaml is several times faster where it is installed
    from yaml import CSafeLoader as _SafeLoader
except ImportError:  # pragma: no cover - depends on how PyYAML was built
    from yaml import SafeLoader as _SafeLoader  # type: ignore[assignment]

_BOOL = "tag:yaml.org,2002:bool"
_MERGE = "tag:yaml.org,2002:merge"


class _Loader(_SafeLoader):
    """YAML's safe subset with YAML 1.2 booleans: only true and false.

    YAML 1.1 also reads yes/no/on/off as booleans, so ``on: result`` or ``value: no`` would
    silently become ``True``/``False``; here they stay text.
    """

    yaml_implicit_resolvers = {  # noqa: RUF012 - PyYAML's own class-level table
        first: [(tag, pattern) for tag, pattern in resolvers if tag != _BOOL]
        for first, resolvers in _SafeLoader.yaml_implicit_resolvers.items()
    }


_Loader.add_implicit_resolver(
    _BOOL, re.compile(r"^(?:true|True|TRUE|false|False|FALSE)$"), list("tTfF")
)

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
            "expanded; a mapping needs far fewer (aliases of aliases?)"
        )
        raise SpecError([Problem(file, where.line, where.column, reason)]) from None
    finally:
        loader.dispose()
    if node is None:
        raise SpecError([Problem(file, 1, 1, "the file is empty; a mapping is a YAML object")])
    return Document(file, data, directory, builder.marks, builder.key_marks, builder.problems)


def _mark(node: yaml.Node) -> Mark:
    style = node.style if isinstance(node, yaml.ScalarNode) else None
    return Mark(node.start_mark.line + 1, node.start_mark.column + 1, style)


#: how many values a document may hold once its aliases are expanded: far more than any mapping
#: needs, far fewer than a "billion laughs" of nested aliases would make
MAX_NODES = 200_000


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
        if isinstance(value, datetime.date | bytes):
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
