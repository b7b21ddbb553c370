"""``validate``: check mapping, routes and test files; print every problem."""

from __future__ import annotations

import argparse
import sys
from typing import Any

from fulfillmap.language._resources import shipped_mapping_names


def add(commands: Any) -> None:
    check = commands.add_parser("validate", help="check mapping files; print every problem")
    check.add_argument(
        "paths",
        metavar="PATH",
        nargs="*",
        help="mapping, routes.yaml and *.fmtest.yaml files, or folders of them "
        "(default: the shipped mappings)",
    )
    check.add_argument(
        "--format", choices=("text", "json", "github"), default="text", help="output format"
    )
    check.add_argument("--strict", action="store_true", help="fail on warnings too")
    check.set_defaults(run=_validate)


def _validate(args: argparse.Namespace) -> int:
    from fulfillmap.tooling._reports import REPORTERS, check_file, check_targets

    if args.paths:
        reports = check_targets(args.paths)
    else:
        reports = [check_file(name) for name in shipped_mapping_names()]
    sys.stdout.write(REPORTERS[args.format](reports))
    sys.stdout.flush()
    errors = sum(report.errors for report in reports)
    warnings = sum(report.warnings for report in reports)
    invalid = sum(1 for report in reports if not report.valid(strict=args.strict))
    print(
        f"{len(reports)} file(s) checked, {invalid} invalid "
        f"({errors} error(s), {warnings} warning(s))",
        file=sys.stderr,
    )
    return 1 if invalid else 0
