"""The ``fulfillmap`` command line. A thin shell over the Python API: it reads files, calls
``load``/``apply`` and reports. Exit codes: 0 success, 1 bad input or invalid mapping,
2 bad usage.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any, TextIO

from .errors import FulfillmapError, SpecError
from .mapping import load
from .resources import shipped_mapping_names

__all__ = ["main"]


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; return the exit code."""
    parser = _parser()
    args = parser.parse_args(argv)
    try:
        return int(args.run(args))
    except FulfillmapError as exc:
        _fail(str(exc))
        return 1
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:
        sys.stderr.close()  # the reader went away (e.g. `| head`); nothing more to say
        return 1


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="fulfillmap",
        description="Declarative mappings for Digital River coordinated fulfillments.",
    )
    commands = parser.add_subparsers(title="commands", required=True, metavar="COMMAND")

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
    run.set_defaults(run=_map)

    check = commands.add_parser("validate", help="check mapping files; print every problem")
    check.add_argument(
        "paths", metavar="PATH", nargs="*", help="mapping files (default: the shipped mappings)"
    )
    check.set_defaults(run=_validate)
    return parser


def _map(args: argparse.Namespace) -> int:
    mapping = load(args.mapping)
    source = _read_json(args.input, "input")
    context = _read_json(args.context, "context") if args.context else None
    if context is not None and not isinstance(context, dict):
        raise FulfillmapError(f"the context ({args.context}) must be a JSON object")
    result = mapping.apply(source, context, validate=args.validate)
    sys.stdout.write(_dump(result, compact=args.compact) + "\n")
    return 0


def _dump(result: Any, *, compact: bool) -> str:
    try:
        return json.dumps(
            result, indent=None if compact else 2, ensure_ascii=False, allow_nan=False
        )
    except ValueError as exc:  # inf or NaN, e.g. from 1e400 in the input
        raise FulfillmapError(f"the result cannot be written as JSON: {exc}") from None


def _validate(args: argparse.Namespace) -> int:
    targets: list[str] = args.paths or shipped_mapping_names()
    failed = 0
    for target in targets:
        try:
            mapping = load(target)
        except SpecError as exc:
            failed += 1
            for problem in exc.problems:
                print(problem)
        except FulfillmapError as exc:
            failed += 1
            print(f"{target}: {exc}")
        else:
            print(f"{mapping.spec.file}: ok")
    sys.stdout.flush()
    print(f"{len(targets)} mapping(s) checked, {failed} invalid", file=sys.stderr)
    return 1 if failed else 0


def _read_json(name: str, what: str) -> Any:
    label = "standard input" if name == "-" else name
    try:
        text = sys.stdin.read() if name == "-" else Path(name).read_text(encoding="utf-8")
    except FileNotFoundError:
        raise FulfillmapError(f"the {what} file {name} does not exist") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise FulfillmapError(f"cannot read the {what} {label}: {exc}") from exc
    try:
        return json.loads(text, parse_constant=_reject_constant, object_pairs_hook=_unique_keys)
    except json.JSONDecodeError as exc:
        raise FulfillmapError(
            f"the {what} {label} is not valid JSON: {exc.msg} "
            f"at line {exc.lineno} column {exc.colno}"
        ) from None
    except ValueError as exc:
        raise FulfillmapError(f"the {what} {label} is not valid JSON: {exc}") from None


def _unique_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    result: dict[str, Any] = {}
    for key, value in pairs:
        if key in result:
            raise ValueError(f"duplicate key {key!r} in one object (the last would win silently)")
        result[key] = value
    return result


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not a JSON number")


def _fail(message: str, stream: TextIO | None = None) -> None:
    print(f"fulfillmap: error: {message}", file=stream or sys.stderr)
