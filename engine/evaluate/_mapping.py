"""Stage 4, apply: the compiled mapping, and ``load`` which runs the whole pipeline.

load(name or path) -> parse_yaml -> validate_document -> build_spec -> CompiledMapping,
which generates its Python function (``_codegen``) on first use; or, when the compiled-mapping
cache (``_cache``) holds it unchanged, the cached mapping and its function, without importing
YAML, the checks, the plugin registry or the generator.
"""

from __future__ import annotations

import os
import re
import sys
import warnings
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from functools import cached_property, partial
from typing import TYPE_CHECKING, Any

from fulfillmap._types import JSON
from fulfillmap.errors import FulfillmapWarning, MappingError
from fulfillmap.evaluate import _cache
from fulfillmap.evaluate._rules import Violation
from fulfillmap.evaluate._runtime import (
    MAX_VALUES,
    Failure,
    Program,
    RuleFailed,
    RuleOrder,
    Stop,
)
from fulfillmap.evaluate._target import TargetCheck
from fulfillmap.language._expressions import type_name
from fulfillmap.paths import excerpt, format_path

if TYPE_CHECKING:
    from pathlib import Path

    import pluggy
    from fulfillmap.evaluate._trace import Recorder, Trace
    from fulfillmap.language._resources import MappingSource
    from fulfillmap.language._spec import MappingSpec
    from fulfillmap.plugins._registry import Registry

__all__ = ["CompiledMapping", "Result", "load", "load_source"]

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

    With the installed plugins (no ``plugins``), the compiled mapping is cached (see
    ``_cache``): a later process loads it from there while nothing it was built from changed.
    """
    key = _cache.key(name_or_path, max_values) if plugins is None else None
    found = _cache.read(key) if key is not None else None
    if found is not None:
        cached, stored = found
        spec, source, target = cached.spec, cached.source_schema, cached.target_schema
        return CompiledMapping(
            spec, source, target, max_values=max_values, compiled=cached.program, stored=stored
        )
    from fulfillmap.language._resources import find_mapping, recording

    with recording() as files:  # what the cache keys on: every file this load reads
        mapping = load_source(find_mapping(name_or_path), plugins=plugins, max_values=max_values)
    if key is not None and not mapping.registry.broken:  # (a broken plugin warns every time)
        schemas = (mapping.source_schema, mapping.target_schema)
        entry = _cache.Entry(mapping.spec, *schemas, None)  # its program: when first generated
        written = _cache.write(key, entry, {**files, **_plugin_files(mapping.registry)})
        if written is not None:
            mapping = replace(mapping, stored=written)
    return mapping


def load_source(
    source: MappingSource,
    *,
    plugins: pluggy.PluginManager | None = None,
    max_values: int = MAX_VALUES,
) -> CompiledMapping:
    """``load`` for a mapping's text (``source.text``; e.g. an editor's) instead of its file:
    ``source.file`` names it in problems and errors, ``source.directory`` is where its
    relative schemas are. Never cached."""
    from fulfillmap.evaluate._codegen import check_depth
    from fulfillmap.language._checks import validate_document
    from fulfillmap.language._loader import parse_yaml
    from fulfillmap.language._spec import build_spec
    from fulfillmap.plugins._registry import default_registry, registry_for

    document = parse_yaml(source.text, source.file, source.directory)
    registry = default_registry() if plugins is None else registry_for(plugins)
    schemas = validate_document(document, registry)
    spec = build_spec(document)
    check_depth(spec)
    return CompiledMapping(spec, schemas.source, schemas.target, registry, max_values)


def _plugin_files(registry: Registry) -> dict[str, str]:
    """The source of the plugins' modules (path -> text), which the cache also keys on."""
    files: dict[str, str] = {}
    for name in _plugin_modules(registry):
        path = getattr(sys.modules.get(name), "__file__", None)
        if path is None:
            files[f"<module {name} has no file>"] = ""  # never a file: never cached
            continue
        try:
            with open(path, "rb") as file:  # newlines as they are, as the cache reads it
                files[os.path.abspath(path)] = file.read().decode("utf-8")
        except (OSError, UnicodeDecodeError):
            files[f"<cannot read {path}>"] = ""
    return files


