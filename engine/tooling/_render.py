"""Rendering a trace for people (text) and for tools (JSON).

One line per field step, in evaluation order::

    15:3   upstreamId = "302117480336"  <- id
    31:3   name = "Martha Hudson"  <- billTo.name (fallback 2 of 2; shipTo.name is missing)
    44:7   shippingChoice.dutiesPaid: omitted (plugin 'duties-paid' gave no value)
    77:11  items[1].tax.amount: FAILED (required value is absent: tax.amount is missing)

Values are shown as JSON, cut to a few dozen characters: ``"a long te... (len=120)"``.
"""

from __future__ import annotations

from typing import Any

from fulfillmap.errors import render_steps
from fulfillmap.evaluate._trace import FieldStep, Trace

__all__ = ["render_steps", "render_trace", "strict_failure_text", "trace_json"]

_LABELS = {"value": "set", "constant": "constant", "default": "defaulted"}


def render_trace(trace: Trace, file: str = "", *, strict: bool = False) -> str:
    """The whole trace as text: a summary line, the steps, warnings and the outcome (with
    ``strict``, warnings make it a failure, as ``--strict`` makes them fail the command)."""
    counts: dict[str, int] = {}
    for step in trace.steps:
        counts[step.outcome] = counts.get(step.outcome, 0) + 1
    summary = ", ".join(f"{n} {_LABELS.get(o, o)}" for o, n in counts.items()) or "no fields"
    where = f" ({file})" if file else ""
    lines = [f"trace of mapping '{trace.mapping}'{where}: {summary}"]
    lines += render_steps(trace.steps)
    lines += [f"warning: {violation}" for violation in trace.violations]
    failure = _failure(trace, strict=strict)
    lines.append(f"failed: {failure}" if failure else "ok")
    return "\n".join(lines) + "\n"


def strict_failure_text(count: int) -> str:
    """Why ``--strict`` fails a run with ``count`` warnings."""
    return f"{count} warning(s), and --strict makes warnings fail"


def _failure(trace: Trace, *, strict: bool) -> str:
    """Why the run failed ("" when it did not)."""
    if trace.error:
        return str(trace.error)
    if strict and trace.violations:
        return strict_failure_text(len(trace.violations))
    return ""


# -- JSON -------------------------------------------------------------------------------


def trace_json(trace: Trace, file: str = "", *, strict: bool = False) -> dict[str, Any]:
    """The trace as a JSON-ready object (``strict``: as ``render_trace``)."""
    error = trace.error
    return {
        "mapping": trace.mapping,
        "file": file,
        "ok": not _failure(trace, strict=strict),
        "steps": [_step_json(step) for step in trace.steps],
        "warnings": [str(violation) for violation in trace.violations],
        "error": None
        if error is None
        else {
            "message": str(error),
            "reason": error.reason,
            "field": error.field,
            "expression": error.expression,
            "data_path": error.data_path,
            "location": error.location,
            "plugin": error.plugin,
            "rule": error.rule,
        },
        "body": trace.body,
    }


def _step_json(step: FieldStep) -> dict[str, Any]:
    data: dict[str, Any] = {
        "target": step.target,
        "outcome": step.outcome,
        "location": step.location,
    }
    if step.outcome in ("value", "constant", "default"):
        data["value"] = step.value
    data["expression"] = step.expression
    data["fallback"] = step.fallback
    data["attempts"] = [
        {"expression": a.expression, "reads": list(a.reads), "found": a.found}
        for a in step.attempts
    ]
    data["plugin"] = step.plugin
    data["reason"] = step.reason
    return data
