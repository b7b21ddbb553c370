"""JSON Schema validation: fast verdicts, exact explanations.

The verdict comes from ``jsonschema_rs`` (compiled Rust, ~100x faster than ``jsonschema`` on a
fulfillment body). A document it finds invalid is validated again with ``jsonschema``, imported
only then, whose errors (paths, messages) feed the detailed ``MappingError`` and the
``file:line`` problems of a mapping file. ``jsonschema`` is the reference: where the two
disagree, its verdict stands. That covers every case where jsonschema-rs is the stricter one
(ECMA-262 ``$`` does not match before a final newline); the tests check that it is never the
more lenient one on the test corpus.

Only the formats fulfillmap defines are checked (``date-time`` and ``email``), the same way in
both validators: ``date-time`` by jsonschema-rs's own RFC 3339 check (``jsonschema`` asks it too),
``email`` by a lenient check of ours (one ``@``, no spaces: international addresses such as
``jörg@bücher.de`` must not stop a fulfillment). Other formats pass, as with ``jsonschema``'s
default.
"""

from __future__ import annotations

import ast
import math
import re
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from functools import cached_property, lru_cache
from typing import TYPE_CHECKING, Any

import jsonschema_rs
from fulfillmap.errors import FulfillmapError
from fulfillmap.paths import truncate

if TYPE_CHECKING:
    from jsonschema import Draft7Validator
    from jsonschema.exceptions import ValidationError

__all__ = ["FORMATS", "SchemaValidator", "describe_error", "is_date_time", "is_email"]

#: what separates words in an address: Python's and ECMA-262's white space together
_SPACE = (
    "\t\n\x0b\x0c\r\x1c\x1d\x1e\x1f \x85\xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000\ufeff"
)
#: one ``@`` with something on both sides and no white space: the same text serves Python's
#: ``re`` and (as a schema ``pattern``) jsonschema-rs, so both give the same verdict
_EMAIL_PATTERN = f"^[^@{_SPACE}]+@[^@{_SPACE}]+$"
_EMAIL = re.compile(_EMAIL_PATTERN.removesuffix("$") + "\\Z")

_DATE_TIME = jsonschema_rs.Draft7Validator({"format": "date-time"}, validate_formats=True)


def is_date_time(value: object) -> bool:
    """RFC 3339 date-time (``2024-03-12T15:04:27Z``, fractions and offsets allowed, a leap
    second at 23:59:60), as jsonschema-rs checks it: both validators use this one check."""
    return not isinstance(value, str) or bool(_DATE_TIME.is_valid(value))


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
        own = {name for name in ("date-time", "email") if self.formats.get(name) is FORMATS[name]}
        checks = {
            name: self.formats.get(name, _always)
            for name in _format_names(self.schema)
            if name not in own
        }
        schema = _email_as_pattern(self.schema) if "email" in own else dict(self.schema)
        try:  # offline: references are bundled when the schema is read (resources.read_schema)
            fast = jsonschema_rs.Draft7Validator(
                schema,
                formats=checks,
                validate_formats=True,
                ignore_unknown_formats=True,
                offline=True,
            )
        except (jsonschema_rs.ValidationError, ValueError) as exc:
            reason = str(exc).partition("\n")[0]
            raise FulfillmapError(f"the JSON Schema cannot be used: {reason}") from None
        object.__setattr__(self, "_fast", fast)

    @cached_property
    def _reference(self) -> Draft7Validator:
        from jsonschema import Draft7Validator, FormatChecker
        from jsonschema.validators import extend
        from referencing import Registry

        checker = FormatChecker(formats=())
        for name, check in self.formats.items():
            checker.checks(name)(check)
        # NaN and infinity are not JSON numbers (jsonschema-rs agrees): amounts must be sent
        types = Draft7Validator.TYPE_CHECKER.redefine_many(
            {"number": _is_json_number, "integer": _is_json_integer}
        )
        validator: type[Draft7Validator] = extend(  # type: ignore[no-untyped-call]
            Draft7Validator,
            {
                "pattern": _pattern,
                "patternProperties": _pattern_properties,
                "additionalProperties": _additional_properties,
            },
            type_checker=types,
        )
        # an empty registry: an unresolved reference is an error, never a retrieval
        return validator(self.schema, format_checker=checker, registry=Registry())

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


# A schema is the mapping author's, as the mapping is: its patterns are matched by jsonschema-rs
# (Rust's regex engine, in time linear in the text), never by Python's backtracking ``re``, in
# which ``^(a+)+$`` takes seconds on 30 characters. jsonschema's keywords, but for that.


def _pattern(validator: Any, pattern: str, instance: Any, schema: Any) -> Iterator[Any]:
    if validator.is_type(instance, "string") and not _matches(pattern, instance):
        from jsonschema.exceptions import ValidationError

        yield ValidationError(f"{instance!r} does not match {pattern!r}")


def _pattern_properties(
    validator: Any, patterns: dict[str, Any], instance: Any, schema: Any
) -> Iterator[Any]:
    if not validator.is_type(instance, "object"):
        return
    for pattern, subschema in patterns.items():
        for key, value in instance.items():
            if _matches(pattern, key):
                yield from validator.descend(value, subschema, path=key, schema_path=pattern)


