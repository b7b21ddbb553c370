"""pytest plugin: every ``*.fmtest.yaml`` file pytest finds is collected as mapping tests.

Installed with fulfillmap (entry point ``pytest11``), so ``pytest`` runs mapping test cases
beside Python tests: one item per case, named after it, reported at the case's file:line.
A failure shows what differs and which field of the mapping produced it; a broken test file
is a collection error listing every problem at its file:line:col. ``--fulfillmap-coverage``
lists, at the end, the mapping branches that no case exercised.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fulfillmap.errors import FulfillmapError, SpecError
from fulfillmap.language._resources import TEST_SUFFIX
from fulfillmap.language._spec import Location
from fulfillmap.tooling._coverage import format_coverage
from fulfillmap.tooling._testing import Case, CaseResult, Session, load_cases

__all__ = ["CaseFailed", "CaseFileCollector", "CaseItem"]

_SESSION = pytest.StashKey[Session]()


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("fulfillmap", "fulfillmap mapping tests (*.fmtest.yaml)")
    group.addoption(
        "--fulfillmap-coverage",
        action="store_true",
        help="list the mapping branches that no fulfillmap test case exercised",
    )


def pytest_configure(config: pytest.Config) -> None:
    config.stash[_SESSION] = Session()


def pytest_collect_file(file_path: Path, parent: pytest.Collector) -> pytest.Collector | None:
    if file_path.name.endswith(TEST_SUFFIX):
        collector: CaseFileCollector = CaseFileCollector.from_parent(parent, path=file_path)
        return collector
    return None


def pytest_terminal_summary(terminalreporter: Any, config: pytest.Config) -> None:
    report = config.stash[_SESSION].coverage.report()
    if not report:
        return
    lines = format_coverage(report, details=bool(config.getoption("fulfillmap_coverage")))
    terminalreporter.section("fulfillmap coverage")
    for line in lines:
        terminalreporter.write_line(line)


class CaseFailed(AssertionError):
    """A mapping test case did not get what it expects."""

    def __init__(self, result: CaseResult) -> None:
        super().__init__(result.report())
        self.result = result


class CaseFileCollector(pytest.File):
    """A ``*.fmtest.yaml`` file: one item per case."""

    def collect(self) -> Iterator[CaseItem]:
        try:
            case_file = load_cases(self.path)
        except SpecError as exc:
            problems = "\n".join(str(problem) for problem in exc.problems)
            raise self.CollectError(f"invalid mapping test file:\n{problems}") from None
        except FulfillmapError as exc:
            raise self.CollectError(str(exc)) from None
        for case in case_file.cases:
            yield CaseItem.from_parent(
                self, name=case.name, case=case, mapping_at=case_file.mapping_at
            )


class CaseItem(pytest.Item):
    """One mapping test case."""

    def __init__(self, *, case: Case, mapping_at: Location | None = None, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.case = case
        self.mapping_at = mapping_at  #: where its file names the mapping

    def runtest(self) -> None:
        result = self.config.stash[_SESSION].run(self.case)
        if not result.passed:
            raise CaseFailed(result)

    def repr_failure(
        self, excinfo: pytest.ExceptionInfo[BaseException], style: Any = None
    ) -> str | Any:
        if isinstance(excinfo.value, CaseFailed):
            result = excinfo.value.result
            return f"{result.details()}\n{result.heading}"
        if isinstance(excinfo.value, SpecError):
            problems = "\n".join(str(problem) for problem in excinfo.value.problems)
            where = f"{self.mapping_at}: " if self.mapping_at else ""
            return f"{where}mapping {self.case.mapping} is invalid:\n{problems}"
        if isinstance(excinfo.value, FulfillmapError):
            return f"{self.case.location}: {excinfo.value}"
        return super().repr_failure(excinfo, style)

    def reportinfo(self) -> tuple[Path, int, str]:
        return self.path, self.case.location.line - 1, f"mapping test {self.case.name}"
