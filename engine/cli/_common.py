"""What the commands share: reading JSON input, writing JSON, reporting failures."""

from __future__ import annotations

import argparse
import contextlib
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

from fulfillmap.errors import FulfillmapError, Problem, SpecError
from fulfillmap.evaluate._mapping import load
from fulfillmap.language._expressions import type_name
from fulfillmap.language._jsonio import dump_document, parse_json
from fulfillmap.language._limits import limits
from fulfillmap.language._resources import read_bounded

if TYPE_CHECKING:
    from fulfillmap.evaluate._mapping import CompiledMapping
    from fulfillmap.evaluate._rules import Violation


#: the environment variable that gives ``--ledger`` its default
LEDGER_VARIABLE = "FULFILLMAP_LEDGER"


def write_json(result: Any, *, compact: bool) -> None:
    """``result`` as JSON on standard output (numbers with their digits, valid UTF-8)."""
    write_bytes(dump_document(result, compact=compact) + b"\n")


def write_bytes(data: bytes) -> None:
    """``data`` on standard output, as it is."""
    sys.stdout.flush()
    buffer = getattr(sys.stdout, "buffer", None)
    if buffer is None:  # replaced by a text stream (tests, embedding)
        sys.stdout.write(data.decode("utf-8"))
    else:
        buffer.write(data)


def fail(message: str) -> None:
    """Report ``message`` on standard error (never on standard output: when standard error is
    closed or full, the exit code says it alone)."""
    say(f"fulfillmap: error: {message}")


def fail_with_problems(error: SpecError) -> None:
    """``fail`` with the errors of ``error``; its warnings (a routes file's, found with the
    errors) are each labelled a warning, not an error."""
    errors = [str(problem) for problem in error.problems if problem.severity == "error"]
    if not errors:  # nothing but warnings: the whole of it is why the command failed
        fail(str(error))
        return
    for problem in error.problems:
        if problem.severity != "error":
            warn_problem(problem)
    fail("\n".join(errors))


def warn_problem(problem: Problem) -> None:
    """A file's warning (a routes file's unknown event type) on standard error, labelled as
    a warning, not an error."""
    say(f"fulfillmap: warning: {problem.describe(labelled=False)}")


def say(line: str) -> None:
    """``line`` on standard error (when it is closed or full, nowhere left to say it)."""
    if sys.stderr is None:
        return
    with contextlib.suppress(OSError, ValueError):
        print(line, file=sys.stderr, flush=True)


def warning_text(mapping: str, warning: Violation) -> str:
    """A ``warn`` rule's violation in one line, worded as a ``MappingError`` is."""
    head = f"mapping '{mapping}', rule '{warning.rule}'"
    details: list[str] = []
    if warning.on == "result":
        head += f", field '{warning.data_path}'" if warning.data_path else ""
    elif warning.data_path:
        details.append(f"at input path {warning.data_path}")
    details.append(f"defined at {warning.location}")
    return f"{head}: {warning.message} ({'; '.join(details)})"


def problems(error: FulfillmapError) -> str:
    if isinstance(error, SpecError):
        return "\n".join(str(problem) for problem in error.problems)
    return str(error)


def mapping_and_input(
    args: argparse.Namespace,
) -> tuple[CompiledMapping, Any, dict[str, Any] | None]:
    """``map`` and ``trace``: the mapping (loaded first: a bad one fails before any reading),
    the input document and the context."""
    context = stdin_once(args)
    return load(args.mapping), read_json(args.input, "input"), read_context(context)


def stdin_once(args: argparse.Namespace) -> str | None:
    """``--context``, unless it is standard input as the input is: a usage error (exit 2),
    since standard input can be read once (the event would be taken for the context)."""
    if args.context == "-" and args.input == "-":
        args.parser.error("standard input is read once: give the input or --context as a file")
    context: str | None = args.context
    return context


def read_context(name: str | None) -> dict[str, Any] | None:
    if not name:
        return None
    context = read_json(name, "context")
    if not isinstance(context, dict):
        raise FulfillmapError(
            f"the context ({name}) must be a JSON object, not {type_name(context)}"
        )
    return context


def read_json(name: str, what: str) -> Any:
    """A JSON document from a file or (``-``) standard input, numbers with a fraction as
    ``Decimal``; at most ``Limits.max_input_bytes``, a regular file or standard input."""
    text = read_bounded(
        None if name == "-" else Path(name),
        f"the {what} from" if name == "-" else f"the {what} file",
        limits().max_input_bytes,
        variable="FULFILLMAP_MAX_INPUT_BYTES",
    )
    source = f"the {what} from standard input" if name == "-" else f"the {what} {name}"
    return parse_json(text, source)
