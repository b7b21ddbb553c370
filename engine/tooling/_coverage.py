"""Mapping coverage: which branches of a mapping the test cases exercised.

A mapping's branches, and when a run exercises each (seen in ``CompiledMapping.trace``):

- every field: ``value``, it produced a value (a constant counts when written);
- a field with several ``from`` expressions: one branch per expression instead of
  ``value``, exercised when that expression gave the value (the fallback fired);
- an optional field without a default: ``omitted``, it was absent and left out, so that
  some case shows what happens without it;
- a field with a ``default``: ``default``, the default was used;
- an array field with ``where``: ``kept`` (an element passed the filter) and ``skipped``
  (an element was left out), instead of ``value``;
- every rule: ``passed`` (evaluated without a violation) and ``failed`` (a violation,
  whether the rule warns or stops the mapping).

Required fields have no ``omitted`` branch: their absence is an error, tested as such if
wanted. Runs that fail count up to the failure, like the trace.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from dataclasses import dataclass, field

from fulfillmap.evaluate._mapping import CompiledMapping
from fulfillmap.evaluate._trace import Trace
from fulfillmap.language._spec import Constant, Field, From, Nested, Rule, walk_fields

__all__ = ["Branch", "Coverage", "MappingCoverage", "format_coverage", "percent", "total_percent"]

#: (what, branch): ("field", spec path) or ("rule", name), and the branch's name
_Key = tuple[tuple[str, object], str]


@dataclass(frozen=True, slots=True)
class Branch:
    """One thing a test case can exercise."""

    location: str  #: the mapping's ``file:line:column`` for the field or rule
    subject: str  #: ``items[].upstreamId`` or ``rule 'positive-quantity'``
    name: str  #: ``value``, ``from[1]``, ``omitted``, ``default``, ``kept``, ``skipped``, ...
    missing: str  #: what no case did, e.g. ``never seen absent``
    covered: bool

    def __str__(self) -> str:
        return f"{self.location}: {self.subject}: {self.missing}"


@dataclass(frozen=True, slots=True)
class MappingCoverage:
    """The branches of one mapping, covered or not, in file order."""

    mapping: str
    file: str
    branches: tuple[Branch, ...]

    @property
    def covered(self) -> int:
        return sum(branch.covered for branch in self.branches)

    @property
    def uncovered(self) -> tuple[Branch, ...]:
        return tuple(branch for branch in self.branches if not branch.covered)

    @property
    def percent(self) -> float:
        return percent(self.covered, len(self.branches))


@dataclass
class Coverage:
    """Gathers the branches exercised by traced runs, per mapping."""

    _mappings: dict[str, CompiledMapping] = field(default_factory=dict)
    _seen: dict[str, set[_Key]] = field(default_factory=dict)

    def add(self, mapping: CompiledMapping, trace: Trace) -> None:
        """Count what one traced run of ``mapping`` exercised."""
        self._mappings.setdefault(mapping.spec.file, mapping)
        self._seen.setdefault(mapping.spec.file, set()).update(_exercised(trace))

    def report(self) -> list[MappingCoverage]:
        """Every mapping that ran, sorted by file."""
        return [
            _mapping_coverage(self._mappings[file], self._seen[file])
            for file in sorted(self._mappings)
        ]


def percent(covered: int, total: int) -> float:
    """A percentage rounded down to one decimal, so that only full coverage shows 100."""
    return 100.0 if total == 0 else math.floor(covered * 1000 / total) / 10


def _mapping_coverage(mapping: CompiledMapping, seen: set[_Key]) -> MappingCoverage:
    spec = mapping.spec
    fields = (branch for f in walk_fields(spec.fields) for branch in _field_branches(f, seen))
    rules = (branch for rule in spec.rules for branch in _rule_branches(rule, seen))
    return MappingCoverage(spec.name, spec.file, (*fields, *rules))


def _field_branches(spec_field: Field, seen: set[_Key]) -> Iterator[Branch]:
    kind, subject = spec_field.kind, spec_field.target_path

    def branch(name: str, missing: str) -> Branch:
        key = (("field", spec_field.spec_path), name)
        return Branch(str(spec_field.location), subject, name, missing, key in seen)

    if isinstance(kind, From) and len(kind.expressions) > 1:
        count = len(kind.expressions)
        for index, text in enumerate(kind.expressions):
            ordinal = f"expression {index + 1} of {count}"
            yield branch(f"from[{index}]", f"`{text}` ({ordinal}) never gave the value")
    elif isinstance(kind, Nested) and kind.where is not None:
        yield branch("kept", f"`where: {kind.where}` never kept an element")
        yield branch("skipped", f"`where: {kind.where}` never left an element out")
    else:
        yield branch("value", "never produced a value")
    if spec_field.has_default:
        yield branch("default", "the default was never used")
    elif not spec_field.required and not isinstance(kind, Constant):
        yield branch("omitted", "never seen absent (no case leaves it out)")


def _rule_branches(rule: Rule, seen: set[_Key]) -> Iterator[Branch]:
    for name in ("passed", "failed"):
        covered = (("rule", rule.name), name) in seen
        yield Branch(str(rule.location), f"rule '{rule.name}'", name, f"never {name}", covered)


def _exercised(trace: Trace) -> Iterator[_Key]:
    for step in trace.steps:
        kind = step.field.kind
        key = ("field", step.field.spec_path)
        if step.outcome in ("value", "constant"):
            yield key, "value"
            if isinstance(kind, From) and step.fallback is not None:
                yield key, f"from[{step.fallback}]"
            if isinstance(kind, Nested) and step.value:
                yield key, "kept"
        elif step.outcome in ("default", "omitted", "skipped"):
            yield key, step.outcome
    for check in trace.rules:
        yield ("rule", check.rule.name), "passed" if check.passed else "failed"


def format_coverage(report: list[MappingCoverage], *, details: bool) -> list[str]:
    """A summary line, then (with ``details``) each mapping's uncovered branches; nothing
    when no mapping ran."""
    if not report:
        return []
    covered, total = _totals(report)
    lines = [f"coverage: {covered} of {total} branches ({percent(covered, total):g}%)"]
    for mapping in report if details else ():
        count = f"{mapping.covered} of {len(mapping.branches)} ({mapping.percent:g}%)"
        lines.append(f"  {mapping.mapping} ({mapping.file}): {count}")
        lines += (f"    {branch}" for branch in mapping.uncovered)
    return lines


def total_percent(report: list[MappingCoverage]) -> float:
    """The share of every mapping's branches covered, rounded down."""
    return percent(*_totals(report))


def _totals(report: list[MappingCoverage]) -> tuple[int, int]:
    return sum(m.covered for m in report), sum(len(m.branches) for m in report)
