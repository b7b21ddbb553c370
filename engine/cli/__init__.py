"""The ``fulfillmap`` command line. A thin shell over the Python API: it reads files, calls
``load``/``apply`` and reports. Exit codes: 0 success, 1 bad input or invalid mapping,
2 bad usage.

One module per command group (``_map``: map and trace, ``_validate``, ``_explain``: explain and
schema, ``_test``, ``_handle`` with its input reader ``_stream``, ``_requests``: cancel and return,
``_ledger``), each with
``add(commands)``.
Each command imports what only it needs when it runs: ``fulfillmap handle`` and ``map`` then
start without the tooling's imports (jsonschema).
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from fulfillmap.cli import _explain, _handle, _ledger, _map, _requests, _test, _validate
from fulfillmap.cli._common import fail
from fulfillmap.errors import FulfillmapError, MappingError

__all__ = ["main"]

#: the command groups, in the order ``--help`` lists them
COMMANDS = (_map, _validate, _explain, _handle, _requests, _ledger, _test)


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; return the exit code."""
    parser = _parser()
    args = parser.parse_args(argv)
    try:
        return int(args.run(args))
    except MappingError as exc:
        # one paragraph, as tools that call fulfillmap expect; with --verbose, the trace up
        # to the failure and the data there follow it
        fail(exc.details() if getattr(args, "verbose", False) else str(exc))
        return 1
    except FulfillmapError as exc:
        fail(str(exc))
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
    for command in COMMANDS:
        command.add(commands)
    return parser
