"""The baseline: each shipped mapping written by hand, in one careful pass, doing the same work.

Each function returns the mapping's body and its ``warn`` rules' violations (rule, data path),
as ``apply_with_warnings`` does, and fails (``ValueError``) wherever the mapping fails; checked
by ``tests/test_bench_baselines.py`` on every golden input and golden error and on variants:

- missing and null values are left out, an object or array value is copied without its null
  values; ``[shipTo.x, billTo.x]`` falls back; ``shipTo`` is copied field by field (other keys
  are left out with a warning, as are those of its ``address`` and ``additionalAddressInfo``);
  ``upper``; ``to_integer`` (``2.0`` -> ``2``, ``2.5`` refused); ``whole_number``; ``minus``;
- every required value absent is a failure (the order's and each line's ``id``, ``currency``,
  ``createdTime``, ``shipTo.address.country``, ``shippingChoice.serviceLevel``, ``items``,
  each line's ``skuId``, ``quantity`` and ``tax.amount`` ...);
- the plugins' checks (``plugins/builtin.py``): ``importerOfRecordTax`` must be true, false
  or null; the context's ``inventoryReserved`` must be true, false or null, and when true the
  order needs a ``checkoutId``; the context's ``shippingQuote`` must be an object whose ``id``
  is the order's ``shippingChoice.serviceLevel`` and whose ``signatureRequiredType`` is
  standard or adult (no quote: a warning);
- the per-line decisions of the shipped and cancelled mappings: a line that cannot be
  captured or cancelled is left out with a warning, in the same loop that builds the lines
  (JMESPath's truth and comparisons: ``0`` is true, ``""`` is false, a boolean is not a
  number); the cancel deltas against each line's ``ledger.cancelled``; no line left at all is
  a failure.

Warnings come in fulfillmap's order (rule by rule, then line by line). The messages are plain,
without fulfillmap's details (field, data path, mapping file line): that is the work fulfillmap
does on failure only.
"""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
from typing import Any

_EMPTY: Mapping[str, Any] = {}
#: values taken as they are; anything else is copied (``clean``) or is null
PLAIN = (str, int, float, bool)
#: JMESPath's numbers (a boolean is not one)
NUMBERS = (int, float, Decimal)
SIGNATURE_TYPES = ("standard", "adult")
SHIP_TO_KEYS = ("name", "phone", "email", "organization")
ADDRESS_KEYS = ("line1", "line2", "city", "postalCode", "state")
ADDITIONAL_INFO_KEYS = ("neighborhood", "division", "phoneticName")

Warnings = list[tuple[str, str]]


def clean(value: Any) -> Any:
    """A deep copy without null-valued keys."""
    if value.__class__ is dict:
        return {key: clean(item) for key, item in value.items() if item is not None}
    if value.__class__ is list:
        return [clean(item) for item in value]
    return value


def _required(value: Any, what: str) -> Any:
    """A required value that is not plain text, number or boolean: null fails, else a copy."""
    if value is None:
        raise ValueError(f"{what} is required")
    return clean(value)


def truthy(value: Any) -> bool:
    """JMESPath's truth: null, false, "", [] and {} are false, every number is true."""
    return bool(value) or value.__class__ in NUMBERS


def whole_number(value: Any) -> int | None:
    """``whole_number``: an int as it is, a whole float or Decimal as an int, else None."""
    if value.__class__ is int:
        return value
    if value.__class__ is float and value.is_integer() and abs(value) < 1e100:
        return int(value)
    if (
        value.__class__ is Decimal
        and value.is_finite()
        and value.adjusted() < 100  # at most 100 digits, as fulfillmap's
        and value == value.to_integral_value()
    ):
        return int(value)
    return None


def _whole_total(counts: tuple[Any, ...]) -> tuple[bool, int]:
    """Are the counts each null or a whole number of 0 or more, and their total (null: 0)?"""
    total = 0
    for count in counts:
        if count is None:
            continue
        number = whole_number(count)
        if number is None or number < 0:
            return False, 0
        total += number
    return True, total


def _to_id(value: Any, what: str) -> str:
    """``to_id`` of a required value that is not text: a whole number's digits."""
    if value is None:
        raise ValueError(f"{what} is required")
    number = whole_number(value)
    if number is None:
        raise ValueError(f"{what} must be text or a whole number, not {value!r}")
    return str(number)


def _id_text(value: Any) -> str | None:
    """``to_id`` of a line's id when ``is_id`` holds (text, a whole number's digits, G1)."""
    if value.__class__ is str:
        return value
    number = whole_number(value)
    return None if number is None else str(number)


