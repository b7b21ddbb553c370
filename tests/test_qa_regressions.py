"""Regressions found by integration testing: realistic payloads and broken inputs."""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path
from typing import Any

import fulfillmap
import pytest
from fulfillmap import Engine

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"


def _example(name: str) -> dict[str, Any]:
    event: dict[str, Any] = json.loads((EXAMPLES / f"{name}.json").read_text(encoding="utf-8"))
    return event


def test_events_parsed_with_decimal_floats_are_mapped() -> None:
    """G3 advises ``parse_float=Decimal``; G20 says counters may come as 1.0. JMESPath's
    functions (``sum`` in the counters rule) must take a Decimal as the number it is."""
    text = (EXAMPLES / "cancelled-event.json").read_text(encoding="utf-8")
    event = json.loads(text.replace('"cancelled": 1', '"cancelled": 1.0'), parse_float=Decimal)
    assert event["data"]["object"]["items"][2]["cancelled"] == Decimal("1.0")
    action = Engine().handle(event)
    assert action.body == {
        "orderId": "278815640336",
        "items": [{"itemId": "183926760336", "cancelQuantity": 1}],
    }


def test_jmespath_functions_take_decimals(tmp_path: Path) -> None:
    (tmp_path / "any.json").write_text("{}")
    (tmp_path / "m.yaml").write_text(
        "name: m\nsource: {name: s, schema: any.json}\ntarget: {name: t, schema: any.json}\n"
        "fields:\n  kind: type(amount)\n  total: sum(amounts)\n  top: max(amounts)\n"
    )
    mapping = fulfillmap.load(tmp_path / "m.yaml")
    source = {"amount": Decimal("1.5"), "amounts": [1, Decimal("2.5")]}
    assert mapping.apply(source) == {
        "kind": "number",
        "total": Decimal("3.5"),
        "top": Decimal("2.5"),
    }
    with pytest.raises(fulfillmap.MappingError, match=r"sum\(\) takes an array of numbers"):
        mapping.apply({"amounts": [1, "2"]})


