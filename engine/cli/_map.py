"""``map`` and ``trace``: one document through one mapping."""

from __future__ import annotations

import argparse
import sys
from typing import TYPE_CHECKING, Any

from fulfillmap.cli._common import fail, mapping_and_input, say, warning_text, write_json
from fulfillmap.errors import MappingError

if TYPE_CHECKING:
    from collections.abc import Iterable

    from fulfillmap.evaluate._rules import Violation

_STRICT = "fail (exit 1, nothing on standard output for map) when a warn rule reports"


def add(commands: Any) -> None:
    run = commands.add_parser("map", help="map one JSON document and print the result")
    run.add_argument("mapping", metavar="MAPPING", help="a shipped mapping's name or a YAML path")
    run.add_argument(
        "input",
        metavar="INPUT",
        nargs="?",
        default="-",
        help="a JSON file (default: standard input, also '-')",
    )
    run.add_argument("--context", metavar="FILE", help="a JSON object passed as the context")
    run.add_argument(
        "--no-validate",
        dest="validate",
        action="store_false",
        help="do not validate the result against the target schema",
    )
    run.add_argument("--compact", action="store_true", help="print the JSON on one line")
    run.add_argument("--strict", action="store_true", help=_STRICT)
    run.add_argument(
        "-v",
        "--verbose",
        action="store_true",
        help="on failure, also print the trace up to it and the input there",
    )
    run.set_defaults(run=_map, parser=run)
    _add_trace(commands)


def _map(args: argparse.Namespace) -> int:
    mapping, source, context = mapping_and_input(args)
    try:
        result = mapping.apply_with_warnings(source, context, validate=args.validate)
    except MappingError as error:  # the warnings found before it first, as on success
        warn(mapping.name, error.warnings)
        raise
    warnings = warn(mapping.name, result.warnings)
    if warnings and args.strict:
        return strict_failure(warnings)
    write_json(result.body, compact=args.compact)
    return 0


def _add_trace(commands: Any) -> None:
    trace = commands.add_parser("trace", help="map one document and show what each field did")
    trace.add_argument("mapping", metavar="MAPPING", help="a shipped mapping's name or a YAML path")
    trace.add_argument("input", metavar="INPUT", nargs="?", default="-", help="a JSON file")
    trace.add_argument("--context", metavar="FILE", help="a JSON object passed as the context")
    trace.add_argument("--format", choices=("text", "json"), default="text")
    trace.add_argument("--no-validate", dest="validate", action="store_false")
    trace.add_argument("--strict", action="store_true", help=_STRICT)
    trace.set_defaults(run=_trace, parser=trace)


def _trace(args: argparse.Namespace) -> int:
    from fulfillmap.tooling._render import render_trace, trace_json

    mapping, source, context = mapping_and_input(args)
    traced = mapping.trace(source, context, validate=args.validate)
    if args.format == "json":
        data = trace_json(traced, mapping.spec.file, strict=args.strict)
        write_json(data, compact=False)
    else:
        sys.stdout.write(render_trace(traced, mapping.spec.file, strict=args.strict))
    warnings = warn(mapping.name, traced.violations)
    if traced.error:
        return 1
    return strict_failure(warnings) if warnings and args.strict else 0


def warn(mapping: str, warnings: Iterable[Violation]) -> int:
    """Print each ``warn`` rule violation on standard error, one line each, worded as a
    ``MappingError`` is; return how many there were."""
    count = 0
    for warning in warnings:
        say(f"fulfillmap: warning: {warning_text(mapping, warning)}")
        count += 1
    return count


def strict_failure(count: int) -> int:
    """``--strict``: warnings fail the command (exit 1), with a last line saying so."""
    from fulfillmap.tooling._render import strict_failure_text

    fail(strict_failure_text(count))
    return 1
