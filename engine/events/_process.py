"""``Engine.process``: one event's effect, exactly once, through the ledger.

    claim the order (a lease) -> already done? -> each line of the event gets ``ledger`` (and
    the mapping ``context.ledger``) -> the action -> never more than ordered -> send -> record

Effects on one order (and so on its fulfillment order) are serialised by a claim held across
``send`` under a lease; another worker meanwhile gets ``busy``, and takes the claim over once
the lease has expired (its holder crashed). Keys (``fulfillmap_effects.effect_key`` is the
event type and the action's idempotency key, which ``routes.yaml`` says): create, the order id;
capture, the shipment id; record, the fulfillment order id; notify, the event id. A cancel is
keyed by its event, and per line by the cumulative ``cancelled`` counter: the shipped route and
mapping send the counter minus the line's ``ledger.cancelled`` (G13), which ``process`` checks.
The shop's own cancellation and return requests (``_shop``) are keyed by the shop's request id
and checked against the ledger (``refusal``) before anything is built; their outcome events
(``fulfillment_cancellation.*``, ``fulfillment_return.*``) settle the units they asked for.
"""

from __future__ import annotations

import json
import os
import time
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, fields, replace
from typing import Any, Literal, Protocol, TypeAlias

from fulfillmap.errors import FulfillmapError, MappingError
from fulfillmap.events._action import Action, IgnoreAction, RequestAction, as_id
from fulfillmap.events._ledger import Ledger, OrderRecord, read_state
from fulfillmap.events._ledger_backend import Transaction
from fulfillmap.events._responses import ITEM_DONE, DigitalRiverError, Verdict, classify_response
from fulfillmap.events._shop import SHOP_EVENTS, refusal
from fulfillmap.language._jsonio import dump_document


class Engine(Protocol):
    """What ``process`` uses of ``fulfillmap.Engine``: its lease and the handler's steps
    (``_choose`` gives a route, opaque here, or the ignore action)."""

    @property
    def lease(self) -> float: ...

    def _choose(self, event: Any) -> Any: ...

    def _act(
        self, chosen: Any, event: dict[str, Any], context: Mapping[str, Any] | None
    ) -> Action: ...

    def _key(self, compiled: Any, event: dict[str, Any], event_id: str) -> str: ...


__all__ = ["Outcome", "OutcomeStatus", "Send", "order_event", "pending_event", "process"]

OutcomeStatus: TypeAlias = Literal["done", "duplicate", "busy", "ignored", "failed", "refused"]
#: the caller's function that performs an action (see docs/effects.md)
Send: TypeAlias = Callable[[Action], Any]
_OWNER = f"{os.uname().nodename}:{os.getpid()}"


@dataclass(frozen=True, slots=True)
class Outcome:
    """What ``process`` did with one event.

    ``status``: ``done`` (sent now), ``duplicate`` (already done: ``done_at`` and
    ``done_by`` say when and by which event), ``busy`` (another worker holds the order's
    claim: answer non-2xx so that Digital River redelivers), ``ignored`` (nothing to do:
    ``reason``), ``failed`` (not done; ``retry`` says whether a redelivery may succeed) or,
    for the shop's own requests, ``refused`` (nothing sent: ``reason`` names the order or line;
    ``retry`` when asking again later may succeed, once the ids are recorded).
    ``action`` is the action sent (or that would have been), None when there was none.
    """

    status: OutcomeStatus
    event_id: str
    event_type: str
    action: Action | None = None
    reason: str | None = None
    retry: bool = False
    done_at: float | None = None
    done_by: str | None = None
    #: what the ledger noticed (e.g. previousAttributes disagreeing with it)
    notes: tuple[str, ...] = ()
    #: Digital River's answer (the body ``send`` returned), for done
    response: Any = None

    @property
    def http_status(self) -> int:
        """What a webhook endpoint should answer Digital River: 200, or 503 to be redelivered."""
        return 503 if self.status == "busy" or self.retry else 200

    def to_json(self) -> dict[str, Any]:
        return {
            "status": self.status,
            "event": {"id": self.event_id, "type": self.event_type},
            "action": None if self.action is None else self.action.to_json(),
            "reason": self.reason,
            "retry": self.retry,
            "doneAt": self.done_at,
            "doneBy": self.done_by,
            "notes": list(self.notes),
        }