def _to_integer(value: Any, what: str) -> int:
    """``to_integer`` of a required value: a whole number as an int; anything else fails."""
    number = whole_number(value)
    if number is None:
        raise ValueError(f"{what} is required and must be a whole number, not {value!r}")
    return number


def _line_warnings(found: list[tuple[int, int]], rules: tuple[str, ...], each: str) -> Warnings:
    """(rule, data path) of each (rule position, line index) found, rule by rule."""
    found.sort()
    return [(rules[rule], f"{each}[{index}]") for rule, index in found]


def _data_object(event: dict[str, Any]) -> dict[str, Any]:
    """The event's ``data.object``, which its required fields are read from."""
    data = event.get("data")
    found = data.get("object") if data.__class__ is dict else None
    if found.__class__ is not dict:
        raise ValueError("data.object is required and must be an object")
    return found


# -- order.accepted ---------------------------------------------------------------------


def order_to_fulfillment_order(
    order: dict[str, Any], context: Mapping[str, Any]
) -> tuple[dict[str, Any], Warnings]:
    state = order.get("state")
    if state is not None and state != "accepted":
        raise ValueError("the order is not in state accepted")
    value = order.get("id")
    if not value and value.__class__ not in NUMBERS:  # null, "", false, [] or {}: none
        raise ValueError("the order has no id")
    body: dict[str, Any] = {"upstreamId": value if value.__class__ in PLAIN else clean(value)}
    currency = order.get("currency")
    if currency.__class__ is not str:
        raise ValueError("currency is required and must be text")
    body["currency"] = currency.upper()
    value = order.get("locale")
    if value.__class__ in PLAIN:
        body["locale"] = value
    elif value is not None:
        body["locale"] = clean(value)
    value = order.get("createdTime")
    if value.__class__ not in PLAIN:
        value = _required(value, "createdTime")
    body["upstreamOrderTime"] = value
    _reservation_id(order, context, body)
    ship_to = order.get("shipTo")
    if ship_to.__class__ is not dict:
        raise ValueError("shipTo is required and must be an object")
    bill_to = order.get("billTo")
    for key in ("name", "email", "phone"):
        value = ship_to.get(key)
        if value is None:
            value = _bill_to(bill_to, key)
        if value.__class__ in PLAIN:
            body[key] = value
        elif value is not None:
            body[key] = clean(value)
    warnings: Warnings = []
    body["shipTo"] = _ship_to(ship_to, warnings)
    body["shippingChoice"] = _shipping_choice(order, context)
    if not truthy(context.get("shippingQuote")):
        warnings.append(("shipping-quote-given", "context"))
    body["items"] = _order_lines(order.get("items"))
    return body, warnings


def _reservation_id(
    order: dict[str, Any], context: Mapping[str, Any], body: dict[str, Any]
) -> None:
    """The reservation-id plugin: the checkout id when the caller reserved inventory."""
    flag = context.get("inventoryReserved")
    if flag is None or flag is False:
        return
    if flag is not True:
        raise ValueError(f"context.inventoryReserved must be true or false, not {flag!r}")
    checkout = order.get("checkoutId")
    if not isinstance(checkout, str) or not checkout:
        raise ValueError("context.inventoryReserved is true but the order has no checkoutId")
    body["reservationId"] = checkout


def _bill_to(bill_to: Any, key: str) -> Any:
    if bill_to.__class__ is dict:
        return bill_to.get(key)
    if bill_to is None:
        return None
    raise ValueError("billTo must be an object")


def _ship_to(ship_to: dict[str, Any], warnings: Warnings) -> dict[str, Any]:
    """The fulfillment order's shipTo, field by field; other keys left out with a warning."""
    address = ship_to.get("address")
    if address.__class__ is not dict:
        raise ValueError("shipTo.address is required and must be an object")
    known = _known(address, ADDRESS_KEYS, {})
    country = address.get("country")
    if country.__class__ not in PLAIN:
        country = _required(country, "shipTo.address.country")
    known["country"] = country
    out = _known(ship_to, SHIP_TO_KEYS, {"address": known})
    info = ship_to.get("additionalAddressInfo")
    if info is not None:
        if info.__class__ is not dict:
            raise ValueError("shipTo.additionalAddressInfo must be an object")
        known = _known(info, ADDITIONAL_INFO_KEYS, {})
        if known:
            out["additionalAddressInfo"] = known
    if not _SHIP_TO_ALL.issuperset(ship_to):
        warnings.append(("ship-to-keys-are-known", ""))
    if not _ADDRESS_ALL.issuperset(address):
        warnings.append(("ship-to-address-keys-are-known", ""))
    if info and not _ADDITIONAL_INFO_ALL.issuperset(info):
        warnings.append(("ship-to-additional-info-keys-are-known", ""))
    return out


