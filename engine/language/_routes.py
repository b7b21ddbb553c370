"""Routes: which mapping and action handle each webhook event type.

A routes file (``mappings/routes.yaml``, or ``routes.yaml`` in an integrator's directory) is
loaded like a mapping: ``parse_yaml`` -> JSON Schema (``routes.schema.json``) -> meaning
(one of request/action, a mapping where one is needed, expressions that parse) -> frozen
``Route`` values. Every problem is reported at once, as FILE:LINE:COL.
"""

from __future__ import annotations

import re
from collections.abc import Collection, Iterator, Mapping
from dataclasses import dataclass, replace
from pathlib import Path
from types import MappingProxyType
from typing import Any

from fulfillmap.errors import Problem, SpecError, did_you_mean
from fulfillmap.language._checks import _suggest, expression_problems, schema_problems
from fulfillmap.language._loader import Document, SpecPath, parse_yaml
from fulfillmap.language._resources import MappingSource, read_file, routes_schema, shipped_routes
from fulfillmap.language._spec import Location
from fulfillmap.plugins._registry import Registry

__all__ = [
    "DIGITAL_RIVER_EVENT_TYPES",
    "SHOP_EVENT_TYPES",
    "Route",
    "RouteTable",
    "load_routes",
    "shipped_route_table",
]

_EXPRESSIONS = ("when", "input", "key")
_EVENT_TYPE = re.compile(r"[a-z0-9_]+(\.[a-z0-9_]+)+")  #: routes.schema.json's pattern

#: the event types of an order's fulfillment that Digital River documents (reference 2.5); a
#: route for another type is a warning, as it is more often a typo that would leave the
#: events it means unhandled (``fulfillment_order.shiped``) than a type Digital River added
DIGITAL_RIVER_EVENT_TYPES = (
    "order.accepted",
    "order.fulfilled",
    "order.complete",
    "order.charge.capture.complete",
    "order.charge.capture.failed",
    "order.charge.cancel.complete",
    "fulfillment_order.pending",
    "fulfillment_order.backordered",
    "fulfillment_order.shipped",
    "fulfillment_order.cancelled",
    "fulfillment_cancellation.created",
    "fulfillment_cancellation.accepted",
    "fulfillment_cancellation.rejected",
    # DR's "Digital River coordinated returns" page
    "fulfillment_return.created",
    "fulfillment_return.pending",
    "fulfillment_return.accepted",
    "fulfillment_return.rejected",
    "fulfillment.created",
)
#: the events fulfillmap makes of the shop's own requests (Engine.request_cancellation,
#: request_return): their data.object is the request
SHOP_EVENT_TYPES = ("shop.cancellation_requested", "shop.return_requested")


@dataclass(frozen=True, slots=True)
class Route:
    """One way to handle an event type."""

    event_type: str
    action: str  #: ``request``, ``record``, ``notify`` or ``ignore``
    location: Location
    mapping: str | None = None
    method: str | None = None  #: with ``action == "request"``: ``POST``
    path: str | None = None  #: with ``action == "request"``: ``/fulfillments``
    input: str | None = None  #: what the mapping reads; None: the whole event
    when: str | None = None  #: take the route only when this is true; None: always
    key: str | None = None  #: the idempotency key; None: the event id
    description: str = ""


@dataclass(frozen=True)
class RouteTable:
    """Routes by event type, each type's routes in the order they are tried."""

    routes: Mapping[str, tuple[Route, ...]]
    #: what is valid but likely wrong: event types Digital River does not document
    warnings: tuple[Problem, ...] = ()

    def __getitem__(self, event_type: str) -> tuple[Route, ...]:
        return self.routes.get(event_type, ())

    def overridden_by(self, other: RouteTable) -> RouteTable:
        """This table with ``other``'s event types replacing (or adding to) its own."""
        return RouteTable(MappingProxyType({**self.routes, **other.routes}), other.warnings)


def shipped_route_table(registry: Registry, mappings: Collection[str]) -> RouteTable:
    """The routes shipped with fulfillmap; ``mappings``: the names routes may use."""
    return _route_table(shipped_routes(), registry, mappings)


