"""The exception tree. Every error fulfillmap raises on purpose is one of these::

    FulfillmapError (ValueError)
     ├── SpecError        a mapping file (or a file it names) is invalid; all problems at once
     └── MappingError     applying a mapping to one input failed; says where and why
          └── EventError  a webhook event's envelope is malformed (no type, no data.object)

A ``SpecError`` is raised at load time, never while an event is being mapped. A
``MappingError`` names the mapping, the target field, the expression, the data path in the
input and the mapping file's line, so that a webhook handler can log it as it is.
"""

from __future__ import annotations

import difflib
import json
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from fulfillmap.evaluate._trace import FieldStep

__all__ = [
    "EventError",
    "FulfillmapError",
    "MappingError",
    "Problem",
    "SpecError",
    "did_you_mean",
    "show_value",
]


class FulfillmapError(ValueError):
    """Base class of every error fulfillmap raises on purpose."""


@dataclass(frozen=True, slots=True)
class Problem:
    """One problem in a mapping file: where it is, what is wrong, and the path in the spec."""

    file: str
    line: int
    column: int
    message: str
    spec_path: str = ""
    severity: str = "error"  #: ``error`` makes the mapping invalid; ``warning`` does not

    def __str__(self) -> str:
        where = f" (at {self.spec_path})" if self.spec_path else ""
        label = "" if self.severity == "error" else f"{self.severity}: "
        return f"{self.file}:{self.line}:{self.column}: {label}{self.message}{where}"


class SpecError(FulfillmapError):
    """A mapping file is invalid. ``problems`` lists every problem found, in file order."""

    def __init__(self, problems: Iterable[Problem]) -> None:
        self.problems = tuple(sorted(problems, key=lambda p: (p.file, p.line, p.column)))
        super().__init__("\n".join(str(p) for p in self.problems))


class MappingError(FulfillmapError):
    """Applying a mapping to an input failed.

    Attributes (``None`` where they do not apply):

    - ``mapping``: the mapping's name;
    - ``field``: the target field, with array indices (``items[1].tax.amount``);
    - ``expression``: the expression being evaluated;
    - ``data_path``: where in the input (``items[1].tax.amount``);
    - ``location``: the mapping file and line that defines the field (``file.yaml:12:7``);
    - ``plugin``: the plugin that computed the field, if any;
    - ``rule``: the rule that failed, if any;
    - ``reason``: the bare reason, without the location details;
    - ``trace``: the field steps up to the failure (``FieldStep``), recorded by re-running the
      mapping with tracing once it has failed (never on success); empty when not recorded;
    - ``data``: a truncated view of the input at ``data_path`` (``items[1]: {...}``), or "".

    ``str(error)`` is one paragraph, for logs; ``details()`` adds the trace.
    """

    trace: tuple[FieldStep, ...] = ()
    data: str = ""

    def __init__(
        self,
        reason: str,
        *,
        mapping: str | None = None,
        field: str | None = None,
        expression: str | None = None,
        data_path: str | None = None,
        location: str | None = None,
        plugin: str | None = None,
        rule: str | None = None,
    ) -> None:
        self.reason = reason
        self.mapping = mapping
        self.field = field
        self.expression = expression
        self.data_path = data_path
        self.location = location
        self.plugin = plugin
        self.rule = rule
        super().__init__(self._render())

    def _render(self) -> str:
        head = f"mapping '{self.mapping}'" if self.mapping else "mapping"
        if self.rule:
            head += f", rule '{self.rule}'"
        if self.field:
            head += f", field '{self.field}'"
        details = [
            f"{label} {value}"
            for label, value in (
                ("expression", f"`{self.expression}`" if self.expression else None),
                ("plugin", f"'{self.plugin}'" if self.plugin else None),
                ("at input path", self.data_path),
                ("defined at", self.location),
            )
            if value
        ]
        tail = f" ({'; '.join(details)})" if details else ""
        return f"{head}: {self.reason}{tail}"

    def details(self, *, last: int = 20) -> str:
        """The message, then the ``last`` steps of the trace and the data where it failed."""
        if not self.trace and not self.data:
            return str(self)
        from fulfillmap.tooling._render import (
            render_steps,  # the renderer needs the spec; errors come first
        )

        lines = [str(self)]
        if self.trace:
            earlier = len(self.trace) - last
            more = f", after {earlier} earlier step(s)" if earlier > 0 else ""
            lines.append(f"trace up to the failure (mapping file line:column{more}):")
            lines += render_steps(self.trace[-last:])
        if self.data:
            lines.append(f"input at {self.data}")
        return "\n".join(lines)

    def __reduce__(self) -> tuple[object, ...]:
        fields = (self.reason, self._fields(), self.trace, self.data)
        return (_rebuild_mapping_error, (type(self), *fields))

    def _fields(self) -> dict[str, str | None]:
        return {
            "mapping": self.mapping,
            "field": self.field,
            "expression": self.expression,
            "data_path": self.data_path,
            "location": self.location,
            "plugin": self.plugin,
            "rule": self.rule,
        }


def _rebuild_mapping_error(
    cls: type[MappingError],
    reason: str,
    fields: dict[str, str | None],
    trace: tuple[FieldStep, ...] = (),
    data: str = "",
) -> MappingError:
    error = cls(reason, **fields)
    error.trace, error.data = trace, data
    return error


class EventError(MappingError):
    """A webhook event cannot be handled: its envelope is malformed, or the route chosen for
    it cannot be evaluated. ``data_path`` says where in the event (``data.object``)."""

    def _render(self) -> str:
        where = f" (at {self.data_path})" if self.data_path else ""
        route = f"; route defined at {self.location}" if self.location else ""
        return f"{self.reason}{where}{route}"


def show_value(value: object, limit: int = 80) -> str:
    """A value as it reads in a message: JSON text (``"2"``, ``2.5``, ``{"x": 1}``), never a
    Python repr (``'2'``, ``Decimal('2.5')``, ``{'x': 1}``); cut short past ``limit``."""
    try:
        text = json.dumps(value, ensure_ascii=False, default=_json_default)
    except (TypeError, ValueError, RecursionError):
        text = f"a {type(value).__name__}"  # not a JSON value: say what it is
    text = _DECIMAL.sub(lambda match: match.group(1), text)
    return text if len(text) <= limit else text[: limit - 3] + "..."


#: how ``_json_default`` marks a Decimal, to write it back as the number it is
_DECIMAL = re.compile(r'"\\u0000decimal:([^"\\]*)\\u0000"')


def _json_default(value: object) -> object:
    if isinstance(value, Decimal):
        return f"\x00decimal:{value}\x00"
    if isinstance(value, tuple | set | frozenset):
        return list(value)
    raise TypeError


def did_you_mean(word: str, choices: Sequence[str], cutoff: float = 0.6) -> str:
    """`` (did you mean 'x'?)`` naming the choice closest to ``word`` (a near spelling, else
    the one choice containing it), or "" when none is close."""
    close = difflib.get_close_matches(word, choices, n=1, cutoff=cutoff)
    if not close and word:
        close = [choice for choice in choices if word in choice][:2]
        close = close if len(close) == 1 else []
    return f" (did you mean '{close[0]}'?)" if close else ""
