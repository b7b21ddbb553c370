"""Rules: named JMESPath checks on the source or the context (before mapping) or on the
result (after).

The generated function of a mapping checks them inline (``_codegen``). A failed ``error`` rule
stops the mapping; a failed ``warn`` rule is reported beside the result. Violations name the
rule, the message, the data path and the mapping file's line.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["Violation"]


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
