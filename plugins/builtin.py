"""fulfillmap's built-in plugin: the custom fields Digital River's docs describe, and a few
JMESPath functions. Registered through the ``fulfillmap`` entry point like any other plugin.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from decimal import Decimal
from typing import Any

from fulfillmap.paths import truncate

from . import FieldFunction, FieldInput, JMESPathFunction, Shortcut, hookimpl, reads_only

__all__ = ["duties_paid", "reservation_id", "signature_required_type"]

SIGNATURE_TYPES = ("standard", "adult")
NONE = type(None)


@reads_only
def duties_paid(data: FieldInput) -> bool | None:
    """``True`` when the order triggered Digital River's landed-cost feature.

    The order says so with ``importerOfRecordTax: true`` (not ``totalDuty > 0``, which can be
    0 even then). Otherwise the field is absent, so that it is omitted.
    """
    flag = data.root.get("importerOfRecordTax")  # the source document: an object
    if flag is None or flag is False:
        return None
    if flag is True:
        return True
    raise ValueError(f"importerOfRecordTax must be true, false or null, not {truncate(flag)}")


@reads_only
def signature_required_type(data: FieldInput) -> str | None:
    """The ``signatureRequiredType`` of the shipping quote the customer chose.

    Digital River's orders do not carry it: the caller persists the chosen quote and passes it
    as ``context["shippingQuote"]``. Absent when there is no quote or the quote needs no
    signature. A quote whose ``id`` is not the order's ``shippingChoice.serviceLevel`` is an
    error: it is not the quote the customer chose.
    """
    quote = data.context.get("shippingQuote")
    if quote is None:
        return None
    if quote.__class__ is not dict and not isinstance(quote, Mapping):
        raise ValueError(f"context.shippingQuote must be an object, not {truncate(quote)}")
    quote_id = quote.get("id")
    if quote_id is not None:
        choice = data.root.get("shippingChoice")  # the source document: an object
        if choice.__class__ is dict or isinstance(choice, Mapping):
            level = choice.get("serviceLevel")
            if level is not None and quote_id != level:
                raise _not_chosen(quote_id, level)
    value = quote.get("signatureRequiredType")
    if value is None or value in SIGNATURE_TYPES:
        return value
    raise ValueError(
        f"context.shippingQuote.signatureRequiredType must be one of "
        f"{', '.join(SIGNATURE_TYPES)}, not {truncate(value)}"
    )


@reads_only
def reservation_id(data: FieldInput) -> str | None:
    """The order's ``checkoutId`` as the reservation id, when the caller reserved inventory.

    Digital River says to send ``reservationId`` only when a reservation was made, and to
    make it with the checkout's id (DOC-CF). The order does not say whether one was made: the
    caller does, with ``context["inventoryReserved"]: true``. Absent otherwise. Reserved
    inventory on an order without a ``checkoutId`` is an error (the reservation would be
    left unused while Digital River allocates the items again).
    """
    flag = data.context.get("inventoryReserved")
    if flag is None or flag is False:
        return None
    if flag is not True:
        raise ValueError(f"context.inventoryReserved must be true or false, not {truncate(flag)}")
    checkout = data.root.get("checkoutId")
    if isinstance(checkout, str) and checkout:
        return checkout
    raise ValueError(
        "context.inventoryReserved is true but the order has no checkoutId, the id the "
        "reservation was made with"
    )


def _not_chosen(quote_id: Any, level: Any) -> ValueError:
    return ValueError(
        f"context.shippingQuote.id {truncate(quote_id)} is not the quote the order "
        f"uses (shippingChoice.serviceLevel {truncate(level)})"
    )


def upper(value: str | None) -> str | None:
    """Upper-case text; null stays null (``upper(currency)``: ``usd`` -> ``USD``)."""
    return None if value is None else value.upper()


def lower(value: str | None) -> str | None:
    """Lower-case text; null stays null."""
    return None if value is None else value.lower()


def to_id(value: Any) -> str | None:
    """An identifier as text: ``5774321009`` -> ``"5774321009"``; text and null unchanged.

    Digital River types some ids as numbers and the same ids elsewhere as strings (G1).
    """
    if value is None or isinstance(value, str):
        return value
    number = _integer(value)
    if number is not None:
        return str(number)
    raise ValueError(
        f"to_id() takes text or a whole number{_LIMIT[_too_long(value)]}, not {truncate(value)}"
    )


def is_id(value: Any) -> bool:
    """Is ``value`` an id ``to_id`` makes text of: text that is not empty, or a whole number
    (``8760948870``, ``2.0``; not ``""``, ``1.5``, ``true`` or null)? For a rule or a ``where``
    that leaves a line without one out, where ``to_id`` would stop the mapping."""
    if value.__class__ is str:
        return value != ""
    return value is not None and _integer(value) is not None


def ids_shortcuts() -> tuple[Shortcut, ...]:
    """``is_id`` without a call: true for text that is not empty (``len``), and any int."""
    return (Shortcut(str, True, len), Shortcut(int, True))


def to_integer(value: Any) -> int | None:
    """A whole number as an integer: ``2.0`` -> ``2``; null unchanged; ``2.5`` is an error."""
    if value.__class__ is int or value is None:
        return value
    number = _integer(value)
    if number is not None:
        return number
    raise ValueError(
        f"to_integer() takes a whole number{_LIMIT[_too_long(value)]}, not {truncate(value)}"
    )


def whole_number(value: Any) -> int | None:
    """A whole number as an integer, else null, never an error: ``2.0`` -> ``2``; ``2.5``,
    ``"2"``, NaN, infinity, ``true`` -> null. For filters that leave such a line out
    (``where: whole_number(quantity) > `0```), where ``to_integer`` would stop the mapping."""
    if value.__class__ is int:
        return value
    return _integer(value)


def unknown_keys(value: Mapping[str, Any] | None, known: Sequence[Any]) -> list[str]:
    """The keys of an object that ``known`` does not list, in the object's order; ``[]`` for
    null (``!unknown_keys(shipTo, `["address", "name"]`)`` holds when shipTo has no others)."""
    if value is None:
        return []
    names = _names(known)
    if names is None:  # an object or array among them (which no key equals)
        return [key for key in value if key not in known]
    return [] if names.issuperset(value) else [key for key in value if key not in names]


def known_keys_only(known: Sequence[Any]) -> tuple[Shortcut, ...]:
    """``unknown_keys(value, known)`` without a call, for literal ``known`` names: ``[]`` for
    null and for an object whose keys ``known`` all names (one set's C test)."""
    names = _names(known) if known.__class__ is list else None
    if names is None:
        return ()
    return (Shortcut(NONE, []), Shortcut(dict, [], names.issuperset))


def _names(known: Sequence[Any]) -> frozenset[Any] | None:
    """``known`` as a set (each key's test one lookup); None when it holds an object or an
    array. A mapping passes the same names at every call: their set is made once and kept
    by their value (a list changed in place is another key), for at most ``_NAMES_KEPT``
    lists of at most ``_NAMES_KEPT`` names."""
    try:
        key = tuple(known)
        names = _NAMES.get(key)
    except TypeError:
        return None
    if names is None:
        names = frozenset(key)
        if len(key) <= _NAMES_KEPT:
            if len(_NAMES) >= _NAMES_KEPT:
                _NAMES.clear()
            _NAMES[key] = names
    return names


_NAMES: dict[tuple[Any, ...], frozenset[Any]] = {}
_NAMES_KEPT = 64


def minus(left: Any, right: Any) -> int | None:
    """``left - right`` for whole numbers (``minus(cancelled, ledger.cancelled)``); null if
    either is null. The ledger's cancel deltas are written with it (G13)."""
    if left.__class__ is int and right.__class__ is int:  # nearly always
        return left - right
    if left is None or right is None:
        return None
    first, second = to_integer(left), to_integer(right)
    return int(first or 0) - int(second or 0)  # neither is None: to_integer keeps only None


#: the most digits of a whole number written with a fraction or an exponent that becomes an
#: integer here (``1E+20000000`` would take minutes to make into one)
MAX_DIGITS = 100
_LIMIT = {False: "", True: f" of at most {MAX_DIGITS} digits"}


def _integer(value: Any) -> int | None:
    """``value`` as an integer when it is a whole number (a boolean is not), else None."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return int(value)
    if isinstance(value, float):
        return int(value) if value.is_integer() and abs(value) < 1e100 else None
    if isinstance(value, Decimal) and value.is_finite() and value.adjusted() < MAX_DIGITS:
        return int(value) if value == value.to_integral_value() else None
    return None


def _too_long(value: Any) -> bool:
    """Is ``value`` a whole number of more than ``MAX_DIGITS`` digits (not an integer)?"""
    if isinstance(value, float):
        return value.is_integer() and abs(value) >= 1e100
    return isinstance(value, Decimal) and value.is_finite() and value.adjusted() >= MAX_DIGITS


@hookimpl
def fulfillmap_fields() -> Mapping[str, FieldFunction]:
    return {
        "duties-paid": duties_paid,
        "reservation-id": reservation_id,
        "signature-required-type": signature_required_type,
    }


@hookimpl
def fulfillmap_functions() -> Sequence[JMESPathFunction]:
    text = ("string", "null")
    return (
        JMESPathFunction("upper", upper, (text,), "Upper-case text; null stays null."),
        JMESPathFunction("lower", lower, (text,), "Lower-case text; null stays null."),
        JMESPathFunction("to_id", to_id, (("any",),), "An identifier as text (G1).", (str, NONE)),
        JMESPathFunction(
            "is_id",
            is_id,
            (("any",),),
            "Is it an id to_id makes text of (not empty text, or a whole number)?",
            shortcuts=ids_shortcuts,
        ),
        JMESPathFunction(
            "to_integer", to_integer, (("any",),), "A whole number as an integer.", (int, NONE)
        ),
        JMESPathFunction(
            "whole_number",
            whole_number,
            (("any",),),
            "A whole number as an integer, else null (never an error).",
            (int, NONE),
        ),
        JMESPathFunction(
            "unknown_keys",
            unknown_keys,
            (("object", "null"), ("array",)),
            "The keys of an object that a list does not name.",
            shortcuts=known_keys_only,
        ),
        JMESPathFunction(
            "minus",
            minus,
            (("number", "null"), ("number", "null")),
            "A whole number minus another.",
        ),
    )