def order_event(order: Any) -> dict[str, Any]:
    """The ``order.accepted`` event an accepted order from a synchronous response stands for."""
    order_id = order.get("id") if isinstance(order, dict) else None
    if not isinstance(order_id, str) or not order_id:
        raise FulfillmapError("process_order: the order has no id (text)")
    return {"id": f"order:{order_id}", "type": "order.accepted", "data": {"object": order}}


def pending_event(fulfillment_order: Any) -> dict[str, Any]:
    """The ``fulfillment_order.pending`` event a fulfillment order (the 201 response to
    ``POST /fulfillment-orders``) stands for: recorded by the same route, under the same key."""
    fo_id = as_id(fulfillment_order.get("id")) if isinstance(fulfillment_order, dict) else None
    if fo_id is None:
        raise FulfillmapError(
            "record_fulfillment_order: the fulfillment order has no id; give the body of the "
            "201 response to POST /fulfillment-orders"
        )
    return {
        "id": f"fulfillment-order:{fo_id}",
        "type": "fulfillment_order.pending",
        "data": {"object": fulfillment_order},
    }


def process(
    engine: Engine,
    ledger: Ledger,
    event: Any,
    send: Send,
    context: Mapping[str, Any] | None = None,
) -> Outcome:
    chosen = engine._choose(event)
    if isinstance(chosen, IgnoreAction):
        return Outcome("ignored", chosen.event_id, chosen.event_type, chosen, chosen.reason)
    event_id, event_type = str(event["id"]), str(event["type"])
    effect = f"{event_type} {engine._key(chosen, event, event_id)}"
    claim = _Claim(order_id(event) or effect, f"{_OWNER}:{uuid.uuid4().hex[:12]}")
    started = _begin(ledger, claim, effect, engine.lease)
    if isinstance(started, Outcome):
        return replace(started, event_id=event_id, event_type=event_type)
    refused = refusal(event, started)
    if refused is not None:
        _release(ledger, claim)
        return Outcome("refused", event_id, event_type, reason=refused[0], retry=refused[1])
    event = with_ledger(event, started)
    try:
        chosen = engine._choose(event)  # the routes' conditions may read the ledger's counts
        if isinstance(chosen, IgnoreAction):
            _release(ledger, claim)
            return Outcome("ignored", event_id, event_type, chosen, chosen.reason)
        outcome = _act(engine, chosen, ledger, claim, effect, event, started, send, context)
    except BaseException:
        _release(ledger, claim)
        raise
    return outcome


# -- the steps ------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Claim:
    scope: str
    owner: str


def order_id(event: dict[str, Any]) -> str | None:
    """The order an event is about: what its claim serialises on (G10 shapes).

    ``order.accepted``: the order's id; fulfillment order, cancellation and return events:
    ``upstreamId``; shipped events (a Shipment): ``fulfillmentOrderUpstreamId``; the shop's
    requests: ``orderId``.
    """
    obj = event["data"]["object"]
    if event["type"].startswith("order."):
        value = obj.get("id")
    else:
        value = obj.get("upstreamId") or obj.get("fulfillmentOrderUpstreamId") or obj.get("orderId")
    return as_id(value)


def _begin(ledger: Ledger, claim: _Claim, effect: str, lease: float) -> OrderRecord | Outcome:
    """Take the claim; the order's state, or the outcome when busy or already done."""
    now = time.time()
    with ledger.transaction(durable=False) as tx:
        taken = tx.changed(
            "INSERT INTO fulfillmap_claims (scope, owner, expires_at) VALUES (?, ?, ?) "
            "ON CONFLICT (scope) DO UPDATE SET owner = excluded.owner, "
            "expires_at = excluded.expires_at WHERE fulfillmap_claims.expires_at < ?",
            (claim.scope, claim.owner, now + lease, now),
        )
        if not taken:
            rows = tx.run(
                "SELECT expires_at FROM fulfillmap_claims WHERE scope = ?", (claim.scope,)
            )
            left = max(0.0, float(rows[0][0]) - now) if rows else 0.0
            reason = (
                f"another worker is acting on order {claim.scope} (its claim expires in "
                f"{left:.1f} s): answer non-2xx so that Digital River redelivers"
            )
            return Outcome("busy", "", "", reason=reason, retry=True)
        done = tx.run(
            "SELECT event_id, done_at, result FROM fulfillmap_effects WHERE effect_key = ?",
            (effect,),
        )
        if done:
            _release_in(tx, claim)
            by, at, result = done[0]
            how = "answered already done by Digital River" if result == "already-done" else "done"
            reason = f"{effect} was {how} at {_when(at)} by event {by}"
            return Outcome("duplicate", "", "", reason=reason, done_at=float(at), done_by=by)
        return read_state(tx, claim.scope)


