"""The playground's HTTP server: the page, its static files and a small JSON API.

Standard library only (``http.server``): one user on one machine needs no more, and
``pip install fulfillmap`` then runs the playground with nothing else to install.

Bound to 127.0.0.1. Every API call must carry the page's session token (a web page from
another origin cannot read it, nor send the header without a CORS preflight this server
never grants) and a Host header naming this server (DNS rebinding). Bodies are bounded;
evaluation runs in a worker process with a time limit; a bad request gets a JSON error
the page shows, never a dead server.
"""

from __future__ import annotations

import functools
import json
import secrets
import threading
from dataclasses import dataclass, field
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from importlib.resources import files
from pathlib import Path
from typing import Any

from fulfillmap.errors import FulfillmapError
from fulfillmap.language._jsonio import dump_document
from fulfillmap.tooling.playground import _engine
from fulfillmap.tooling.playground._files import (
    READ_ONLY,
    Opened,
    append_case,
    examples,
    read_text,
    write_atomically,
)
from fulfillmap.tooling.playground._worker import Worker

__all__ = ["MAX_BODY", "Playground", "serve"]

HOST = "127.0.0.1"
#: the largest request body accepted (the mapping and both payloads together)
MAX_BODY = 2 * 1024 * 1024
#: a larger body is read and dropped, so that the page can show why; past this, not read
_DRAIN_LIMIT = 64 * 1024 * 1024
_STATIC = files("fulfillmap.tooling.playground").joinpath("static")
_TYPES = {".html": "text/html", ".js": "text/javascript", ".css": "text/css", ".png": "image/png"}


class BadRequest(FulfillmapError):
    def __init__(self, message: str, status: HTTPStatus = HTTPStatus.BAD_REQUEST) -> None:
        super().__init__(message)
        self.status = status


@dataclass
class Playground:
    """The state one playground serves: the mapping it was opened on, the payloads given."""

    opened: Opened
    input_text: str
    context_text: str
    timeout: float = 5.0
    token: str = field(default_factory=lambda: secrets.token_urlsafe(24))
    worker: Worker = field(init=False)

    def __post_init__(self) -> None:
        self.worker = Worker(self.timeout)

    # -- the API: request data -> response data -----------------------------------------

    def session(self) -> dict[str, Any]:
        shown, note = examples(self.opened)
        first = shown[0] if shown else {"input": "{}", "context": None}
        return {
            "reference": self.opened.reference,
            "file": self.opened.file,
            "writable": self.opened.path is not None,
            "testFile": str(self.opened.test_file or ""),
            "mapping": self.opened.text,
            "input": self.input_text or first["input"],
            "context": self.context_text or (first["context"] or ""),
            "examples": shown,
            "examplesNote": note,
        }

    def evaluate(self, request: dict[str, Any]) -> dict[str, Any]:
        return dict(self._in_worker(_engine.evaluate, request))

    def save_mapping(self, request: dict[str, Any]) -> dict[str, Any]:
        path = self._writable()
        write_atomically(path, _text(request, "mapping"))
        return {"message": f"saved {path}"}

    def save_case(self, request: dict[str, Any]) -> dict[str, Any]:
        path = self._writable()
        name = _text(request, "name").strip()
        if not name:
            raise BadRequest("give the case a name")
        if _text(request, "mapping") != read_text(path):
            raise BadRequest(
                f"save the mapping first: the test file runs {path} as it is on disk, "
                f"and the editor's text differs from it"
            )
        case = self._in_worker(_engine.expected_case, request)
        test_file = append_case(self.opened, name, case)
        shown, note = examples(self.opened)
        message = f"case '{name}' appended to {test_file}"
        return {"message": message, "examples": shown, "examplesNote": note}

    def _writable(self) -> Path:
        if self.opened.path is None:
            raise BadRequest(READ_ONLY, HTTPStatus.FORBIDDEN)
        return self.opened.path

    def _in_worker(self, function: Any, request: dict[str, Any]) -> Any:
        arguments = (
            _text(request, "mapping"),
            self.opened.file,
            self.opened.directory,
            _text(request, "input"),
            _text(request, "context"),
        )
        try:
            return self.worker.call(function, *arguments)
        except FulfillmapError as exc:  # bad input, an invalid mapping, WorkerTimeout
            raise BadRequest(str(exc), HTTPStatus.UNPROCESSABLE_ENTITY) from None
        except RecursionError:
            raise BadRequest(
                "nested too deeply to evaluate", HTTPStatus.UNPROCESSABLE_ENTITY
            ) from None
        except MemoryError:
            raise BadRequest(
                "the evaluation ran out of memory", HTTPStatus.UNPROCESSABLE_ENTITY
            ) from None


def _text(request: dict[str, Any], key: str) -> str:
    value = request.get(key, "")
    if not isinstance(value, str):
        raise BadRequest(f"'{key}' must be text")
    return value


_ROUTES = {
    "/api/evaluate": Playground.evaluate,
    "/api/save-mapping": Playground.save_mapping,
    "/api/save-case": Playground.save_case,
}


