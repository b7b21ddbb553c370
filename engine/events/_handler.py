"""Handling webhook events: envelope -> route -> mapping -> ``Action``.

    >>> engine = fulfillmap.Engine()                 # shipped mappings and routes
    >>> action = engine.handle(event)                # doctest: +SKIP
    >>> action.action, action.method, action.path    # doctest: +SKIP
    ('request', 'POST', '/fulfillments')

An ``Engine`` is built once (every mapping and route is loaded and checked then) and is
immutable: share it between threads. ``handle`` never performs the action; it says what to do.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from types import MappingProxyType
from typing import TYPE_CHECKING, Any, cast

import jmespath
import pluggy
from fulfillmap._types import JSON
from fulfillmap.errors import (
    EventError,
    FulfillmapError,
    MappingError,
    Problem,
    SpecError,
    did_you_mean,
)
from fulfillmap.evaluate._jmespath import Unsupported, compile_jmespath
from fulfillmap.evaluate._mapping import CompiledMapping, load
from fulfillmap.evaluate._rules import Violation
from fulfillmap.events._action import (
    ACTIONS,
    Action,
    IgnoreAction,
    NotifyAction,
    RecordAction,
    RequestAction,
    as_id,
)
from fulfillmap.language._expressions import (
    Expression,
    WrongType,
    compile_expression,
    is_true,
    type_name,
)
from fulfillmap.language._resources import (
    ROUTES_FILE,
    TEST_SUFFIX,
    YAML_SUFFIXES,
    shipped_mapping_names,
)
from fulfillmap.language._routes import Route, RouteTable, load_routes, shipped_route_table
from fulfillmap.paths import rebase
from fulfillmap.plugins._registry import Registry, default_registry, registry_for

if TYPE_CHECKING:
    from fulfillmap.events._ledger import Ledger
    from fulfillmap.events._process import Outcome
    from fulfillmap.events._shop import RequestKind

__all__ = ["ACTIONS", "Action", "Engine", "by_name", "mapping_files"]


@dataclass(frozen=True, slots=True)
class _Search:
    """An expression of a route and what evaluates it: the translator's generated Python
    (``compile_jmespath``: jmespath's values, tested against its interpreter), or jmespath's
    own interpreter where the translator leaves it (``&expr``) and for a plain path."""

    expression: Expression
    evaluate: Callable[[Any], Any]


@dataclass(frozen=True, slots=True)
class _CompiledRoute:
    route: Route
    mapping: CompiledMapping | None
    when: _Search | None
    input: _Search | None
    key: _Search | None
    #: the input's plain path as text (``data.object``), the prefix of the mapping's data
    #: paths; "" without one (the mapping reads the whole event)
    prefix: str = ""


@dataclass(frozen=True, eq=False)
class Engine:
    """Routes webhook events to mappings and says what to do with each.

    ``Engine()`` uses the shipped mappings and routes and the installed plugins.
    ``Engine(directory)`` adds an integrator's directory: its mapping files override shipped
    mappings of the same ``name``, and its ``routes.yaml`` (if any) replaces the shipped
    routes of every event type it lists. ``plugins`` is the plugin manager to use (default:
    every installed plugin). Raises ``SpecError`` with every problem of every file.
    """

    directory: str | Path | None = None
    plugins: pluggy.PluginManager | None = field(default=None, repr=False)
    #: where ``process`` records what was done: a ``Ledger`` or its URL (``sqlite:///…``,
    #: ``postgresql://…``, ``memory:``); None for ``handle`` only
    ledger: Ledger | str | None = field(default=None, repr=False)
    #: how long a claim on a fulfillment order is held across ``send`` before another
    #: worker may take it over (seconds)
    lease: float = 30.0
    #: every mapping available, by name (the integrator's overriding the shipped ones)
    mappings: Mapping[str, CompiledMapping] = field(init=False, repr=False)
    #: the routes in effect
    routes: RouteTable = field(init=False, repr=False)
    _routes: Mapping[str, tuple[_CompiledRoute, ...]] = field(init=False, repr=False)
    _ledger: Ledger | None = field(init=False, repr=False)

    def __post_init__(self) -> None:
        registry = default_registry() if self.plugins is None else registry_for(self.plugins)
        directory = None if self.directory is None else Path(self.directory)
        mappings = _load_mappings(directory, self.plugins)
        routes = shipped_route_table(registry, mappings)
        if directory is not None and (directory / ROUTES_FILE).is_file():
            own = load_routes(directory / ROUTES_FILE, registry, mappings)
            routes = routes.overridden_by(own)
        compiled = {
            event_type: tuple(_compile(route, mappings, registry) for route in routes[event_type])
            for event_type in routes.routes
        }
        setter = object.__setattr__
        setter(self, "mappings", MappingProxyType(mappings))
        setter(self, "routes", routes)
        setter(self, "_routes", MappingProxyType(compiled))
        setter(self, "_ledger", _open_ledger(self.ledger))

    def mapping(self, name: str) -> CompiledMapping:
        """The mapping the engine uses under ``name`` (e.g. ``shipment-to-tracking``)."""
        try:
            return self.mappings[name]
        except KeyError:
            known = sorted(self.mappings)
            hint = did_you_mean(name, known)
            raise FulfillmapError(
                f"no mapping named '{name}'{hint}; known: {', '.join(known)}"
            ) from None

    def handle(self, event: JSON, context: Mapping[str, JSON] | None = None) -> Action:
        """What to do with one webhook event (a parsed JSON object).

        ``context`` is passed to the mapping (e.g. the persisted ``shippingQuote``). Event
        types without a route give an ``ignore`` action. Raises ``EventError`` for a
        malformed envelope and ``MappingError`` when the mapping or one of its rules fails;
        data paths in both are paths in the event. Keeps no state: see ``process`` for
        exactly-once effects through a ledger.
        """
        event = without_ledger(event)
        chosen = self._choose(event)
        if isinstance(chosen, IgnoreAction):
            return chosen
        return self._act(chosen, cast("dict[str, Any]", event), context)  # _choose checked it

    def process(
        self,
        event: Any,
        send: Callable[[Action], Any],
        context: Mapping[str, Any] | None = None,
    ) -> Outcome:
        """Perform the effect of one webhook event exactly once, through the ledger.

        Claims the effect in the ledger, calls ``send(action)`` (the caller's function that
        performs it, e.g. the HTTP request to Digital River) and records what happened. Never
        raises for what ``send`` does: see ``Outcome`` and docs/effects.md. Raises
        ``FulfillmapError`` when the engine has no ledger.
        """
        from fulfillmap.events._process import process

        return process(self, self._ledger_or_fail(), without_ledger(event), send, context)

    def process_order(
        self,
        order: Any,
        send: Callable[[Action], Any],
        context: Mapping[str, Any] | None = None,
    ) -> Outcome:
        """``process`` for an accepted Order from a synchronous API response.

        Deduplicated with the ``order.accepted`` event of the same order: the fulfillment
        order is created once, whichever arrives first.
        """
        from fulfillmap.events._process import order_event, process

        event = without_ledger(order_event(order))
        return process(self, self._ledger_or_fail(), event, send, context)

    def record_fulfillment_order(self, fulfillment_order: Any) -> Outcome:
        """Record the ids of a fulfillment order in the ledger: its id and, per order line
        (``upstreamId``), the fulfillment order item id and inventory item id.

        ``fulfillment_order`` is the body of the 201 response to ``POST /fulfillment-orders``
        (a ``GlobalFulfillmentOrder``), for fulfillment orders created without ``process``
        (``process_order`` records the 201 that ``send`` returns by itself). It goes through the
        ``fulfillment_order.pending`` route and key, so it and that event record it once.
        """
        from fulfillmap.events._process import pending_event, process

        return process(self, self._ledger_or_fail(), pending_event(fulfillment_order), _kept)

    def request_cancellation(
        self,
        order_id: str,
        lines: Mapping[str, int],
        send: Callable[[Action], Any],
        *,
        reason: str | None = None,
        request_id: str | None = None,
    ) -> Outcome:
        """Ask Digital River to cancel units of an order's lines: ``POST
        /fulfillment-cancellations``, built from the ids the ledger keeps.

        ``lines``: order line id (as the shop knows it) -> units to cancel; ``reason``: e.g.
        ``requested_by_customer``; ``request_id``: the shop's own id of the request, its
        idempotency key (default: a new one each call). Performed by ``send`` exactly once per
        request id, like any effect. ``refused`` (nothing sent; ``reason`` names the order or
        line) for an unknown order or line, ids not recorded yet, a quantity of 0 or less, or
        above what is still cancellable: pending and backordered units (DOC-CF).
        """
        return self._request("cancellation", order_id, lines, send, reason, request_id)

    def request_return(
        self,
        order_id: str,
        lines: Mapping[str, int],
        send: Callable[[Action], Any],
        *,
        reason: str | None = None,
        request_id: str | None = None,
    ) -> Outcome:
        """Ask Digital River to take units of an order's lines back: ``POST
        /fulfillment-returns``; as ``request_cancellation``, for shipped units not returned yet.
        """
        return self._request("return", order_id, lines, send, reason, request_id)

    def _request(
        self,
        kind: RequestKind,
        order_id: str,
        lines: Mapping[str, int],
        send: Callable[[Action], Any],
        reason: str | None,
        request_id: str | None,
    ) -> Outcome:
        from fulfillmap.events._process import process
        from fulfillmap.events._shop import shop_event

        event = shop_event(kind, order_id, lines, reason=reason, request_id=request_id)
        return process(self, self._ledger_or_fail(), event, send)

    # -- one step each ------------------------------------------------------------------

    def _choose(self, event: Any) -> _CompiledRoute | IgnoreAction:
        """The route that applies to ``event``, or the ignore action when there is none."""
        event_id, event_type = _envelope(event)
        candidates = self._routes.get(event_type, ())
        for chosen in candidates:  # the first whose condition holds
            when = chosen.when
            if when is None or is_true(self._search(chosen, when, event, "condition")):
                break
        else:
            chosen = None
        if chosen is None:
            reason = (
                f"no route for event type '{event_type}' applies: every route's condition is false"
                if candidates
                else f"no route for event type '{event_type}'"
            )
        elif chosen.mapping is None:
            route = chosen.route
            reason = route.description or f"ignored by the route at {route.location}"
        else:
            return chosen
        return IgnoreAction(
            event_id=event_id, event_type=event_type, idempotency_key=event_id, reason=reason
        )

    def _act(
        self, chosen: _CompiledRoute, event: dict[str, Any], context: Mapping[str, Any] | None
    ) -> RequestAction | RecordAction | NotifyAction:
        """The action of a route that has a mapping (see ``_choose``)."""
        mapping = chosen.mapping
        assert mapping is not None  # _choose returns only routes with a mapping
        route = chosen.route
        event_id, event_type = str(event["id"]), str(event["type"])
        body, warnings = self._run(chosen, mapping, event, context)
        common: dict[str, Any] = {
            "event_id": event_id,
            "event_type": event_type,
            "idempotency_key": self._key(chosen, event, event_id),
            "mapping": mapping.name,
            "body": body,
            "warnings": warnings,
        }
        if route.action == "request":
            assert route.method is not None  # the routes' checks make sure of it
            assert route.path is not None
            return RequestAction(method=route.method, path=route.path, **common)
        if route.action == "record":
            return RecordAction(**common)
        return NotifyAction(**common)

    def _ledger_or_fail(self) -> Ledger:
        if self._ledger is None:
            raise FulfillmapError(
                "this Engine has no ledger: build it with Engine(ledger=URL) to use process()"
            )
        return self._ledger

    # -- one step each ------------------------------------------------------------------

    def _run(
        self,
        compiled: _CompiledRoute,
        mapping: CompiledMapping,
        event: JSON,
        context: Mapping[str, JSON] | None,
    ) -> tuple[dict[str, Any], tuple[Violation, ...]]:
        """The mapping's body and warnings, their data paths made paths in the event."""
        source = event
        if compiled.input is not None:
            source = self._search(compiled, compiled.input, event, "input")
        prefix = compiled.prefix
        try:
            result = mapping.apply_with_warnings(source, context)
        except MappingError as exc:
            if not (prefix and (exc.data_path or exc.warnings)):
                raise
            path = rebase(prefix, exc.data_path) if exc.data_path else None
            error = exc.with_data_path(path)
            error.warnings = _rebased(prefix, exc.warnings)
            raise error from exc.__cause__
        body, warnings = result.body, result.warnings
        if not (prefix and warnings):
            return body, warnings
        return body, _rebased(prefix, warnings)

    def _key(self, compiled: _CompiledRoute, event: JSON, event_id: str) -> str:
        if compiled.key is None:
            return event_id
        value = self._search(compiled, compiled.key, event, "idempotency key")
        key = as_id(value)
        if key is None:
            raise EventError(
                f"the route's idempotency key `{compiled.key.expression.text}` is "
                f"{type_name(value)}, "
                f"not an id",
                location=str(compiled.route.location),
            )
        return key

    def _search(self, compiled: _CompiledRoute, search: _Search, event: Any, what: str) -> Any:
        try:
            return search.evaluate(event)
        except (WrongType, jmespath.exceptions.JMESPathError, ValueError, TypeError) as exc:
            raise EventError(
                f"the route's {what} `{search.expression.text}` cannot be evaluated: {exc}",
                location=str(compiled.route.location),
            ) from exc


# -- building ---------------------------------------------------------------------------


def _kept(action: Action) -> None:
    """``send`` for what the ledger itself keeps (a fulfillment order's ids): nothing to do."""


def _open_ledger(ledger: Ledger | str | None) -> Ledger | None:
    if ledger is None or not isinstance(ledger, str):
        return ledger
    from fulfillmap.events._ledger import open_ledger

    return open_ledger(ledger)


def _load_mappings(
    directory: Path | None, plugins: pluggy.PluginManager | None
) -> dict[str, CompiledMapping]:
    """The integrator's mappings (if any), then every shipped mapping they do not override."""
    loaded: list[CompiledMapping] = []
    problems: list[Problem] = []
    for path in mapping_files(directory):
        try:
            loaded.append(load(path, plugins=plugins))
        except SpecError as exc:
            problems += exc.problems
    mappings, clashes = by_name(loaded)
    problems += clashes
    for name in shipped_mapping_names():
        if name not in mappings:
            try:
                mappings[name] = load(name, plugins=plugins)
            except SpecError as exc:
                problems += exc.problems
    if problems:
        raise SpecError(problems)
    return mappings


def by_name(
    loaded: Iterable[CompiledMapping],
) -> tuple[dict[str, CompiledMapping], list[Problem]]:
    """One directory's mappings (in file order) by name, the last of a name kept, and a
    problem for each whose name an earlier one has: ``Engine(directory)`` refuses them, and
    ``fulfillmap validate DIRECTORY`` reports them."""
    mappings: dict[str, CompiledMapping] = {}
    problems: list[Problem] = []
    for mapping in loaded:
        other = mappings.get(mapping.name)
        if other is not None:
            where = mapping.spec.location
            message = f"another mapping is already named '{mapping.name}': {other.spec.location}"
            problems.append(Problem(where.file, where.line, where.column, message, "name"))
        mappings[mapping.name] = mapping
    return mappings, problems


def mapping_files(directory: Path | None) -> list[Path]:
    """The mapping files of an integrator's directory: its YAML files but ``routes.yaml``
    and the mappings' test files."""
    if directory is None:
        return []
    if not directory.exists():
        raise FulfillmapError(f"the mapping directory {directory} does not exist")
    if not directory.is_dir():
        raise FulfillmapError(f"the mapping directory {directory} is not a directory")
    return sorted(
        path
        for path in directory.iterdir()
        if path.suffix in YAML_SUFFIXES
        and path.name != ROUTES_FILE
        and not path.name.endswith(TEST_SUFFIX)  # the mappings' test files may sit beside them
        and path.is_file()
    )


def _compile(
    route: Route, mappings: Mapping[str, CompiledMapping], registry: Registry
) -> _CompiledRoute:
    def expression(text: str | None) -> _Search | None:
        return None if text is None else _searcher(compile_expression(text), registry)

    source = expression(route.input)
    return _CompiledRoute(
        route,
        None if route.mapping is None else mappings[route.mapping],
        expression(route.when),
        source,
        expression(route.key),
        ".".join(source.expression.keys or ()) if source is not None else "",
    )


def _searcher(expression: Expression, registry: Registry) -> _Search:
    options = registry.options
    if expression.keys is None:
        try:
            functions = options.custom_functions
            evaluate = compile_jmespath(expression.text, functions, registry.functions)
            return _Search(expression, evaluate)
        except Unsupported:
            pass
    return _Search(expression, partial(expression.search, options=options))


# -- the envelope ---------------------------------------------------------------------------


def without_ledger(event: Any) -> Any:
    """``event`` without what only the ledger gives: ``ledger``, at its top and on the lines of
    its ``data.object.items`` (a copy, when it had any). Digital River's events carry none;
    one an event brought itself would stand for the ledger's record, e.g. in a cancel's
    ``minus(cancelled, ledger.cancelled || `0`)`` (docs/effects.md)."""
    if event.__class__ is not dict:
        return event
    data: Any = event.get("data")
    found: Any = data.get("object") if data.__class__ is dict else None
    items: Any = found.get("items") if found.__class__ is dict else None
    lines = items if items.__class__ is list else ()
    carried = [
        index for index, line in enumerate(lines) if line.__class__ is dict and "ledger" in line
    ]
    if not carried and "ledger" not in event:
        return event
    event = {key: value for key, value in event.items() if key != "ledger"}
    if carried:
        lines = list(lines)
        for index in carried:
            lines[index] = {key: value for key, value in lines[index].items() if key != "ledger"}
        event["data"] = {**data, "object": {**found, "items": lines}}
    return event


def _envelope(event: Any) -> tuple[str, str]:
    """The event's id and type; an EventError unless id, type and data.object are there (G16).

    Everything else in the envelope is optional: the version key's spelling, webhookIds or
    pendingWebhooks, previousAttributes, bare or ``evt_``-prefixed ids.
    """
    if not isinstance(event, dict):
        raise EventError(f"malformed event: an event is a JSON object, not {type_name(event)}")
    event_type = event.get("type")
    if not isinstance(event_type, str) or not event_type:
        raise EventError(_malformed("the event", event, "type", "text"), data_path="type")
    event_id = as_id(event.get("id"))
    if event_id is None:
        what = f"the {_shown(event_type)} event"
        raise EventError(_malformed(what, event, "id", "text or a whole number"), data_path="id")
    what = event_name(event_type, event_id)
    data = event.get("data")
    if not isinstance(data, dict):
        raise EventError(_malformed(what, event, "data", "an object"), data_path="data")
    if not isinstance(data.get("object"), dict):
        expected = "an object (the resource the event is about)"
        reason = _malformed(what, data, "object", expected, label="data.object")
        raise EventError(reason, data_path="data.object")
    return event_id, event_type


def _rebased(prefix: str, warnings: tuple[Violation, ...]) -> tuple[Violation, ...]:
    """The warnings of a route's input (``data.object``) with data paths in the event."""
    return tuple(
        dataclasses.replace(w, data_path=rebase(prefix, w.data_path)) if w.on == "source" else w
        for w in warnings
    )


def event_name(event_type: str, event_id: str) -> str:
    """``the TYPE event ID``, for messages."""
    return f"the {_shown(event_type)} event {_shown(event_id)}"


def _shown(text: str) -> str:
    """An event's type or id in a message: as it is, or as JSON text when it holds a line
    break or another control character (a message is one line: none can be forged)."""
    return text if text.isprintable() else json.dumps(text)


def _malformed(
    what: str, parent: dict[str, Any], key: str, expected: str, *, label: str = ""
) -> str:
    label = label or key
    if key not in parent:
        return f"malformed event: {what} has no {label}; it must be {expected}"
    found = "empty text" if parent[key] == "" else type_name(parent[key])
    return f"malformed event: {what} has {found} as {label}; it must be {expected}"