def _act(
    engine: Engine,
    chosen: Any,
    ledger: Ledger,
    claim: _Claim,
    effect: str,
    event: dict[str, Any],
    state: OrderRecord,
    send: Send,
    context: Mapping[str, Any] | None,
) -> Outcome:
    event_id, event_type = str(event["id"]), str(event["type"])

    def finish(status: OutcomeStatus, action: Action | None, reason: str, **more: Any) -> Outcome:
        _release(ledger, claim)
        return Outcome(status, event_id, event_type, action, reason, **more)

    try:
        action: Action = engine._act(chosen, event, {**(context or {}), "ledger": event["ledger"]})
    except MappingError as exc:  # with the warnings found before it, as notes
        return finish("failed", None, str(exc), notes=tuple(map(str, exc.warnings)))
    except FulfillmapError as exc:
        return finish("failed", None, str(exc))
    action = _without_lines(action, _done_lines(effect, state))
    moves, quantities, notes = _moves(action, event, state)
    if isinstance(moves, str):
        return finish("ignored", action, moves, notes=notes)
    too_many = {**_over_quantity(moves, state, quantities), **_repeated(action, state)}
    if too_many and set(too_many) >= moves.lines():  # every line: nothing is sent
        return finish("failed", action, "; ".join(too_many.values()), notes=notes)
    if too_many:  # those lines only are left out (the others' goods and money still move)
        action = _without_lines(action, set(too_many))
        moves, quantities, more = _moves(action, event, state)
        assert not isinstance(moves, str)  # some lines are left
        left_out = tuple(f"{reason}; the other lines are sent" for reason in too_many.values())
        notes = (*notes, *left_out, *more)
    beyond = _beyond_ledger(moves, quantities, state)
    if beyond is not None:  # refused before it is sent: recording it afterwards would fail
        return finish("failed", action, beyond, notes=notes)
    if moves.cancelled:
        action = _cancel_keyed(action, moves.cancelled)
    try:
        response = send(action)
    except DigitalRiverError as exc:
        verdict = classify_response(exc.status, exc.body)
        answer = _Answer(event, action, moves, quantities, verdict, notes)
        return _answered(ledger, claim, effect, state, answer)
    except Exception as exc:
        reason = f"send failed: {type(exc).__name__}: {exc}; nothing was recorded as done"
        return finish("failed", action, reason, retry=True, notes=notes)
    at, kept = _record(ledger, claim, effect, event, action, moves, quantities, "sent", response)
    if not kept:
        notes = (*notes, _lost(claim, engine.lease))
    return Outcome(
        "done", event_id, event_type, action, None, done_at=at, notes=notes, response=response
    )


def _lost(claim: _Claim, lease: float) -> str:
    return (
        f"the claim on order {claim.scope} expired while send ran (lease {lease:g} s) and was "
        "taken over: another worker may have acted on the order meanwhile; check the order in "
        "Digital River, and keep the lease above send's timeout"
    )


@dataclass(frozen=True, slots=True)
class _Answer:
    """What was sent, and Digital River's refusal of it."""

    event: dict[str, Any]
    action: Action
    moves: _Moves
    quantities: dict[str, int]
    verdict: Verdict
    notes: tuple[str, ...]


