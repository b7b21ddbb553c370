"""The fulfillment ledger: ``Engine(ledger=...).process`` against memory:, SQLite and PostgreSQL."""

from __future__ import annotations

import copy
import json
import threading
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import fulfillmap
import pytest
from fulfillmap import DigitalRiverError, Engine, Ledger, LedgerError, classify_response

REPO = Path(__file__).resolve().parent.parent
EXAMPLES = REPO / "examples"
ORDER = "278815640336"
CABLES = "183926760336"  # the order line of 3 USB-C cables
WIDGETS = "183926740336"  # 2 widgets


def example(name: str) -> dict[str, Any]:
    return json.loads((EXAMPLES / f"{name}.json").read_text(encoding="utf-8"))


CONTEXT = example("order.context")


@pytest.fixture
def engine(ledger_url: str) -> Iterator[Engine]:
    engine = Engine(ledger=ledger_url)
    yield engine
    assert engine._ledger is not None
    engine._ledger.close()


class Shop:
    """The caller's ``send``: performs nothing, remembers what it was asked; the 201 of a create."""

    def __init__(self, fail: Exception | None = None) -> None:
        self.sent: list[fulfillmap.Action] = []
        self.fail = fail

    def __call__(self, action: fulfillmap.Action) -> Any:
        if self.fail is not None:
            raise self.fail
        self.sent.append(action)
        if action.action == "request" and action.path == "/fulfillment-orders":
            return example("pending-event")["data"]["object"]
        return {}


def cancelled(event_id: str, counts: dict[str, int], **previous: int) -> dict[str, Any]:
    """The example cancelled event with ``counts`` as the lines' cumulative cancelled counters."""
    event = copy.deepcopy(example("cancelled-event"))
    event["id"] = event_id
    for item in event["data"]["object"]["items"]:
        count = counts.get(item["upstreamId"], 0)
        item["pending"] = item["quantity"] - count
        item["cancelled"] = count
    if previous:
        event["data"]["previousAttributes"] = {
            "items": [{"upstreamId": line, "cancelled": n} for line, n in previous.items()]
        }
    return event


def line(engine: Engine, line_id: str) -> fulfillmap.OrderRecord:
    assert engine._ledger is not None
    record = engine._ledger.order(ORDER)
    assert record is not None
    return record


# -- keys and duplicates ---------------------------------------------------------------------


def test_order_created_once_from_the_event_and_the_synchronous_response(engine: Engine) -> None:
    shop = Shop()
    first = engine.process(example("order-accepted-event"), shop, CONTEXT)
    assert first.status == "done"
    assert first.action is not None
    assert first.action.idempotency_key == ORDER
    again = engine.process_order(example("order-accepted-event")["data"]["object"], shop, CONTEXT)
    assert again.status == "duplicate"
    assert again.done_by == "6f0c2a8e-3b1d-4c55-9a0e-8d7e2b4f1c93"
    assert "order.accepted 278815640336 was done at" in (again.reason or "")
    assert len(shop.sent) == 1
    record = line(engine, ORDER)
    assert record.fulfillment_order_id == "5774321009"  # from the 201 (a number there, G1)
    assert record.lines[CABLES].fulfillment_order_item_id == "650398674430"
    assert record.lines[CABLES].quantity == 3


def test_synchronous_order_first_then_the_event(engine: Engine) -> None:
    shop = Shop()
    order = example("order-accepted-event")["data"]["object"]
    assert engine.process_order(order, shop, CONTEXT).status == "done"
    assert engine.process(example("order-accepted-event"), shop, CONTEXT).status == "duplicate"
    assert len(shop.sent) == 1


def test_a_shipment_is_captured_once(engine: Engine) -> None:
    shop = Shop()
    assert engine.process(example("shipped-event"), shop).status == "done"
    redelivered = copy.deepcopy(example("shipped-event"))
    redelivered["id"] = "evt_another_delivery"  # same shipment, another event id
    outcome = engine.process(redelivered, shop)
    assert outcome.status == "duplicate"
    assert outcome.done_by == "evt_d290f1ee-6c54-4b01-90e6-d701748f0851"
    assert len(shop.sent) == 1
    assert line(engine, ORDER).lines[WIDGETS].captured == 2


