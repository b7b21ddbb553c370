"""Mapping tests: YAML files of cases that run a mapping and check what it makes.

A test file is named ``NAME.fmtest.yaml`` and follows ``mapping-test.schema.json``::

    mapping: order-to-fulfillment-order      # a shipped name, or a path relative to this file
    cases:
      - name: sparse-order
        input: {id: "1", currency: usd, ...}  # or inputFile: payloads/sparse.json
        context: {shippingQuote: {...}}       # optional; or contextFile
        expect:
          contains: {currency: USD}           # or output (exact), outputFile, or error
      - name: no-currency
        input: {...}
        expect:
          error: {field: currency, message: required value is absent}

``load_cases`` reads and checks a file: a broken one raises ``SpecError`` with every problem
at its file:line:col, as a broken mapping does. ``Session.run`` runs one case (traced, so
that coverage can be counted) and returns a ``CaseResult``: what differs, and for each
difference the mapping field that produced the value and its file:line.
"""

from __future__ import annotations

import os
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pluggy
from fulfillmap.errors import FulfillmapError, Problem, SpecError
from fulfillmap.evaluate._mapping import CompiledMapping, load
from fulfillmap.evaluate._rules import Violation
from fulfillmap.evaluate._trace import FieldStep, Trace
from fulfillmap.language._checks import schema_problems
from fulfillmap.language._expressions import MISSING
from fulfillmap.language._jsonio import parse_json
from fulfillmap.language._limits import limits
from fulfillmap.language._loader import Document, SpecPath, parse_yaml
from fulfillmap.language._resources import (
    PACKAGED_PREFIX,
    TEST_SUFFIX,
    MappingSource,
    confined,
    is_mapping_path,
    read_bounded,
    read_file,
    read_schema,
)
from fulfillmap.language._spec import Computed, From, Location, Nested
from fulfillmap.paths import truncate
from fulfillmap.tooling._coverage import Coverage
from fulfillmap.tooling._jsondiff import Difference, differences, show

__all__ = [
    "TEST_SUFFIX",
    "Case",
    "CaseFile",
    "CaseResult",
    "ExpectedError",
    "Session",
    "find_case_files",
    "load_cases",
    "parse_cases",
]

_SCHEMA = f"{PACKAGED_PREFIX}mapping-test.schema.json"
_CHECKS = ("output", "outputFile", "contains", "error")
#: folders never searched for test files (as pytest's ``norecursedirs``)
_SKIPPED_FOLDERS = frozenset({"build", "dist", "node_modules", "venv", "__pycache__"})
_SHOWN_SKIPS = 3  #: elements left out by ``where`` named under a difference


@dataclass(frozen=True, slots=True)
class ExpectedError:
    """What a case's error must say; ``None`` means not checked."""

    message: str | None = None  #: a substring of the message
    field: str | None = None  #: the failing target field, with indices
    data_path: str | None = None  #: the input path
    rule: str | None = None  #: the failing rule

    def __str__(self) -> str:
        parts = [
            f"{label} '{value}'"
            for label, value in (
                ("rule", self.rule),
                ("field", self.field),
                ("at input path", self.data_path),
                ("with a message containing", self.message),
            )
            if value is not None
        ]
        return ", ".join(parts)


@dataclass(frozen=True)
class Case:
    """One test case: an input, an optional context, and what the mapping must make of them."""

    name: str
    location: Location  #: where the case starts in its test file
    mapping: str  #: a shipped mapping's name, or a mapping file's path
    input: Any
    check: str  #: ``output`` (exact), ``contains`` (a subset) or ``error``
    expected: Any  #: the expected output, or an ``ExpectedError``
    context: Any = None  #: ``None``: no context
    warnings: tuple[str, ...] | None = None  #: the warn rules expected to fire; None: any
    description: str = ""


@dataclass(frozen=True)
class CaseFile:
    """A parsed test file."""

    file: str
    mapping: str
    cases: tuple[Case, ...]
    description: str = ""
    #: where the file names its mapping (``mapping:``): a mapping that cannot load is told there
    mapping_at: Location | None = None


