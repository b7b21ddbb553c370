"""Validation reports for ``fulfillmap validate``: load and lint each mapping, then print
the problems as text, JSON or GitHub Actions annotations (``::error file=F,line=L,...::``).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass

from .errors import FulfillmapError, Problem, SpecError
from .lint import lint
from .mapping import load

__all__ = ["REPORTERS", "MappingReport", "check_mapping"]


@dataclass(frozen=True, slots=True)
class MappingReport:
    """The problems of one mapping (given by name or path), errors and warnings."""

    target: str
    file: str
    problems: tuple[Problem, ...]

    @property
    def errors(self) -> int:
        return sum(1 for problem in self.problems if problem.severity == "error")

    @property
    def warnings(self) -> int:
        return len(self.problems) - self.errors

    def valid(self, *, strict: bool = False) -> bool:
        """No errors (and, when ``strict``, no warnings either)."""
        return not self.problems if strict else not self.errors


def check_mapping(target: str) -> MappingReport:
    """Load ``target`` (a name or a path) and lint it; every problem found, in file order."""
    try:
        mapping = load(target)
    except SpecError as exc:
        file = exc.problems[0].file if exc.problems else target
        return MappingReport(target, file, exc.problems)
    except FulfillmapError as exc:
        return MappingReport(target, target, (Problem(target, 1, 1, str(exc)),))
    return MappingReport(target, mapping.spec.file, tuple(lint(mapping)))


def text_report(reports: Sequence[MappingReport]) -> str:
    lines: list[str] = []
    for report in reports:
        lines += [str(problem) for problem in report.problems]
        if not report.errors:
            warned = f" ({report.warnings} warning(s))" if report.warnings else ""
            lines.append(f"{report.file}: ok{warned}")
    return "".join(f"{line}\n" for line in lines)


def json_report(reports: Sequence[MappingReport]) -> str:
    data = {
        "mappings": [
            {
                "mapping": report.target,
                "file": report.file,
                "valid": report.valid(),
                "errors": report.errors,
                "warnings": report.warnings,
                "problems": [asdict(problem) for problem in report.problems],
            }
            for report in reports
        ]
    }
    return json.dumps(data, indent=2, ensure_ascii=False) + "\n"


def github_report(reports: Sequence[MappingReport]) -> str:
    """One workflow command per problem; GitHub shows them on the file's lines."""
    lines = []
    for report in reports:
        for problem in report.problems:
            command = "error" if problem.severity == "error" else "warning"
            title = f"fulfillmap: {problem.spec_path or report.target}"
            properties = ",".join(
                f"{key}={_escape_property(str(value))}"
                for key, value in (
                    ("file", problem.file),
                    ("line", problem.line),
                    ("col", problem.column),
                    ("title", title),
                )
            )
            lines.append(f"::{command} {properties}::{_escape_data(problem.message)}\n")
    return "".join(lines)


def _escape_data(text: str) -> str:
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def _escape_property(text: str) -> str:
    return _escape_data(text).replace(":", "%3A").replace(",", "%2C")


REPORTERS: dict[str, Callable[[Sequence[MappingReport]], str]] = {
    "text": text_report,
    "json": json_report,
    "github": github_report,
}