def _answered(
    ledger: Ledger, claim: _Claim, effect: str, state: OrderRecord, answer: _Answer
) -> Outcome:
    """``send`` reported Digital River's refusal: record what it says is already done. A line
    it names is this action's order line, or the fulfillment order line the ledger knows it by;
    a line-level refusal that names none of the action's lines records nothing (which lines
    were done cannot be told, and one recorded wrongly would never be captured or cancelled)."""
    event, action, moves, verdict = answer.event, answer.action, answer.moves, answer.verdict
    event_id, event_type = str(event["id"]), str(event["type"])
    said = f"Digital River answered {verdict.code or verdict.kind}: {verdict.message}"
    line = verdict.line
    if line is not None and line not in moves.lines():
        line = state.lines_by_item().get(line)
    unknown = verdict.code in ITEM_DONE and line not in moves.lines()
    if verdict.kind != "already-done" or unknown:
        _release(ledger, claim)
        reason = f"{said}; nothing was recorded as done"
        if unknown:
            named = ", ".join(sorted(moves.lines()))
            reason += f": it names none of the action's lines ({named}); check the order by hand"
        retry = verdict.retry and not unknown
        return Outcome("failed", event_id, event_type, action, reason, retry, notes=answer.notes)
    if line is None or not moves.lines():
        at, _ = _record(
            ledger, claim, effect, event, action, moves, answer.quantities, "already-done", None
        )
        reason = f"{said} (G12); recorded as done"
        return Outcome("duplicate", event_id, event_type, action, reason, False, at, event_id)
    done = moves.only(line)
    _record(
        ledger,
        claim,
        f"{effect} line {line}",
        event,
        action,
        done,
        answer.quantities,
        "already-done",
        None,
    )
    reason = f"{said} (G12): line {line} recorded as done; the other lines will be retried"
    return Outcome("failed", event_id, event_type, action, reason, True, notes=answer.notes)


# -- what an action moves ----------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Moves:
    """Per line: units captured, newly cancelled (and the cumulative counter they bring the line
    to) and returned; units asked for (a cancellation or return request, or its outcome event)
    and accepted by the fulfiller; and the change to the units being cancelled and returned."""

    kind: str
    captured: dict[str, int] = field(default_factory=dict)
    cancelled: dict[str, tuple[int, int]] = field(default_factory=dict)
    returned: dict[str, int] = field(default_factory=dict)
    requested: dict[str, int] = field(default_factory=dict)
    accepted: dict[str, int] = field(default_factory=dict)
    being_cancelled: dict[str, int] = field(default_factory=dict)
    being_returned: dict[str, int] = field(default_factory=dict)

    def lines(self) -> set[str]:
        return {line for part in self._parts() for line in part}

    def only(self, line: str) -> _Moves:
        kept = {
            f.name: {k: v for k, v in getattr(self, f.name).items() if k == line}
            for f in fields(self)
            if f.name != "kind"
        }
        return _Moves(self.kind, **kept)

    def _parts(self) -> list[dict[str, Any]]:
        return [getattr(self, f.name) for f in fields(self) if f.name != "kind"]


def _moves(
    action: Action, event: dict[str, Any], state: OrderRecord
) -> tuple[_Moves | str, dict[str, int], tuple[str, ...]]:
    """What ``action`` moves per line, the line quantities the event tells, notes.

    A ``str`` instead of moves: the reason there is nothing to do (nothing newly cancelled).
    """
    quantities = _quantities(event)
    kind = _kind(action)
    if kind == "create":
        quantities = {**_body_quantities(action.body or {}), **quantities}
    if kind in ("cancellation", "return"):
        return _asked(kind, action, state), quantities, ()
    if kind != "fulfillment":
        return _settled(kind, event, state), quantities, ()
    captured: dict[str, int] = {}
    cancelled: dict[str, tuple[int, int]] = {}
    being_cancelled: dict[str, int] = {}
    notes: list[str] = []
    previous = _previous_cancelled(event)
    counters = _cancelled_counters(event)
    for item in _items(action.body):
        line = as_id(item.get("itemId"))
        if line is None:
            continue
        if isinstance(item.get("quantity"), int):
            captured[line] = captured.get(line, 0) + item["quantity"]
        delta = item.get("cancelQuantity")
        if isinstance(delta, int) and delta > 0:
            record = state.lines.get(line)
            known = record.cancelled if record else 0
            cancelled[line] = (delta, known + delta)
            if record and record.being_cancelled:  # the shop's cancellation reached the counter
                being_cancelled[line] = -min(delta, record.being_cancelled)
            notes += _cross_checks(line, known, delta, counters.get(line), previous.get(line))
    if not captured and not cancelled and not _items(action.body):  # each answered 409
        return "nothing left to send: Digital River said each line was already done", {}, ()
    if not captured and not cancelled:
        return "nothing newly cancelled: the ledger already has every line's count", {}, ()
    kind = "cancel" if cancelled and not captured else "capture"
    moves = _Moves(kind, captured, cancelled, being_cancelled=being_cancelled)
    return moves, quantities, tuple(notes)