def test_record_and_notify_are_done_once(engine: Engine) -> None:
    shop = Shop()
    for name in ("pending-event", "backordered-event"):
        assert engine.process(example(name), shop).status == "done"
        assert engine.process(example(name), shop).status == "duplicate"
    assert [action.action for action in shop.sent] == ["record", "notify"]


def test_digital_only_order_is_ignored_with_the_reason(engine: Engine) -> None:
    event = example("order-accepted-event")
    del event["data"]["object"]["shipTo"]
    outcome = engine.process(event, Shop())
    assert outcome.status == "ignored"
    assert outcome.reason
    assert "digital goods only" in outcome.reason


# -- cancels send the delta (G13) ----------------------------------------------------------------


def test_two_partial_cancels_send_each_delta(engine: Engine) -> None:
    shop = Shop()
    assert engine.process(cancelled("c1", {CABLES: 1}), shop).status == "done"
    second = engine.process(cancelled("c2", {CABLES: 3, WIDGETS: 1}), shop)
    assert second.status == "done"
    assert second.action is not None
    assert second.action.body == {
        "orderId": ORDER,
        "items": [
            {"itemId": WIDGETS, "cancelQuantity": 1},
            {"itemId": CABLES, "cancelQuantity": 2},
        ],
    }
    assert second.action.idempotency_key == f"{ORDER}:{WIDGETS}@1,{CABLES}@3"
    record = line(engine, ORDER)
    assert (record.lines[CABLES].cancelled, record.lines[WIDGETS].cancelled) == (3, 1)
    sent = [item["cancelQuantity"] for a in shop.sent for item in (a.body or {})["items"]]
    assert sent == [1, 1, 2]


def test_an_event_s_own_ledger_is_not_the_ledger(engine: Engine) -> None:
    """Only the ledger gives ``ledger``: an event that brings its own (a line's
    ``ledger.cancelled`` of 1 where the ledger has none) is read without it, so the cancel is
    sent, and the caller's event is left as it was."""
    event = cancelled("c1", {CABLES: 1})
    for item in event["data"]["object"]["items"]:
        item["ledger"] = {"cancelled": 1}
    event["ledger"] = {"orderId": ORDER, "lines": {}}
    shop = Shop()
    outcome = engine.process(event, shop)
    assert outcome.status == "done"
    assert outcome.action is not None
    assert outcome.action.body is not None
    assert outcome.action.body["items"] == [{"itemId": CABLES, "cancelQuantity": 1}]
    assert all("ledger" in item for item in event["data"]["object"]["items"])


def test_an_older_cancel_after_a_newer_one_does_nothing(engine: Engine) -> None:
    shop = Shop()
    engine.process(cancelled("newer", {CABLES: 2}), shop)
    outcome = engine.process(cancelled("older", {CABLES: 1}), shop)
    assert outcome.status == "ignored"
    assert outcome.reason == (
        "nothing newly cancelled: no line's cancelled count is above what was already "
        "cancelled (0, or through Engine.process the ledger's count)"
    )
    assert len(shop.sent) == 1


def test_the_same_cancelled_event_again_is_a_duplicate(engine: Engine) -> None:
    shop = Shop()
    engine.process(cancelled("c1", {CABLES: 1}), shop)
    assert engine.process(cancelled("c1", {CABLES: 1}), shop).status == "duplicate"


def test_previous_attributes_disagreeing_with_the_ledger_is_a_note(engine: Engine) -> None:
    shop = Shop()
    engine.process(cancelled("c1", {CABLES: 1}), shop)
    outcome = engine.process(cancelled("c2", {CABLES: 3}, **{CABLES: 2}), shop)
    assert outcome.status == "done"
    assert outcome.notes == (
        f"line {CABLES}: previousAttributes says 2 cancelled before this event, the ledger 1; "
        "sending the difference from the ledger",
    )
    assert outcome.action is not None
    assert outcome.action.body is not None
    assert outcome.action.body["items"] == [{"itemId": CABLES, "cancelQuantity": 2}]


def test_the_ledger_state_is_the_cancel_mappings_context(engine: Engine) -> None:
    seen: list[Any] = []
    original = engine._act

    def spy(chosen: Any, event: Any, context: Any) -> Any:
        seen.append(context["ledger"])
        return original(chosen, event, context)

    object.__setattr__(engine, "_act", spy)
    engine.process(cancelled("c1", {CABLES: 1}), Shop())
    engine.process(cancelled("c2", {CABLES: 2}), Shop())
    assert seen[0] == {"orderId": ORDER, "fulfillmentOrderId": None, "lines": {}}
    assert seen[1]["lines"][CABLES]["cancelled"] == 1
    assert seen[1]["fulfillmentOrderId"] == "5774321009"


