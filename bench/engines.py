"""The other ways to write the mappings, each checked to give the same output before timing.

* ``jmespath_per_field``: every field's expressions through ``jmespath.search``'s compiled
  form, glued by a generic walker of the mapping (as most mapping engines do it);
* glom, jsonata-python and jq: the order mapping as one spec, when installed (``bench`` extra).
"""

from __future__ import annotations

import importlib.util
from collections.abc import Callable, Mapping
from typing import Any

import jmespath
from fulfillmap import CompiledMapping
from fulfillmap.language._spec import Computed, Constant, Field, From, Nested, Scope
from fulfillmap.plugins.hookspecs import FieldInput
from handwritten import clean as copy_value

Engine = Callable[[dict[str, Any], Mapping[str, Any]], Any]


def jmespath_per_field(mapping: CompiledMapping) -> Engine:
    """Each field evaluated with ``jmespath`` (compiled once), assembled by a generic walker."""
    options = mapping.registry.options
    plugins = mapping.registry.fields

    def build(fields: tuple[Field, ...], current: Any, root: Any, context: Any) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for field in fields:
            data = {Scope.ROOT: root, Scope.CONTEXT: context}.get(field.scope, current)
            kind = field.kind
            value: Any = None
            if isinstance(kind, From):
                for expression in compiled[id(field)]:
                    value = expression.search(data, options)
                    if value is not None:
                        break
                value = copy_value(value)
            elif isinstance(kind, Constant):
                value = kind.value
            elif isinstance(kind, Computed):
                args = FieldInput(root, current, context, dict(kind.args), field.target_path)
                value = plugins[kind.plugin](args)
            elif kind.each is None:
                value = build(kind.fields, data, root, context) or None
            else:
                elements = compiled[id(field)][0].search(data, options)
                where = compiled[id(field)][1] if kind.where else None
                value = [
                    build(kind.fields, element, root, context)
                    for element in elements or ()
                    if where is None or where.search(element, options)
                ]
            if value is not None:
                out[field.name] = value
        return out

    compiled: dict[int, list[Any]] = {}

    def prepare(fields: tuple[Field, ...]) -> None:
        for field in fields:
            kind = field.kind
            if isinstance(kind, From):
                compiled[id(field)] = [jmespath.compile(text) for text in kind.expressions]
            elif isinstance(kind, Nested):
                if kind.each is not None:
                    texts = [kind.each] + ([kind.where] if kind.where else [])
                    compiled[id(field)] = [jmespath.compile(text) for text in texts]
                prepare(kind.fields)

    prepare(mapping.spec.fields)
    return lambda source, context: build(mapping.spec.fields, source, source, context)


# -- the order mapping in other engines ---------------------------------------------------

_JQ = """
def clean: walk(if type == "object" then with_entries(select(.value != null)) else . end);
.order as $o | .context as $c |
{upstreamId: $o.id, currency: ($o.currency | ascii_upcase), locale: $o.locale,
 upstreamOrderTime: $o.createdTime, reservationId: $o.checkoutId,
 name: ($o.shipTo.name // $o.billTo.name), email: ($o.shipTo.email // $o.billTo.email),
 phone: ($o.shipTo.phone // $o.billTo.phone), shipTo: ($o.shipTo | clean),
 shippingChoice: ({id: $o.shippingChoice.serviceLevel,
   dutiesPaid: (if $o.importerOfRecordTax == true then true else null end),
   signatureRequiredType: $c.shippingQuote.signatureRequiredType} | clean),
 items: [$o.items[] | {upstreamId: .id, inventoryItemId: .skuId, quantity: .quantity,
   total: .amount, tax: {amount: .tax.amount}} | clean]}
| with_entries(select(.value != null))
"""

_JSONATA = """
{
  "upstreamId": order.id,
  "currency": $uppercase(order.currency),
  "locale": order.locale,
  "upstreamOrderTime": order.createdTime,
  "reservationId": order.checkoutId,
  "name": order.shipTo.name ? order.shipTo.name : order.billTo.name,
  "email": order.shipTo.email ? order.shipTo.email : order.billTo.email,
  "phone": order.shipTo.phone ? order.shipTo.phone : order.billTo.phone,
  "shipTo": order.shipTo,
  "shippingChoice": {
    "id": order.shippingChoice.serviceLevel,
    "dutiesPaid": order.importerOfRecordTax = true ? true : undefined,
    "signatureRequiredType": context.shippingQuote.signatureRequiredType
  },
  "items": [order.items.{
    "upstreamId": id, "inventoryItemId": skuId, "quantity": quantity,
    "total": amount, "tax": {"amount": tax.amount}
  }]
}
"""


def _glom_engine() -> Engine:
    from glom import Coalesce, glom

    def first(*paths: str) -> Any:
        return Coalesce(*paths, default=None)

    item = {
        "upstreamId": first("id"),
        "inventoryItemId": "skuId",
        "quantity": "quantity",
        "total": first("amount"),
        "tax": {"amount": "tax.amount"},
    }
    spec = {
        "upstreamId": first("order.id"),
        "currency": ("order.currency", str.upper),
        "locale": first("order.locale"),
        "upstreamOrderTime": "order.createdTime",
        "reservationId": first("order.checkoutId"),
        "name": first("order.shipTo.name", "order.billTo.name"),
        "email": first("order.shipTo.email", "order.billTo.email"),
        "phone": first("order.shipTo.phone", "order.billTo.phone"),
        "shipTo": ("order.shipTo", copy_value),
        "shippingChoice": {
            "id": "order.shippingChoice.serviceLevel",
            "dutiesPaid": (first("order.importerOfRecordTax"), lambda v: True if v else None),
            "signatureRequiredType": first("context.shippingQuote.signatureRequiredType"),
        },
        "items": ("order.items", [item]),
    }
    return lambda order, context: copy_value(glom({"order": order, "context": context}, spec))


def _jq_engine() -> Engine:
    import jq

    program = jq.compile(_JQ)
    return lambda order, context: program.input_value({"order": order, "context": context}).first()


def _jsonata_engine() -> Engine:
    import jsonata

    expression = jsonata.Jsonata(_JSONATA)
    return lambda order, context: copy_value(
        expression.evaluate({"order": order, "context": context})
    )


OTHER_ORDER_ENGINES: dict[str, tuple[str, Callable[[], Engine]]] = {
    "glom": ("glom", _glom_engine),
    "jsonata-python": ("jsonata", _jsonata_engine),
    "jq": ("jq", _jq_engine),
}


def installed_order_engines() -> dict[str, Engine]:
    """The other engines that are installed, ready to run."""
    return {
        name: make()
        for name, (module, make) in OTHER_ORDER_ENGINES.items()
        if importlib.util.find_spec(module) is not None
    }
