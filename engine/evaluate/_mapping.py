"""Stage 4, apply: the compiled mapping, and ``load`` which runs the whole pipeline.

load(name or path) -> parse_yaml -> validate_document -> build_spec -> CompiledMapping,
which generates its Python function (``_codegen``) on first use.
"""

from __future__ import annotations

import re
import warnings
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import cached_property, partial
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pluggy
from fulfillmap._types import JSON
from fulfillmap.errors import FulfillmapWarning, MappingError
from fulfillmap.evaluate._codegen import Program, check_depth, generate
from fulfillmap.evaluate._rules import Violation
from fulfillmap.evaluate._runtime import MAX_VALUES, Failure, RuleFailed, Stop
from fulfillmap.evaluate._target import TargetCheck
from fulfillmap.language._checks import validate_document
from fulfillmap.language._expressions import type_name
from fulfillmap.language._loader import parse_yaml
from fulfillmap.language._resources import find_mapping
from fulfillmap.language._spec import (
    MappingSpec,
    build_spec,
)
from fulfillmap.paths import excerpt, format_path
from fulfillmap.plugins._registry import Registry, default_registry, registry_for

if TYPE_CHECKING:
    from fulfillmap.evaluate._trace import Recorder, Trace

__all__ = ["CompiledMapping", "Result", "load"]

_MAX_ERRORS = 10


def load(
    name_or_path: str | Path,
    *,
    plugins: pluggy.PluginManager | None = None,
    max_values: int = MAX_VALUES,
) -> CompiledMapping:
    """Load, validate and compile a mapping: a shipped one by name, or a YAML file by path.

    ``plugins`` is the plugin manager to take computed fields and functions from (default:
    every installed plugin). ``max_values`` bounds what one field may produce from a JMESPath
    expression or a plugin (values counted as copied: an expression such as ``[a, a]``
    nested 20 times shares its parts, and would copy into millions). Raises ``SpecError``
    listing every problem of an invalid file.
    """
    source = find_mapping(name_or_path)
    document = parse_yaml(source.text, source.file, source.directory)
    registry = default_registry() if plugins is None else registry_for(plugins)
    schemas = validate_document(document, registry)
    spec = build_spec(document)
    check_depth(spec)
    return CompiledMapping(spec, schemas.source, schemas.target, registry, max_values)


@dataclass(frozen=True, slots=True)
class Result:
    """What ``CompiledMapping.apply_with_warnings`` produces: the body, and the violations
    of ``warn`` rules (in rule order)."""

    body: dict[str, JSON]
    warnings: tuple[Violation, ...] = ()