# -- never more than ordered ------------------------------------------------------------------


def test_a_line_above_its_quantity_is_left_out_and_the_others_sent(engine: Engine) -> None:
    """A problem on one line leaves out that line only: the shipment's other line is captured,
    the outcome's notes say why the widgets are not; with no line left, nothing is sent."""
    shop = Shop()
    engine.process(cancelled("c1", {WIDGETS: 1}), shop)  # 1 of 2 widgets cancelled
    outcome = engine.process(example("shipped-event"), shop)  # ships 2 widgets and a phone
    reason = (
        f"not sent: line {WIDGETS} of order {ORDER} would have 2 captured and 1 cancelled, "
        "above its quantity 2 (the ledger had 0 captured, 1 cancelled)"
    )
    assert outcome.status == "done"
    assert outcome.action is not None
    assert outcome.action.body is not None
    assert [item["itemId"] for item in outcome.action.body["items"]] == ["183926750336"]
    assert outcome.notes == (f"{reason}; the other lines are sent",)
    assert line(engine, ORDER).lines[WIDGETS].captured == 0
    assert line(engine, ORDER).lines["183926750336"].captured == 1
    widgets_only = example("shipped-event")
    widgets_only["id"], widgets_only["data"]["object"]["id"] = "s2", "SH2"
    del widgets_only["data"]["object"]["items"][1]
    outcome = engine.process(widgets_only, shop)
    assert outcome.status == "failed"
    assert not outcome.retry
    assert outcome.reason == reason
    assert len(shop.sent) == 2


# -- out of order ------------------------------------------------------------------------------


def test_events_before_the_order_still_take_effect(engine: Engine) -> None:
    shop = Shop()
    assert engine.process(example("shipped-event"), shop).status == "done"
    assert engine.process(cancelled("c1", {CABLES: 1}), shop).status == "done"
    assert engine.process(example("order-accepted-event"), shop, CONTEXT).status == "done"
    record = line(engine, ORDER)
    assert (record.lines[WIDGETS].captured, record.lines[CABLES].cancelled) == (2, 1)
    assert record.lines[WIDGETS].quantity == 2


# -- send's failures -----------------------------------------------------------------------------


def test_send_raising_is_failed_and_retried_later(engine: Engine) -> None:
    outcome = engine.process(example("shipped-event"), Shop(ConnectionError("timed out")))
    assert (outcome.status, outcome.retry, outcome.http_status) == ("failed", True, 503)
    assert outcome.reason == (
        "send failed: ConnectionError: timed out; nothing was recorded as done"
    )
    assert engine.process(example("shipped-event"), Shop()).status == "done"


@pytest.mark.parametrize(
    ("status", "code", "expected", "retry"),
    [
        (409, "order_complete", "duplicate", False),
        (409, "order_fulfilled", "duplicate", False),
        (409, "order_cancelled", "duplicate", False),
        (409, "quantity_too_large", "failed", False),
        (400, "invalid_parameter", "failed", False),
        (500, None, "failed", True),
        (503, None, "failed", True),
        (429, "too_many_requests", "failed", True),
    ],
)
def test_digital_river_answers(
    engine: Engine, status: int, code: str | None, expected: str, retry: bool
) -> None:
    body = {"type": "conflict", "errors": [{"code": code, "message": "…"}]} if code else None
    outcome = engine.process(example("shipped-event"), Shop(DigitalRiverError(status, body)))
    assert (outcome.status, outcome.retry) == (expected, retry)
    again = engine.process(example("shipped-event"), Shop())
    assert again.status == ("duplicate" if expected == "duplicate" else "done")


