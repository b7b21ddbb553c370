"""Stage 2, validate: a loaded document against the mapping language, all problems at once.

Three passes, each reporting every problem it finds with the file, line and column:
the language's JSON Schema; the meaning of each field (one value source, expressions that
parse and call known functions, known plugins); and the source/target JSON Schemas the
mapping names (they must load, and target field names must exist in the target schema).
"""

from __future__ import annotations

import functools
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import jmespath.exceptions
from fulfillmap.errors import FulfillmapError, Problem, SpecError, did_you_mean
from fulfillmap.language._expressions import compile_expression, function_calls
from fulfillmap.language._limits import limits
from fulfillmap.language._loader import Document, SpecPath, format_path
from fulfillmap.language._resources import PACKAGED_PREFIX, language_schema, read_schema
from fulfillmap.language._schemas import SchemaValidator, describe_error
from fulfillmap.paths import truncate
from fulfillmap.plugins._registry import Registry

if TYPE_CHECKING:
    from jsonschema.exceptions import ValidationError

__all__ = [
    "Schemas",
    "expression_problems",
    "field_schema",
    "resolve_local",
    "schema_problems",
    "validate_document",
]

_VALUE_SOURCES = ("from", "value", "plugin", "fields")


@dataclass(frozen=True)
class Schemas:
    """The source and target JSON Schemas a valid mapping names."""

    source: dict[str, Any]
    target: dict[str, Any]


def validate_document(document: Document, registry: Registry) -> Schemas:
    """Check ``document``; return its schemas, or raise SpecError with every problem."""
    _check_size(document)
    problems = [*document.problems, *_schema_problems(document)]
    problems += _FieldChecker(document, registry).problems()
    schemas, schema_problems = _endpoint_schemas(document)
    problems += schema_problems
    data = document.data
    if schemas is not None and isinstance(data, dict) and isinstance(data.get("fields"), dict):
        problems += _target_field_problems(document, schemas.target)
    if problems:
        raise SpecError(problems)
    assert schemas is not None
    return schemas


def _check_size(document: Document) -> None:
    """Refuse, before anything is checked, a mapping of more fields and rules than the limit."""
    data = document.data
    if not isinstance(data, dict):
        return
    rules = data.get("rules")
    count = _count_fields(data.get("fields")) + (len(rules) if isinstance(rules, list) else 0)
    limit = limits().max_fields
    if count > limit:
        reason = (
            f"the mapping has {count:,} fields and rules, more than {limit:,} (the limit; "
            "FULFILLMAP_MAX_FIELDS changes it)"
        )
        raise SpecError([document.problem(("fields",) if "fields" in data else (), reason)])


def _count_fields(fields: Any) -> int:
    """Fields, nested ones included, of a ``fields`` object (walked without recursion)."""
    count, stack = 0, [fields]
    while stack:
        found = stack.pop()
        if not isinstance(found, dict):
            continue
        count += len(found)
        stack.extend(value.get("fields") for value in found.values() if isinstance(value, dict))
    return count


# -- pass 1: the language schema ---------------------------------------------------------


def _schema_problems(document: Document) -> Iterator[Problem]:
    return schema_problems(document, language_schema())


def schema_problems(document: Document, schema: dict[str, Any]) -> Iterator[Problem]:
    """Every place ``document`` breaks ``schema``, explained at its file position."""
    language = schema is language_schema()  # cached: its validator is built once
    validator = _language_validator() if language else SchemaValidator(schema, formats={})
    for error in validator.errors(document.data):
        yield from _explain(document, error)


@functools.cache
def _language_validator() -> SchemaValidator:
    return SchemaValidator(language_schema(), formats={})