@dataclass(frozen=True, eq=False)
class CompiledMapping:
    """A mapping ready to apply. Immutable and safe to share between threads.

    Loading checks everything; the generated function (and its traced variant, and the
    target-schema validator) is built on first use, so that a service which loads many
    mappings pays only for those it applies. ``apply``, ``apply_with_warnings`` and ``trace``
    all run that one generated function.
    """

    spec: MappingSpec
    source_schema: Mapping[str, Any] = field(repr=False)
    target_schema: Mapping[str, Any] = field(repr=False)
    registry: Registry = field(repr=False)
    max_values: int = field(default=MAX_VALUES, repr=False)

    @cached_property
    def _program(self) -> Program:
        return generate(self.spec, self.registry, max_values=self.max_values)

    @cached_property
    def _build(self) -> Callable[..., tuple[dict[str, Any], list[Violation]]]:
        return self._program.build

    @cached_property
    def _traced(self) -> Program:
        return generate(self.spec, self.registry, traced=True, max_values=self.max_values)

    @cached_property
    def _target(self) -> TargetCheck:
        return TargetCheck(self.spec, self.target_schema)

    @property
    def name(self) -> str:
        return self.spec.name

    @property
    def source_code(self) -> str:
        """The Python source of the generated function (for the curious; never edit it)."""
        return self._program.source

    def apply(
        self, source: JSON, context: Mapping[str, JSON] | None = None, *, validate: bool = True
    ) -> dict[str, JSON]:
        """Map ``source`` to a new target document.

        ``context`` holds what the source lacks (e.g. the persisted ``shippingQuote``).
        Absent optional fields are omitted; the result is validated against the target
        schema unless ``validate=False``. Raises ``MappingError`` saying where and why.
        The violations of ``warn`` rules are issued as ``FulfillmapWarning``s through
        Python's ``warnings`` (``apply_with_warnings`` returns them instead).
        """
        body, warnings = self._run(source, context, validate)
        if warnings:
            _warn(warnings)
        return body

    def apply_with_warnings(
        self, source: JSON, context: Mapping[str, JSON] | None = None, *, validate: bool = True
    ) -> Result:
        """Like ``apply``, and return the violations of ``warn`` rules beside the body
        (as ``Result.warnings``) instead of issuing them: for services that log or act on
        them. A ``MappingError`` carries the trace up to the failure (``error.trace``,
        shown by ``error.details()``), computed when first asked for."""
        body, warnings = self._run(source, context, validate)
        return Result(body, tuple(warnings))

    def _run(
        self, source: Any, context: Mapping[str, Any] | None, validate: bool
    ) -> tuple[dict[str, Any], list[Violation]]:
        if source.__class__ is not dict or context.__class__ is not dict:
            context = self._check_input(source, context)
        try:
            body, warnings = self._build(source, context)
        except Stop as stop:
            error = self._error(stop)
            error.explain_with(partial(self._explain, error, source, context, validate))
            raise error from stop.__cause__
        except RecursionError:
            raise MappingError(
                "the input is nested too deeply to copy", mapping=self.name
            ) from None
        if validate:
            self._validate(body, source, context)
        return body, warnings

    #: the former name of ``apply_with_warnings``, kept for compatibility
    run = apply_with_warnings

    def trace(
        self, source: JSON, context: Mapping[str, JSON] | None = None, *, validate: bool = True
    ) -> Trace:
        """Run the mapping while recording what every field read and produced.

        Never raises ``MappingError``: a failure is returned as ``Trace.error``, with the
        steps recorded up to it. Slower than ``apply``; meant for people, not pipelines.
        It runs the traced variant of the same generated function, so plugins are called
        exactly as by ``apply``: once per field evaluation.
        """
        from fulfillmap.evaluate._trace import (  # tracing is for people: imported when used
            Recorder,
            Trace,
        )

        recorder = Recorder(self.registry.options)
        body: dict[str, Any] | None = None
        error: MappingError | None = None
        warnings: tuple[Violation, ...] = ()
        try:
            body, warnings = self._traced_run(source, context, recorder, validate)
        except MappingError as exc:
            error = exc
            explained = (tuple(recorder.steps), excerpt(source, context, exc.data_path))
            exc.explain_with(lambda: explained)
        steps, rules = tuple(recorder.steps), tuple(recorder.rules)
        return Trace(self.name, steps, warnings, body, error, rules)

    def _traced_run(
        self, source: Any, context: Mapping[str, Any] | None, recorder: Recorder, validate: bool
    ) -> tuple[dict[str, Any], tuple[Violation, ...]]:
        checked = self._check_input(source, context)
        try:
            body, warnings = self._traced.build(source, checked, recorder)
        except Stop as stop:
            raise self._error(stop) from stop.__cause__
        except RecursionError:
            raise MappingError(
                "the input is nested too deeply to copy", mapping=self.name
            ) from None
        if validate:
            self.check(body)
        return body, tuple(warnings)

    def _check_input(self, source: Any, context: Mapping[str, Any] | None) -> dict[str, Any]:
        """The context as a dict; a ``MappingError`` for an input that is not an object."""
        if not isinstance(source, dict):
            raise MappingError(
                f"the input must be a JSON object ({self.spec.source.name}), "
                f"not {type_name(source)}",
                mapping=self.name,
            )
        if context is None:
            return {}
        if not isinstance(context, Mapping):
            raise MappingError(
                f"the context must be a JSON object, not {type_name(context)}", mapping=self.name
            )
        return context if isinstance(context, dict) else dict(context)

    def _validate(self, body: Any, source: Any, context: Mapping[str, Any] | None) -> None:
        try:
            self.check(body)
        except MappingError as error:
            error.explain_with(partial(self._explain, error, source, context, True))
            raise

    # -- error reporting (never on the success path) ------------------------------------

    def check(self, result: JSON) -> None:
        """Validate a result against the target schema; raise ``MappingError`` if invalid."""
        self._target.check(result)

    def _explain(
        self,
        error: MappingError,
        source: Any,
        context: Mapping[str, Any] | None,
        validate: bool,
    ) -> tuple[tuple[Any, ...], str]:
        """The trace up to ``error`` (the traced variant run on the same input) and the
        input at its data path: computed when ``error.trace`` or ``error.data`` is read."""
        data = excerpt(source, context, error.data_path)
        return self.trace(source, context, validate=validate).steps, data

    def _error(self, stop: Stop) -> MappingError:
        if isinstance(stop, RuleFailed):
            violation = stop.violation
            in_result = violation.on == "result"
            return MappingError(
                violation.message,
                mapping=self.name,
                rule=violation.rule,
                expression=violation.expression,
                field=(violation.data_path or None) if in_result else None,
                data_path=None if in_result else (violation.data_path or None),
                location=violation.location,
            )
        assert isinstance(stop, Failure)
        indices = iter(reversed(stop.indices))
        target = re.sub(r"\[\]", lambda _: f"[{next(indices, '')}]", stop.field.target_path)
        return MappingError(
            stop.reason,
            mapping=self.name,
            field=target,
            expression=stop.expression,
            data_path=format_path(stop.data_path) or None,
            location=str(stop.field.location),
            plugin=stop.plugin,
        )


def _warn(violations: Sequence[Violation]) -> None:
    for violation in violations:
        warnings.warn(FulfillmapWarning(violation), stacklevel=3)