def _additional_properties(
    validator: Any, allowed: Any, instance: Any, schema: Any
) -> Iterator[Any]:
    if not validator.is_type(instance, "object"):
        return
    extras = _extras(instance, schema)
    if validator.is_type(allowed, "object"):
        for key in extras:
            yield from validator.descend(instance[key], allowed, path=key)
    elif allowed is False and extras:
        from jsonschema.exceptions import ValidationError

        yield ValidationError(f"unknown key(s): {', '.join(map(str, sorted(extras)))}")


def _extras(instance: dict[str, Any], schema: Any) -> list[str]:
    """The keys of ``instance`` that neither ``properties`` nor ``patternProperties`` name."""
    named, patterns = schema.get("properties", {}), schema.get("patternProperties", {})
    return [
        key
        for key in instance
        if key not in named and not any(_matches(pattern, key) for pattern in patterns)
    ]


@lru_cache(maxsize=256)
def _pattern_validator(pattern: str) -> Any:
    return jsonschema_rs.Draft7Validator({"pattern": pattern})


def _matches(pattern: str, text: str) -> bool:
    return bool(_pattern_validator(pattern).is_valid(text))


def _is_json_number(checker: object, value: object) -> bool:
    if isinstance(value, bool) or not isinstance(value, int | float | Decimal):
        return False
    return isinstance(value, int) or _finite(value)


def _finite(value: float | Decimal) -> bool:
    return value.is_finite() if isinstance(value, Decimal) else math.isfinite(value)


def _is_json_integer(checker: object, value: object) -> bool:
    if isinstance(value, float | Decimal):
        return _finite(value) and value == int(value)
    return isinstance(value, int) and not isinstance(value, bool)


def _email_as_pattern(schema: Any) -> Any:
    """The schema for jsonschema-rs, ``format: email`` checked as the equivalent ``pattern``
    (in Rust: no call back into Python for every address)."""
    if isinstance(schema, list):
        return [_email_as_pattern(item) for item in schema]
    if not isinstance(schema, dict):
        return schema
    copy = {key: _email_as_pattern(value) for key, value in schema.items()}
    if copy.get("format") == "email":
        del copy["format"]
        copy["allOf"] = [*copy.get("allOf", []), {"pattern": _EMAIL_PATTERN}]
    return copy


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


#: JSON Schema type names as a message says them
_TYPES = {
    "string": "text",
    "integer": "an integer",
    "number": "a number",
    "boolean": "true or false",
    "object": "an object",
    "array": "an array",
    "null": "null",
}


def describe_error(error: ValidationError) -> str:
    """One JSON Schema error in words, values written as JSON, never as Python reprs
    (jsonschema says ``'2' is not of type 'integer'``; this says ``expected an integer, not
    "2"``). A ``pattern`` is explained by the schema's title and description, not the regex."""
    value, schema = truncate(error.instance), error.schema
    expected: Any = error.validator_value
    instance: Any = error.instance
    if not isinstance(schema, dict):
        schema = {}
    match error.validator:
        case "type":
            kinds = [expected] if isinstance(expected, str) else list(expected)
            return f"expected {' or '.join(_TYPES.get(k, k) for k in kinds)}, not {value}"
        case "enum":
            return f"expected one of {', '.join(map(truncate, expected))}, not {value}"
        case "const":
            return f"expected {truncate(expected)}, not {value}"
        case "pattern" | "format":
            what = str(schema.get("title") or "value")
            what, reason = (
                _sentence_part(what),
                _sentence_part(str(schema.get("description") or "")),
            )
            if not reason:
                kind = "be" if error.validator == "format" else "match the pattern"
                reason = f"it must {kind} {truncate(expected)}"
            return f"{value} is not a valid {what}" + (f": {reason}" if reason else "")
        case "minLength" | "maxLength":
            size = "short: at least" if error.validator == "minLength" else "long: at most"
            return f"{value} is too {size} {expected} character(s)"
        case "minItems" | "maxItems":
            most = "at least" if error.validator == "minItems" else "at most"
            return f"expected {most} {expected} element(s), got {len(instance)}"
        case "minimum" | "maximum" | "exclusiveMinimum" | "exclusiveMaximum":
            words = {
                "minimum": "at least",
                "maximum": "at most",
                "exclusiveMinimum": "above",
                "exclusiveMaximum": "below",
            }[error.validator]
            return f"expected a number {words} {truncate(expected)}, not {value}"
        case "uniqueItems":
            return "the elements must be unique"
        case "additionalProperties" if isinstance(instance, dict):
            return f"unknown key(s): {', '.join(map(str, sorted(_extras(instance, schema))))}"
        case "required":  # one error per missing key; its message names it as a repr
            return f"missing key: {_required_key(error.message)}"
    return error.message


def _sentence_part(text: str) -> str:
    """``A letter`` -> ``a letter`` inside a sentence; ``HTTP request`` stays as it is."""
    return text[:1].lower() + text[1:] if text[1:2] and not text[1:2].isupper() else text


def _required_key(message: str) -> str:
    """``'source' is a required property`` -> ``source``."""
    quoted = message.removesuffix(" is a required property")
    try:
        key = ast.literal_eval(quoted)
    except (ValueError, SyntaxError):
        return quoted
    return key if isinstance(key, str) else quoted
