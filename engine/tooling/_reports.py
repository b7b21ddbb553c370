"""Validation reports for ``fulfillmap validate``: check each file (a mapping, loaded and
linted; a routes file; a mapping test file), then print the problems as text, JSON or GitHub
Actions annotations (``::error file=F,line=L,...::``).
"""

from __future__ import annotations

import copy
import json
from collections.abc import Callable, Iterator, Sequence
from dataclasses import asdict, dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from fulfillmap.errors import FulfillmapError, Problem, SpecError
from fulfillmap.evaluate._mapping import CompiledMapping, load, load_source
from fulfillmap.events._handler import by_name, mapping_files
from fulfillmap.language._checks import validate_document
from fulfillmap.language._loader import parse_yaml
from fulfillmap.language._resources import (
    ROUTES_FILE,
    TEST_SUFFIX,
    YAML_SUFFIXES,
    MappingSource,
    find_mapping,
    shipped_mapping_names,
)
from fulfillmap.language._spec import build_spec
from fulfillmap.plugins._registry import default_registry
from fulfillmap.tooling._lint import lint

if TYPE_CHECKING:
    from fulfillmap.language._routes import RouteTable

__all__ = [
    "REPORTERS",
    "MappingReport",
    "check_file",
    "check_loaded",
    "check_mapping",
    "check_targets",
]


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


def check_targets(targets: Sequence[str]) -> list[MappingReport]:
    """The report of each file named, and of every YAML file in each folder named. A folder's
    mappings are also checked together, as ``Engine(folder)`` loads them: no two may have
    the same name."""
    reports: list[MappingReport] = []
    for target in targets:
        folder = Path(target)
        if not folder.is_dir():
            reports.append(check_file(target))
            continue
        checked = [_check_file(str(path)) for path in _yaml_files(folder)]
        _, clashes = by_name(mapping for _, mapping in checked if mapping is not None)
        reports += [_with_problems(report, clashes) for report, _ in checked]
    return reports


def _yaml_files(folder: Path) -> list[Path]:
    return sorted(path for path in folder.iterdir() if path.suffix in YAML_SUFFIXES)


def _with_problems(report: MappingReport, problems: Sequence[Problem]) -> MappingReport:
    """``report`` with those of ``problems`` that are in its file, in file order."""
    found = [problem for problem in problems if problem.file == report.file]
    if not found:
        return report
    ordered = sorted((*report.problems, *found), key=lambda p: (p.line, p.column))
    return replace(report, problems=tuple(ordered))


def check_file(target: str) -> MappingReport:
    """Check one file by its kind: a mapping test file (``*.fmtest.yaml``), a routes file
    (``routes.yaml``) or a mapping (a shipped name or a path)."""
    return _check_file(target)[0]


def _check_file(target: str) -> tuple[MappingReport, CompiledMapping | None]:
    """``check_file``, and the mapping when ``target`` is one that loaded."""
    if target.endswith(TEST_SUFFIX):
        from fulfillmap.tooling._testing import (
            load_cases,  # the test runner's reader, only when needed
        )

        return _checked(target, lambda: load_cases(target)), None
    if Path(target).name == ROUTES_FILE:
        return _checked(target, lambda: _load_routes(Path(target)).warnings), None
    return _check_mapping(target)


def check_mapping(target: str) -> MappingReport:
    """Load ``target`` (a name or a path) and lint it; every problem found, in file order."""
    return _check_mapping(target)[0]


def _check_mapping(target: str) -> tuple[MappingReport, CompiledMapping | None]:
    try:
        source = find_mapping(target)
    except SpecError as exc:  # a file that is not text, at its first bad byte
        return MappingReport(target, target, exc.problems), None
    except FulfillmapError as exc:
        return MappingReport(target, target, (Problem(target, 1, 1, str(exc)),)), None
    return check_loaded(target, source)


