"""Stage 4, apply: the compiled mapping, and ``load`` which runs the whole pipeline.

load(name or path) -> parse_yaml -> validate_document -> build_spec -> compile_spec
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pluggy
from fulfillmap.errors import MappingError
from fulfillmap.evaluate._codegen import FastBuilder, generate
from fulfillmap.evaluate._compiler import Builder, Failure, compile_spec
from fulfillmap.evaluate._jmespath import Unsupported
from fulfillmap.evaluate._rules import CompiledRule, Violation, compile_rules
from fulfillmap.language._checks import validate_document
from fulfillmap.language._expressions import compile_expression, type_name
from fulfillmap.language._loader import parse_yaml
from fulfillmap.language._resources import find_mapping
from fulfillmap.language._schemas import SchemaValidator
from fulfillmap.language._spec import (
    Field,
    From,
    MappingSpec,
    Nested,
    Scope,
    build_spec,
    walk_fields,
)
from fulfillmap.plugins._registry import Registry, default_registry, registry_for

if TYPE_CHECKING:
    from fulfillmap.evaluate._trace import Recorder, Trace
    from jsonschema.exceptions import ValidationError

__all__ = ["CompiledMapping", "Result", "load"]

_MAX_ERRORS = 10


def load(
    name_or_path: str | Path, *, plugins: pluggy.PluginManager | None = None
) -> CompiledMapping:
    """Load, validate and compile a mapping: a shipped one by name, or a YAML file by path.

    ``plugins`` is the plugin manager to take computed fields and functions from (default:
    every installed plugin). Raises ``SpecError`` listing every problem of an invalid file.
    """
    source = find_mapping(name_or_path)
    document = parse_yaml(source.text, source.file, source.directory)
    registry = default_registry() if plugins is None else registry_for(plugins)
    schemas = validate_document(document, registry)
    spec = build_spec(document)
    return CompiledMapping(spec, schemas.source, schemas.target, registry)


@dataclass(frozen=True, slots=True)
class Result:
    """What ``CompiledMapping.run`` produces: the body and the warnings of ``warn`` rules."""

    body: dict[str, Any]
    warnings: tuple[Violation, ...] = ()


@dataclass(frozen=True, eq=False)
class CompiledMapping:
    """A mapping ready to apply. Immutable and safe to share between threads.

    Loading checks everything; the evaluators themselves (the generated builder, the
    reference closures, the compiled rules, the target-schema validator) are built on first
    use, so that a service which loads many mappings pays only for those it applies.
    """

    spec: MappingSpec
    source_schema: Mapping[str, Any] = field(repr=False)
    target_schema: Mapping[str, Any] = field(repr=False)
    registry: Registry = field(repr=False)

    @cached_property
    def _rules(self) -> tuple[CompiledRule, ...]:
        return compile_rules(self.spec.rules, self.registry.options)

    @cached_property
    def _build(self) -> Builder:
        """The reference evaluator (closures): errors, warnings and traces come from it."""
        return compile_spec(self.spec, self.registry)

    @cached_property
    def _fast_build(self) -> FastBuilder | None:
        """The generated builder: the happy path, rules included."""
        return _generate(self.spec, self.registry)

    @cached_property
    def _validator(self) -> SchemaValidator:
        return SchemaValidator(self.target_schema)

    @cached_property
    def _fields(self) -> Mapping[str, Field]:
        return {f.target_path: f for f in walk_fields(self.spec.fields)}

    @property
    def name(self) -> str:
        return self.spec.name

    def apply(
        self, source: Any, context: Mapping[str, Any] | None = None, *, validate: bool = True
    ) -> dict[str, Any]:
        """Map ``source`` to a new target document (``run(...).body``).

        ``context`` holds what the source lacks (e.g. the persisted ``shippingQuote``).
        Absent optional fields are omitted; the result is validated against the target
        schema unless ``validate=False``. Raises ``MappingError`` saying where and why.
        """
        body = self._fast(source, context)
        if body is None:
            return self._reference(source, context, validate).body
        if validate:
            self._validate(body, source, context)
        return body

    def run(
        self, source: Any, context: Mapping[str, Any] | None = None, *, validate: bool = True
    ) -> Result:
        """Like ``apply``, and also return the violations of ``warn`` rules.

        A ``MappingError`` carries the trace up to the failure (``error.trace``, shown by
        ``error.details()``): the mapping is run once more with tracing, on failure only.
        """
        body = self._fast(source, context)
        if body is None:
            return self._reference(source, context, validate)
        if validate:
            self._validate(body, source, context)
        return Result(body)

    def _fast(self, source: Any, context: Mapping[str, Any] | None) -> dict[str, Any] | None:
        """The generated builder's result, or None where it leaves the case to the reference
        evaluator: an error, a rule that does not hold, an unusual input type."""
        build = self._fast_build
        if build is None or source.__class__ is not dict:
            return None
        if context is None:
            context = {}
        elif context.__class__ is not dict:
            return None
        try:
            return build(source, context)
        except Exception:  # the reference evaluator explains, or warns
            return None

    def _reference(self, source: Any, context: Mapping[str, Any] | None, validate: bool) -> Result:
        try:
            return self._run(self._build, source, context, validate)
        except MappingError as error:
            self._attach_trace(error, source, context, validate)
            raise

    def _validate(self, body: Any, source: Any, context: Mapping[str, Any] | None) -> None:
        try:
            self.check(body)
        except MappingError as error:
            self._attach_trace(error, source, context, True)
            raise

    def _run(
        self,
        build: Builder,
        source: Any,
        context: Mapping[str, Any] | None,
        validate: bool,
        recorder: Recorder | None = None,
    ) -> Result:
        if not isinstance(source, dict):
            raise MappingError(
                f"the input must be a JSON object ({self.spec.source.name}), "
                f"not {type_name(source)}",
                mapping=self.name,
            )
        if context is None:
            context = {}
        elif not isinstance(context, Mapping):
            raise MappingError(
                f"the context must be a JSON object, not {type_name(context)}", mapping=self.name
            )
        elif not isinstance(context, dict):
            context = dict(context)
        warnings: list[Violation] = []
        if self._rules:
            warnings = self._check_rules("source", source, warnings, recorder)
            warnings = self._check_rules("context", context, warnings, recorder)
        try:
            body = build(source, source, context)
        except Failure as failure:
            raise self._error(failure) from failure.__cause__
        except RecursionError:
            raise MappingError(
                "the input is nested too deeply to copy", mapping=self.name
            ) from None
        if self._rules:
            warnings = self._check_rules("result", body, warnings, recorder)
        if validate:
            self.check(body)
        return Result(body, tuple(warnings))

    def trace(
        self, source: Any, context: Mapping[str, Any] | None = None, *, validate: bool = True
    ) -> Trace:
        """Run the mapping while recording what every field read and produced.

        Never raises ``MappingError``: a failure is returned as ``Trace.error``, with the
        steps recorded up to it. Slower than ``run``; meant for people, not pipelines.
        """
        from fulfillmap.evaluate._trace import (  # tracing is for people: imported when used
            Recorder,
            Trace,
        )

        recorder = Recorder(self.registry.options)
        build = compile_spec(self.spec, self.registry, recorder)
        body: dict[str, Any] | None = None
        error: MappingError | None = None
        warnings: tuple[Violation, ...] = ()
        try:
            result = self._run(build, source, context, validate, recorder)
            body, warnings = result.body, result.warnings
        except MappingError as exc:
            error = exc
        steps, rules = tuple(recorder.steps), tuple(recorder.rules)
        return Trace(self.name, steps, warnings, body, error, rules)

    def _check_rules(
        self, on: str, document: Any, warnings: list[Violation], recorder: Recorder | None
    ) -> list[Violation]:
        for rule in self._rules:
            if rule.rule.on != on:
                continue
            violations = list(rule.violations(document))
            if recorder is not None:
                recorder.checked(rule.rule, violations)
            for violation in violations:
                if violation.severity != "error":
                    warnings.append(violation)
                    continue
                in_result = violation.on == "result"
                raise MappingError(
                    violation.message,
                    mapping=self.name,
                    rule=violation.rule,
                    expression=violation.expression,
                    field=(violation.data_path or None) if in_result else None,
                    data_path=None if in_result else (violation.data_path or None),
                    location=violation.location,
                )
        return warnings

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
            mapping=self.name,
            field=_format_path(first.absolute_path) or None,
            expression=_expression_of(spec_field),
            data_path=self._source_path(list(first.absolute_path)),
            location=str(spec_field.location) if spec_field else None,
        )

    # -- error reporting (never on the success path) ------------------------------------

    def _attach_trace(
        self, error: MappingError, source: Any, context: Mapping[str, Any] | None, validate: bool
    ) -> None:
        try:
            traced = self.trace(source, context, validate=validate)
        except Exception:  # the error being raised matters more than its trace
            return
        from fulfillmap.tooling._render import excerpt

        error.trace = traced.steps
        error.data = excerpt(source, context, error.data_path)

    def _error(self, failure: Failure) -> MappingError:
        indices = iter(reversed(failure.indices))
        target = re.sub(r"\[\]", lambda _: f"[{next(indices, '')}]", failure.field.target_path)
        return MappingError(
            failure.reason,
            mapping=self.name,
            field=target,
            expression=failure.expression,
            data_path=_format_path(failure.data_path) or None,
            location=str(failure.field.location),
            plugin=failure.plugin,
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
            if found.scope is not Scope.CURRENT:
                source = ["context"] if found.scope is Scope.CONTEXT else []
            kind = found.kind
            if isinstance(kind, From):
                keys = compile_expression(kind.expressions[0]).keys
                if len(kind.expressions) != 1 or keys is None:
                    return None
                return _format_path([*source, *keys, *rest])
            if not isinstance(kind, Nested):
                return None
            if kind.each is not None:
                keys = compile_expression(kind.each).keys
                if keys is None or kind.where is not None:
                    return None
                source += keys
                if rest and isinstance(rest[0], int):
                    source.append(rest.pop(0))
            fields = kind.fields
        return _format_path(source) or None


def _expression_of(spec_field: Field | None) -> str | None:
    if spec_field is not None and isinstance(spec_field.kind, From):
        return ", ".join(spec_field.kind.expressions)
    return None


def _format_path(path: Any) -> str:
    text = ""
    for part in path:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else str(part))
    return text


def _error_order(error: ValidationError) -> tuple[int, str]:
    return (len(error.absolute_path), _format_path(error.absolute_path))


def _describe(error: ValidationError) -> str:
    where = _format_path(error.absolute_path) or "(top level)"
    message = error.message if len(error.message) <= 160 else error.message[:157] + "..."
    return f"{where}: {message}"


def _generate(spec: MappingSpec, registry: Registry) -> FastBuilder | None:
    """The generated builder, or None (the reference evaluator alone) for a mapping nested
    deeper than Python can compile."""
    try:
        return generate(spec, registry)
    except Unsupported:
        return None