def _explain(document: Document, error: ValidationError) -> Iterator[Problem]:
    path: SpecPath = tuple(error.absolute_path)
    if error.validator in ("anyOf", "oneOf") and error.context:
        branch = _matching_branch(error)
        if branch:
            for sub in branch:
                yield from _explain(document, sub)
            return
        yield document.problem(path, f"expected {_expected(error)}, not {_show(error.instance)}")
    elif error.validator == "additionalProperties" and isinstance(error.instance, dict):
        schema = error.schema if isinstance(error.schema, dict) else {}
        allowed = sorted(schema.get("properties", {}))
        for key in sorted(set(error.instance) - set(allowed)):
            message = f"unknown key '{key}'{_suggest(key, allowed)}; allowed: {', '.join(allowed)}"
            yield document.problem((*path, key), message, key=True)
    elif error.validator == "required":
        yield document.problem(path, describe_error(error))
    elif error.validator == "minProperties" and isinstance(error.schema, dict):
        keys = sorted(error.schema.get("properties", {}))
        message = f"give at least one of {', '.join(keys)}" if keys else error.message
        yield document.problem(path, message)
    elif error.validator == "not" and error.instance is None:
        yield document.problem(path, "null is not allowed here")
    elif "propertyNames" in error.relative_schema_path:  # a key: say so at the key
        name: str = error.instance  # type: ignore[assignment]
        yield document.problem((*path, name), describe_error(error), key=True)
    else:
        yield document.problem(path, describe_error(error))


def _matching_branch(error: ValidationError) -> list[ValidationError]:
    """The errors of the anyOf branch whose type fits the instance, if one does."""
    branches: dict[Any, list[ValidationError]] = {}
    for sub in error.context or ():
        branches.setdefault(sub.relative_schema_path[0], []).append(sub)
    fitting = [
        errors
        for errors in branches.values()
        if not any(e.validator == "type" and not e.relative_path for e in errors)
    ]
    return fitting[0] if len(fitting) == 1 else []


def _expected(error: ValidationError) -> str:
    kinds: list[str] = []
    for sub in error.context or ():
        if sub.validator == "type" and not sub.relative_path:
            kinds += [sub.validator_value] if isinstance(sub.validator_value, str) else []
    names = {"string": "text (a JMESPath expression)", "object": "an object", "array": "a list"}
    return " or ".join(dict.fromkeys(names.get(kind, kind) for kind in kinds)) or "another value"


def _show(value: Any) -> str:
    return truncate(value, 40)


def _suggest(word: str, choices: list[str]) -> str:
    return did_you_mean(word, choices)


# -- pass 2: what each field means ------------------------------------------------------


