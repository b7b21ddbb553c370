"""Rules: named JMESPath checks on the source or the context (before mapping) or on the
result (after).

A failed ``error`` rule stops the mapping; a failed ``warn`` rule is reported beside the
result. Violations name the rule, the message, the data path and the mapping file's line.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import jmespath
from fulfillmap.language._expressions import (
    Expression,
    WrongType,
    compile_expression,
    is_true,
    type_name,
)
from fulfillmap.language._spec import Rule

__all__ = ["CompiledRule", "Violation", "compile_rules"]


@dataclass(frozen=True, slots=True)
class Violation:
    """A rule whose check was not true."""

    rule: str
    message: str
    severity: str  #: ``error`` or ``warn``
    data_path: str  #: where in the checked document (``data.object.items[2]``)
    expression: str
    location: str  #: the rule's ``file:line:column``
    on: str = "source"  #: ``source``, ``context`` or ``result``

    def __str__(self) -> str:
        where = f" at {self.data_path}" if self.data_path else ""
        return f"rule '{self.rule}' ({self.severity}){where}: {self.message}"


@dataclass(frozen=True, slots=True)
class CompiledRule:
    """A rule with its expressions compiled."""

    rule: Rule
    check: Expression
    each: Expression | None
    options: jmespath.Options

    def violations(self, document: Any) -> Iterator[Violation]:
        """Every place in ``document`` where the rule's check is not true."""
        if self.each is None:
            yield from self._check(document, "")
            return
        prefix = self.rule.each or ""
        try:
            elements = self.each.search(document, self.options)
        except WrongType as exc:  # e.g. `data: false` where data.object.items is read
            where = ".".join(exc.keys)
            yield self._violation(where, f"expected an object, got {type_name(exc.value)}")
            return
        if elements is None:
            return
        if not isinstance(elements, list):
            yield self._violation(prefix, f"expected an array, got {type_name(elements)}")
            return
        for index, element in enumerate(elements):
            yield from self._check(element, f"{prefix}[{index}]")

    def _check(self, data: Any, path: str) -> Iterator[Violation]:
        try:
            passed = is_true(self.check.search(data, self.options))
        except Exception as exc:  # a check that cannot run has not passed
            yield self._violation(path, f"{self.rule.message} (the check failed to run: {exc})")
            return
        if not passed:
            yield self._violation(path, self.rule.message)

    def _violation(self, path: str, message: str) -> Violation:
        rule = self.rule
        if rule.on == "context":  # a path in the context, not in the input
            path = f"context.{path}" if path else "context"
        return Violation(
            rule.name, message, rule.severity, path, rule.check, str(rule.location), rule.on
        )


def compile_rules(rules: tuple[Rule, ...], options: jmespath.Options) -> tuple[CompiledRule, ...]:
    """Compile every rule's expressions once."""
    return tuple(
        CompiledRule(
            rule,
            compile_expression(rule.check),
            compile_expression(rule.each) if rule.each is not None else None,
            options,
        )
        for rule in rules
    )