_SHIP_TO_ALL = frozenset((*SHIP_TO_KEYS, "address", "additionalAddressInfo"))
_ADDRESS_ALL = frozenset((*ADDRESS_KEYS, "country"))
_ADDITIONAL_INFO_ALL = frozenset(ADDITIONAL_INFO_KEYS)


def _known(source: dict[str, Any], keys: tuple[str, ...], out: dict[str, Any]) -> dict[str, Any]:
    """``out`` with the values of ``keys`` in ``source`` that are not null, in that order."""
    for key in keys:
        value = source.get(key)
        if value.__class__ in PLAIN:
            out[key] = value
        elif value is not None:
            out[key] = clean(value)
    return out


def _shipping_choice(order: dict[str, Any], context: Mapping[str, Any]) -> dict[str, Any]:
    """``shippingChoice``, with the checks of the two plugins that compute its fields."""
    chosen = order.get("shippingChoice")
    if chosen.__class__ is not dict:
        raise ValueError("shippingChoice is required and must be an object")
    level = chosen.get("serviceLevel")
    if level.__class__ not in PLAIN:
        level = _required(level, "shippingChoice.serviceLevel")
    choice: dict[str, Any] = {"id": level}
    flag = order.get("importerOfRecordTax")
    if flag is True:
        choice["dutiesPaid"] = True
    elif flag is not None and flag is not False:
        raise ValueError(f"importerOfRecordTax must be true, false or null, not {flag!r}")
    quote = context.get("shippingQuote")
    if quote is not None:
        if not isinstance(quote, Mapping):
            raise ValueError("context.shippingQuote must be an object")
        quote_id = quote.get("id")
        if quote_id is not None and quote_id != level:
            raise ValueError(f"context.shippingQuote.id {quote_id!r} is not the order's quote")
        signature = quote.get("signatureRequiredType")
        if signature is not None:
            if signature not in SIGNATURE_TYPES:
                raise ValueError(f"signatureRequiredType {signature!r} is not standard or adult")
            choice["signatureRequiredType"] = signature
    return choice


def _order_lines(items: Any) -> list[dict[str, Any]]:
    if items.__class__ is not list:
        raise ValueError("items is required and must be an array")
    lines = []
    for item in items:
        if item.__class__ is not dict:
            raise ValueError("an order line must be an object")
        value = item.get("id")
        if not value and value.__class__ not in NUMBERS:  # null, "", false, [] or {}: none
            raise ValueError("an order line has no id")
        if value.__class__ not in PLAIN:
            value = clean(value)
        line: dict[str, Any] = {"upstreamId": value}
        value = item.get("skuId")
        if value.__class__ not in PLAIN:
            value = _required(value, "an order line's skuId")
        line["inventoryItemId"] = value
        value = item.get("quantity")
        line["quantity"] = value if value.__class__ is int else _to_integer(value, "quantity")
        value = item.get("amount")
        if value.__class__ in PLAIN:
            line["total"] = value
        elif value is not None:
            line["total"] = clean(value)
        tax = item.get("tax")
        value = tax.get("amount") if tax.__class__ is dict else None
        if value.__class__ not in PLAIN:
            value = _required(value, "an order line's tax.amount")
        line["tax"] = {"amount": value}
        lines.append(line)
    return lines


# -- fulfillment_order.shipped ------------------------------------------------------------

SHIPPED_RULES = (
    "lines-have-upstream-ids",
    "lines-have-shipment-item-ids",
    "quantities-are-positive",
)


def shipped_event_to_fulfillment(
    event: dict[str, Any], context: Mapping[str, Any]
) -> tuple[dict[str, Any], Warnings]:
    shipment = _data_object(event)
    value = shipment.get("fulfillmentOrderUpstreamId")
    if value.__class__ is not str:
        value = _to_id(value, "data.object.fulfillmentOrderUpstreamId")
    body: dict[str, Any] = {"orderId": value}
    value = shipment.get("id")
    body["shipmentId"] = value if value.__class__ is str else _to_id(value, "data.object.id")
    for key in ("trackingCompany", "trackingNumber", "trackingUrl"):
        value = shipment.get(key)
        if value.__class__ in PLAIN:
            body[key] = value
        elif value is not None:
            body[key] = clean(value)
    items = shipment.get("items")
    if items.__class__ is not list:
        raise ValueError("data.object.items is required and must be an array")
    lines, found = [], []
    for index, item in enumerate(items):
        if item.__class__ is not dict:
            item = _EMPTY  # JMESPath finds nothing in what is not an object
        upstream_id = _id_text(item.get("fulfillmentOrderItemUpstreamId"))
        line_id = _id_text(item.get("id"))
        quantity = item.get("quantity")
        if quantity.__class__ is not int:
            quantity = whole_number(quantity)
        captured = True
        if not upstream_id:
            found.append((0, index))
            captured = False
        if not line_id:
            found.append((1, index))
            captured = False
        if quantity is None or quantity <= 0:
            found.append((2, index))
            captured = False
        if captured:
            lines.append(
                {
                    "itemId": upstream_id,
                    "shipmentItemId": line_id,
                    "quantity": quantity,
                }
            )
    if not lines:
        raise ValueError("no line of the shipment can be captured")
    body["items"] = lines
    return body, _line_warnings(found, SHIPPED_RULES, "data.object.items") if found else []