def _asked(kind: str, action: Action, state: OrderRecord) -> _Moves:
    """A cancellation or return request: per line, the units asked for, now being settled."""
    lines = state.lines_by_item()
    asked: dict[str, int] = {}
    for item in _items(action.body):
        line = lines.get(as_id(item.get("fulfillmentOrderItemId")) or "")
        quantity = item.get("quantity")
        if line is not None and isinstance(quantity, int) and quantity > 0:
            asked[line] = asked.get(line, 0) + quantity
    if kind == "cancellation":
        return _Moves(kind, requested=asked, being_cancelled=dict(asked))
    return _Moves(kind, requested=asked, being_returned=dict(asked))


def _settled(kind: str, event: dict[str, Any], state: OrderRecord) -> _Moves:
    """What a fulfillment cancellation's or return's event settles, per line (nothing for other
    events): the units asked and accepted; a cancellation's accepted or rejected event releases
    the units the fulfiller refused (those it accepted stay being cancelled until the
    fulfillment order's cancelled counter reaches them); a return's accepted event counts the
    accepted units returned and settles the rest, its rejected event releases the refused ones.
    """
    family, _, stage = str(event["type"]).partition(".")
    if family not in ("fulfillment_cancellation", "fulfillment_return"):
        return _Moves(kind)
    lines = state.lines_by_item()
    moves = _Moves(kind)
    for item in _items(event["data"]["object"]):
        line = as_id(item.get("fulfillmentOrderItemUpstreamId")) or lines.get(
            as_id(item.get("fulfillmentOrderItemId")) or ""
        )
        asked = _whole(item.get("quantity"))
        record = state.lines.get(line or "")
        if line is None or record is None or asked is None:
            continue
        got = _whole(item.get("quantityAccepted"))
        got = (asked if stage == "accepted" else 0) if got is None else got
        moves.requested[line], moves.accepted[line] = asked, got
        if family == "fulfillment_cancellation" and stage in ("accepted", "rejected"):
            moves.being_cancelled[line] = -min(max(0, asked - got), record.being_cancelled)
        elif family == "fulfillment_return" and stage == "accepted":
            moves.returned[line] = got
            moves.being_returned[line] = -min(asked, record.being_returned)
        elif family == "fulfillment_return" and stage == "rejected":
            moves.being_returned[line] = -min(max(0, asked - got), record.being_returned)
    return moves


def _done_lines(effect: str, state: OrderRecord) -> set[str]:
    """The lines of ``effect`` Digital River said were already done (409 item_fulfilled)."""
    prefix = f"{effect} line "  # state.effects holds only those answered already done
    return {e.key[len(prefix) :] for e in state.effects if e.key.startswith(prefix)}


def _without_lines(action: Action, lines: set[str]) -> Action:
    """``action`` (a capture or cancel) without the items of ``lines``."""
    if not lines or not isinstance(action, RequestAction):
        return action
    items = [item for item in _items(action.body) if as_id(item.get("itemId")) not in lines]
    return replace(action, body={**action.body, "items": items})


_PATHS = {
    "/fulfillment-orders": "create",
    "/fulfillments": "fulfillment",
    "/fulfillment-cancellations": "cancellation",
    "/fulfillment-returns": "return",
}


def _kind(action: Action) -> str:
    """``create``, ``fulfillment`` (a capture or cancel), ``cancellation``, ``return``,
    ``request`` (another), ``record``, ``notify``."""
    if not isinstance(action, RequestAction):
        return action.action
    return _PATHS.get(action.path.rstrip("/"), "request")


def _cancel_keyed(action: Action, cancelled: dict[str, tuple[int, int]]) -> Action:
    """The cancel keyed by its lines' cumulative counters: ``ORDER:LINE@3,LINE@1``."""
    assert isinstance(action, RequestAction)
    key = ",".join(f"{line}@{total}" for line, (_, total) in sorted(cancelled.items()))
    return replace(action, idempotency_key=f"{action.body.get('orderId')}:{key}")


def _cross_checks(
    line: str, known: int, delta: int, counter: int | None, previous: int | None
) -> list[str]:
    """Notes where the event's counters disagree with the ledger and the mapping's delta."""
    notes = []
    if counter is not None and counter != known + delta:
        notes.append(
            f"line {line}: the mapping cancels {delta}, but the event's counter {counter} "
            f"minus the ledger's {known} is {counter - known}"
        )
    if previous is not None and previous != known:
        notes.append(
            f"line {line}: previousAttributes says {previous} cancelled before this event, "
            f"the ledger {known}; sending the difference from the ledger"
        )
    return notes