@dataclass(frozen=True)
class CaseResult:
    """What happened when a case ran: its trace, and why it failed (empty when it passed)."""

    case: Case
    trace: Trace
    problems: tuple[str, ...]

    @property
    def passed(self) -> bool:
        return not self.problems

    @property
    def heading(self) -> str:
        """``FILE:LINE:COL: case 'NAME' (mapping 'MAPPING')``."""
        return f"{self.case.location}: case '{self.case.name}' (mapping '{self.trace.mapping}')"

    def details(self) -> str:
        """Why the case failed (empty when it passed)."""
        return "\n".join(self.problems)

    def report(self) -> str:
        """The heading, then why the case failed, indented (empty when it passed)."""
        if self.passed:
            return ""
        body = (f"  {line}" for line in self.details().splitlines())
        return "\n".join([f"{self.heading} failed", *body])


# -- reading test files -----------------------------------------------------------------


def load_cases(path: str | Path) -> CaseFile:
    """Read and check one test file; raise ``SpecError`` listing every problem in it."""
    return parse_cases(read_file(Path(path), "test file"))


def parse_cases(source: MappingSource) -> CaseFile:
    """Check a test file's text; relative paths in it are relative to ``source.directory``."""
    document = parse_yaml(source.text, source.file, source.directory)
    problems = [*document.problems, *schema_problems(document, read_schema(_SCHEMA, None))]
    if problems:
        raise SpecError(problems)
    return _CaseReader(document).read()


def find_case_files(paths: Sequence[str | Path]) -> list[Path]:
    """The test files named, and every ``*.fmtest.yaml`` under the folders named (hidden
    folders, ``build``, ``dist``, ``node_modules`` and virtualenvs are not searched)."""
    found: list[Path] = []
    for path in map(Path, paths):
        if path.is_dir():
            inside = sorted(_search(path))
            if not inside:
                raise FulfillmapError(f"no test files (*{TEST_SUFFIX}) in {path}")
            found += inside
        elif path.exists():
            found.append(path)
        else:
            raise FulfillmapError(f"{path} does not exist")
    return list(dict.fromkeys(found))


def _search(folder: Path) -> Iterator[Path]:
    for root, folders, names in os.walk(folder):
        folders[:] = [name for name in folders if not _skipped(name)]
        yield from (Path(root, name) for name in names if name.endswith(TEST_SUFFIX))


def _skipped(folder: str) -> bool:
    return folder.startswith(".") or folder in _SKIPPED_FOLDERS or folder.endswith(".egg-info")


