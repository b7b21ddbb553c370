"""``ledger``: what the fulfillment ledger holds (show), forgetting old orders (prune) and
bringing its tables up to date (migrate)."""

from __future__ import annotations

import argparse
import os
import re
import sys
from typing import TYPE_CHECKING, Any

from fulfillmap.cli._common import LEDGER_VARIABLE, write_json
from fulfillmap.errors import FulfillmapError

if TYPE_CHECKING:
    from fulfillmap.events._ledger import EffectRecord, Ledger, OrderRecord

_DURATION = re.compile(r"(\d+(?:\.\d+)?)([smhdw])")
_SECONDS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}


def add(commands: Any) -> None:
    ledger = commands.add_parser(
        "ledger",
        help="show, prune or migrate the fulfillment ledger",
        description="The fulfillment ledger that `handle --ledger` and Engine.process keep.",
    )
    actions = ledger.add_subparsers(title="ledger commands", required=True, metavar="COMMAND")
    show = actions.add_parser(
        "show",
        help=(
            "what was created, captured, cancelled, asked for and returned for an order, and by "
            "which events"
        ),
    )
    ledger_option(show)
    show.add_argument("order", metavar="ORDER_ID", help="the Digital River order id")
    show.add_argument("--format", choices=("text", "json"), default="text")
    show.set_defaults(run=_show)
    prune = actions.add_parser("prune", help="forget orders untouched for a while")
    ledger_option(prune)
    prune.add_argument(
        "--older-than",
        metavar="AGE",
        required=True,
        type=_age,
        help="e.g. 90d, 12w, 36h (s, m, h, d, w); keep more than Digital River's redelivery window",
    )
    prune.set_defaults(run=_prune)
    migrate = actions.add_parser("migrate", help="create or update the ledger's tables")
    migrate.add_argument(
        "url", metavar="URL", nargs="?", help=f"the ledger (default: ${LEDGER_VARIABLE})"
    )
    migrate.add_argument("--ledger", dest="url_option", metavar="URL", help=argparse.SUPPRESS)
    migrate.set_defaults(run=_migrate)


def ledger_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--ledger",
        metavar="URL",
        default=os.environ.get(LEDGER_VARIABLE) or None,
        help=f"sqlite:///file.db, postgresql://... (default: ${LEDGER_VARIABLE})",
    )


def _age(text: str) -> tuple[float, str]:
    """``90d`` -> (seconds, ``90d``)."""
    found = _DURATION.fullmatch(text.strip())
    if not found:
        raise argparse.ArgumentTypeError(f"{text!r} is not an age like 90d, 12w or 36h")
    return float(found.group(1)) * _SECONDS[found.group(2)], text.strip()


def open_ledger_url(url: str | None, *, migrate: bool = True, existing: bool = False) -> Ledger:
    """The ledger at ``url``; ``existing``: one that must be there already (a command that
    reads what it holds: a mistyped SQLite path must not create an empty ledger)."""
    from fulfillmap.events._ledger import open_ledger

    if not url:
        raise FulfillmapError(f"no ledger: give --ledger URL or set ${LEDGER_VARIABLE}")
    if existing and url.startswith("sqlite:"):
        from fulfillmap.events._ledger_sqlite import sqlite_path

        path = sqlite_path(url)
        if not os.path.exists(path):
            raise FulfillmapError(
                f"the ledger {url} does not exist (no file {os.path.abspath(path)}; a relative "
                "path is from the current directory): check the URL"
            )
    return open_ledger(url, migrate=migrate)


def _show(args: argparse.Namespace) -> int:
    with open_ledger_url(args.ledger, existing=True) as ledger:
        record = ledger.order(args.order)
    if record is None:
        raise FulfillmapError(f"the ledger {args.ledger} has nothing for order {args.order}")
    if args.format == "json":
        write_json(record.to_json(), compact=False)
    else:
        sys.stdout.write(render(record))
    return 0


def render(record: OrderRecord) -> str:
    """``ledger show``'s text: the order's lines, then every effect with its per-line units."""
    from fulfillmap.events._ledger import iso

    fo = record.fulfillment_order_id or "(not known yet)"
    out = [f"order {record.order_id}   fulfillment order {fo}", "", "lines"]
    out.append(
        f"  {'line':<20} {'qty':>4} {'captured':>9} {'cancelled':>10} {'returned':>9}  "
        "fo item / inventory item"
    )
    for line in record.lines.values():
        quantity = "?" if line.quantity is None else str(line.quantity)
        ids = f"{line.fulfillment_order_item_id or '-'} / {line.inventory_item_id or '-'}"
        pending = "".join(
            f"  ({count} being {what})"
            for count, what in (
                (line.being_cancelled, "cancelled"),
                (line.being_returned, "returned"),
            )
            if count
        )
        out.append(
            f"  {line.line_id:<20} {quantity:>4} {line.captured:>9} {line.cancelled:>10} "
            f"{line.returned:>9}  {ids}{pending}"
        )
    out += ["", "effects"]
    for effect in record.effects:
        result = "" if effect.result == "sent" else f" ({effect.result})"
        out.append(
            f"  {iso(effect.done_at)}  {effect.kind:<12} {effect.key}{result}  "
            f"by event {effect.event_id}"
        )
        out += [f"      line {line_id}: {what}" for line_id, what in _moved(effect)]
    return "\n".join(out) + "\n"


def _moved(effect: EffectRecord) -> list[tuple[str, str]]:
    """What an effect did to each of its lines, in words."""
    moved = []
    for line_id, did in effect.lines.items():
        if did.captured:
            moved.append((line_id, f"captured {did.captured}"))
        if did.cancelled:
            counter = f"cancelled counter now {did.cancelled_total}"
            moved.append((line_id, f"cancelQuantity {did.cancelled} ({counter})"))
        if did.accepted is not None:
            moved.append((line_id, f"{did.accepted} of {did.requested} accepted"))
        elif did.requested:
            moved.append((line_id, f"asked to {_VERBS.get(effect.kind, '?')} {did.requested}"))
        if did.returned:
            moved.append((line_id, f"returned {did.returned}"))
    return moved


_VERBS = {"cancellation": "cancel", "return": "return"}


def _prune(args: argparse.Namespace) -> int:
    seconds, age = args.older_than
    with open_ledger_url(args.ledger, existing=True) as ledger:
        count = ledger.prune(seconds)
    print(f"pruned {count} order{'s' * (count != 1)} untouched for {age}")
    return 0


def _migrate(args: argparse.Namespace) -> int:
    url = args.url or args.url_option or os.environ.get(LEDGER_VARIABLE)
    with open_ledger_url(url, migrate=False) as ledger:
        before, after = ledger.migrate()
    if before == after:
        print(f"the ledger {ledger.url} is up to date (schema version {after})")
    else:
        print(f"migrated the ledger {ledger.url} from schema version {before} to {after}")
    return 0
