"""Data paths: where a value is in a JSON document, as data and as text.

A path is a tuple of keys and indices, ``("items", 1, "tax")``, kept as data until it is
shown (as jsonschema keeps ``relative_path``), and written ``items[1].tax``. This module owns
that type: formatting, parsing back, rebasing under a prefix, and showing the value found
at a path (``excerpt``), cut to a readable length (``truncate``, the one truncator).
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping, Sequence
from decimal import Decimal
from typing import Any

__all__ = ["Path", "excerpt", "format_path", "parse_path", "rebase", "truncate"]

#: keys (text) and array indices (int), outermost first
Path = tuple[str | int, ...]

_PART = re.compile(r"\[(\d+)\]|\.?([^.\[\]]+)")


def format_path(path: Iterable[str | int]) -> str:
    """``items[1].tax``; the empty path is ``""``."""
    text = ""
    for part in path:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else part)
    return text


def parse_path(text: str | None) -> Path:
    """The path ``format_path`` wrote (keys holding dots or brackets do not round-trip)."""
    if not text:
        return ()
    return tuple(int(index) if index else key for index, key in _PART.findall(text))


def rebase(prefix: str | Path, path: str | None) -> str:
    """``path`` (text) made a path under ``prefix``: ``data.object`` + ``items[1]``."""
    head = prefix if isinstance(prefix, str) else format_path(prefix)
    if not path:
        return head
    if not head:
        return path
    return f"{head}{path}" if path.startswith("[") else f"{head}.{path}"


def truncate(value: Any, limit: int = 60) -> str:
    """``value`` as it reads in a message: JSON text (``"2"``, ``2.5``, ``{"x": 1}``), never a
    Python repr (``'2'``, ``Decimal('2.5')``), cut after ``limit`` characters with
    ``... (len=N)``. The one way values are shown."""
    try:
        text = _NUMBER.sub(r"\1", json.dumps(value, ensure_ascii=False, default=_marked))
    except (TypeError, ValueError, RecursionError):  # not JSON, circular, absurdly deep
        text = f"a {type(value).__name__}"  # say what it is
    return text if len(text) <= limit else f"{text[:limit]}... (len={len(text)})"


#: a Decimal as ``_marked`` writes it: in quotes between two U+0000 (escaped by json.dumps)
_NUMBER = re.compile(r'"\\u0000([-+0-9.eEinfatyINFATY]+)\\u0000"')


def _marked(value: Any) -> Any:
    if isinstance(value, Decimal):
        return f"\0{value}\0"
    if isinstance(value, tuple | set | frozenset):
        return list(value)
    if isinstance(value, Mapping):  # a read-only view, as plugins see the documents
        return dict(value)
    if isinstance(value, Sequence) and not isinstance(value, str | bytes | bytearray):
        return list(value)
    raise TypeError


def excerpt(source: Any, context: Any, data_path: str | None) -> str:
    """The deepest existing value along ``data_path``, truncated: ``items[1]: {...}``.

    Empty when there is no data path. ``context.x`` paths are read from the context unless
    the source itself has a ``context`` key.
    """
    if not data_path:
        return ""
    parts = list(parse_path(data_path))
    data: Any = source
    reached = ""
    if parts[:1] == ["context"] and not (isinstance(source, dict) and "context" in source):
        data, parts, reached = context or {}, parts[1:], "context"
    for part in parts:
        if isinstance(part, int) and isinstance(data, list) and 0 <= part < len(data):
            data, reached = data[part], f"{reached}[{part}]"
        elif isinstance(part, str) and isinstance(data, dict) and part in data:
            data, reached = data[part], f"{reached}.{part}" if reached else part
        else:
            break
    return f"{reached or '(the whole input)'}: {truncate(data, 160)}"