class _Handler(BaseHTTPRequestHandler):
    server: _Server
    protocol_version = "HTTP/1.1"

    def do_GET(self) -> None:
        path = self.path.split("?", 1)[0]
        if not self._from_this_host():
            return
        if path == "/api/session":
            self._guarded(lambda: self.server.playground.session())
        elif path == "/api/ping":
            self._guarded(lambda: {"ok": True})
        elif path == "/":
            page = _static("index.html").decode().replace("{{TOKEN}}", self.server.playground.token)
            self._send(HTTPStatus.OK, page.encode(), "text/html")
        elif path.startswith("/static/") and path.removeprefix("/static/") in _static_names():
            name = path.removeprefix("/static/")
            self._send(HTTPStatus.OK, _static(name), _TYPES[name[name.rfind(".") :]])
        else:
            self._json(HTTPStatus.NOT_FOUND, {"error": f"no such page: {path}"})

    def do_POST(self) -> None:
        route = _ROUTES.get(self.path)
        if not self._from_this_host():
            self._discard_body()
            return
        if route is None:
            self._discard_body()
            self._json(HTTPStatus.NOT_FOUND, {"error": f"no such API: {self.path}"})
            return
        self._guarded(lambda: route(self.server.playground, self._body()))

    def _guarded(self, answer: Any) -> None:
        try:
            self._check_origin()
            self._json(HTTPStatus.OK, answer())
        except BadRequest as exc:
            self._json(exc.status, {"error": str(exc)})
        except FulfillmapError as exc:
            self._json(HTTPStatus.UNPROCESSABLE_ENTITY, {"error": str(exc)})
        except Exception as exc:  # the server outlives any one request
            self.log_error("internal error: %r", exc)
            self._json(HTTPStatus.INTERNAL_SERVER_ERROR, {"error": f"internal error: {exc!r}"})

    def _from_this_host(self) -> bool:
        """Whether the request names this server (a web page whose name was pointed at
        127.0.0.1, DNS rebinding, names its own); answers 403 when it does not."""
        host = self.headers.get("Host", "")
        port = self.server.server_address[1]
        if host in (f"{HOST}:{port}", f"localhost:{port}"):
            return True
        message = f"refused: Host {host!r} is not this server"
        self._json(HTTPStatus.FORBIDDEN, {"error": message})
        return False

    def _check_origin(self) -> None:
        if self.headers.get("X-Playground-Token") != self.server.playground.token:
            raise BadRequest(
                "refused: this request does not come from the playground page (reload it)",
                HTTPStatus.FORBIDDEN,
            )

    def _body(self) -> dict[str, Any]:
        try:
            length = int(self.headers.get("Content-Length", ""))
        except ValueError:
            self.close_connection = True
            raise BadRequest(
                "a request body needs a Content-Length", HTTPStatus.LENGTH_REQUIRED
            ) from None
        if length > MAX_BODY:
            self._discard_body(length)
            raise BadRequest(
                f"the request is too large ({length:,} bytes; at most {MAX_BODY:,}): "
                f"the mapping and the payloads together must be smaller",
                HTTPStatus.REQUEST_ENTITY_TOO_LARGE,
            )
        raw = self.rfile.read(length)
        try:
            data = json.loads(raw.decode("utf-8"))
        except UnicodeDecodeError as exc:
            raise BadRequest(f"the request is not valid UTF-8 (byte {exc.start})") from None
        except (json.JSONDecodeError, RecursionError) as exc:
            raise BadRequest(f"the request is not valid JSON: {exc}") from None
        if not isinstance(data, dict):
            raise BadRequest("the request must be a JSON object")
        return data

    def _discard_body(self, length: int | None = None) -> None:
        """Read an unwanted body (a browser shows no answer to a request it is still
        sending), up to a limit; past it, the connection is dropped after the answer."""
        if length is None:
            try:
                length = int(self.headers.get("Content-Length", "0"))
            except ValueError:
                length = _DRAIN_LIMIT + 1
        if length > _DRAIN_LIMIT:
            self.close_connection = True
            return
        while length > 0:
            chunk = self.rfile.read(min(length, 65536))
            if not chunk:
                break
            length -= len(chunk)

    def _json(self, status: HTTPStatus, data: dict[str, Any]) -> None:
        try:  # amounts with their digits (G3), as fulfillmap map writes them
            body = dump_document(data, compact=True)
        except FulfillmapError as exc:  # NaN or infinity (1e400 in the input)
            status = HTTPStatus.UNPROCESSABLE_ENTITY
            body = json.dumps({"error": str(exc)}).encode()
        self._send(status, body, "application/json")

    def _send(self, status: HTTPStatus, body: bytes, content_type: str) -> None:
        self.send_response(status)
        self.send_header("Content-Type", f"{content_type}; charset=utf-8")
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Cache-Control", "no-store")
        self.send_header("X-Content-Type-Options", "nosniff")
        if self.close_connection:
            self.send_header("Connection", "close")
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: Any) -> None:
        del format, args  # quiet: errors are logged by log_error


class _Server(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, port: int, playground: Playground) -> None:
        super().__init__((HOST, port), _Handler)
        self.playground = playground

    def handle_error(self, request: Any, client_address: Any) -> None:
        del request, client_address  # a client that went away; the server carries on


@functools.cache
def _static_names() -> frozenset[str]:
    return frozenset(
        entry.name for entry in _STATIC.iterdir() if entry.name[entry.name.rfind(".") :] in _TYPES
    )


def _static(name: str) -> bytes:
    return _STATIC.joinpath(name).read_bytes()


def serve(playground: Playground, port: int) -> tuple[_Server, threading.Thread]:
    """Start serving on 127.0.0.1:``port`` (0: any free port) in a thread."""
    server = _Server(port, playground)
    thread = threading.Thread(target=server.serve_forever, name="playground", daemon=True)
    thread.start()
    return server, thread