class _CaseReader:
    """Builds the cases of a schema-valid document, collecting the problems the schema
    cannot see (one of input/inputFile, unreadable files, duplicate names)."""

    def __init__(self, document: Document) -> None:
        self.document = document
        self.problems: list[Problem] = []

    def read(self) -> CaseFile:
        data = self.document.data
        mapping = self._mapping(data["mapping"])
        cases = tuple(self._case(index, case, mapping) for index, case in enumerate(data["cases"]))
        self._unique_names(data["cases"])
        if self.problems:
            raise SpecError(self.problems)
        mark = self.document.mark(("mapping",))
        where = Location(self.document.file, mark.line, mark.column)
        return CaseFile(self.document.file, mapping, cases, data.get("description", ""), where)

    def _mapping(self, reference: str) -> str:
        if not is_mapping_path(reference) or self.document.directory is None:
            return reference
        self._within(("mapping",), reference, "mapping")
        return os.path.normpath(self.document.directory / reference)

    def _within(self, path: SpecPath, name: str, what: str) -> bool:
        """Is the file ``name`` (relative to the test file) inside a folder a test file may
        read: its own, or the current directory (the project's, where the tests are run)?"""
        assert self.document.directory is not None
        try:
            confined(
                name, self.document.directory, what=f"the {what} file", reader="test file", cwd=True
            )
        except FulfillmapError as exc:
            self._problem(path, str(exc))
            return False
        return True

    def _unique_names(self, cases: list[dict[str, Any]]) -> None:
        first: dict[str, int] = {}
        for index, case in enumerate(cases):
            name = case["name"]
            if name in first:
                line = self.document.mark(("cases", first[name])).line
                message = f"another case is already named '{name}' (on line {line})"
                self._problem(("cases", index, "name"), message)
            first.setdefault(name, index)

    def _case(self, index: int, data: dict[str, Any], mapping: str) -> Case:
        path: SpecPath = ("cases", index)
        source = self._value(data, path, "input", "inputFile")
        if source is MISSING:
            self._problem(path, "missing key: give the input inline (input) or as inputFile")
        context = self._value(data, path, "context", "contextFile")
        check, expected = self._expectation(data["expect"], (*path, "expect"))
        warnings = data["expect"].get("warnings")
        mark = self.document.mark(path)
        return Case(
            name=data["name"],
            location=Location(self.document.file, mark.line, mark.column),
            mapping=mapping,
            input=source,
            check=check,
            expected=expected,
            context=None if context is MISSING else context,
            warnings=None if warnings is None else tuple(warnings),
            description=data.get("description", ""),
        )

    def _expectation(self, expect: dict[str, Any], path: SpecPath) -> tuple[str, Any]:
        given = [key for key in _CHECKS if key in expect]
        if len(given) != 1:
            found = f" (found {', '.join(given)})" if given else ""
            choices = f"{', '.join(_CHECKS[:-1])} or {_CHECKS[-1]}"
            self._problem(path, f"give exactly one of {choices}{found}")
            return "output", None
        key = given[0]
        if key == "error":
            if "warnings" in expect:
                self._problem((*path, "warnings"), "a case that expects an error has no warnings")
            error = expect["error"]
            return "error", ExpectedError(
                error.get("message"), error.get("field"), error.get("dataPath"), error.get("rule")
            )
        if key == "outputFile":
            return "output", self._json_file((*path, key), expect[key], "output")
        return key, expect[key]

    def _value(self, data: dict[str, Any], path: SpecPath, inline: str, file_key: str) -> Any:
        if inline in data and file_key in data:
            self._problem((*path, file_key), f"give {inline} or {file_key}, not both", key=True)
        if inline in data:
            return data[inline]
        if file_key in data:
            return self._json_file((*path, file_key), data[file_key], inline)
        return MISSING

    def _json_file(self, path: SpecPath, name: str, what: str) -> Any:
        directory = self.document.directory
        if directory is None:
            self._problem(path, f"the {what} file {name} cannot be found: give it inline")
            return None
        if not self._within(path, name, what):
            return None
        file = directory / name
        try:  # read as map and handle read input: Decimal fractions, no repeated key, ...
            text = read_bounded(file, f"the {what} file", limits().max_input_bytes)
            return parse_json(text, f"the {what} file {file}")
        except FulfillmapError as exc:  # missing, too large, too deep, not valid JSON
            self._problem(path, str(exc))
        return None

    def _problem(self, path: SpecPath, message: str, *, key: bool = False) -> None:
        self.problems.append(self.document.problem(path, message, key=key))


# -- running cases ------------------------------------------------------------------------


@dataclass
class Session:
    """Runs cases, loading each mapping once, and gathers coverage from every run."""

    plugins: pluggy.PluginManager | None = None
    coverage: Coverage = field(default_factory=Coverage)
    _mappings: dict[str, CompiledMapping] = field(default_factory=dict)

    def mapping(self, reference: str) -> CompiledMapping:
        """The mapping a case names; raises ``SpecError`` (or ``FulfillmapError``) if invalid."""
        if reference not in self._mappings:
            self._mappings[reference] = load(reference, plugins=self.plugins)
        return self._mappings[reference]

    def run(self, case: Case) -> CaseResult:
        """Run one case and check its result."""
        mapping = self.mapping(case.mapping)
        trace = mapping.trace(case.input, case.context)
        self.coverage.add(mapping, trace)
        return CaseResult(case, trace, tuple(_check(case, trace)))


