"""Reading ``handle``'s input: one event, a JSON array of events, or JSON Lines, streamed."""

from __future__ import annotations

import itertools
import os
import stat
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

from fulfillmap.errors import FulfillmapError
from fulfillmap.language._jsonio import parse_json, parse_line
from fulfillmap.language._limits import limits


@dataclass(frozen=True, slots=True)
class Item:
    """One event read from the input: ``label`` is ``LINE N``, ``EVENT N`` or ``""`` (the
    whole input); ``error`` is set when the text could not be read as JSON."""

    label: str
    event: Any = None
    error: str | None = None


def open_binary(name: str) -> IO[bytes]:
    """The input as bytes: standard input (``-``) or a regular file (a FIFO or a device is
    refused: it could block or never end)."""
    try:
        if name == "-":
            if sys.stdin is None:
                raise FulfillmapError("standard input is closed; give a file instead of '-'")
            return open(sys.stdin.fileno(), "rb", closefd=False)
        stream = open(name, "rb", opener=_nonblocking)  # noqa: SIM115 - the caller closes it
    except FileNotFoundError:
        raise FulfillmapError(f"the input file {name} does not exist") from None
    except IsADirectoryError:
        raise FulfillmapError(_NOT_REGULAR.format(name)) from None
    except OSError as exc:
        raise FulfillmapError(f"cannot read the input {name}: {exc.strerror or exc}") from exc
    if not stat.S_ISREG(os.fstat(stream.fileno()).st_mode):
        stream.close()
        raise FulfillmapError(_NOT_REGULAR.format(name))
    return stream


_NOT_REGULAR = (
    "the input {} is not a regular file (a directory, a FIFO or a device); give the path of a "
    "file, or '-' and pipe it in"
)


def _nonblocking(path: str, flags: int) -> int:
    """Open without waiting for a FIFO's writer (the file is refused right after)."""
    return os.open(path, flags | getattr(os, "O_NONBLOCK", 0))


def read_events(stream: IO[bytes], progress: Progress) -> Iterator[Item]:
    """The events of the input, streamed line by line when it is JSON Lines.

    The input is JSON Lines when its first non-blank line is a JSON document by itself and
    another line follows (one line alone is one document, or an array of them); otherwise it
    is read whole, as one event or an array of events. (A bad first line of a
    JSON Lines file is recognised by the second line being a document by itself.)
    """
    lines = _numbered_lines(stream, progress)
    first = next(lines, None)
    if first is None:
        return
    document = _loads(first[1])
    if document is not _NOT_JSON:
        second = next(lines, None)
        if second is None:  # one line: one document (a compact body), or an array (jq -c)
            yield from _events_of(document) if isinstance(document, list) else [Item("", document)]
            return
        yield from _json_lines(itertools.chain([first], [second] if second else [], lines))
        return
    rest: list[tuple[int, str | None]] = []
    size = len(first[1] or "")
    for entry in lines:
        rest.append(entry)
        size += len(entry[1] or "")
        if size > limits().max_input_bytes:  # too long to be one document
            if _loads(rest[0][1]) is _NOT_JSON:
                raise FulfillmapError(_too_long("the input"))
            yield from _json_lines(itertools.chain([first], rest, lines))
            return
    if rest and _loads(rest[0][1]) is not _NOT_JSON and not _one_document(first, rest):
        yield from _json_lines(itertools.chain([first], rest))
        return
    document = parse_json(_joined(first, rest), "the input")
    if isinstance(document, list):
        yield from _events_of(document)
    else:
        yield Item("", document)


def _events_of(array: list[Any]) -> Iterator[Item]:
    return (Item(f"EVENT {n}", event) for n, event in enumerate(array, 1))