class _FieldChecker:
    """Walks the fields tolerantly (the schema pass reports shapes) and checks meaning."""

    def __init__(self, document: Document, registry: Registry) -> None:
        self.document = document
        self.registry = registry
        self.found: list[Problem] = []

    def problems(self) -> list[Problem]:
        data = self.document.data
        if isinstance(data, dict) and isinstance(data.get("fields"), dict):
            self._fields(data["fields"], ("fields",))
        if isinstance(data, dict) and isinstance(data.get("rules"), list):
            self._rules(data["rules"])
        return self.found

    def _rules(self, rules: list[Any]) -> None:
        seen: set[str] = set()
        for i, rule in enumerate(rules):
            if not isinstance(rule, dict):
                continue
            for key in ("each", "check"):
                self._expression(rule.get(key), ("rules", i, key))
            name = rule.get("name")
            if isinstance(name, str) and name in seen:
                self._problem(("rules", i, "name"), f"another rule is already named '{name}'")
            if isinstance(name, str):
                seen.add(name)

    def _fields(self, fields: dict[str, Any], path: SpecPath) -> None:
        for name, field in fields.items():
            if isinstance(field, str):
                self._expression(field, (*path, name))
            elif isinstance(field, dict):
                self._field(field, (*path, name))

    def _field(self, field: dict[str, Any], path: SpecPath) -> None:
        self._one_value_source(field, path)
        for key, needs in (("each", "fields"), ("where", "each"), ("args", "plugin")):
            if key in field and needs not in field:
                self._problem((*path, key), f"'{key}' needs '{needs}' beside it", key=True)
        if field.get("required") is True and "default" in field:
            self._problem(path, "a field with a default is never absent: drop 'required'")
        sources = field.get("from")
        for i, text in enumerate(sources if isinstance(sources, list) else [sources]):
            self._expression(
                text, (*path, "from", i) if isinstance(sources, list) else (*path, "from")
            )
        for key in ("each", "where"):
            self._expression(field.get(key), (*path, key))
        self._plugin(field.get("plugin"), (*path, "plugin"))
        if isinstance(field.get("fields"), dict):
            self._fields(field["fields"], (*path, "fields"))

    def _one_value_source(self, field: dict[str, Any], path: SpecPath) -> None:
        present = [key for key in _VALUE_SOURCES if key in field]
        if len(present) != 1:
            found = f" (found {', '.join(present)})" if present else ""
            self._problem(path, f"give exactly one of from, value, plugin or fields{found}")

    def _expression(self, text: Any, path: SpecPath) -> None:
        if not isinstance(text, str) or not text:
            return
        try:
            expression = compile_expression(text)
        except jmespath.exceptions.JMESPathError as exc:
            self._bad_expression(text, path, exc)
            return
        for name, count in function_calls(expression):
            if name not in self.registry.function_names:
                known = sorted(self.registry.function_names)
                hint = _suggest(name, known)
                message = f"unknown function {name}() in `{_quoted(text)}`{hint}"
                self._problem(path, message + self._broken())
            elif (arity := self.registry.arity(name)) is not None and arity != count:
                taken = f"{name}() takes {arity} argument(s), not {count}, in `{_quoted(text)}`"
                self._problem(path, taken)

    def _bad_expression(self, text: str, path: SpecPath, exc: Exception) -> None:
        position = getattr(exc, "lex_position", None)
        mark = self.document.mark(path)
        column = mark.column
        if isinstance(position, int) and mark.style in (None, "", "'", '"'):
            column += position + (1 if mark.style in ("'", '"') else 0)
        where = f" at character {position + 1}" if isinstance(position, int) else ""
        message = f"invalid JMESPath expression `{_quoted(text)}`: {_parse_reason(exc)}{where}"
        self.found.append(
            Problem(self.document.file, mark.line, column, message, format_path(path))
        )

    def _plugin(self, name: Any, path: SpecPath) -> None:
        if isinstance(name, str) and name not in self.registry.fields:
            known = sorted(self.registry.fields)
            hint = _suggest(name, known)
            listing = ", ".join(known) or "none are installed"
            message = f"unknown plugin field '{name}'{hint}; known: {listing}"
            self._problem(path, message + self._broken())

    def _broken(self) -> str:
        """What to add to an unknown name: the installed plugins that failed to load."""
        return "".join(f"; {failure}" for failure in self.registry.broken)

    def _problem(self, path: SpecPath, message: str, *, key: bool = False) -> None:
        self.found.append(self.document.problem(path, message, key=key))


def expression_problems(
    document: Document, registry: Registry, text: Any, path: SpecPath
) -> list[Problem]:
    """The problems of the expression at ``path`` (syntax, unknown functions, arity)."""
    checker = _FieldChecker(document, registry)
    checker._expression(text, path)
    return checker.found


#: how much of an invalid expression a problem quotes
_SHOWN = 80


def _quoted(text: str) -> str:
    """An expression as a problem quotes it: on one line (a YAML block's line breaks and
    indentation as single spaces: a problem is one line), cut at ``_SHOWN`` characters."""
    shown = " ".join(text.split())
    return shown if len(shown) <= _SHOWN else f"{shown[: _SHOWN - 3]}..."


def _parse_reason(exc: Exception) -> str:
    if isinstance(exc, jmespath.exceptions.IncompleteExpressionError):
        return "the expression ends too early"
    if isinstance(exc, jmespath.exceptions.LexerError):
        return str(exc.message)
    token = getattr(exc, "token_value", None)
    return f"unexpected {truncate(token)}" if token is not None else "cannot parse"