def _plugin_modules(registry: Registry) -> list[str]:
    """The modules that implement the hooks and define the functions, and every module
    loaded now from the same top-level package as one of them, with a Python source file
    (``qaplug.impl`` beside ``qaplug.hooks``): a table of functions in a helper module is
    what the plugin provides, too. fulfillmap's own are keyed on as its installed files."""
    packages = {name.partition(".")[0] for name in registry.modules} - {"fulfillmap"}
    helpers = [
        name
        for name, module in list(sys.modules.items())
        if name.partition(".")[0] in packages
        and str(getattr(module, "__file__", None) or "").endswith(".py")
    ]
    return sorted({*registry.modules, *helpers})


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
    #: the plugins' fields and functions; None: every installed plugin's, gathered when first
    #: needed (a mapping from the cache needs them only to trace)
    plugins: Registry | None = field(default=None, repr=False)
    max_values: int = field(default=MAX_VALUES, repr=False)
    #: the generated function, when it comes from the cache
    compiled: Program | None = field(default=None, repr=False)
    #: the compiled-mapping cache's file of this mapping (read or written by ``load``), to
    #: which the generated function is added when it is first generated
    stored: _cache.Stored | None = field(default=None, repr=False)

    @cached_property
    def registry(self) -> Registry:
        """The plugins' fields and functions this mapping was checked and compiled with."""
        if self.plugins is not None:
            return self.plugins
        from fulfillmap.plugins._registry import default_registry

        return default_registry()

    @cached_property
    def _program(self) -> Program:
        if self.compiled is not None:
            return self.compiled
        from fulfillmap.evaluate._codegen import generate

        program = generate(self.spec, self.registry, max_values=self.max_values)
        if self.stored is not None and not self.registry.broken:
            entry = _cache.Entry(self.spec, self.source_schema, self.target_schema, program)
            _cache.complete(self.stored, entry)
        return program

    @cached_property
    def _build(self) -> Callable[..., tuple[dict[str, Any], list[Violation]]]:
        return self._program.build

    @cached_property
    def _traced(self) -> Program:
        from fulfillmap.evaluate._codegen import generate

        return generate(self.spec, self.registry, traced=True, max_values=self.max_values)

    @cached_property
    def _loop_rules(self) -> tuple[tuple[str, ...], Program, RuleOrder] | None:
        """The names of the warn rules the generated function checks in an array field's
        loop, the function that checks them alone, and the order the generated function
        reports warnings in (None: no such rule)."""
        from fulfillmap.evaluate._codegen import fused_source_rules, generate, rule_order

        rules = fused_source_rules(self.spec)
        if not rules:
            return None
        program = generate(self.spec, self.registry, max_values=self.max_values, rules=rules)
        return tuple(rule.name for rule in rules), program, rule_order(self.spec)

    def _every_warning(self, stop: Stop, source: Any, context: Any) -> tuple[Violation, ...]:
        """The warnings found before ``stop``, with all those of the rules checked in an
        array field's loop, which it may have left before the loop ended (or never entered):
        those rules are checked again on their own, as if no rule had been fused."""
        if self._loop_rules is None:
            return tuple(stop.warnings)
        names, program, order = self._loop_rules
        try:
            _, found = program.build(source, context)
        except Stop:  # warn rules report what they cannot check: not expected
            return tuple(stop.warnings)
        kept = [violation for violation in stop.warnings if violation.rule not in names]
        return tuple(sorted([*kept, *found], key=order))

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
        try:
            body, warnings = self._run(source, context, validate)
        except MappingError as error:  # the warnings found before it are issued too
            _warn(error.warnings)
            raise
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
            stop.warnings = self._every_warning(stop, source, context)
            error = self._error(stop)
            error.explain_with(partial(self._explain, error, source, context, validate))
            raise error from stop.__cause__
        except RecursionError:
            raise MappingError(
                "the input is nested too deeply to copy", mapping=self.name
            ) from None
        if validate:
            try:
                self._validate(body, source, context)
            except MappingError as error:  # the target schema's: with the warnings found
                error.warnings = tuple(warnings)
                raise
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
            error, warnings = exc, exc.warnings
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
            try:
                self.check(body)
            except MappingError as error:
                error.warnings = tuple(warnings)
                raise
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

    def _stopped(self, stop: Stop) -> MappingError:
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

    def _error(self, stop: Stop) -> MappingError:
        """The ``MappingError`` of ``stop``, with the warnings found before it."""
        error = self._stopped(stop)
        error.warnings = tuple(stop.warnings)
        return error


def _warn(violations: Sequence[Violation]) -> None:
    for violation in violations:
        warnings.warn(FulfillmapWarning(violation), stacklevel=3)