def _json_lines(lines: Iterator[tuple[int, str | None]]) -> Iterator[Item]:
    for number, text in lines:
        if text is None:
            yield Item(f"LINE {number}", error="the line is not UTF-8 text")
            continue
        if text is _TOO_LONG:
            yield Item(f"LINE {number}", error=_too_long("the line"))
            continue
        try:
            yield Item(f"LINE {number}", parse_line(text))
        except FulfillmapError as exc:
            yield Item(f"LINE {number}", error=str(exc))


#: what ``_numbered_lines`` gives for a line longer than the limit (its text is skipped)
_TOO_LONG = "\0too long"


def _too_long(what: str) -> str:
    return (
        f"{what} is longer than {limits().max_input_bytes:,} bytes (the limit; "
        "FULFILLMAP_MAX_INPUT_BYTES changes it)"
    )


def _lines(stream: IO[bytes], limit: int) -> Iterator[bytes | None]:
    """The lines of ``stream``, each read up to ``limit`` bytes (None: a longer line, skipped
    without holding it in memory)."""
    while raw := stream.readline(limit + 1):
        if len(raw) <= limit or raw.endswith(b"\n"):
            yield raw
            continue
        while (more := stream.readline(limit + 1)) and not more.endswith(b"\n"):
            pass
        yield None


def _numbered_lines(stream: IO[bytes], progress: Progress) -> Iterator[tuple[int, str | None]]:
    """Non-blank lines as text (None: not UTF-8, ``_TOO_LONG``: over the limit), numbered
    from 1; blank lines are skipped."""
    for number, raw in enumerate(_lines(stream, limits().max_input_bytes), 1):
        if raw is None:
            yield number, _TOO_LONG
            continue
        progress.advance(len(raw))
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError:
            yield number, None
            continue
        if text.strip():
            yield number, text


def _joined(first: tuple[int, str | None], rest: list[tuple[int, str | None]]) -> str:
    """The whole input as one text; blank lines come back so that error lines are right."""
    parts: list[str] = []
    expected = 1
    for number, text in (first, *rest):
        if text is None:
            raise FulfillmapError(f"the input is not UTF-8 text (line {number})")
        if text is _TOO_LONG:
            raise FulfillmapError(_too_long("the input"))
        parts += ["\n" * (number - expected), text]
        expected = number + 1
    return "".join(parts)


def _one_document(first: tuple[int, str | None], rest: list[tuple[int, str | None]]) -> bool:
    """Whether the lines together are one JSON document."""
    try:
        return _loads(_joined(first, rest)) is not _NOT_JSON
    except FulfillmapError:  # a line that is not UTF-8, or too long
        return False


_NOT_JSON = object()  #: what ``_loads`` gives for text that is not a JSON document


def _loads(text: str | None) -> Any:
    """``text`` as a JSON document (null included), or ``_NOT_JSON``."""
    if text is None or text is _TOO_LONG:
        return _NOT_JSON
    try:
        return parse_json(text, "")
    except FulfillmapError:
        return _NOT_JSON


@dataclass
class Progress:
    """A progress line on standard error, when it is a terminal and the input a file."""

    total: int  #: bytes in the input; 0: no progress shown
    done: int = 0
    events: int = 0
    shown_at: float = 0.0

    @classmethod
    def start(cls, name: str) -> Progress:
        if name == "-" or not sys.stderr.isatty():
            return cls(0)
        try:
            return cls(Path(name).stat().st_size)
        except OSError:
            return cls(0)

    def advance(self, size: int) -> None:
        if not self.total:
            return
        self.done += size
        self.events += 1
        now = time.monotonic()
        if now - self.shown_at >= 0.1:
            self.shown_at = now
            percent = 100 * self.done // self.total
            sys.stderr.write(f"\rfulfillmap handle: {percent}% ({self.events} lines)")
            sys.stderr.flush()

    def clear(self) -> None:
        if self.total and self.shown_at:
            sys.stderr.write("\r\x1b[K")

    def finish(self, failed: int) -> None:
        if self.total:
            self.clear()
            print(f"fulfillmap handle: {self.events} lines, {failed} failed", file=sys.stderr)
