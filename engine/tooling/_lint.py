"""Static checks of a valid mapping against the schemas it names; no input needed.

``lint(mapping)`` returns ``Problem``s, each with a severity:

- error: a field the target schema requires is not produced, or may be left out (it is
  neither ``required``, nor a constant, nor given a ``default``);
- error: a constant or a default does not fit the target schema (type, enum, pattern...);
- warning: a path an expression reads is not defined by the source schema. Source schemas
  allow extra keys, so this may be intended; it is more often a typo.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterator, Mapping
from typing import Any

from fulfillmap.errors import Problem
from fulfillmap.evaluate._mapping import CompiledMapping
from fulfillmap.language._checks import field_schema, resolve_local
from fulfillmap.language._expressions import compile_expression, read_paths
from fulfillmap.language._loader import format_path
from fulfillmap.language._schemas import SchemaValidator, describe_error
from fulfillmap.language._spec import (
    Computed,
    Constant,
    Field,
    From,
    Location,
    MappingSpec,
    Nested,
)
from fulfillmap.paths import format_path as data_path
from fulfillmap.paths import truncate

__all__ = ["lint"]

Schema = Mapping[str, Any]
_BRANCHES = ("allOf", "anyOf", "oneOf", "then", "else")


def lint(mapping: CompiledMapping) -> list[Problem]:
    """Every static problem of ``mapping``, in file order."""
    spec = mapping.spec
    target, source = dict(mapping.target_schema), dict(mapping.source_schema)
    problems = [
        *_target_problems(spec.fields, target, target, spec.location, ""),
        *_SourceCheck(spec, source).fields(spec.fields, source),
    ]
    return sorted(problems, key=lambda p: (p.line, p.column))


# -- the target schema: required fields, constants and defaults ---------------------------


def _target_problems(
    fields: tuple[Field, ...], schema: Any, root: Schema, parent: Location, where: str
) -> Iterator[Problem]:
    schema = resolve_local(schema, root)
    properties = schema.get("properties", {})
    by_name = {field.name: field for field in fields}
    for name in schema.get("required", []):
        if name not in by_name:
            path = f"{where}{name}"
            message = f"the target schema requires '{path}', but no field produces it"
            yield Problem(parent.file, parent.line, parent.column, message)
        elif _may_be_absent(by_name[name]):
            yield _problem(
                by_name[name],
                f"the target schema requires '{by_name[name].target_path}', but the mapping "
                "may leave it out: mark it 'required: true' or give it a 'default'",
            )
    for field in fields:
        child = properties.get(field.name)
        if child is None:
            continue
        yield from _value_problems(field, child, root)
        kind = field.kind
        if isinstance(kind, Nested):
            child = field_schema(schema, root, field.name, array=kind.each is not None)
            prefix = f"{field.target_path}[]." if kind.each is not None else f"{field.target_path}."
            yield from _target_problems(kind.fields, child, root, field.location, prefix)


def _may_be_absent(field: Field) -> bool:
    return not (field.required or field.has_default or isinstance(field.kind, Constant))


def _value_problems(field: Field, schema: Any, root: Schema) -> Iterator[Problem]:
    values = []
    if isinstance(field.kind, Constant):
        values.append(("constant", field.kind.value))
    if field.has_default:
        values.append(("default", field.default))
    for label, value in values:
        for message in _misfits(value, schema, root):
            yield _problem(
                field,
                f"the {label} {truncate(value)} does not fit the target schema at "
                f"'{field.target_path}': {message}",
            )


def _misfits(value: Any, schema: Any, root: Schema) -> Iterator[str]:
    standalone = {**resolve_local(schema, root), "definitions": root.get("definitions", {})}
    for error in sorted(SchemaValidator(standalone).errors(value), key=str):
        where = data_path(error.absolute_path)
        yield f"{where}: {describe_error(error)}" if where else describe_error(error)


# -- the source schema: the paths expressions read ----------------------------------------


class _SourceCheck:
    """Warns about paths that the source schema does not define (where it defines any)."""

    def __init__(self, spec: MappingSpec, root: Schema) -> None:
        self.spec = spec
        self.root = root

    def fields(self, fields: tuple[Field, ...], current: Schema | None) -> Iterator[Problem]:
        for field in fields:
            yield from self.field(field, self._base(field, current))

    def _base(self, field: Field, current: Schema | None) -> Schema | None:
        return field.scope.pick(current, self.root, None)  # the context has no schema

    def field(self, field: Field, base: Schema | None) -> Iterator[Problem]:
        kind = field.kind
        if isinstance(kind, From):
            for text in kind.expressions:
                yield from self.expression(field, text, base)
        elif isinstance(kind, Nested) and kind.each is None:
            yield from self.fields(kind.fields, base)
        elif isinstance(kind, Nested):
            assert kind.each is not None
            yield from self.expression(field, kind.each, base)
            element = self._element(kind.each, base)
            if kind.where is not None:
                yield from self.expression(field, kind.where, element)
            yield from self.fields(kind.fields, element)
        else:
            assert isinstance(kind, Constant | Computed)

    def expression(self, field: Field, text: str, base: Schema | None) -> Iterator[Problem]:
        if base is None:
            return
        for keys in read_paths(compile_expression(text)):
            message = self._undefined(keys, base)
            if message:
                yield _problem(field, f"`{text}` reads {message}", severity="warning")

    def _element(self, each: str, base: Schema | None) -> Schema | None:
        """The schema of the elements an ``each`` expression iterates, when it is known."""
        keys = compile_expression(each).keys
        if base is None or keys is None:
            return None
        node = self._walk(keys, base)
        node = resolve_local(node, self.root) if node is not None else None
        items = node.get("items") if node is not None else None
        return items if isinstance(items, dict) else None

    def _walk(self, keys: tuple[str, ...], base: Schema) -> Schema | None:
        node: Schema | None = base
        for key in keys:
            properties = self._properties(node) if node is not None else None
            node = properties.get(key) if properties is not None else None
        return node

    def _undefined(self, keys: tuple[str, ...], base: Schema) -> str:
        """Why ``keys`` is not a path the schema defines; empty when it is, or is unknown."""
        node: Schema = base
        for depth, key in enumerate(keys):
            properties = self._properties(node)
            if properties is None:
                return ""
            if key not in properties:
                path = ".".join(keys[: depth + 1])
                hint = difflib.get_close_matches(key, sorted(properties), n=1)
                maybe = f" (did you mean '{hint[0]}'?)" if hint else ""
                return f"{path}, which the source schema does not define{maybe}"
            node = properties[key]
        return ""

    def _properties(self, node: Schema) -> dict[str, Any] | None:
        """The properties a schema node defines, its branches' included; None: unknown."""
        node = resolve_local(node, self.root)
        found: dict[str, Any] | None = (
            dict(node["properties"]) if isinstance(node.get("properties"), dict) else None
        )
        for key in _BRANCHES:
            branches = node.get(key)
            for branch in branches if isinstance(branches, list) else [branches]:
                if isinstance(branch, dict):
                    more = self._properties(branch)
                    if more is not None:
                        found = {**(found or {}), **more}
        return found


def _problem(field: Field, message: str, *, severity: str = "error") -> Problem:
    location = field.location
    return Problem(
        location.file,
        location.line,
        location.column,
        message,
        format_path(field.spec_path),
        severity,
    )