def with_ledger(event: dict[str, Any], state: OrderRecord) -> dict[str, Any]:
    """``event`` (a copy) with ``ledger``, the ledger's record of its order (``orderId``,
    ``fulfillmentOrderId``, ``lines``; e.g. ``when: ledger.fulfillmentOrderId`` in a route),
    and whose lines (of a fulfillment order, cancellation, return or shop's request; not of a
    Shipment) each carry ``ledger``: the ledger's record of that line (``quantity``,
    ``captured``, ``cancelled``, …), for the routes and mappings to read, e.g.
    ``minus(cancelled, ledger.cancelled || `0`)``."""
    event = {**event, "ledger": state.state()}
    obj = event["data"]["object"]
    items = obj.get("items")
    if not state.lines or not isinstance(items, list) or _is_shipment(event):
        return event
    by_item = state.lines_by_item()
    lines = []
    for item in items:
        record = state.lines.get(_line_of(item, by_item) or "") if isinstance(item, dict) else None
        lines.append(item if record is None else {**item, "ledger": record.to_json()})
    return {**event, "data": {**event["data"], "object": {**obj, "items": lines}}}


def _is_shipment(event: dict[str, Any]) -> bool:
    obj = event["data"]["object"]
    return event["type"] == "fulfillment_order.shipped" or "fulfillmentOrderUpstreamId" in obj


def _line_of(item: dict[str, Any], by_item: dict[str, str]) -> str | None:
    """The order line an item is about: its ``upstreamId`` (a fulfillment order line), ``itemId``
    (a shop's request), ``fulfillmentOrderItemUpstreamId`` (a cancellation), else the line of
    its ``fulfillmentOrderItemId`` (a return names only that)."""
    for key in ("upstreamId", "itemId", "fulfillmentOrderItemUpstreamId"):
        line = as_id(item.get(key))
        if line is not None:
            return line
    return by_item.get(as_id(item.get("fulfillmentOrderItemId")) or "")


#: the most units a ledger line counts: two such counts still add up below 2^63, which
#: SQLite's INTEGER and PostgreSQL's BIGINT hold
LEDGER_MAX_UNITS = 2**62


def _beyond_ledger(moves: _Moves, quantities: dict[str, int], state: OrderRecord) -> str | None:
    """Why the ledger could not record ``moves`` (a count of 2^62 units or more), if so."""
    counts = list(quantities.items())
    for part in moves._parts():
        for line, value in part.items():
            counts += [(line, count) for count in (value if isinstance(value, tuple) else (value,))]
    for line, count in counts:
        if abs(count) >= LEDGER_MAX_UNITS:
            return (
                f"not sent: line {line} of order {state.order_id} counts {count} units, more "
                f"than the ledger records (below 2^62 a line)"
            )
    return None


def _repeated(action: Action, state: OrderRecord) -> dict[str, str]:
    """Line -> why it is left out: a cancel that lists it twice, or a capture that lists one
    shipment item twice (Digital River lists each once; sending both would cancel or
    capture it twice, and which one is right cannot be told)."""
    seen: dict[str, str] = {}
    found: dict[str, str] = {}
    for item in _items(action.body):
        line = as_id(item.get("itemId"))
        cancel = "cancelQuantity" in item
        entry = as_id(item.get("itemId" if cancel else "shipmentItemId"))
        if line is None or entry is None:
            continue
        if entry in seen:
            what = f"line {line}" if cancel else f"shipment item {entry} (line {line})"
            found[line] = found[seen[entry]] = (
                f"not sent: {what} of order {state.order_id} is listed more than once in the "
                f"{'cancel' if cancel else 'capture'} (Digital River lists each once)"
            )
        seen[entry] = line
    return found


