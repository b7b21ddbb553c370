"""The playground's one door into the engine: everything the page shows comes from here.

The same functions as the commands, so that the page says what they say:

- the problems are ``fulfillmap validate``'s (``check_loaded``: the loader, the language
  checks, the target-schema checks and the lint), for the editor's text instead of a file;
- the output, the one-paragraph error and the warnings are ``CompiledMapping.run``'s, as a
  webhook handler gets them (``fulfillmap map``);
- the trace is ``fulfillmap trace --format json``'s (``trace_json``), each step with its
  line and column in the mapping;
- a saved test case expects what ``CompiledMapping.trace`` made of the input, which is what
  ``fulfillmap test`` checks.

Every function takes and returns plain data (text, dicts), so that it can run in the
playground's worker process, with a time limit. It uses only the public names of the
evaluator (``CompiledMapping`` with ``run`` and ``trace``, ``Trace``, ``FieldStep``,
``MappingError``) and ``trace_json``; the editor's text is loaded by ``load_source``, the
pipeline of ``fulfillmap.load`` for a text instead of a file.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from fulfillmap.errors import FulfillmapError, MappingError, Problem
from fulfillmap.evaluate._mapping import CompiledMapping
from fulfillmap.language._jsonio import parse_json
from fulfillmap.language._resources import MappingSource
from fulfillmap.tooling._render import trace_json
from fulfillmap.tooling._reports import MappingReport, check_loaded

__all__ = ["evaluate", "expected_case"]


@functools.lru_cache(maxsize=4)  # typing in the input editors reuses the compiled mapping
def _checked(text: str, file: str, directory: str) -> tuple[MappingReport, CompiledMapping | None]:
    folder = Path(directory) if directory else None
    return check_loaded(file, MappingSource(text, file, folder))


def evaluate(
    text: str, file: str, directory: str, input_text: str, context_text: str
) -> dict[str, Any]:
    """What the page shows for one state of its editors (JSON-ready)."""
    report, mapping = _checked(text, file, directory)
    shown: dict[str, Any] = {
        "problems": [_problem_json(problem) for problem in report.problems],
        "output": None,
        "error": None,
        "warnings": [],
        "trace": None,
    }
    if mapping is None:
        count = f"{report.errors} problem{'s' if report.errors != 1 else ''}"
        return shown | {"error": f"the mapping is invalid ({count}, listed under Problems)"}
    try:
        source, context = _payloads(input_text, context_text)
    except FulfillmapError as exc:
        return shown | {"error": str(exc)}
    try:
        result = mapping.run(source, context)
        shown |= {"output": result.body, "warnings": [str(w) for w in result.warnings]}
    except MappingError as exc:  # with the warnings found before it, as map prints them
        shown |= {"error": str(exc), "warnings": [str(w) for w in exc.warnings]}
    shown["trace"] = _trace_json(mapping, source, context)
    return shown


def expected_case(
    text: str, file: str, directory: str, input_text: str, context_text: str
) -> dict[str, Any]:
    """A test case's ``input``, ``context`` and ``expect`` for this state of the editors: the
    output and the warn rules that fired, or the error's field and message."""
    _, mapping = _checked(text, file, directory)
    if mapping is None:
        raise FulfillmapError("the mapping is invalid: fix its problems before saving a case")
    source, context = _payloads(input_text, context_text)
    trace = mapping.trace(source, context)
    case: dict[str, Any] = {"input": source}
    if context is not None:
        case["context"] = context
    if trace.error is not None:
        error = {
            "field": trace.error.field,
            "message": trace.error.reason,
            "rule": trace.error.rule,
        }
        case["expect"] = {"error": {key: value for key, value in error.items() if value}}
    else:
        warned = sorted({violation.rule for violation in trace.violations})
        case["expect"] = {"output": trace.body, "warnings": warned}
    return case


def _payloads(input_text: str, context_text: str) -> tuple[Any, Mapping[str, Any] | None]:
    source = parse_json(input_text, "the input")
    if not context_text.strip():
        return source, None
    context = parse_json(context_text, "the context")
    if not isinstance(context, dict):
        raise FulfillmapError("the context must be a JSON object (or empty: no context)")
    return source, context


def _trace_json(mapping: CompiledMapping, source: Any, context: Any) -> dict[str, Any]:
    trace = mapping.trace(source, context)
    data = trace_json(trace, mapping.spec.file)
    for shown, step in zip(data["steps"], trace.steps, strict=True):
        shown["line"], shown["column"] = step.field.location.line, step.field.location.column
    return data


def _problem_json(problem: Problem) -> dict[str, Any]:
    return {
        "file": problem.file,
        "line": problem.line,
        "column": problem.column,
        "message": problem.message,
        "severity": problem.severity,
        "specPath": problem.spec_path,
        "text": str(problem),
    }