# -- pass 3: the schemas the mapping names ----------------------------------------------


def _endpoint_schemas(document: Document) -> tuple[Schemas | None, list[Problem]]:
    data = document.data if isinstance(document.data, dict) else {}
    loaded: dict[str, dict[str, Any]] = {}
    problems: list[Problem] = []
    for endpoint in ("source", "target"):
        reference = (
            (data.get(endpoint) or {}).get("schema")
            if isinstance(data.get(endpoint), dict)
            else None
        )
        if not isinstance(reference, str) or not reference:
            continue
        try:
            schema = read_schema(reference, document.directory)
        except FulfillmapError as exc:
            problems.append(document.problem((endpoint, "schema"), str(exc)))
            continue
        # the shipped schemas are checked by the test suite, not at every start
        invalid = None if reference.startswith(PACKAGED_PREFIX) else _schema_error(schema)
        if invalid is not None:
            reason = f"'{reference}' is not a valid JSON Schema: {invalid}"
            problems.append(document.problem((endpoint, "schema"), reason))
        else:
            loaded[endpoint] = schema
    if len(loaded) < 2:
        return None, problems
    return Schemas(loaded["source"], loaded["target"]), problems


def _schema_error(schema: dict[str, Any]) -> str | None:
    """Why ``schema`` is not a valid draft-07 JSON Schema, or None."""
    from jsonschema import Draft7Validator
    from jsonschema.exceptions import SchemaError

    try:
        Draft7Validator.check_schema(schema)
    except SchemaError as exc:
        return f"{exc.message} (at /{'/'.join(str(p) for p in exc.path)})"
    return None


def _target_field_problems(document: Document, target: dict[str, Any]) -> Iterator[Problem]:
    """Target fields the target schema does not allow (it sets additionalProperties: false)."""
    yield from _walk_target(document, document.data["fields"], ("fields",), target, target)


def _walk_target(
    document: Document,
    fields: dict[str, Any],
    path: SpecPath,
    schema: dict[str, Any],
    root: dict[str, Any],
) -> Iterator[Problem]:
    schema = resolve_local(schema, root)
    properties = schema.get("properties", {})
    closed = schema.get("additionalProperties") is False and not schema.get("patternProperties")
    for name, field in fields.items():
        if name not in properties:
            if closed:
                hint = _suggest(name, sorted(properties))
                message = f"the target schema has no field '{name}'{hint}"
                yield document.problem((*path, name), message, key=True)
            continue
        if isinstance(field, dict) and isinstance(field.get("fields"), dict):
            child = field_schema(schema, root, name, array="each" in field)
            yield from _walk_target(document, field["fields"], (*path, name, "fields"), child, root)


def field_schema(schema: Any, root: Mapping[str, Any], name: str, *, array: bool) -> dict[str, Any]:
    """The target schema of the objects a nested field ``name`` builds (of its elements, for
    an ``each`` field), from the schema of the object that holds it: the one step of both
    walks of a target schema along a mapping's fields (these checks, and lint's)."""
    child = resolve_local(resolve_local(schema, root).get("properties", {}).get(name, {}), root)
    return resolve_local(child.get("items", {}), root) if array else child


def resolve_local(schema: Any, root: Mapping[str, Any]) -> dict[str, Any]:
    """Follow local ``$ref`` pointers (``#/definitions/x``); other refs are left alone."""
    seen = 0
    while isinstance(schema, dict) and isinstance(schema.get("$ref"), str) and seen < 32:
        reference: str = schema["$ref"]
        if not reference.startswith("#/"):
            return {}
        node: Any = root
        for part in reference[2:].split("/"):
            node = (
                node.get(part.replace("~1", "/").replace("~0", "~"), {})
                if isinstance(node, dict)
                else {}
            )
        schema, seen = node, seen + 1
    return schema if isinstance(schema, dict) else {}
