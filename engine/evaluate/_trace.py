"""Tracing: what happened to every target field while a mapping ran.

``CompiledMapping.trace(source, context)`` runs the traced variant of the mapping's generated
function, which reports to a ``Recorder``, and returns a ``Trace``: for every output field,
the expression, the source paths read, which fallback fired, which plugin produced it, and
the fields omitted as absent with the reason. A failed mapping still gives the trace up to
the failure.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import jmespath
from fulfillmap.evaluate._runtime import found, why_absent
from fulfillmap.language._expressions import MISSING, compile_expression, read_paths
from fulfillmap.language._spec import Computed, Constant, Field, From, Nested, Scope
from fulfillmap.paths import format_path, truncate

if TYPE_CHECKING:
    from fulfillmap.errors import MappingError
    from fulfillmap.evaluate._rules import Violation
    from fulfillmap.language._spec import Rule

__all__ = ["Attempt", "FieldStep", "Recorder", "RuleCheck", "Trace"]


@dataclass(frozen=True, slots=True)
class Attempt:
    """One expression tried for a field: what it read and what it found there."""

    expression: str
    reads: tuple[str, ...]  #: source paths, with indices (``items[1].tax.amount``)
    found: str  #: ``value``, ``null``, ``missing`` or ``not reached``


@dataclass(frozen=True, slots=True)
class FieldStep:
    """What one target field became."""

    field: Field
    target: str  #: the target path with indices, e.g. ``items[1].tax.amount``
    outcome: str  #: ``value``, ``default``, ``constant``, ``omitted``, ``skipped`` or ``failed``
    value: Any = None
    expression: str | None = None  #: the expression whose value was used
    fallback: int | None = None  #: which of several ``from`` expressions fired (0-based)
    attempts: tuple[Attempt, ...] = ()
    plugin: str | None = None
    reason: str = ""  #: why a field was omitted, skipped or failed

    @property
    def location(self) -> str:
        return str(self.field.location)

    def describe(self) -> str:
        """One line for people: the target, what it became and why (no location)."""
        target = self.target
        if self.outcome == "value" and isinstance(self.field.kind, Nested):
            return f"{target} = {_shape(self.value)}"
        if self.outcome == "value":
            return f"{target} = {truncate(self.value)}{self._source()}"
        if self.outcome == "constant":
            return f"{target} = {truncate(self.value)}  (constant)"
        if self.outcome == "default":
            return f"{target} = {truncate(self.value)}  (default: {_tried(self.attempts)})"
        reason = self.reason.removeprefix("absent: ")
        label = "FAILED" if self.outcome == "failed" else self.outcome
        failed = self.outcome == "failed" and self.attempts
        tried = f"; tried {_tried(self.attempts)}" if failed else ""
        plugin = f"  [plugin {self.plugin}]" if self.plugin else ""
        return f"{target}: {label} ({reason}{tried}){plugin}"

    def _source(self) -> str:
        if self.plugin:
            return f"  [plugin {self.plugin}]"
        if self.expression is None:
            return ""
        text = f"  <- {self.expression}"
        fired = self.attempts[self.fallback or 0] if self.attempts else None
        if fired is not None and fired.reads != (fired.expression,) and fired.reads:
            text += f" (reads {', '.join(fired.reads)})"
        if self.fallback:
            earlier = ", ".join(_state(a) for a in self.attempts[: self.fallback])
            text += f" (fallback {self.fallback + 1} of {len(self.attempts)}; {earlier})"
        return text


def _tried(attempts: tuple[Attempt, ...]) -> str:
    return ", ".join(_state(a) for a in attempts) or "no value"


def _state(attempt: Attempt) -> str:
    reads = ", ".join(attempt.reads) or attempt.expression
    return f"{reads} is {attempt.found}"


def _shape(value: Any) -> str:
    if isinstance(value, list):
        return f"[{len(value)} element{'s' if len(value) != 1 else ''}]"
    if isinstance(value, dict):
        return f"{{{len(value)} key{'s' if len(value) != 1 else ''}}}"
    return truncate(value)


@dataclass(frozen=True, slots=True)
class RuleCheck:
    """One rule evaluated on one document, and where it was not true (if anywhere)."""

    rule: Rule
    violations: tuple[Violation, ...]

    @property
    def passed(self) -> bool:
        return not self.violations


@dataclass(frozen=True, slots=True)
class Trace:
    """The trace of one run: field steps in evaluation order, rule results, the outcome."""

    mapping: str
    steps: tuple[FieldStep, ...]
    violations: tuple[Violation, ...]  #: of ``warn`` rules
    body: dict[str, Any] | None
    error: MappingError | None
    rules: tuple[RuleCheck, ...] = ()  #: every rule evaluated, in order, passed or not


class Recorder:
    """Collects field steps during one traced run. Not shared between runs or threads."""

    def __init__(self, options: jmespath.Options) -> None:
        self.options = options
        self.steps: list[FieldStep] = []
        self.rules: list[RuleCheck] = []
        self._frames: list[tuple[list[str | int], int, Scope]] = []
        self._raw: tuple[Field, Any, Any] | None = None
        #: the values the current field's ``from`` expressions gave, by position
        self._tried: dict[int, Any] = {}

    # -- called by the traced variant of the generated function -------------------------

    def enter(
        self, prefix: tuple[str | int, ...], source_index: int, output_index: int, scope: Scope
    ) -> None:
        """An array field starts mapping one element."""
        self._frames.append(([*prefix, source_index], output_index, scope))

    def leave(self) -> None:
        self._frames.pop()

    def checked(self, rule: Rule, violations: list[Violation]) -> None:
        """A rule was evaluated (a failed ``error`` rule is recorded before it stops the run)."""
        self.rules.append(RuleCheck(rule, tuple(violations)))

    def skipped(self, field: Field, source_index: int, where: str) -> None:
        """An element was left out by the array field's ``where`` filter."""
        del source_index  # the element's frame, entered by the loop, already holds it
        source = self._source_prefix(Scope.CURRENT)
        self.steps.append(
            FieldStep(
                field,
                self._target(field.target_path),
                "skipped",
                expression=where,
                reason=f"{format_path(source)} left out: `{where}` is not true",
            )
        )

    def tried(self, position: int, value: Any) -> None:
        """The ``from`` expression at ``position`` gave ``value`` (None: null or missing)."""
        self._tried[position] = value

    def raw(self, field: Field, data: Any, value: Any) -> None:
        """The field's value before its absence policy (default, required) applied: None
        (or an empty nested object) is absent."""
        kind = field.kind
        if value is None or (isinstance(kind, Nested) and kind.each is None and not value):
            value = MISSING
        self._raw = (field, data, value)

    def done(self, field: Field, value: Any) -> None:
        """The field's stored value (``MISSING`` when omitted)."""
        raw = self._raw if self._raw is not None and self._raw[0] is field else None
        self._raw = None
        data, found = (raw[1], raw[2]) if raw else (None, value)
        self.steps.append(self._step(field, data, found, value))
        self._tried = {}

    def failed(self, field: Field, failure: Exception) -> None:
        if getattr(failure, "traced", False):
            return
        failure.traced = True  # type: ignore[attr-defined]
        raw = self._raw if self._raw is not None and self._raw[0] is field else None
        self._raw = None
        kind = field.kind
        attempts = self._attempts(field, raw[1]) if raw and isinstance(kind, From) else ()
        plugin = kind.plugin if isinstance(kind, Computed) else None
        reason = getattr(failure, "reason", str(failure))
        target = self._target(field.target_path)
        self.steps.append(
            FieldStep(field, target, "failed", attempts=attempts, plugin=plugin, reason=reason)
        )
        self._tried = {}

    # -- building steps -----------------------------------------------------------------

    def _step(self, field: Field, data: Any, found: Any, value: Any) -> FieldStep:
        target, kind = self._target(field.target_path), field.kind
        attempts = self._attempts(field, data) if isinstance(kind, From) else ()
        plugin = kind.plugin if isinstance(kind, Computed) else None
        if value is MISSING:
            reason = f"absent: {why_absent(field, data)}"
            return FieldStep(
                field, target, "omitted", attempts=attempts, plugin=plugin, reason=reason
            )
        if found is MISSING:
            return FieldStep(
                field,
                target,
                "default",
                value,
                attempts=attempts,
                plugin=plugin,
                reason="the source value is absent; the default was used",
            )
        if isinstance(kind, Constant):
            return FieldStep(field, target, "constant", value)
        fired = next((i for i, a in enumerate(attempts) if a.found == "value"), None)
        expression = _expression(kind, fired)
        return FieldStep(field, target, "value", value, expression, fired, attempts, plugin)

    def _attempts(self, field: Field, data: Any) -> tuple[Attempt, ...]:
        """What each ``from`` expression gave, as the generated code evaluated it (nothing is
        evaluated again here: plain paths are only looked at, to tell missing from null)."""
        assert isinstance(field.kind, From)
        prefix = self._source_prefix(field.scope)
        attempts: list[Attempt] = []
        for position, text in enumerate(field.kind.expressions):
            expression = compile_expression(text)
            shown = tuple(format_path([*prefix, *keys]) for keys in read_paths(expression))
            if position not in self._tried:
                state = "not reached"
            elif self._tried[position] is not None:
                state = "value"
            elif expression.keys is not None:
                state = found(expression.keys, data)
            else:
                state = "null or missing"
            attempts.append(Attempt(text, shown, state))
        return tuple(attempts)

    def _source_prefix(self, scope: Scope) -> list[str | int]:
        """The path of what a field of ``scope`` reads, in the loops entered so far."""
        current: tuple[str | int, ...] = ()
        for path, _, frame_scope in self._frames:
            current = (*frame_scope.base(current), *path)
        return list(scope.base(current))

    def _target(self, template: str) -> str:
        indices = iter(index for _, index, _ in self._frames)
        return re.sub(r"\[\]", lambda _: f"[{next(indices, '')}]", template)


def _expression(kind: Any, fired: int | None) -> str | None:
    if isinstance(kind, From) and fired is not None:
        return kind.expressions[fired]
    if isinstance(kind, Nested):
        return kind.each
    return None