def test_a_line_already_fulfilled_is_recorded_and_the_rest_retried(engine: Engine) -> None:
    body = {
        "type": "conflict",
        "errors": [
            {
                "code": "item_fulfilled",
                "parameter": "itemId",
                "message": f"Resource '{WIDGETS}'  is already fulfilled",
            }
        ],
    }
    outcome = engine.process(example("shipped-event"), Shop(DigitalRiverError(409, body)))
    assert (outcome.status, outcome.retry) == ("failed", True)
    assert f"line {WIDGETS} recorded as done" in (outcome.reason or "")
    shop = Shop()
    assert engine.process(example("shipped-event"), shop).status == "done"
    [retried] = shop.sent
    assert [item["itemId"] for item in (retried.body or {})["items"]] == ["183926750336"]
    record = line(engine, ORDER)
    assert (record.lines[WIDGETS].captured, record.lines["183926750336"].captured) == (2, 1)


def _conflict(message: str) -> DigitalRiverError:
    body = {"type": "conflict", "errors": [{"code": "item_fulfilled", "message": message}]}
    return DigitalRiverError(409, body)


def test_a_line_named_by_its_fulfillment_order_item_id_is_that_order_line(engine: Engine) -> None:
    """Digital River may name a line by its fulfillment order item id: the ledger's record of
    the pending event tells which order line that is."""
    shop = Shop()
    assert engine.process(example("pending-event"), shop).status == "done"
    pending = example("pending-event")["data"]["object"]["items"]
    widget_item = next(item["id"] for item in pending if item["upstreamId"] == WIDGETS)
    refused = Shop(_conflict(f"Resource '{widget_item}' is already fulfilled"))
    outcome = engine.process(example("shipped-event"), refused)
    assert (outcome.status, outcome.retry) == ("failed", True)
    assert f"line {WIDGETS} recorded as done" in (outcome.reason or "")
    assert line(engine, ORDER).lines[WIDGETS].captured == 2


def test_a_line_level_refusal_naming_no_line_records_nothing(engine: Engine) -> None:
    """A 409 item_fulfilled that names none of the capture's lines records nothing: which line
    was done cannot be told, and a line recorded wrongly would never be captured."""
    for message in ("The item is already fulfilled.", "Resource '999' is already fulfilled"):
        outcome = engine.process(example("shipped-event"), Shop(_conflict(message)))
        assert (outcome.status, outcome.retry) == ("failed", False)
        assert "nothing was recorded as done: it names none of the action's lines" in (
            outcome.reason or ""
        )
        record = engine._ledger.order(ORDER) if engine._ledger else None
        assert record is None or all(line.captured == 0 for line in record.lines.values())
    shop = Shop()
    assert engine.process(example("shipped-event"), shop).status == "done"
    assert len(shop.sent) == 1


def test_a_shipment_whose_lines_were_each_already_done_is_ignored_so(engine: Engine) -> None:
    for line in (WIDGETS, "183926750336"):
        refused = Shop(_conflict(f"Resource '{line}' is already fulfilled"))
        assert engine.process(example("shipped-event"), refused).status == "failed"
    shop = Shop()
    outcome = engine.process(example("shipped-event"), shop)
    assert (outcome.status, shop.sent) == ("ignored", [])
    assert outcome.reason == "nothing left to send: Digital River said each line was already done"


def test_the_warnings_before_a_mapping_error_are_the_outcome_s_notes(engine: Engine) -> None:
    event = example("shipped-event")
    for item in event["data"]["object"]["items"]:
        item["quantity"] = 0  # each line left out with a warning, then none is left
    outcome = engine.process(event, Shop())
    assert (outcome.status, outcome.retry) == ("failed", False)
    assert outcome.reason is not None
    assert "rule 'some-line-is-captured'" in outcome.reason
    assert [note.split(":")[0] for note in outcome.notes] == [
        "rule 'quantities-are-positive' (warn) at data.object.items[0]",
        "rule 'quantities-are-positive' (warn) at data.object.items[1]",
    ]


def test_a_mapping_error_is_failed_without_retry(engine: Engine) -> None:
    event = example("shipped-event")
    for item in event["data"]["object"]["items"]:  # no line can be captured (one: a warning)
        del item["fulfillmentOrderItemUpstreamId"]
    outcome = engine.process(event, Shop())
    assert (outcome.status, outcome.retry, outcome.http_status) == ("failed", False, 200)
    assert "some-line-is-captured" in (outcome.reason or "")
    assert engine.process(example("shipped-event"), Shop()).status == "done"  # claim released


# -- concurrency ---------------------------------------------------------------------------------