def load_routes(path: str | Path, registry: Registry, mappings: Collection[str]) -> RouteTable:
    """Load, validate and build a routes file; raise SpecError listing every problem.

    ``mappings`` are the names of the mappings that routes may use.
    """
    return _route_table(read_file(Path(path), "routes file"), registry, mappings)


def _route_table(
    source: MappingSource, registry: Registry, mappings: Collection[str]
) -> RouteTable:
    document = parse_yaml(source.text, source.file, source.directory)
    problems = [*document.problems, *schema_problems(document, routes_schema())]
    entries = list(_entries(document))
    for data, path in entries:
        problems += _meaning_problems(document, registry, data, path)
        problems += _mapping_problems(document, mappings, data, path)
    warnings = list(_event_type_warnings(document))
    if problems:
        raise SpecError([*problems, *warnings])
    table: dict[str, tuple[Route, ...]] = {}
    for data, path in entries:
        event_type = str(path[1])
        table[event_type] = (*table.get(event_type, ()), _route(document, event_type, data, path))
    return RouteTable(MappingProxyType(table), tuple(warnings))


_KNOWN_EVENT_TYPES = frozenset(DIGITAL_RIVER_EVENT_TYPES + SHOP_EVENT_TYPES)


def _event_type_warnings(document: Document) -> Iterator[Problem]:
    data = document.data
    routes = data.get("routes") if isinstance(data, dict) else None
    for event_type in routes if isinstance(routes, dict) else ():
        if not isinstance(event_type, str) or event_type in _KNOWN_EVENT_TYPES:
            continue
        if _EVENT_TYPE.fullmatch(event_type) is None:
            continue  # not even shaped like one: the schema's error says so
        hint = did_you_mean(event_type, DIGITAL_RIVER_EVENT_TYPES, cutoff=0.8)
        message = (
            f"'{event_type}' is not an event type Digital River documents for fulfillments"
            f"{hint}; events of the type meant would be ignored"
        )
        yield replace(
            document.problem(("routes", event_type), message, key=True), severity="warning"
        )


def _entries(document: Document) -> Iterator[tuple[dict[str, Any], SpecPath]]:
    """Every route object in the file, with its path (tolerant: the schema reports shapes)."""
    data = document.data
    routes = data.get("routes") if isinstance(data, dict) else None
    if not isinstance(routes, dict):
        return
    for event_type, value in routes.items():
        if isinstance(value, dict):
            yield value, ("routes", event_type)
        elif isinstance(value, list):
            for index, item in enumerate(value):
                if isinstance(item, dict):
                    yield item, ("routes", event_type, index)


def _meaning_problems(
    document: Document, registry: Registry, data: dict[str, Any], path: SpecPath
) -> list[Problem]:
    problems: list[Problem] = []
    given = [key for key in ("request", "action") if key in data]
    if len(given) != 1:
        found = " (found both)" if given else ""
        problems.append(document.problem(path, f"give exactly one of request or action{found}"))
    ignore = data.get("action") == "ignore"
    if ignore and "mapping" in data:
        problems.append(
            document.problem((*path, "mapping"), "an ignore route maps nothing: drop 'mapping'")
        )
    elif given and not ignore and "mapping" not in data:
        problems.append(document.problem(path, f"a route with {given[0]} needs a mapping"))
    for key in _EXPRESSIONS:
        problems += expression_problems(document, registry, data.get(key), (*path, key))
    return problems


def _mapping_problems(
    document: Document, mappings: Collection[str], data: dict[str, Any], path: SpecPath
) -> list[Problem]:
    name = data.get("mapping")
    if not isinstance(name, str) or name in mappings:
        return []
    known = sorted(mappings)
    message = f"no mapping named '{name}'{_suggest(name, known)}; known: {', '.join(known)}"
    return [document.problem((*path, "mapping"), message)]


def _route(document: Document, event_type: str, data: dict[str, Any], path: SpecPath) -> Route:
    mark = document.mark(path, key=True)
    method, _, target = str(data.get("request", "")).partition(" ")
    return Route(
        event_type=event_type,
        action="request" if "request" in data else data["action"],
        location=Location(document.file, mark.line, mark.column),
        mapping=data.get("mapping"),
        method=method or None,
        path=target or None,
        input=data.get("input"),
        when=data.get("when"),
        key=data.get("key"),
        description=data.get("description", ""),
    )
