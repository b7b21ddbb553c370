"""``test``: run mapping test cases (``*.fmtest.yaml``) and report coverage."""

from __future__ import annotations

import argparse
import functools
import sys
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, Any

from fulfillmap.cli._common import fail, problems
from fulfillmap.errors import FulfillmapError
from fulfillmap.language._resources import shipped_test_files

if TYPE_CHECKING:
    from fulfillmap.tooling._testing import CaseFile, Session


def add(commands: Any) -> None:
    test = commands.add_parser("test", help="run mapping test cases (*.fmtest.yaml)")
    test.add_argument(
        "paths", metavar="PATH", nargs="*", help="test files or folders (default: the shipped ones)"
    )
    test.add_argument("-v", "--verbose", action="store_true", help="list every case")
    test.add_argument(
        "--coverage", action="store_true", help="list the mapping branches no case exercised"
    )
    test.add_argument(
        "--fail-under",
        metavar="PERCENT",
        type=_percent,
        help="fail when the coverage is below PERCENT (100: every branch)",
    )
    test.set_defaults(run=_test)


def _test(args: argparse.Namespace) -> int:
    from fulfillmap.tooling._testing import Session

    session, passed, failed, broken = Session(), 0, 0, 0
    for case_file in _case_files(args.paths):
        if isinstance(case_file, FulfillmapError):
            broken += 1
            print(problems(case_file))
            continue
        try:
            session.mapping(case_file.mapping)
        except FulfillmapError as exc:
            broken += 1
            where = case_file.mapping_at or case_file.file
            print(f"{where}: mapping {case_file.mapping} is invalid:\n{problems(exc)}")
            continue
        for case in case_file.cases:
            result = session.run(case)
            passed, failed = passed + result.passed, failed + (not result.passed)
            if not result.passed:
                print(result.report())
            elif args.verbose:
                print(f"{case.location}: case '{case.name}' passed")
    return _test_summary(args, session, passed, failed, broken)


def _case_files(paths: list[str]) -> Iterator[CaseFile | FulfillmapError]:
    """Each test file named (default: the shipped ones), or the error that it is broken."""
    from fulfillmap.tooling._testing import find_case_files, load_cases, parse_cases

    loaders: list[Callable[[], CaseFile]] = (
        [functools.partial(load_cases, path) for path in find_case_files(paths)]
        if paths
        else [functools.partial(parse_cases, source) for source in shipped_test_files()]
    )
    for loader in loaders:
        try:
            yield loader()
        except FulfillmapError as exc:
            yield exc


def _percent(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        value = -1.0
    if not 0 <= value <= 100:
        raise argparse.ArgumentTypeError(f"expected a percentage from 0 to 100, not {text}")
    return value


def _test_summary(
    args: argparse.Namespace, session: Session, passed: int, failed: int, broken: int
) -> int:
    from fulfillmap.tooling._coverage import format_coverage, total_percent

    report = session.coverage.report()
    below = args.fail_under is not None and total_percent(report) < args.fail_under
    for line in format_coverage(report, details=args.coverage or below):
        print(line)
    sys.stdout.flush()
    errors = f", {broken} file(s) with errors" if broken else ""
    print(f"{passed} passed, {failed} failed{errors}", file=sys.stderr)
    if below:
        fail(f"coverage {total_percent(report):g}% is below --fail-under {args.fail_under:g}%")
    return 1 if failed or broken or below else 0
