"""``map`` and ``trace``: one document through one mapping."""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

from fulfillmap.cli._common import dump, mapping_and_input, strict_failure, warn

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
    run.set_defaults(run=_map)
    _add_trace(commands)


def _map(args: argparse.Namespace) -> int:
    mapping, source, context = mapping_and_input(args)
    result = mapping.run(source, context, validate=args.validate)
    warnings = warn(mapping.name, result.warnings)
    if warnings and args.strict:
        return strict_failure(warnings)
    sys.stdout.write(dump(result.body, compact=args.compact) + "\n")
    return 0


def _add_trace(commands: Any) -> None:
    trace = commands.add_parser("trace", help="map one document and show what each field did")
    trace.add_argument("mapping", metavar="MAPPING", help="a shipped mapping's name or a YAML path")
    trace.add_argument("input", metavar="INPUT", nargs="?", default="-", help="a JSON file")
    trace.add_argument("--context", metavar="FILE", help="a JSON object passed as the context")
    trace.add_argument("--format", choices=("text", "json"), default="text")
    trace.add_argument("--no-validate", dest="validate", action="store_false")
    trace.add_argument("--strict", action="store_true", help=_STRICT)
    trace.set_defaults(run=_trace)


def _trace(args: argparse.Namespace) -> int:
    from fulfillmap.tooling._render import render_trace, trace_json

    mapping, source, context = mapping_and_input(args)
    traced = mapping.trace(source, context, validate=args.validate)
    if args.format == "json":
        data = trace_json(traced, mapping.spec.file)
        sys.stdout.write(json.dumps(data, indent=2, ensure_ascii=False, default=str) + "\n")
    else:
        sys.stdout.write(render_trace(traced, mapping.spec.file))
    warnings = warn(mapping.name, traced.violations)
    if traced.error:
        return 1
    return strict_failure(warnings) if warnings and args.strict else 0