def test_the_claim_is_held_across_send_and_taken_over_after_its_lease(
    ledger_url: str, request: pytest.FixtureRequest
) -> None:
    engine = Engine(ledger=ledger_url, lease=0.5)
    inside, leave = threading.Event(), threading.Event()
    outcomes: list[fulfillmap.Outcome] = []

    def slow(action: fulfillmap.Action) -> Any:
        inside.set()
        leave.wait(5)
        return {}

    worker = threading.Thread(
        target=lambda: outcomes.append(engine.process(example("shipped-event"), slow))
    )
    request.addfinalizer(lambda: engine._ledger and engine._ledger.close())
    worker.start()
    assert inside.wait(5)
    busy = engine.process(cancelled("c1", {CABLES: 1}), Shop())
    assert (busy.status, busy.http_status) == ("busy", 503)
    assert busy.reason
    assert busy.reason.startswith(f"another worker is acting on order {ORDER}")
    import time

    time.sleep(0.6)  # the lease expired: the holder is taken to have crashed
    assert engine.process(cancelled("c1", {CABLES: 1}), Shop()).status == "done"
    leave.set()
    worker.join()
    assert outcomes[0].status == "done"  # the slow send did happen: it is recorded too
    assert outcomes[0].notes == (  # and its outcome says another worker may have acted too
        f"the claim on order {ORDER} expired while send ran (lease 0.5 s) and was taken over: "
        "another worker may have acted on the order meanwhile; check the order in Digital "
        "River, and keep the lease above send's timeout",
    )


