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

import warnings
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

__all__ = [
    "EventError",
    "FulfillmapError",
    "FulfillmapWarning",
    "MappingError",
    "Problem",
    "SpecError",
    "Step",
    "did_you_mean",
    "line_column",
]


class Step(Protocol):
    """One step of a trace, as an error shows it (``FieldStep`` is one)."""

    @property
    def location(self) -> str: ...

    def describe(self) -> str: ...


#: what an error's trace and data are computed from, on first use: () -> (steps, data)
Explainer = Callable[[], tuple[tuple[Any, ...], str]]


class FulfillmapError(ValueError):
    """Base class of every error fulfillmap raises on purpose.

    Every one pickles and copies (``copy.deepcopy``; a process pool's worker raising it) as
    its ``args`` and attributes, without calling its ``__init__`` again, whose parameters
    are not its ``args`` (``SpecError(problems)``, ``DigitalRiverError(status, body)``).
    """

    def __reduce__(self) -> tuple[Any, ...]:
        return (_restore, (type(self), self.args, self._state()))

    def _state(self) -> dict[str, Any]:
        """The attributes it is pickled with."""
        return dict(self.__dict__)


def _restore(cls: type[FulfillmapError], args: tuple[Any, ...], state: dict[str, Any]) -> Any:
    """The error ``FulfillmapError.__reduce__`` pickled."""
    error = cls.__new__(cls)
    error.args = args
    error.__dict__.update(state)
    return error


class FulfillmapWarning(UserWarning):
    """A ``warn`` rule that does not hold, issued by ``CompiledMapping.apply`` through
    Python's ``warnings``; ``args[0]`` is the ``Violation`` (``str()`` of it reads well)."""


# Every document's warnings reach the caller: Python's default action shows a text issued from
# one place once per process, and a warn rule says the same for every document (a service
# would see the first order's missing shipping quote, and never another's). A filter the
# application or ``-W`` adds comes before this one, and still decides.
warnings.filterwarnings("always", category=FulfillmapWarning, append=True)


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
        return self.describe(labelled=self.severity != "error")

    def describe(self, *, labelled: bool) -> str:
        """``FILE:LINE:COL: [SEVERITY: ]MESSAGE (at SPEC.PATH)``; without the label where the
        line already says it (``fulfillmap: warning: ...`` on the command line)."""
        where = f" (at {self.spec_path})" if self.spec_path else ""
        label = f"{self.severity}: " if labelled else ""
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
    - ``trace``: the field steps up to the failure (``FieldStep``), recorded on first access
      by running the mapping's tracing variant on the same input (never on success; so do
      not change the input before reading it); empty when not recorded;
    - ``data``: a truncated view of the input at ``data_path`` (``items[1]: {...}``), or "";
    - ``warnings``: the violations of ``warn`` rules found before the failure (``Violation``s,
      as ``Result.warnings``): the reasons lines were left out before none was left, say.

    ``str(error)`` is one paragraph, for logs; ``details()`` adds the trace.
    """

    _explained: tuple[tuple[Any, ...], str] | None = None
    _explainer: Explainer | None = None
    warnings: tuple[Any, ...] = ()

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

    # -- the trace and the data, computed when first asked for ---------------------------

    def explain_with(self, explainer: Explainer | None) -> None:
        """Compute ``trace`` and ``data`` with ``explainer`` when first asked (errors are
        raised on hot paths; most are logged without their trace)."""
        self._explainer, self._explained = explainer, None

    def _explanation(self) -> tuple[tuple[Any, ...], str]:
        if self._explained is None:
            explainer, self._explainer = self._explainer, None
            try:
                self._explained = explainer() if explainer is not None else ((), "")
            except Exception:  # the error matters more than its explanation
                self._explained = ((), "")
        return self._explained

    @property
    def trace(self) -> tuple[Any, ...]:
        """The ``FieldStep``s up to the failure."""
        return self._explanation()[0]

    @trace.setter
    def trace(self, steps: tuple[Any, ...]) -> None:
        self._explained = (tuple(steps), self._explanation()[1])

    @property
    def data(self) -> str:
        return self._explanation()[1]

    @data.setter
    def data(self, text: str) -> None:
        self._explained = (self._explanation()[0], text)

    def details(self, *, last: int = 20) -> str:
        """The message, then the ``last`` steps of the trace and the data where it failed."""
        steps: tuple[Step, ...] = self.trace
        if not steps and not self.data:
            return str(self)
        lines = [str(self)]
        if steps:
            earlier = len(steps) - last
            more = f", after {earlier} earlier step(s)" if earlier > 0 else ""
            lines.append(f"trace up to the failure (mapping file line:column{more}):")
            lines += render_steps(steps[-last:])
        if self.data:
            lines.append(f"input at {self.data}")
        return "\n".join(lines)

    def with_data_path(self, data_path: str | None) -> MappingError:
        """This error with another ``data_path`` (a path in a larger document: ``Engine``
        rebases it onto the event); its trace and data are kept."""
        error = type(self)(self.reason, **{**self._fields(), "data_path": data_path})
        error._explainer, error._explained = self._explainer, self._explained
        error.warnings = self.warnings
        return error

    def _state(self) -> dict[str, Any]:
        """Its attributes, with its trace and data computed (never how to compute them)."""
        return {**self.__dict__, "_explainer": None, "_explained": self._explanation()}

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


def render_steps(steps: Iterable[Step]) -> list[str]:
    """One line per step: ``line:column``, then what the field became and why."""
    rows = [(_line_column(step.location), step.describe()) for step in steps]
    width = max((len(where) for where, _ in rows), default=0) + 2
    return [f"  {where:<{width}}{text}" for where, text in rows]


def _line_column(location: str) -> str:
    """``12:7`` of ``file.yaml:12:7``."""
    rest, _, column = location.rpartition(":")
    return f"{rest.rpartition(':')[2]}:{column}"


class EventError(MappingError):
    """A webhook event cannot be handled: its envelope is malformed, or the route chosen for
    it cannot be evaluated. ``data_path`` says where in the event (``data.object``)."""

    def _render(self) -> str:
        where = f" (at {self.data_path})" if self.data_path else ""
        route = f"; route defined at {self.location}" if self.location else ""
        return f"{self.reason}{where}{route}"


def line_column(text: str, offset: int) -> tuple[int, int]:
    """Where the character at ``offset`` of ``text`` is, as a ``Problem`` says it: its line
    and its column, both counted from 1."""
    return text.count("\n", 0, offset) + 1, offset - text.rfind("\n", 0, offset)


def did_you_mean(word: str, choices: Sequence[str], cutoff: float = 0.6) -> str:
    """`` (did you mean 'x'?)`` naming the choice closest to ``word`` (a near spelling, else
    the one choice containing it), or "" when none is close."""
    import difflib  # only to suggest a name: not on the path of a mapping that works

    close = difflib.get_close_matches(word, choices, n=1, cutoff=cutoff)
    if not close and word:
        close = [choice for choice in choices if word in choice][:2]
        close = close if len(close) == 1 else []
    return f" (did you mean '{close[0]}'?)" if close else ""