def _cli(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    from fulfillmap.cli import main

    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


_LIMIT = "(the limit; FULFILLMAP_MAX_JSON_DEPTH changes it)"


@pytest.mark.parametrize("command", ["map", "handle"])
def test_absurdly_deep_json_is_an_error_not_a_traceback(
    command: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "deep.json"
    path.write_text("[" * 100_000 + "]" * 100_000)
    argv = [command, "shipped-event-to-fulfillment"] if command == "map" else [command]
    code, out, err = _cli(capsys, *argv, str(path))
    assert (code, out) == (1, "")
    what = f"the input {path}" if command == "map" else "the input"
    assert (
        err == f"fulfillmap: error: {what} nests arrays and objects more than 128 deep {_LIMIT}\n"
    )


def test_a_deep_json_line_is_reported_and_the_rest_handled(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    event = json.dumps(_example("shipped-event"))
    path = tmp_path / "events.jsonl"
    deep = '{"a":' * 50_000 + "1" + "}" * 50_000
    path.write_text(f"{event}\n{deep}\n{event}\n")
    code, out, err = _cli(capsys, "handle", str(path))
    assert code == 1
    assert len(out.splitlines()) == 2
    assert err == f"LINE 2: the line nests arrays and objects more than 128 deep {_LIMIT}\n"


@pytest.mark.parametrize("command", ["map", "handle"])
def test_a_byte_order_mark_is_ignored(
    command: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "event.json"
    path.write_bytes(b"\xef\xbb\xbf" + (EXAMPLES / "shipped-event.json").read_bytes())
    argv = [command, "shipped-event-to-fulfillment"] if command == "map" else [command]
    code, out, err = _cli(capsys, *argv, str(path))
    assert (code, err) == (0, "")
    assert "29016544906" in out


def test_a_byte_order_mark_before_json_lines_is_ignored(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    lines = [json.dumps(_example(name)) for name in ("shipped-event", "cancelled-event")]
    path = tmp_path / "events.jsonl"
    path.write_bytes(b"\xef\xbb\xbf" + "\n".join(lines).encode() + b"\n")
    code, out, err = _cli(capsys, "handle", str(path))
    assert (code, err) == (0, "")
    assert len(out.splitlines()) == 2


def test_a_json_array_of_events_on_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """``jq -c`` writes an array of events on one line: its events are handled one by one."""
    events = [_example("shipped-event"), _example("cancelled-event"), None]
    path = tmp_path / "events.json"
    path.write_text(json.dumps(events) + "\n", encoding="utf-8")
    code, out, err = _cli(capsys, "handle", str(path))
    assert code == 1
    assert [json.loads(line)["mapping"] for line in out.splitlines()] == [
        "shipped-event-to-fulfillment",
        "cancelled-event-to-fulfillment",
    ]
    assert err == "EVENT 3: malformed event: an event is a JSON object, not null\n"


@pytest.mark.parametrize("key", ["id", "type"])
def test_an_empty_id_or_type_is_called_empty(key: str) -> None:
    event = {**_example("shipped-event"), key: ""}
    with pytest.raises(fulfillmap.EventError, match=f"has empty text as {key}; it must be text"):
        Engine().handle(event)


def test_an_event_s_type_and_id_cannot_forge_a_message_line() -> None:
    """A line break in an event's type or id is shown as JSON text: the message stays one
    line (``fulfillmap handle`` writes ``LINE N: ...`` per failing line)."""
    event = {**_example("shipped-event"), "id": "e\nLINE 42: forged", "type": "x\u2028y"}
    del event["data"]
    with pytest.raises(fulfillmap.EventError) as caught:
        Engine().handle(event)
    assert str(caught.value).startswith(
        'malformed event: the "x\\u2028y" event "e\\nLINE 42: forged"'
    )
    assert "\n" not in str(caught.value)
    event = {**_example("shipped-event"), "id": 1.5}
    with pytest.raises(fulfillmap.EventError, match="it must be text or a whole number"):
        Engine().handle(event)


def test_a_recursive_yaml_alias_is_a_spec_error(tmp_path: Path) -> None:
    (tmp_path / "any.json").write_text("{}")
    path = tmp_path / "m.yaml"
    path.write_text(
        "name: m\nsource: {name: s, schema: any.json}\ntarget: {name: t, schema: any.json}\n"
        "fields:\n  a: &x {fields: {b: *x}}\n"
    )
    with pytest.raises(fulfillmap.SpecError) as caught:
        fulfillmap.load(path)
    assert f"{path}:5:6: a YAML alias refers to a node that contains it" in [
        str(problem) for problem in caught.value.problems
    ]


def test_engine_directory_may_hold_the_mappings_test_files(tmp_path: Path) -> None:
    """``validate`` checks a folder of mappings, routes.yaml and *.fmtest.yaml; the engine
    built from that folder takes only the mappings."""
    shipped = Path(fulfillmap.__file__).parent / "mappings"
    for name in ("shipment-to-tracking.yaml", "shipment-to-tracking.fmtest.yaml"):
        (tmp_path / name).write_text((shipped / name).read_text(encoding="utf-8"))
    engine = Engine(tmp_path)
    assert engine.mapping("shipment-to-tracking").spec.file.startswith(str(tmp_path))


def test_a_line_that_is_not_an_object_is_named_so_without_an_empty_path() -> None:
    event = {**_example("shipped-event")}
    event["data"] = {"object": {**event["data"]["object"]}}
    event["data"]["object"]["items"] = ["x", *event["data"]["object"]["items"]]
    warnings = Engine().handle(event).warnings
    assert [(w.rule, w.data_path) for w in warnings[:2]] == [
        ("lines-have-upstream-ids", "data.object.items[0]"),
        ("lines-have-shipment-item-ids", "data.object.items[0]"),
    ]


@pytest.mark.parametrize("counts", [(3, 3), (1, 1)])
def test_a_cancel_listing_a_line_twice_sends_nothing_for_it(counts: tuple[int, int]) -> None:
    """Through the ledger, a cancelled event that lists one line twice would cancel it twice
    (6 units of a line of 3, or 2 where 1 was cancelled) and record one: the line is left out."""
    import copy

    event = _example("cancelled-event")
    items = event["data"]["object"]["items"]
    items[2].update(cancelled=counts[0], pending=3 - counts[0])
    items.append({**copy.deepcopy(items[2]), "id": 999, "cancelled": counts[1]})
    engine, sent = Engine(ledger="memory:"), []
    outcome = engine.process(event, lambda action: sent.append(action.body) or {})
    assert sent == []
    assert outcome.status == "failed"
    assert "line 183926760336 of order 278815640336 is listed more than once" in outcome.reason
    record = engine._ledger.order("278815640336") if engine._ledger else None
    assert record is None or record.lines["183926760336"].cancelled == 0


def test_a_capture_listing_a_shipment_item_twice_leaves_its_line_out() -> None:
    """A shipment item listed twice would be captured twice; the other lines are captured."""
    event = _example("shipped-event")
    items = event["data"]["object"]["items"]
    items.append(dict(items[0]))
    engine, sent = Engine(ledger="memory:"), []
    outcome = engine.process(event, lambda action: sent.append(action.body) or {})
    assert outcome.status == "done"
    assert [item["shipmentItemId"] for item in sent[0]["items"]] == ["8760948871"]
    assert any("shipment item 8760948870 (line 183926740336)" in note for note in outcome.notes)


def test_a_shipment_id_written_as_a_whole_float_is_its_capture_key() -> None:
    """G1, G20: the shipped route keys on ``to_id(data.object.id)``, as the capture's
    ``shipmentId`` reads it; a bare path refused 29016544906.0 as not an id."""
    text = (EXAMPLES / "shipped-event.json").read_text(encoding="utf-8")
    text = text.replace('"id": "29016544906"', '"id": 29016544906.0', 1)
    event = json.loads(text, parse_float=Decimal)
    action = Engine().handle(event)
    assert action.idempotency_key == "29016544906"
    assert action.body is not None
    assert action.body["shipmentId"] == "29016544906"


def test_apply_warns_for_every_document_not_only_the_first() -> None:
    """Python's default action shows one text from one place once per process; a warn rule's
    text is the same for every order, so a service saw the first order's warning only."""
    import subprocess
    import sys

    code = (
        "import json, fulfillmap\n"
        "m = fulfillmap.load('order-to-fulfillment-order')\n"
        f"order = json.loads(open({str(EXAMPLES / 'order.json')!r}).read())\n"
        "for _ in range(3):\n"
        "    m.apply(order, {})\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60
    )
    assert done.stderr.count("FulfillmapWarning") == 3


@pytest.mark.parametrize("name", ["order-accepted-event", "shipped-event", "cancelled-event"])
def test_counts_beyond_the_ledger_are_refused_before_sending(name: str, tmp_path: Path) -> None:
    """A quantity of 2^63 passed the mapping, was sent, then failed to be recorded (SQLite's
    OverflowError) after each send: every redelivery sent the request again."""
    event = _example(name)
    items = event["data"]["object"]["items"]
    key = "cancelled" if name == "cancelled-event" else "quantity"
    items[2 if key == "cancelled" else 0][key] = 2**63
    if key == "cancelled":
        items[2].update(quantity=2**63, pending=0)
    context = json.loads((EXAMPLES / "order.context.json").read_text(encoding="utf-8"))
    engine, sent = Engine(ledger=f"sqlite:///{tmp_path / 'ledger.db'}"), []
    for _ in range(2):
        outcome = engine.process(event, lambda action: sent.append(action.path) or {}, context)
        assert outcome.status == "failed"
        assert "more than the ledger records" in (outcome.reason or "")
    assert sent == []
