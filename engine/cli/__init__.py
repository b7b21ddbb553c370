"""The ``fulfillmap`` command line. A thin shell over the Python API: it reads files, calls
``load``/``apply`` and reports. Exit codes: 0 success, 1 bad input or invalid mapping,
2 bad usage.

One module per command group (``_map``: map and trace, ``_validate``, ``_explain``: explain and
schema, ``_test``, ``_handle`` with its input reader ``_stream``, ``_requests``: cancel and
return, ``_ledger``, ``_playground``), each with ``add(commands)``.
Each command imports what only it needs when it runs: ``fulfillmap handle`` and ``map`` then
start without the tooling's imports (jsonschema).
"""

from __future__ import annotations

import argparse
import os
import sys
import warnings
from collections.abc import Sequence
from typing import Any

from fulfillmap.cli import (
    _explain,
    _handle,
    _ledger,
    _map,
    _playground,
    _requests,
    _test,
    _validate,
)
from fulfillmap.cli._common import fail, fail_with_problems
from fulfillmap.errors import FulfillmapError, MappingError, SpecError

__all__ = ["main"]

#: the command groups, in the order ``--help`` lists them
COMMANDS = (_map, _validate, _explain, _handle, _requests, _ledger, _test, _playground)


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; return the exit code."""
    parser = _parser()
    args = parser.parse_args(argv)
    warnings.formatwarning = _format_warning
    if sys.stdout is None:  # started with standard output closed (`>&-`)
        fail("standard output is closed; nothing can be written")
        return 1
    try:
        code = int(args.run(args))
        sys.stdout.flush()  # a full disk is found here, while it can still be reported
    except MappingError as exc:
        # one paragraph, as tools that call fulfillmap expect; with --verbose, the trace up
        # to the failure and the data there follow it
        fail(exc.details() if getattr(args, "verbose", False) else str(exc))
        return 1
    except SpecError as exc:
        fail_with_problems(exc)
        return 1
    except FulfillmapError as exc:
        fail(str(exc))
        return 1
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:
        _discard_output()  # the reader went away (e.g. `| head`); nothing more to say
        return 1
    except OSError as exc:  # standard output is full (/dev/full) or failing
        _discard_output()
        fail(f"cannot write the output: {exc.strerror or exc}")
        return 1
    return code


def _format_warning(message: Warning | str, *args: Any, **options: Any) -> str:
    """A Python warning (a plugin that failed to load) as the command line words a problem."""
    return f"fulfillmap: warning: {message}\n"


def _discard_output() -> None:
    """Point standard output at the null device, so that Python's own flush at exit does not
    fail again on what is still buffered."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError, AttributeError):
        pass  # not a real file (tests, embedding): nothing is flushed at exit


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="fulfillmap",
        description="Declarative mappings for Digital River coordinated fulfillments.",
    )
    parser.add_argument("--version", action="version", version=f"fulfillmap {_version()}")
    commands = parser.add_subparsers(
        title="commands", required=True, metavar="COMMAND", parser_class=_CommandParser
    )
    for command in COMMANDS:
        command.add(commands)
    return parser


class _CommandParser(argparse.ArgumentParser):
    """A command's parser: its options may stand anywhere among its arguments
    (``map NAME --compact FILE``), as argparse's intermixed parsing allows."""

    _intermixing = False

    def parse_known_args(  # type: ignore[override]
        self, args: Sequence[str] | None = None, namespace: argparse.Namespace | None = None
    ) -> tuple[argparse.Namespace, list[str]]:
        nested = any(action.nargs == argparse.PARSER for action in self._actions)
        if self._intermixing or nested:  # intermixed parsing parses twice, through this
            # method, and cannot parse a group of commands (``ledger show``): they parse theirs
            return super().parse_known_args(args, namespace)
        self._intermixing = True
        try:
            return self.parse_known_intermixed_args(args, namespace)
        finally:
            self._intermixing = False


def _version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("fulfillmap")
    except PackageNotFoundError:  # run from a source tree that is not installed
        return "unknown"
