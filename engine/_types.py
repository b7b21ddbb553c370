"""``JSON``: the type of the documents fulfillmap reads and writes (``fulfillmap.JSON``).

Imports nothing of ours, so that every layer may use it.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TypeAlias, Union

__all__ = ["JSON"]

#: A JSON value: an object, an array, text, a number, a boolean or null.
#:
#: Objects and arrays are ``Mapping`` and ``Sequence`` (read-only and covariant to a type
#: checker), so that a ``dict[str, str]``, a ``list[dict[str, int]]`` or a ``json.loads``
#: result can be passed where fulfillmap reads a document. What fulfillmap returns is built
#: of plain ``dict`` and ``list``, new on every call.
JSON: TypeAlias = Union[  # noqa: UP007 (a runtime object: the | form cannot hold the name)
    Mapping[str, "JSON"], Sequence["JSON"], str, int, float, bool, None
]