def check_loaded(
    target: str, source: MappingSource
) -> tuple[MappingReport, CompiledMapping | None]:
    """The report of the mapping in ``source`` (a file's text, or the playground's editor's),
    and the mapping when it loaded."""
    try:
        mapping = load_source(source)
    except SpecError as exc:
        file = exc.problems[0].file if exc.problems else target
        found = sorted(
            (*exc.problems, *_lint_the_rest(source, exc.problems)),
            key=lambda p: (p.file, p.line, p.column),
        )
        return MappingReport(target, file, tuple(found)), None
    except FulfillmapError as exc:
        return MappingReport(target, target, (Problem(target, 1, 1, str(exc)),)), None
    return MappingReport(target, mapping.spec.file, tuple(lint(mapping))), mapping


def _lint_the_rest(source: MappingSource, problems: Sequence[Problem]) -> list[Problem]:
    """The static checks of a mapping with problems, on the fields that have none, so that
    one run shows everything: each broken field stands aside (a required placeholder, or
    removed if even that does not validate) and so do the rules, which lint does not read.
    Nothing when a problem lies outside the fields and rules (the schemas, the name...)."""
    try:
        document = parse_yaml(source.text, source.file, source.directory)
    except FulfillmapError:
        return []
    data = copy.deepcopy(document.data)
    if not isinstance(data, dict) or not isinstance(data.get("fields"), dict):
        return []
    data.pop("rules", None)
    registry, removed = default_registry(), []
    for stand_in in (_PLACEHOLDER, None):
        paths = [_field_of(problem.spec_path) for problem in problems]
        for path in paths:
            if path is None:
                return []
            removed += _set_field(data["fields"], path, stand_in)
        try:
            schemas = validate_document(replace(document, data=data, problems=[]), registry)
        except SpecError as exc:
            problems = exc.problems
            continue
        spec = build_spec(replace(document, data=data, problems=[]))
        mapping = CompiledMapping(spec, schemas.source, schemas.target, registry)
        return [p for p in lint(mapping) if not _about(p, removed)]
    return []


#: what stands in for a broken field: present, required, reading nothing
_PLACEHOLDER = {"from": "`null`", "required": True}


def _field_of(spec_path: str) -> tuple[str, ...] | None:
    """The field a problem's spec path (``fields.items.fields.tax.from``) lies in, as names
    (``("items", "tax")``); ``()`` for a rule; None elsewhere."""
    parts = spec_path.replace("[", ".[").split(".")
    if parts[0] == "rules":
        return ()
    names: list[str] = []
    while len(parts) >= 2 and parts[0] == "fields" and not parts[1].startswith("["):
        names.append(parts[1])
        parts = parts[2:]
    return tuple(names) if names else None


def _set_field(fields: dict[str, Any], names: tuple[str, ...], stand_in: object) -> list[str]:
    """Put ``stand_in`` (None: nothing) in place of the field at ``names``; return the dotted
    name of a field removed."""
    for name in names[:-1]:
        field = fields.get(name)
        if not isinstance(field, dict) or not isinstance(field.get("fields"), dict):
            return []
        fields = field["fields"]
    if not names or names[-1] not in fields:
        return []
    if stand_in is None:
        del fields[names[-1]]
        return [".".join(names)]
    fields[names[-1]] = copy.deepcopy(stand_in)
    return []


def _about(problem: Problem, removed: list[str]) -> bool:
    """Is ``problem`` lint's word on a field removed above (it is not missing, only broken)?"""
    return any(f"requires '{name}'" in problem.message.replace("[]", "") for name in removed)


def _checked(target: str, read: Callable[[], object]) -> MappingReport:
    """Read ``target``: its problems, and the warnings ``read`` returns (if a tuple)."""
    try:
        warnings = read()
    except SpecError as exc:
        return MappingReport(target, target, exc.problems)
    except FulfillmapError as exc:
        return MappingReport(target, target, (Problem(target, 1, 1, str(exc)),))
    return MappingReport(target, target, warnings if isinstance(warnings, tuple) else ())


def _load_routes(path: Path) -> RouteTable:
    """Check a routes file; its routes may use the shipped mappings and those beside it."""
    from fulfillmap.language._routes import load_routes

    return load_routes(path, default_registry(), {*shipped_mapping_names(), *_names_beside(path)})


def _names_beside(path: Path) -> Iterator[str]:
    for file in mapping_files(path.parent):
        try:
            yield load(file).name
        except FulfillmapError:  # its own problems are its own report's
            yield file.name.rsplit(".", 1)[0]


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
