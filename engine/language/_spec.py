"""The mapping's syntax tree: frozen dataclasses built once from a validated document.

Nothing here evaluates anything; ``evaluate._codegen`` turns these nodes into a Python function.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from enum import StrEnum
from typing import TYPE_CHECKING, Any, TypeVar

if TYPE_CHECKING:  # the tree is built from a parsed document, but needs no YAML to exist
    from fulfillmap.language._loader import Document, SpecPath

__all__ = [
    "Computed",
    "Constant",
    "Endpoint",
    "Field",
    "FieldKind",
    "From",
    "Location",
    "MappingSpec",
    "Nested",
    "Rule",
    "Scope",
    "build_spec",
    "walk_fields",
]


T = TypeVar("T")


class Scope(StrEnum):
    """What a field's expressions read. The one place a scope is resolved: ``pick`` the
    data, or the ``base`` path of what is read."""

    CURRENT = "current"  #: the array element inside ``each``, else the whole source
    ROOT = "root"  #: the whole source document
    CONTEXT = "context"  #: the context passed to ``apply``

    def pick(self, current: T, root: T, context: T) -> T:
        """What a field of this scope reads, of the current object, the root and the context."""
        if self is Scope.CURRENT:
            return current
        return root if self is Scope.ROOT else context

    def base(self, current: tuple[str | int, ...] = ()) -> tuple[str | int, ...]:
        """The path (from the source's root) of what a field of this scope reads, where the
        current object is at ``current``: the context's paths start with ``context``."""
        return self.pick(current, (), ("context",))


@dataclass(frozen=True, slots=True)
class Location:
    """Where a node is defined: ``file:line:column``."""

    file: str
    line: int
    column: int

    def __str__(self) -> str:
        return f"{self.file}:{self.line}:{self.column}"


@dataclass(frozen=True, slots=True)
class From:
    """Values from expressions, tried in order until one is neither missing nor null."""

    expressions: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class Constant:
    """A constant value."""

    value: Any


@dataclass(frozen=True, slots=True)
class Computed:
    """A value computed by a plugin's field function."""

    plugin: str
    args: tuple[tuple[str, Any], ...] = ()


@dataclass(frozen=True, slots=True)
class Nested:
    """An object built from ``fields``; with ``each``, an array of them."""

    fields: tuple[Field, ...]
    each: str | None = None
    where: str | None = None


FieldKind = From | Constant | Computed | Nested


@dataclass(frozen=True, slots=True)
class Field:
    """One target field."""

    name: str  #: the key in the target object
    target_path: str  #: e.g. ``items[].tax.amount``
    spec_path: SpecPath  #: e.g. ``("fields", "items", "fields", "tax")``
    location: Location
    kind: FieldKind
    required: bool = False
    has_default: bool = False
    default: Any = None
    scope: Scope = Scope.CURRENT
    description: str = ""


@dataclass(frozen=True, slots=True)
class Rule:
    """A named check on the source, the context or the result."""

    name: str
    check: str  #: a JMESPath expression that must be true
    message: str
    location: Location
    severity: str = "error"  #: ``error`` stops the mapping; ``warn`` is reported
    on: str = "source"  #: ``source``, ``context`` or ``result``
    each: str | None = None  #: check every element of this array
    description: str = ""


@dataclass(frozen=True, slots=True)
class Endpoint:
    """The source or the target document: a name and its JSON Schema reference."""

    name: str
    schema: str
    description: str = ""


@dataclass(frozen=True, slots=True)
class MappingSpec:
    """A whole mapping file."""

    name: str
    description: str
    source: Endpoint
    target: Endpoint
    fields: tuple[Field, ...]
    file: str
    location: Location
    rules: tuple[Rule, ...] = ()


def walk_fields(fields: tuple[Field, ...]) -> Iterator[Field]:
    """Every field, depth first in file order: each one, then its nested fields."""
    for spec_field in fields:
        yield spec_field
        if isinstance(spec_field.kind, Nested):
            yield from walk_fields(spec_field.kind.fields)


def build_spec(document: Document) -> MappingSpec:
    """Build the tree from a document that has passed validation."""
    data = document.data
    return MappingSpec(
        name=data["name"],
        description=data.get("description", ""),
        source=_endpoint(data["source"]),
        target=_endpoint(data["target"]),
        fields=_fields(document, data["fields"], ("fields",), ""),
        file=document.file,
        location=_location(document, ()),
        rules=tuple(
            _rule(document, rule, ("rules", i)) for i, rule in enumerate(data.get("rules", []))
        ),
    )


def _rule(document: Document, data: dict[str, Any], path: SpecPath) -> Rule:
    return Rule(
        name=data["name"],
        check=data["check"],
        message=data["message"],
        location=_location(document, path),
        severity=data.get("severity", "error"),
        on=data.get("on", "source"),
        each=data.get("each"),
        description=data.get("description", ""),
    )


def _endpoint(data: dict[str, Any]) -> Endpoint:
    return Endpoint(data["name"], data["schema"], data.get("description", ""))


def _location(document: Document, path: SpecPath) -> Location:
    mark = document.mark(path, key=True)
    return Location(document.file, mark.line, mark.column)


def _fields(
    document: Document, data: dict[str, Any], path: SpecPath, prefix: str
) -> tuple[Field, ...]:
    return tuple(
        _field(document, name, value, (*path, name), f"{prefix}{name}")
        for name, value in data.items()
    )


def _field(
    document: Document, name: str, data: str | dict[str, Any], path: SpecPath, target: str
) -> Field:
    if isinstance(data, str):
        data = {"from": data}
    return Field(
        name=name,
        target_path=target,
        spec_path=path,
        location=_location(document, path),
        kind=_kind(document, data, path, target),
        required=data.get("required", False),
        has_default="default" in data,
        default=data.get("default"),
        scope=Scope(data.get("scope", Scope.CURRENT)),
        description=data.get("description", ""),
    )


def _kind(document: Document, data: dict[str, Any], path: SpecPath, target: str) -> FieldKind:
    if "from" in data:
        source = data["from"]
        return From(tuple(source) if isinstance(source, list) else (source,))
    if "value" in data:
        return Constant(data["value"])
    if "plugin" in data:
        return Computed(data["plugin"], tuple(sorted(data.get("args", {}).items())))
    each = data.get("each")
    prefix = f"{target}[]." if each is not None else f"{target}."
    fields = _fields(document, data["fields"], (*path, "fields"), prefix)
    return Nested(fields, each, data.get("where"))
