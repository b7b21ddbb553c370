"""``playground``: a local page to edit a mapping and see its output, problems and trace."""

from __future__ import annotations

import argparse
import signal
import sys
import threading
import time
import webbrowser
from pathlib import Path
from typing import TYPE_CHECKING, Any

from fulfillmap.cli._common import read_context, read_json
from fulfillmap.errors import FulfillmapError

if TYPE_CHECKING:
    from fulfillmap.tooling.playground import Opened

DEFAULT_MAPPING = "order-to-fulfillment-order"


def add(commands: Any) -> None:
    page = commands.add_parser(
        "playground",
        help="edit a mapping in a local web page; see its output, problems and trace as you type",
    )
    page.add_argument(
        "mapping",
        metavar="MAPPING",
        nargs="?",
        default=DEFAULT_MAPPING,
        help=f"a mapping file (saved on request) or a shipped mapping's name (read-only; "
        f"default: {DEFAULT_MAPPING})",
    )
    page.add_argument("--input", metavar="FILE", help="a JSON input to start with")
    page.add_argument("--context", metavar="FILE", help="a JSON context to start with")
    page.add_argument(
        "--port", type=_port, default=8765, help="the port on 127.0.0.1 (default 8765; 0: any)"
    )
    page.add_argument("--no-browser", action="store_true", help="do not open a browser")
    page.add_argument("--timeout", type=float, default=5.0, help=argparse.SUPPRESS)
    page.set_defaults(run=_playground)


def _playground(args: argparse.Namespace) -> int:
    from fulfillmap.tooling.playground import HOST, Playground, open_mapping, serve

    opened = open_mapping(args.mapping)
    input_text = _text(args.input, "input") if args.input else ""
    context_text = _text(args.context, "context", context=True) if args.context else ""
    playground = Playground(opened, input_text, context_text, timeout=args.timeout)
    for signum in (signal.SIGINT, signal.SIGTERM):  # Ctrl+C and `kill`: the same stop
        signal.signal(signum, _interrupt)
    try:
        server, _ = serve(playground, args.port)
    except OSError as exc:
        raise FulfillmapError(f"cannot listen on {HOST}:{args.port}: {exc.strerror}") from None
    try:
        url = f"http://{HOST}:{server.server_address[1]}/"
        print(_banner(url, HOST, opened), flush=True)
        playground.worker.start()
        if not args.no_browser:
            webbrowser.open(url)
        while not _STOPPING.is_set():  # also when the interrupt was swallowed (in an import)
            time.sleep(0.5)
    except KeyboardInterrupt:
        pass
    finally:
        server.shutdown()
        server.server_close()
        playground.worker.close()
    print("fulfillmap playground: stopped", file=sys.stderr)
    return 0


def _banner(url: str, host: str, opened: Opened) -> str:
    saving = (
        f"{opened.path} and {opened.test_file}, on request"
        if opened.path
        else "nothing: a shipped mapping is read-only"
    )
    return (
        f"fulfillmap playground: {url}\n"
        f"  listening on {host} only: reachable from this machine, not from the network\n"
        f"  mapping {opened.file}; saves {saving}\n"
        f"  Ctrl+C stops it"
    )


#: set by a stop signal, which also interrupts what runs: an interrupt raised where Python
#: ignores exceptions (a callback during an import) would otherwise be lost
_STOPPING = threading.Event()


def _interrupt(signum: int, frame: object) -> None:
    del signum, frame
    _STOPPING.set()
    raise KeyboardInterrupt


def _text(name: str, what: str, *, context: bool = False) -> str:
    """The file's text, checked as ``map`` reads it (a bad file fails here, not in the page)."""
    read_context(name) if context else read_json(name, what)
    return Path(name).read_text(encoding="utf-8")


def _port(text: str) -> int:
    try:
        port = int(text)
    except ValueError:
        port = -1
    if not 0 <= port <= 65535:
        raise argparse.ArgumentTypeError(f"expected a port from 0 to 65535, not {text!r}")
    return port
