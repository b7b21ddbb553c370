"""The target document: a result validated against the target schema, and the first
problem explained in the mapping's terms (the field, its expression, the input path)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import cached_property
from typing import TYPE_CHECKING, Any

from fulfillmap.errors import MappingError
from fulfillmap.language._expressions import loaded_expression, read_paths
from fulfillmap.language._schemas import SchemaValidator, describe_error
from fulfillmap.language._spec import Field, From, MappingSpec, Nested, walk_fields
from fulfillmap.paths import format_path

if TYPE_CHECKING:
    from jsonschema.exceptions import ValidationError

__all__ = ["TargetCheck"]

_MAX_ERRORS = 10


@dataclass(frozen=True, eq=False)
class TargetCheck:
    """Checks results of ``spec`` against its target schema."""

    spec: MappingSpec
    schema: Mapping[str, Any] = field(repr=False)

    @cached_property
    def _validator(self) -> SchemaValidator:
        return SchemaValidator(self.schema)

    @cached_property
    def _fields(self) -> Mapping[str, Field]:
        return {f.target_path: f for f in walk_fields(self.spec.fields)}

    def check(self, result: Any) -> None:
        """Validate a result against the target schema; raise ``MappingError`` if invalid."""
        errors = self._validator.errors(result)
        if not errors:
            return
        errors.sort(key=_error_order)
        first = errors[0]
        shown = "; ".join(_describe(error) for error in errors[:_MAX_ERRORS])
        more = f" (and {len(errors) - _MAX_ERRORS} more)" if len(errors) > _MAX_ERRORS else ""
        count = "1 problem" if len(errors) == 1 else f"{len(errors)} problems"
        spec_field = self._field_at(first.absolute_path)
        raise MappingError(
            f"the result is not a valid {self.spec.target.name}, {count}: {shown}{more}",
            mapping=self.spec.name,
            field=format_path(tuple(first.absolute_path)) or None,
            expression=_expression_of(spec_field),
            data_path=self._source_path(list(first.absolute_path)),
            location=str(spec_field.location) if spec_field else None,
        )

    def _field_at(self, path: Any) -> Field | None:
        template = ""
        best: Field | None = None
        for part in path:
            template += "[]" if isinstance(part, int) else (f".{part}" if template else part)
            best = self._fields.get(template, best)
        return best

    def _source_path(self, path: list[str | int]) -> str | None:
        """Where an output value came from, when the mapping makes that unambiguous."""
        fields, rest = self.spec.fields, list(path)
        source: list[str | int] = []
        while rest:
            part = rest.pop(0)
            found = next((f for f in fields if f.name == part), None)
            if found is None:
                return None
            source = list(found.scope.base(tuple(source)))
            kind = found.kind
            if isinstance(kind, From):
                return _from_path(kind, source, rest)
            if not isinstance(kind, Nested):
                return None
            if kind.each is not None:
                keys = loaded_expression(kind.each).keys
                if keys is None or kind.where is not None:
                    return None
                source += keys
                if rest and isinstance(rest[0], int):
                    source.append(rest.pop(0))
            fields = kind.fields
        return format_path(source) or None


def _from_path(kind: From, source: list[str | int], rest: list[str | int]) -> str | None:
    """The input path of a value at ``rest`` inside a ``from`` field's value: its path's, or,
    for the value itself, the one path a function of it reads (``upper(currency)``)."""
    if len(kind.expressions) != 1:
        return None
    expression = loaded_expression(kind.expressions[0])
    if expression.keys is not None:
        return format_path([*source, *expression.keys, *rest])
    paths = read_paths(expression)
    return format_path([*source, *paths[0]]) if len(paths) == 1 and not rest else None


def _expression_of(spec_field: Field | None) -> str | None:
    if spec_field is not None and isinstance(spec_field.kind, From):
        return ", ".join(spec_field.kind.expressions)
    return None


def _error_order(error: ValidationError) -> tuple[int, str]:
    return (len(error.absolute_path), format_path(error.absolute_path))


def _describe(error: ValidationError) -> str:
    where = format_path(tuple(error.absolute_path)) or "(top level)"
    return f"{where}: {describe_error(error)}"