def _check(case: Case, trace: Trace) -> Iterator[str]:
    if case.check == "error":
        yield from _check_error(case.expected, trace)
        return
    if trace.error is not None:
        yield f"the mapping failed: {trace.error}"
        return
    found = differences(case.expected, trace.body, subset=case.check == "contains")
    if found:
        yield _describe_differences(found, trace, case.check)
    if case.warnings is not None:
        yield from _check_warnings(case.warnings, trace.violations)


def _describe_differences(found: list[Difference], trace: Trace, check: str) -> str:
    what = "the expected output" if check == "output" else "the expected subset"
    places = "1 place" if len(found) == 1 else f"{len(found)} places"
    lines = [f"the output differs from {what} in {places}:"]
    steps = {step.target: step for step in trace.steps if step.outcome != "skipped"}
    skipped: dict[str, list[str]] = {}
    for step in trace.steps:
        if step.outcome == "skipped":
            skipped.setdefault(step.target, []).append(step.reason)
    for difference in found:
        lines.append(f"  {difference}")
        lines.append(f"      {_provenance(difference.path, steps, skipped)}")
    return "\n".join(lines)


def _provenance(path: str, steps: dict[str, FieldStep], skipped: dict[str, list[str]]) -> str:
    """Which field of the mapping wrote ``path`` (or the object holding it), and how."""
    target = path
    while target and target not in steps:
        target = _parent(target)
    if not target:
        return f"no field of the mapping writes {path or 'the output'}"
    step = steps[target]
    left_out = "".join(f"; {reason}" for reason in skipped.get(target, [])[:_SHOWN_SKIPS])
    return f"field {step.field.target_path} ({step.location}): {_how(step)}{left_out}"


def _parent(path: str) -> str:
    cut = max(path.rfind("."), path.rfind("["))
    return path[:cut] if cut > 0 else ""


def _how(step: FieldStep) -> str:
    kind = step.field.kind
    if step.outcome == "value" and isinstance(kind, From):
        count = len(kind.expressions)
        which = f" (expression {(step.fallback or 0) + 1} of {count})" if count > 1 else ""
        attempt = step.attempts[step.fallback or 0] if step.attempts else None
        reads = f", read at input {', '.join(attempt.reads)}" if attempt and attempt.reads else ""
        return f"from `{step.expression}`{which}{reads}"
    if step.outcome == "value" and isinstance(kind, Computed):
        return f"computed by plugin '{kind.plugin}'"
    if step.outcome == "value" and isinstance(kind, Nested) and kind.each is not None:
        where = f" where `{kind.where}` is true" if kind.where is not None else ""
        return f"one element per element of `{kind.each}`{where}"
    if step.outcome == "value" and isinstance(kind, Nested):
        return "built from its fields"
    if step.outcome == "constant":
        return "a constant"
    return step.reason or step.outcome


def _check_error(expected: ExpectedError, trace: Trace) -> Iterator[str]:
    error = trace.error
    if error is None:
        yield f"expected the mapping to fail ({expected}), but it succeeded"
        yield f"  output: {show(trace.body)}"
        return
    mismatches = [
        f"{label}: expected {truncate(want)}, got {truncate(got)}"
        for label, want, got in (
            ("rule", expected.rule, error.rule),
            ("field", expected.field, error.field),
            ("input path", expected.data_path, error.data_path),
        )
        if want is not None and want != got
    ]
    if expected.message is not None and expected.message not in str(error):
        mismatches.append(f"message: expected it to contain {truncate(expected.message)}")
    if mismatches:
        yield "the mapping failed, but not as expected:"
        yield from (f"  {line}" for line in mismatches)
        yield f"  the error: {error}"


def _check_warnings(expected: tuple[str, ...], violations: tuple[Violation, ...]) -> Iterator[str]:
    got = sorted({violation.rule for violation in violations})
    if sorted(expected) == got:
        return
    yield f"warnings: expected {_names(sorted(expected))}, got {_names(got)}"
    yield from (f"  {violation} ({violation.location})" for violation in violations)


def _names(names: list[str]) -> str:
    return ", ".join(f"'{name}'" for name in names) or "none"
