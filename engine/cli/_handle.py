"""``handle``: webhook events in, one JSON Action per event out."""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, cast

from fulfillmap.cli._common import (
    LEDGER_VARIABLE,
    read_context,
    stdin_once,
    warn_problem,
    warning_text,
)
from fulfillmap.cli._stream import Progress, open_binary, read_events
from fulfillmap.errors import EventError, FulfillmapError, MappingError
from fulfillmap.language._jsonio import dump_line

if TYPE_CHECKING:
    from fulfillmap.events._action import Action
    from fulfillmap.events._handler import Engine


def add(commands: Any) -> None:
    handle = commands.add_parser(
        "handle",
        help="say what to do with webhook events: one JSON Action per event",
        description=(
            "Read one event (a JSON document), a JSON array of events, or many events (JSON "
            "Lines: one per line) and print one JSON Action per event and line. In a batch, a "
            "bad event is reported on standard error as 'LINE N: message' and the rest goes "
            "on; the exit code is 1 if any event failed."
        ),
    )
    handle.add_argument(
        "input", metavar="INPUT", nargs="?", default="-", help="a file (default: standard input)"
    )
    handle.add_argument(
        "--mappings",
        metavar="DIR",
        help="a directory of your own mappings (and routes.yaml) overriding the shipped ones",
    )
    handle.add_argument("--context", metavar="FILE", help="a JSON object passed to every mapping")
    handle.add_argument(
        "--ledger",
        metavar="URL",
        default=os.environ.get(LEDGER_VARIABLE) or None,
        help=(
            "replay through this ledger (sqlite:///file.db, postgresql://..., memory:; default: "
            f"${LEDGER_VARIABLE}): an Action printed is recorded as done, and duplicates, "
            "captures already made and cancels already sent are not printed again"
        ),
    )
    handle.set_defaults(run=_handle, parser=handle)


def _handle(args: argparse.Namespace) -> int:
    from fulfillmap.events._handler import Engine

    engine = Engine(args.mappings, ledger=args.ledger)
    for warning in engine.routes.warnings:  # e.g. a mistyped event type: its events ignored
        warn_problem(warning)
    context = read_context(stdin_once(args))
    write = _binary_stdout()
    with open_binary(args.input) as stream:
        progress = Progress.start(args.input)
        failed = 0
        for item in read_events(stream, progress):
            one = _handle_one if args.ledger is None else _process_one
            failure = _Failed(item.error) if item.error else one(engine, item.event, context, write)
            if failure is None:
                continue
            failed += 1
            progress.clear()
            for text in failure.warnings:  # found before the failure, as map shows them
                print(f"{item.label or 'fulfillmap'}: warning: {text}", file=sys.stderr)
            if not item.label:
                raise FulfillmapError(failure.reason)
            print(f"{item.label}: {failure.reason}", file=sys.stderr)
        sys.stdout.flush()
        progress.finish(failed)
    return 1 if failed else 0


def _handle_one(
    engine: Engine, event: Any, context: dict[str, Any] | None, write: Callable[[bytes], Any]
) -> _Failed | None:
    """Write the event's action as a JSON line; return why it failed instead, if it did."""
    try:
        action = engine.handle(event, context)
        line = dump_line(action.to_json(), nulls=_nulls(action))
    except EventError as exc:
        return _Failed(str(exc))
    except MappingError as exc:
        warnings = tuple(warning_text(exc.mapping or "", warning) for warning in exc.warnings)
        return _Failed(f"{_name(event)}: {exc}", warnings)
    except FulfillmapError as exc:  # a NaN the line cannot hold
        return _Failed(f"{_name(event)}: {exc}")
    write(line)
    return None


@dataclass(frozen=True, slots=True)
class _Failed:
    """Why an event failed, with the warnings found before it (one line each)."""

    reason: str
    warnings: tuple[str, ...] = ()


def _process_one(
    engine: Engine, event: Any, context: dict[str, Any] | None, write: Callable[[bytes], Any]
) -> _Failed | None:
    """Through the ledger: the action is printed (that is its ``send``) unless already done."""
    from fulfillmap.events._action import IgnoreAction

    def send(action: Action) -> None:
        write(dump_line(action.to_json(), nulls=_nulls(action)))

    try:
        outcome = engine.process(event, send, context)
    except EventError as exc:
        return _Failed(str(exc))
    if outcome.status == "ignored" and isinstance(outcome.action, IgnoreAction):
        send(outcome.action)  # as handle prints it; nothing to record
    if outcome.status in ("failed", "busy"):
        return _Failed(f"{_name(event)}: {outcome.reason}")
    return None


def _name(event: dict[str, Any]) -> str:
    """``the TYPE event ID`` of an event whose envelope was checked."""
    from fulfillmap.events._action import as_id
    from fulfillmap.events._handler import event_name

    return event_name(str(event.get("type")), str(as_id(event.get("id"))))


def _nulls(action: Action) -> int:
    """How many None values ``action.to_json()`` holds outside the body (see dump_line)."""
    top = (action.method, action.path, action.body, action.mapping, action.reason)
    nulls = sum(value is None for value in top)
    for warning in action.warnings:
        nulls += (not warning.data_path) + (warning.location is None)
    return nulls


def _binary_stdout() -> Callable[[bytes], Any]:
    """A buffered writer of bytes to standard output (``sys.stdout.flush()`` writes it out)."""
    sys.stdout.flush()
    buffer = getattr(sys.stdout, "buffer", None)
    if buffer is not None:
        return cast("Callable[[bytes], Any]", buffer.write)
    return lambda data: sys.stdout.write(data.decode("utf-8"))