def _over_quantity(moves: _Moves, state: OrderRecord, quantities: dict[str, int]) -> dict[str, str]:
    """Line -> why ``moves`` would take it above its quantity (none: empty)."""
    found: dict[str, str] = {}
    for line in sorted(moves.lines()):
        record = state.lines.get(line)
        quantity = quantities.get(line, record.quantity if record else None)
        if quantity is None:
            continue
        captured = record.captured if record else 0
        cancelled = record.cancelled if record else 0
        more = moves.captured.get(line, 0) + moves.cancelled.get(line, (0, 0))[0]
        if captured + cancelled + more > quantity:
            found[line] = (
                f"not sent: line {line} of order {state.order_id} would have "
                f"{captured + moves.captured.get(line, 0)} captured and "
                f"{cancelled + moves.cancelled.get(line, (0, 0))[0]} cancelled, above its "
                f"quantity {quantity} (the ledger had {captured} captured, {cancelled} cancelled)"
            )
    return found


# -- recording -------------------------------------------------------------------------------------


def _record(
    ledger: Ledger,
    claim: _Claim,
    effect: str,
    event: dict[str, Any],
    action: Action,
    moves: _Moves,
    quantities: dict[str, int],
    result: str,
    response: Any,
) -> tuple[float, bool]:
    """Record the effect as done and release the claim, in one transaction; when, and whether
    the claim was still ours."""
    now = time.time()
    order = claim.scope
    fo_id, ids = _ids(_fulfillment_order(event, moves.kind, response))
    request, answer = _dumps(action.body), _dumps(response)
    lines = sorted({*quantities, *moves.lines(), *ids})
    with ledger.transaction() as tx:
        tx.many(
            "INSERT INTO fulfillmap_orders (order_id, fulfillment_order_id, created_at, "
            "updated_at) VALUES (?, ?, ?, ?) ON CONFLICT (order_id) DO UPDATE SET "
            "updated_at = excluded.updated_at, fulfillment_order_id = COALESCE("
            "excluded.fulfillment_order_id, fulfillmap_orders.fulfillment_order_id)",
            [(order, fo_id, now, now)],
        )
        first = tx.changed(
            "INSERT INTO fulfillmap_effects (effect_key, kind, order_id, event_id, event_type, "
            "done_at, result, request, response) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) "
            "ON CONFLICT (effect_key) DO NOTHING",
            (effect, moves.kind, order, event["id"], event["type"], now, result, request, answer),
        )
        if not first:  # a worker that took the claim over after our lease expired did it too
            moves = _Moves(moves.kind)
        tx.many(
            "INSERT INTO fulfillmap_lines (order_id, line_id, quantity, captured, cancelled, "
            "returned, being_cancelled, being_returned, fulfillment_order_item_id, "
            "inventory_item_id) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?) "
            "ON CONFLICT (order_id, line_id) DO UPDATE SET "
            "quantity = COALESCE(excluded.quantity, fulfillmap_lines.quantity), "
            "captured = fulfillmap_lines.captured + excluded.captured, "
            "cancelled = fulfillmap_lines.cancelled + excluded.cancelled, "
            "returned = fulfillmap_lines.returned + excluded.returned, "
            "being_cancelled = fulfillmap_lines.being_cancelled + excluded.being_cancelled, "
            "being_returned = fulfillmap_lines.being_returned + excluded.being_returned, "
            "fulfillment_order_item_id = COALESCE(excluded.fulfillment_order_item_id, "
            "fulfillmap_lines.fulfillment_order_item_id), "
            "inventory_item_id = COALESCE(excluded.inventory_item_id, "
            "fulfillmap_lines.inventory_item_id)",
            [
                (
                    order,
                    line,
                    quantities.get(line),
                    moves.captured.get(line, 0),
                    moves.cancelled.get(line, (0, None))[0],
                    moves.returned.get(line, 0),
                    moves.being_cancelled.get(line, 0),
                    moves.being_returned.get(line, 0),
                    *ids.get(line, (None, None)),
                )
                for line in lines
            ],
        )
        tx.many(
            "INSERT INTO fulfillmap_line_effects (effect_key, order_id, line_id, captured, "
            "cancelled, cumulative, returned, requested, accepted) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (effect_key, line_id) DO NOTHING",
            [
                (
                    effect,
                    order,
                    line,
                    moves.captured.get(line, 0),
                    *moves.cancelled.get(line, (0, None)),
                    moves.returned.get(line, 0),
                    moves.requested.get(line, 0),
                    moves.accepted.get(line),
                )
                for line in sorted(moves.lines())
            ],
        )
        kept = _release_in(tx, claim)
    return now, kept


