"""Rendering a trace for people (text) and for tools (JSON).

One line per field step, in evaluation order::

    15:3   upstreamId = "302117480336"  <- id
    31:3   name = "Martha Hudson"  <- billTo.name (fallback 2 of 2; shipTo.name is missing)
    44:7   shippingChoice.dutiesPaid: omitted (plugin 'duties-paid' gave no value)
    77:11  items[1].tax.amount: FAILED (required value is absent: tax.amount is missing)

Values are shown as JSON, cut to a few dozen characters: ``"a long te... (len=120)"``.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping
from decimal import Decimal
from typing import Any

from fulfillmap.evaluate._trace import Attempt, FieldStep, Trace
from fulfillmap.language._spec import Nested

__all__ = ["excerpt", "render_steps", "render_trace", "trace_json", "truncate"]

_VALUE_LIMIT = 60
_LABELS = {"value": "set", "constant": "constant", "default": "defaulted"}


def truncate(value: Any, limit: int = _VALUE_LIMIT) -> str:
    """``value`` as JSON, cut after ``limit`` characters with ``... (len=N)``; a ``Decimal`` is
    written as the number it is, a value nested too deeply to write as ``...``."""
    try:
        text = _NUMBER.sub(r"\1", json.dumps(value, ensure_ascii=False, default=_marked))
    except (RecursionError, ValueError):  # nested past Python's limit, or NaN in a Decimal
        return "..."
    return text if len(text) <= limit else f"{text[:limit]}... (len={len(text)})"


#: a Decimal as ``_marked`` writes it: in quotes between two U+0000 (escaped by json.dumps)
_NUMBER = re.compile(r'"\\u0000([-+0-9.eEinfatyINFATY]+)\\u0000"')


def _marked(value: Any) -> str:
    return f"\0{value}\0" if isinstance(value, Decimal) else str(value)


def render_trace(trace: Trace, file: str = "") -> str:
    """The whole trace as text: a summary line, the steps, warnings and the outcome."""
    counts: dict[str, int] = {}
    for step in trace.steps:
        counts[step.outcome] = counts.get(step.outcome, 0) + 1
    summary = ", ".join(f"{n} {_LABELS.get(o, o)}" for o, n in counts.items()) or "no fields"
    where = f" ({file})" if file else ""
    lines = [f"trace of mapping '{trace.mapping}'{where}: {summary}"]
    lines += render_steps(trace.steps)
    lines += [f"warning: {violation}" for violation in trace.violations]
    lines.append(f"failed: {trace.error}" if trace.error else "ok")
    return "\n".join(lines) + "\n"


def render_steps(steps: Iterable[FieldStep]) -> list[str]:
    """One line per step: ``line:column``, the target, what it became and why."""
    shown = list(steps)
    width = max((len(_where(step)) for step in shown), default=0) + 2
    return [f"  {_where(step):<{width}}{_describe(step)}" for step in shown]


def _where(step: FieldStep) -> str:
    location = step.field.location
    return f"{location.line}:{location.column}"


def _describe(step: FieldStep) -> str:
    target = step.target
    if step.outcome == "value" and isinstance(step.field.kind, Nested):
        return f"{target} = {_shape(step.value)}"
    if step.outcome == "value":
        return f"{target} = {truncate(step.value)}{_source(step)}"
    if step.outcome == "constant":
        return f"{target} = {truncate(step.value)}  (constant)"
    if step.outcome == "default":
        return f"{target} = {truncate(step.value)}  (default: {_tried(step.attempts)})"
    reason = step.reason.removeprefix("absent: ")
    label = "FAILED" if step.outcome == "failed" else step.outcome
    tried = f"; tried {_tried(step.attempts)}" if step.outcome == "failed" and step.attempts else ""
    plugin = f"  [plugin {step.plugin}]" if step.plugin else ""
    return f"{target}: {label} ({reason}{tried}){plugin}"


def _source(step: FieldStep) -> str:
    if step.plugin:
        return f"  [plugin {step.plugin}]"
    if step.expression is None:
        return ""
    text = f"  <- {step.expression}"
    fired = step.attempts[step.fallback or 0] if step.attempts else None
    if fired is not None and fired.reads != (fired.expression,) and fired.reads:
        text += f" (reads {', '.join(fired.reads)})"
    if step.fallback:
        earlier = ", ".join(_state(a) for a in step.attempts[: step.fallback])
        text += f" (fallback {step.fallback + 1} of {len(step.attempts)}; {earlier})"
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


# -- JSON -------------------------------------------------------------------------------


def trace_json(trace: Trace, file: str = "") -> dict[str, Any]:
    """The trace as a JSON-ready object."""
    error = trace.error
    return {
        "mapping": trace.mapping,
        "file": file,
        "ok": error is None,
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


# -- the data where a mapping failed ----------------------------------------------------

_PART = re.compile(r"\[(\d+)\]|\.?([^.\[\]]+)")


def excerpt(source: Any, context: Mapping[str, Any] | None, data_path: str | None) -> str:
    """The deepest existing value along ``data_path``, truncated: ``items[1]: {...}``.

    Empty when there is no data path. ``context.x`` paths are read from the context unless
    the source itself has a ``context`` key.
    """
    if not data_path:
        return ""
    parts: list[str | int] = [
        int(index) if index else key for index, key in _PART.findall(data_path)
    ]
    data: Any = source
    if parts[:1] == ["context"] and not (isinstance(source, dict) and "context" in source):
        data, parts, reached = context or {}, parts[1:], "context"
    else:
        reached = ""
    for part in parts:
        if isinstance(part, int) and isinstance(data, list) and 0 <= part < len(data):
            data, reached = data[part], f"{reached}[{part}]"
        elif isinstance(part, str) and isinstance(data, dict) and part in data:
            data, reached = data[part], f"{reached}.{part}" if reached else part
        else:
            break
    return f"{reached or '(the whole input)'}: {truncate(data, 160)}"
