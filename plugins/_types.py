"""The types hooks exchange (``FieldInput``, ``FieldFunction``, ``JMESPathFunction``), apart
from the hooks themselves (``hookspecs``, whose markers need pluggy): a compiled mapping loaded
from the cache runs plugins' functions without importing pluggy. Import them from
``fulfillmap.plugins`` or ``fulfillmap.plugins.hookspecs``."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any, NamedTuple, Protocol, TypeVar

__all__ = [
    "FieldFunction",
    "FieldInput",
    "JMESPathFunction",
    "Shortcut",
    "is_reads_only",
    "reads_only",
]

F = TypeVar("F", bound=Callable[..., Any])


class FieldInput(NamedTuple):
    """What a computed field sees (immutable; built for every call, so kept light)."""

    #: the whole source document (an order, an event)
    root: Any
    #: the current object: the array element inside ``each``, else the source document
    current: Any
    #: the context passed to ``apply`` (an empty dict when none). ``root``, ``current`` and
    #: ``context`` are read-only views (``Mapping``s and ``Sequence``s) of the documents, or
    #: the documents themselves for a function marked ``reads_only``
    context: Mapping[str, Any]
    #: the field's ``args`` from the mapping file
    args: Mapping[str, Any] = MappingProxyType({})
    #: the target field being computed, e.g. ``shippingChoice.dutiesPaid``
    target_path: str = ""


def reads_only(function: F) -> F:
    """Mark a field function that never changes what it is given: it is then given the
    documents themselves instead of read-only views (``FieldInput``), which saves a view per
    object it reads (several µs a mapping). A function so marked that changes them anyway
    corrupts the caller's input. The built-in field functions are marked."""
    function.__fulfillmap_reads_only__ = True  # type: ignore[attr-defined]
    return function


def is_reads_only(function: Callable[..., Any]) -> bool:
    """Is ``function`` marked with ``reads_only``?"""
    return getattr(function, "__fulfillmap_reads_only__", False) is True


class FieldFunction(Protocol):
    """Computes one target field. Return ``None`` when the value is absent.

    An absent value is then omitted, replaced by the field's ``default``, or (for a
    ``required`` field) an error. An exception raised here becomes a ``MappingError`` that
    names the plugin and the field; raise ``ValueError`` with a clear message for bad input.
    """

    def __call__(self, data: FieldInput, /) -> Any: ...


@dataclass(frozen=True, slots=True)
class JMESPathFunction:
    """A function that mapping expressions can call, e.g. ``upper(currency)``.

    ``signature`` gives, per argument, the JMESPath types it accepts: ``"string"``,
    ``"number"``, ``"boolean"``, ``"array"``, ``"object"``, ``"null"`` or ``"any"``.
    ``unchanged`` (optional, for a one-argument function) lists the exact Python classes it
    returns as they are (``to_id`` returns text and None unchanged): compiled mappings then
    skip the call for them, and write an ``each`` loop once more for elements whose value
    given to it is of the first of them (docs/writing-a-plugin.md).
    ``shortcuts`` (optional) is called when a mapping is compiled, for each call whose
    arguments after the first are literals of the types the function takes, with their
    values (``unknown_keys(shipTo, `["name"]`)``: ``shortcuts(["name"])``); it returns the
    results that call has without being made (``Shortcut``s), or none.
    """

    name: str
    function: Callable[..., Any]
    signature: tuple[tuple[str, ...], ...]
    description: str = ""
    unchanged: tuple[type, ...] = ()
    shortcuts: Callable[..., Sequence[Shortcut]] | None = None


@dataclass(frozen=True, slots=True)
class Shortcut:
    """A result a compiled mapping knows without calling a JMESPath function: when the
    first argument is of exactly the class ``cls`` and, if ``test`` is given, ``test`` of it
    is true, the call returns ``result`` (JSON). ``test`` is called instead of the function,
    so it should be a C function (``frozenset(names).issuperset``); it must not raise for a
    value of ``cls``. Say only what is true: the function is not called for such a value.
    """

    cls: type
    result: Any
    test: Callable[[Any], object] | None = None
