"""JSON Schema validation: fast verdicts, exact explanations.

The verdict comes from ``jsonschema_rs`` (compiled Rust, ~100x faster than ``jsonschema`` on a
fulfillment body). A document it finds invalid is validated again with ``jsonschema``, imported
only then, whose errors (paths, messages) feed the detailed ``MappingError`` and the
``file:line`` problems of a mapping file. ``jsonschema`` is the reference: where the two
disagree, its verdict stands. That covers every case where jsonschema-rs is the stricter one
(ECMA-262 ``$`` does not match before a final newline); the tests check that it is never the
more lenient one on the test corpus.

Only the formats fulfillmap defines are checked (``date-time`` and ``email``), by the same
functions in both validators; other formats pass, as with ``jsonschema``'s default.
"""

from __future__ import annotations

import datetime
import re
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from functools import cached_property
from typing import TYPE_CHECKING, Any

import jsonschema_rs

if TYPE_CHECKING:
    from jsonschema import Draft7Validator
    from jsonschema.exceptions import ValidationError

__all__ = ["FORMATS", "SchemaValidator", "is_date_time", "is_email"]

_DATE_TIME = re.compile(r"\d{4}-\d\d-\d\d[Tt]\d\d:\d\d:\d\d(\.\d+)?([Zz]|[+-]\d\d:\d\d)\Z")
_EMAIL = re.compile(r"[^@\s]+@[^@\s]+\Z")


def is_date_time(value: object) -> bool:
    """RFC 3339 date-time, as Digital River's ``createdTime`` values are."""
    if value.__class__ is not str and not isinstance(value, str):
        return True
    if len(value) == 20 and value[4::3] == "--T::Z":  # whole seconds in UTC, most values
        try:
            datetime.datetime.fromisoformat(value)  # checks the digits and the calendar
        except ValueError:
            return False
        return True
    if not _DATE_TIME.match(value):
        return False
    try:
        datetime.datetime.fromisoformat(value.upper().replace("Z", "+00:00"))
    except ValueError:  # e.g. a 30th of February
        return False
    return True


def is_email(value: object) -> bool:
    return not isinstance(value, str) or bool(_EMAIL.match(value))


#: the formats the target schemas use, by name
FORMATS: Mapping[str, Callable[[object], bool]] = {"date-time": is_date_time, "email": is_email}


def _always(value: object) -> bool:
    return True


@dataclass(frozen=True, eq=False)
class SchemaValidator:
    """A draft-07 validator: ``errors`` is empty for a valid instance."""

    schema: Mapping[str, Any]
    formats: Mapping[str, Callable[[object], bool]] = field(default_factory=lambda: FORMATS)
    _fast: Any = field(init=False, repr=False)

    def __post_init__(self) -> None:
        checks = {name: self.formats.get(name, _always) for name in _format_names(self.schema)}
        fast = jsonschema_rs.Draft7Validator(
            dict(self.schema), formats=checks, validate_formats=True, ignore_unknown_formats=True
        )
        object.__setattr__(self, "_fast", fast)

    @cached_property
    def _reference(self) -> Draft7Validator:
        from jsonschema import Draft7Validator, FormatChecker

        checker = FormatChecker(formats=())
        for name, check in self.formats.items():
            checker.checks(name)(check)
        return Draft7Validator(self.schema, format_checker=checker)

    def is_valid(self, instance: Any) -> bool:
        return not self.errors(instance)

    def errors(self, instance: Any) -> list[ValidationError]:
        """Every error ``jsonschema`` reports; ``[]`` straight away when the fast verdict is
        valid."""
        try:
            if self._fast.is_valid(instance):
                return []
        except ValueError:  # a value JSON cannot hold (a YAML date): jsonschema judges it
            pass
        return list(self._reference.iter_errors(instance))


def _format_names(schema: Any) -> Iterator[str]:
    """Every ``format`` named anywhere in the schema (a superset is harmless)."""
    if isinstance(schema, dict):
        for key, value in schema.items():
            if key == "format" and isinstance(value, str):
                yield value
            else:
                yield from _format_names(value)
    elif isinstance(schema, list):
        for item in schema:
            yield from _format_names(item)
