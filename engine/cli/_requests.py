"""``cancel`` and ``return``: the shop's own requests, built from the ids the ledger keeps.

Each prints the Action to perform (``POST /fulfillment-cancellations`` or
``POST /fulfillment-returns``, with its body) and records it in the ledger as done, as
``handle --ledger`` does: the same request id is printed once. A refusal prints nothing.
"""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING, Any

from fulfillmap.cli._common import say, write_json
from fulfillmap.cli._ledger import ledger_option, open_ledger_url
from fulfillmap.errors import FulfillmapError

if TYPE_CHECKING:
    from fulfillmap.events._action import Action

_HELP = {
    "cancel": (
        "ask Digital River to cancel pending or backordered units: print the "
        "POST /fulfillment-cancellations Action"
    ),
    "return": (
        "ask Digital River to take shipped units back: print the POST /fulfillment-returns Action"
    ),
}


def add(commands: Any) -> None:
    for command, help_text in _HELP.items():
        parser = commands.add_parser(
            command,
            help=help_text,
            description=(
                f"{help_text[0].upper()}{help_text[1:]}, its ids taken from the ledger (the 201 "
                "response to POST /fulfillment-orders or the fulfillment_order.pending event). "
                "The Action printed is recorded as done: the same --request-id is printed once. "
                "A request the ledger refuses (an unknown order or line, ids not recorded yet, "
                "a quantity of 0 or less or above what is left) exits 1 with the reason."
            ),
        )
        ledger_option(parser)
        parser.add_argument("order", metavar="ORDER_ID", help="the Digital River order id")
        parser.add_argument(
            "lines",
            metavar="LINE=QTY",
            nargs="+",
            type=_line,
            help="an order line id (as the shop knows it) and the units",
        )
        parser.add_argument("--reason", help="e.g. requested_by_customer")
        parser.add_argument(
            "--request-id",
            metavar="ID",
            help="the shop's id of the request, its idempotency key (default: a new one)",
        )
        parser.add_argument(
            "--mappings",
            metavar="DIR",
            help="a directory of your own mappings (and routes.yaml) overriding the shipped ones",
        )
        parser.set_defaults(run=_request, kind="cancellation" if command == "cancel" else "return")


def _line(text: str) -> tuple[str, int]:
    """``LINE=QTY`` -> (line, quantity); any whole number (the ledger refuses 0 or less)."""
    line, equals, quantity = text.partition("=")
    try:
        return (line, int(quantity)) if equals and line else _bad(text)
    except ValueError:
        return _bad(text)


def _bad(text: str) -> tuple[str, int]:
    raise argparse.ArgumentTypeError(f"{text!r} is not LINE=QTY (an order line id = a number)")


def _request(args: argparse.Namespace) -> int:
    from fulfillmap.events._handler import Engine

    lines: dict[str, int] = {}
    for line, quantity in args.lines:
        if line in lines:
            raise FulfillmapError(f"line {line} of order {args.order} is given twice")
        lines[line] = quantity
    with open_ledger_url(args.ledger, existing=True) as ledger:
        engine = Engine(args.mappings, ledger=ledger)
        ask = engine.request_cancellation if args.kind == "cancellation" else engine.request_return
        outcome = ask(args.order, lines, _print, reason=args.reason, request_id=args.request_id)
    if outcome.status == "duplicate":
        say(f"fulfillmap: {outcome.reason}; nothing printed")
    elif outcome.status != "done":
        raise FulfillmapError(outcome.reason or outcome.status)
    return 0


def _print(action: Action) -> None:
    """``send``: the Action printed is the Action done (recorded in the ledger after this)."""
    write_json(action.to_json(), compact=False)