def _fulfillment_order(event: dict[str, Any], kind: str, response: Any) -> Any:
    """The fulfillment order whose ids to record: the 201 to a create, or the event's object."""
    if kind == "create":
        return response if isinstance(response, dict) else None
    if str(event["type"]).startswith("order.") or event["type"] in SHOP_EVENTS:
        return None  # an order, or the shop's request: no fulfillment order ids in it
    return event["data"]["object"]


def _ids(
    fulfillment_order: Any,
) -> tuple[str | None, dict[str, tuple[str | None, str | None]]]:
    """The fulfillment order id, and per line its item and inventory item ids (G1: as text).

    From a fulfillment order (the 201, pending/cancelled events) or a Shipment.
    """
    if not isinstance(fulfillment_order, dict):
        return None, {}
    shipment = "fulfillmentOrderId" in fulfillment_order
    fo_id = as_id(fulfillment_order.get("fulfillmentOrderId" if shipment else "id"))
    ids: dict[str, tuple[str | None, str | None]] = {}
    for item in _items(fulfillment_order):
        line = as_id(item.get("fulfillmentOrderItemUpstreamId" if shipment else "upstreamId"))
        if line is not None:
            item_id = as_id(item.get("fulfillmentOrderItemId" if shipment else "id"))
            ids[line] = (item_id, as_id(item.get("inventoryItemId")))
    return fo_id, ids


def _release(ledger: Ledger, claim: _Claim) -> None:
    with ledger.transaction(durable=False) as tx:
        _release_in(tx, claim)


def _release_in(tx: Transaction, claim: _Claim) -> bool:
    """Release the claim; False when it was no longer ours (its lease expired and another
    worker took the order over, or the claim was pruned)."""
    released = tx.changed(
        "DELETE FROM fulfillmap_claims WHERE scope = ? AND owner = ?", (claim.scope, claim.owner)
    )
    return released > 0


# -- reading events and bodies -----------------------------------------------------------------


def _items(document: Any) -> list[dict[str, Any]]:
    items = document.get("items") if isinstance(document, dict) else None
    return [item for item in items if isinstance(item, dict)] if isinstance(items, list) else []


def _quantities(event: dict[str, Any]) -> dict[str, int]:
    """Each line's ordered quantity, from a fulfillment order event's items."""
    obj = event["data"]["object"]
    if str(event["type"]).startswith("order."):
        pairs = ((item.get("id"), item.get("quantity")) for item in _items(obj))
    elif "fulfillmentOrderId" in obj or event["type"] in SHOP_EVENTS:
        return {}  # a Shipment, cancellation or return, a request: not the ordered quantities
    else:
        pairs = (
            (item.get("upstreamId"), _whole(item.get("ordered", item.get("quantity"))))
            for item in _items(obj)
        )
    return {line: q for key, q in pairs if (line := as_id(key)) and isinstance(q, int)}


def _body_quantities(body: dict[str, Any]) -> dict[str, int]:
    pairs = ((as_id(item.get("upstreamId")), item.get("quantity")) for item in _items(body))
    return {line: q for line, q in pairs if line and isinstance(q, int)}


def _previous_cancelled(event: dict[str, Any]) -> dict[str, int]:
    """Each line's ``cancelled`` counter before this event, where previousAttributes has it."""
    previous = event["data"].get("previousAttributes")
    current = _items(event["data"]["object"])
    found: dict[str, int] = {}
    for index, item in enumerate(_items(previous)):
        line = as_id(item.get("upstreamId"))
        if line is None and index < len(current):
            line = as_id(current[index].get("upstreamId"))
        count = _whole(item.get("cancelled"))
        if line is not None and isinstance(count, int):
            found[line] = count
    return found


def _cancelled_counters(event: dict[str, Any]) -> dict[str, int]:
    """Each line's cumulative ``cancelled`` counter in the event."""
    pairs = (
        (as_id(i.get("upstreamId")), _whole(i.get("cancelled")))
        for i in _items(event["data"]["object"])
    )
    return {line: count for line, count in pairs if line is not None and count is not None}


def _whole(value: Any) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return int(number) if number.is_integer() else None


def _when(seconds: Any) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(float(seconds)))


def _dumps(value: Any) -> str | None:
    """``value`` as JSON text, amounts with their digits (G3); what is not JSON as text."""
    if value is None:
        return None
    try:
        return dump_document(value, compact=True).decode("utf-8")
    except FulfillmapError:  # e.g. a response object of the shop's own
        return json.dumps(value, default=str)
