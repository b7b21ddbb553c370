"""Every resource bound fulfillmap enforces, in one place.

Mapping, routes and test files and the documents mapped are data from people one should
not trust: each is bounded in size and depth *before* it is read whole or recursed into, so
that a hostile or broken file is a clear ``FulfillmapError``, never a hang, a
``MemoryError`` or a ``RecursionError``.

The defaults are far above what a Digital River payload or a mapping needs. Change them for
the process with ``fulfillmap.set_limits(fulfillmap.Limits(...))`` or, on the command line,
with the environment variables named in ``ENVIRONMENT`` (``FULFILLMAP_MAX_INPUT_BYTES=...``).
"""

from __future__ import annotations

import os
from dataclasses import dataclass, fields, replace

from fulfillmap.errors import FulfillmapError

__all__ = ["ENVIRONMENT", "Limits", "limits", "set_limits"]


@dataclass(frozen=True, slots=True)
class Limits:
    """Resource bounds; every field is documented in docs/errors.md ("Limits")."""

    #: bytes in one JSON document read whole (``map``'s and ``trace``'s input, a context,
    #: ``handle``'s input when it is not JSON Lines), and in one JSON Lines line
    max_input_bytes: int = 16 * 1024 * 1024
    #: bytes in one mapping, routes, test or schema file
    max_file_bytes: int = 2 * 1024 * 1024
    #: how deeply arrays and objects may nest in a JSON document (an order nests about 6)
    max_json_depth: int = 128
    #: how deeply YAML collections may nest in a mapping, routes or test file
    max_yaml_depth: int = 64
    #: digits in a YAML integer (Python refuses more than 4,300 when converting)
    max_yaml_digits: int = 100
    #: characters in one expression (``value:``, ``when:``, a rule's ``check:``)
    max_expression_length: int = 10_000
    #: how deeply an expression may nest (parentheses, ``||`` chains, sub-expressions)
    max_expression_depth: int = 64
    #: characters in one literal inside an expression (`` `...` `` or ``'...'``)
    max_literal_length: int = 1_000
    #: how many times the size of its input the values an expression builds may be, as its
    #: text bounds them: ``{a: @, b: @}`` is 2, ``{a: @, b: @} | {a: @, b: @}`` 4 (forty such
    #: steps would build 10^12 times the input, and never end); a mapping's need 1 to 5
    max_expression_growth: int = 256
    #: fields (nested ones included) and rules in one mapping (a mapping has tens; each is
    #: compiled, so 100,000 took 40 s and 2 GB)
    max_fields: int = 5_000


#: each limit's environment variable, read when fulfillmap is first imported
ENVIRONMENT = {spec.name: f"FULFILLMAP_{spec.name.upper()}" for spec in fields(Limits)}


def _from_environment() -> Limits:
    changes: dict[str, int] = {}
    for name, variable in ENVIRONMENT.items():
        text = os.environ.get(variable)
        if text is None:
            continue
        try:
            value = int(text.replace("_", ""))
        except ValueError:
            value = 0
        if value <= 0:
            raise FulfillmapError(f"{variable} must be a positive whole number, not '{text}'")
        changes[name] = value
    return replace(Limits(), **changes)


_current: Limits | None = None


def limits() -> Limits:
    """The limits in force (the environment's, unless ``set_limits`` changed them)."""
    global _current
    if _current is None:
        _current = _from_environment()
    return _current


def set_limits(new: Limits | None = None) -> Limits:
    """Put ``new`` in force for the whole process (None: the defaults and the environment
    again); returns the limits that were in force, so that a caller can restore them."""
    global _current
    previous = limits()
    _current = new
    return previous
