"""What the commands share: reading JSON input, writing JSON, reporting failures."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any, TextIO

from fulfillmap.errors import FulfillmapError, SpecError
from fulfillmap.evaluate._mapping import load
from fulfillmap.language._jsonio import parse_json

if TYPE_CHECKING:
    from fulfillmap.evaluate._mapping import CompiledMapping


#: the environment variable that gives ``--ledger`` its default
LEDGER_VARIABLE = "FULFILLMAP_LEDGER"


def dump(result: Any, *, compact: bool) -> str:
    try:
        return json.dumps(
            result, indent=None if compact else 2, ensure_ascii=False, allow_nan=False
        )
    except ValueError as exc:  # inf or NaN, e.g. from 1e400 in the input
        raise FulfillmapError(f"the result cannot be written as JSON: {exc}") from None


def fail(message: str, stream: TextIO | None = None) -> None:
    print(f"fulfillmap: error: {message}", file=stream or sys.stderr)


def problems(error: FulfillmapError) -> str:
    if isinstance(error, SpecError):
        return "\n".join(str(problem) for problem in error.problems)
    return str(error)


def mapping_and_input(
    args: argparse.Namespace,
) -> tuple[CompiledMapping, Any, dict[str, Any] | None]:
    """``map`` and ``trace``: the mapping (loaded first: a bad one fails before any reading),
    the input document and the context."""
    return load(args.mapping), read_json(args.input, "input"), read_context(args.context)


def read_context(name: str | None) -> dict[str, Any] | None:
    context = read_json(name, "context") if name else None
    if context is not None and not isinstance(context, dict):
        raise FulfillmapError(f"the context ({name}) must be a JSON object")
    return context


def read_json(name: str, what: str) -> Any:
    label = "standard input" if name == "-" else name
    try:
        text = sys.stdin.read() if name == "-" else Path(name).read_text(encoding="utf-8")
    except FileNotFoundError:
        raise FulfillmapError(f"the {what} file {name} does not exist") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise FulfillmapError(f"cannot read the {what} {label}: {exc}") from exc
    return parse_json(text, f"the {what} {label}")