# -- fulfillment_order.cancelled ----------------------------------------------------------

CANCELLED_RULES = (
    "line-counters-add-up",
    "cancelled-lines-have-upstream-ids",
    "cancelled-counts-are-whole",
    "cancelled-counts-not-below-the-ledger",
)


def cancelled_event_to_fulfillment(
    event: dict[str, Any], context: Mapping[str, Any]
) -> tuple[dict[str, Any], Warnings]:
    order = _data_object(event)
    order_id = order.get("upstreamId")
    if order_id.__class__ is not str:
        order_id = _to_id(order_id, "data.object.upstreamId")
    items = order.get("items")
    if items.__class__ is not list:
        raise ValueError("data.object.items is required and must be an array")
    lines, found = [], []
    for index, item in enumerate(items):
        if item.__class__ is not dict:
            item = _EMPTY  # JMESPath finds nothing in what is not an object
        cancelled = item.get("cancelled")
        whole = cancelled if cancelled.__class__ is int else whole_number(cancelled)
        upstream_id = _id_text(item.get("upstreamId"))
        has_id = bool(upstream_id)
        # every counter null or a whole number of 0 or more, and their whole numbers (null
        # counting 0) add up to the quantity
        pending, backordered = item.get("pending"), item.get("backordered")
        shipped, returned = item.get("shipped"), item.get("returned")
        adds_up = False
        if (
            pending.__class__ is int
            and backordered.__class__ is int
            and shipped.__class__ is int
            and cancelled.__class__ is int
            and returned.__class__ is int
        ):  # nearly always
            whole_counts = (
                pending >= 0
                and backordered >= 0
                and shipped >= 0
                and cancelled >= 0
                and returned >= 0
            )
            total = pending + backordered + shipped + cancelled + returned
        else:
            whole_counts, total = _whole_total((pending, backordered, shipped, cancelled, returned))
        if whole_counts:
            quantity = item.get("quantity")
            if quantity.__class__ is int or quantity.__class__ is float:
                adds_up = total == quantity
            elif quantity.__class__ is bool or quantity.__class__ is str:
                adds_up = False  # 0 and 1 are never equal to false and true
            else:
                adds_up = bool(total == quantity)
        counted = whole_counts and adds_up
        if not counted:
            found.append((0, index))
        if whole is not None and whole > 0 and not has_id:
            found.append((1, index))
        if cancelled is not None and (whole is None or whole < 0):
            found.append((2, index))
        ledger = item.get("ledger")
        before = ledger.get("cancelled") if ledger.__class__ is dict else None
        if whole is not None and (
            before.__class__ is str or (before.__class__ in NUMBERS and whole < before)
        ):
            found.append((3, index))
        if whole is None:
            continue  # nothing to compare: nothing newly cancelled
        if not before and before.__class__ not in NUMBERS:
            before = 0
        elif before.__class__ is str:
            raise ValueError("a line's ledger.cancelled must be a number")
        if before.__class__ not in NUMBERS or whole <= before or not has_id:
            continue  # nothing newly cancelled, or no upstreamId
        if counted:
            delta = whole - (before if before.__class__ is int else _to_integer(before, "ledger"))
            lines.append({"itemId": upstream_id, "cancelQuantity": delta})
    if not lines:
        raise ValueError("no line of the event can be cancelled")
    warnings = _line_warnings(found, CANCELLED_RULES, "data.object.items") if found else []
    return {"orderId": order_id, "items": lines}, warnings


MAPPINGS = {
    "order-to-fulfillment-order": order_to_fulfillment_order,
    "shipped-event-to-fulfillment": shipped_event_to_fulfillment,
    "cancelled-event-to-fulfillment": cancelled_event_to_fulfillment,
}