def test_two_threads_deliver_the_same_shipment_at_once(engine: Engine) -> None:
    shop = Shop()
    results: list[str] = []
    barrier = threading.Barrier(4)

    def deliver() -> None:
        barrier.wait()
        results.append(engine.process(example("shipped-event"), shop).status)

    threads = [threading.Thread(target=deliver) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(shop.sent) == 1
    assert results.count("done") == 1
    assert set(results) <= {"done", "busy", "duplicate"}


# -- the ledger itself ---------------------------------------------------------------------------


def test_migrate_is_versioned_and_idempotent(ledger_url: str) -> None:
    with Ledger.open(ledger_url, migrate=False) as ledger:
        assert ledger.migrate() == (0, 2)
        assert ledger.migrate() == (2, 2)
        assert ledger.version() == 2


@pytest.mark.parametrize("backend", ["sqlite", "postgresql"])
def test_workers_opening_a_fresh_ledger_at_once(
    backend: str, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    ledger_url = (
        f"sqlite:///{tmp_path}/ledger.db"
        if backend == "sqlite"
        else str(request.getfixturevalue("postgres_url"))
    )
    errors: list[BaseException] = []
    barrier = threading.Barrier(6)

    def open_one() -> None:
        barrier.wait()
        try:
            Ledger.open(ledger_url).close()
        except BaseException as exc:  # pragma: no cover - the assertion shows it
            errors.append(exc)

    threads = [threading.Thread(target=open_one) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    with Ledger.open(ledger_url) as ledger:
        assert ledger.version() == 2


def test_a_ledger_newer_than_fulfillmap_is_refused(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path}/ledger.db"
    with Ledger.open(url) as ledger, ledger.transaction() as tx:
        tx.run("UPDATE fulfillmap_version SET version = 99")
    with pytest.raises(LedgerError, match="schema version 99, newer than this fulfillmap"):
        Ledger.open(url)


def test_prune_forgets_old_orders(engine: Engine) -> None:
    engine.process(example("shipped-event"), Shop())
    ledger = engine._ledger
    assert ledger is not None
    assert ledger.prune(3600) == 0
    assert ledger.prune(3600, now=10**12) == 1
    assert ledger.order(ORDER) is None
    assert engine.process(example("shipped-event"), Shop()).status == "done"


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("mysql://x", "unknown ledger URL 'mysql://x': use sqlite:///relative.db"),
        ("sqlite://ledger.db", "bad SQLite ledger URL 'sqlite://ledger.db'"),
        ("sqlite:///no/such/folder/l.db", "the folder no/such/folder does not exist"),
    ],
)
def test_bad_urls(url: str, message: str) -> None:
    with pytest.raises(LedgerError, match=message.replace("(", r"\(")):
        Ledger.open(url)


def test_sqlite_urls_relative_and_absolute(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    Ledger.open("sqlite:///relative.db").close()
    Ledger.open(f"sqlite:///{tmp_path}/absolute.db").close()
    assert (tmp_path / "relative.db").is_file()
    assert (tmp_path / "absolute.db").is_file()


def test_process_needs_a_ledger() -> None:
    with pytest.raises(fulfillmap.FulfillmapError, match=r"Engine\(ledger=URL\)"):
        Engine().process(example("shipped-event"), Shop())


# -- the classifier and Actions ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("status", "body", "kind", "line"),
    [
        (201, {"id": "ful_1"}, "done", None),
        (409, {"errors": [{"code": "order_complete"}]}, "already-done", None),
        (
            409,
            {"errors": [{"code": "item_cancelled", "message": "Resource '42' is cancelled"}]},
            "already-done",
            "42",
        ),
        (409, {"errors": [{"code": "quantity_too_large"}]}, "permanent", None),
        (409, "not json", "permanent", None),
        (404, None, "permanent", None),
        (429, None, "retry", None),
        (408, None, "retry", None),
        (502, {"errors": []}, "retry", None),
    ],
)
def test_classify_response(status: int, body: Any, kind: str, line: str | None) -> None:
    verdict = classify_response(status, body)
    assert (verdict.kind, verdict.line) == (kind, line)


def test_digital_river_error_says_what_it_answered() -> None:
    error = DigitalRiverError(409, {"errors": [{"code": "quantity_too_large", "message": "Sum…"}]})
    assert str(error) == "Digital River answered 409 quantity_too_large: Sum…"


def test_action_json_keeps_the_digits_of_decimals() -> None:
    """G3: amounts read as Decimal are written with their digits, never through a float."""
    from fulfillmap.language._jsonio import dump_line

    action = fulfillmap.RequestAction(
        event_id="e",
        event_type="t",
        idempotency_key="k",
        mapping="m",
        method="POST",
        path="/p",
        body={"total": Decimal("20.10"), "items": [{"quantity": Decimal("2")}], "n": None},
    )
    assert action.to_json()["body"]["total"] == Decimal("20.10")
    text = dump_line(action.to_json(), nulls=3)
    assert b'"total":20.10' in text
    assert b'"quantity":2' in text


def test_each_kind_of_action_has_its_class(engine: Engine) -> None:
    kinds = {
        name: type(Engine().handle(example(name), CONTEXT)).__name__
        for name in ("order-accepted-event", "pending-event", "backordered-event")
    }
    assert kinds == {
        "order-accepted-event": "RequestAction",
        "pending-event": "RecordAction",
        "backordered-event": "NotifyAction",
    }


def test_a_taken_over_effect_is_counted_once(
    ledger_url: str, request: pytest.FixtureRequest
) -> None:
    """A send slower than the lease: the shipment is sent again by the worker that took the
    claim over (the lease must exceed send's timeout), but the ledger counts its units once."""
    import time

    engine = Engine(ledger=ledger_url, lease=0.3)
    request.addfinalizer(lambda: engine._ledger and engine._ledger.close())
    inside, leave = threading.Event(), threading.Event()

    def slow(action: fulfillmap.Action) -> Any:
        inside.set()
        leave.wait(5)
        return {}

    worker = threading.Thread(target=lambda: engine.process(example("shipped-event"), slow))
    worker.start()
    assert inside.wait(5)
    time.sleep(0.4)
    assert engine.process(example("shipped-event"), Shop()).status == "done"
    leave.set()
    worker.join()
    assert line(engine, ORDER).lines[WIDGETS].captured == 2


def test_the_ledger_keeps_the_digits_of_amounts_and_any_response(engine: Engine) -> None:
    """G3: a body's Decimal amounts are stored and read back with their digits; a response
    that is not JSON (an object of the shop's own) is stored as its text, never an error."""
    event = example("order-accepted-event")
    event["data"]["object"]["items"][0]["tax"]["amount"] = Decimal("1.6050000000000000001")
    context = json.loads((EXAMPLES / "order.context.json").read_text())

    class Receipt:
        def __str__(self) -> str:
            return "receipt 42"

    assert engine.process(event, lambda action: {"receipt": Receipt()}, context).status == "done"
    assert engine._ledger is not None
    record = engine._ledger.order("278815640336")
    assert record is not None
    [created] = record.effects
    assert created.request["items"][0]["tax"]["amount"] == Decimal("1.6050000000000000001")
    assert created.response == {"receipt": "receipt 42"}
