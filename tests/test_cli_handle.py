"""``fulfillmap handle``: JSON, JSON arrays and JSON Lines in; one JSON Action per line out."""

from __future__ import annotations

import io
import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from fulfillmap.cli import main

REPO = Path(__file__).resolve().parent.parent
EXAMPLES = REPO / "examples"
EVENTS = [
    "order-accepted-event",
    "pending-event",
    "backordered-event",
    "shipped-event",
    "cancelled-event",
]


def _compact(name: str) -> str:
    return json.dumps(json.loads((EXAMPLES / f"{name}.json").read_text(encoding="utf-8")))


def _run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, list[Any], str]:
    code = main(["handle", *argv])
    out, err = capsys.readouterr()
    return code, [json.loads(line) for line in out.splitlines()], err


def test_one_event(capsys: pytest.CaptureFixture[str]) -> None:
    code, actions, err = _run(capsys, str(EXAMPLES / "shipped-event.json"))
    assert (code, err) == (0, "")
    [action] = actions
    assert (action["action"], action["path"], action["idempotencyKey"]) == (
        "request",
        "/fulfillments",
        "29016544906",
    )


def test_mixed_json_lines(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    lines = [_compact(name) for name in EVENTS]
    lines += [
        "",
        '{"id": "e-9", "type": "order.complete", "data": {"object": {}}}',
        '{"id": "bad",',
        '{"id": "e-11", "type": "fulfillment_order.shipped"}',
        json.dumps({**json.loads(_compact("cancelled-event")), "id": "e-12"}).replace(
            '"upstreamId": "183926760336"', '"upstreamId": ""'
        ),
        "[1, 2]",
        "   ",
        _compact("pending-event"),
    ]
    path = tmp_path / "events.jsonl"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    code, actions, err = _run(capsys, str(path))
    assert code == 1
    assert [a["action"] for a in actions] == [
        "request",
        "record",
        "notify",
        "request",
        "request",
        "ignore",
        "record",
    ]
    assert actions[5]["reason"] == "no route for event type 'order.complete'"
    errors = [line for line in err.splitlines() if ": warning: " not in line]
    assert [line.split(":")[0] for line in errors] == ["LINE 8", "LINE 9", "LINE 10", "LINE 11"]
    # the warnings found before a failure come first, on lines of their own
    assert [line for line in err.splitlines() if ": warning: " in line] == [
        "LINE 10: warning: mapping 'cancelled-event-to-fulfillment', rule "
        "'cancelled-lines-have-upstream-ids': the cancelled line has no upstreamId (text or a "
        "whole number), so it cannot be mapped back to an order line and is left out of the "
        "cancel (the other lines are not affected) (at input path data.object.items[2]; defined at "
        f"{REPO / 'mappings' / 'cancelled-event-to-fulfillment.yaml'}:40:5)"
    ]
    assert errors[0].startswith("LINE 8: the line is not valid JSON: Expecting property name")
    assert "at column 14" in errors[0]
    assert errors[1] == (
        "LINE 9: malformed event: the fulfillment_order.shipped event e-11 has no data; "
        "it must be an object (at data)"
    )
    assert errors[2].startswith(  # its one cancelled line has no upstreamId: nothing to cancel
        "LINE 10: the fulfillment_order.cancelled event e-12: mapping "
        "'cancelled-event-to-fulfillment', rule 'some-line-is-cancelled'"
    )
    assert errors[3] == "LINE 11: malformed event: an event is a JSON object, not an array"


def test_an_event_id_cannot_forge_an_error_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """An id holding a line break is shown as JSON text: one error line per failing line."""
    event = {"id": "e\nLINE 42: forged", "type": "fulfillment_order.shipped"}
    event["data"] = {"object": {"id": "s", "items": []}}
    path = tmp_path / "events.jsonl"
    path.write_text(json.dumps(event) + "\n" + json.dumps(event) + "\n", encoding="utf-8")
    code, actions, err = _run(capsys, str(path))
    assert (code, actions) == (1, [])
    lines = err.splitlines()
    assert [line[:7] for line in lines] == ["LINE 1:", "LINE 2:"]
    assert lines[0].startswith(
        'LINE 1: the fulfillment_order.shipped event "e\\nLINE 42: forged": '
    )


def test_json_array_of_events(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    events = [json.loads(_compact(name)) for name in EVENTS] + [{"id": "e-6"}]
    path = tmp_path / "events.json"
    path.write_text(json.dumps(events, indent=2), encoding="utf-8")
    code, actions, err = _run(capsys, str(path))
    assert code == 1
    assert len(actions) == 5
    assert err == "EVENT 6: malformed event: the event has no type; it must be text (at type)\n"


def test_pretty_printed_bad_document_is_one_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "event.json"
    path.write_text('\n{\n  "id": "e-1"\n  "type": "order.accepted"\n}\n', encoding="utf-8")
    code, actions, err = _run(capsys, str(path))
    assert (code, actions) == (1, [])
    assert err == (
        "fulfillmap: error: the input is not valid JSON: Expecting ',' delimiter "
        "at line 4 column 3\n"
    )


def test_single_document_failure(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    event = json.loads(_compact("backordered-event"))
    event["data"]["object"]["items"][0]["totalBackordered"] = 5
    path = tmp_path / "event.json"
    path.write_text(json.dumps(event, indent=2), encoding="utf-8")
    code, actions, err = _run(capsys, str(path))
    assert (code, actions) == (1, [])
    warning, error = err.splitlines()  # the warning that left the line out, then the error
    assert warning.startswith(
        "fulfillmap: warning: mapping 'backordered-event-to-notification', rule "
        "'total-backordered-within-ordered'"
    )
    assert error.startswith(
        "fulfillmap: error: the fulfillment_order.backordered event "
        "evt_e381a2ff-7d42-4b05-91d5-e711443c3521: mapping 'backordered-event-to-notification', "
        "rule 'some-line-is-backordered'"
    )


def test_one_compact_line_is_a_single_document(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    """A webhook body written compact (``jq -c``) is one document: its failure is the usual
    ``fulfillmap: error:`` paragraph, as for the same event pretty-printed."""
    path = tmp_path / "event.json"
    path.write_text('{"id": "e-1", "type": "order.accepted"}\n', encoding="utf-8")
    code, actions, err = _run(capsys, str(path))
    assert (code, actions) == (1, [])
    assert err == (
        "fulfillmap: error: malformed event: the order.accepted event e-1 has no data; it must "
        "be an object (at data)\n"
    )


def test_bad_first_line_of_json_lines(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "events.jsonl"
    path.write_text("{oops\n" + _compact("pending-event") + "\n", encoding="utf-8")
    code, actions, err = _run(capsys, str(path))
    assert code == 1
    assert [a["action"] for a in actions] == ["record"]
    assert err.startswith("LINE 1: the line is not valid JSON")


def test_line_that_is_not_utf8(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "events.jsonl"
    path.write_bytes(_compact("pending-event").encode() + b"\n\xff\xfe{}\n")
    code, actions, err = _run(capsys, str(path))
    assert (code, len(actions)) == (1, 1)
    assert err == "LINE 2: the line is not UTF-8 text\n"


def test_empty_input(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "empty.jsonl"
    path.write_text("\n  \n", encoding="utf-8")
    assert _run(capsys, str(path)) == (0, [], "")


def test_missing_input(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, actions, err = _run(capsys, str(tmp_path / "nope.jsonl"))
    assert (code, actions) == (1, [])
    assert err == f"fulfillmap: error: the input file {tmp_path / 'nope.jsonl'} does not exist\n"


def test_a_directory_as_input(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, actions, err = _run(capsys, str(tmp_path))
    assert (code, actions) == (1, [])
    assert err.startswith(f"fulfillmap: error: the input {tmp_path} is not a regular file (a ")


def test_context_and_own_mappings(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "routes.yaml").write_text(
        "routes:\n  fulfillment_order.pending:\n    action: ignore\n", encoding="utf-8"
    )
    code, actions, _ = _run(
        capsys,
        str(EXAMPLES / "order-accepted-event.json"),
        "--mappings",
        str(tmp_path),
        "--context",
        str(EXAMPLES / "order.context.json"),
    )
    assert code == 0
    assert actions[0]["body"]["shippingChoice"]["signatureRequiredType"] == "adult"
    code, actions, _ = _run(
        capsys, str(EXAMPLES / "pending-event.json"), "--mappings", str(tmp_path)
    )
    assert actions[0]["action"] == "ignore"


def test_invalid_routes_fail_before_any_event(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "routes.yaml").write_text("routes:\n  order.accepted: {}\n", encoding="utf-8")
    code, actions, err = _run(
        capsys, str(EXAMPLES / "pending-event.json"), "--mappings", str(tmp_path)
    )
    assert (code, actions) == (1, [])
    assert err == (
        f"fulfillmap: error: {tmp_path / 'routes.yaml'}:2:19: give exactly one of request or "
        "action (at routes.order.accepted)\n"
    )


class _Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_progress_on_a_terminal(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "events.jsonl"
    path.write_text("\n".join(_compact(name) for name in EVENTS) + "\n", encoding="utf-8")
    terminal = _Terminal()
    monkeypatch.setattr(sys, "stderr", terminal)
    assert main(["handle", str(path)]) == 0
    shown = terminal.getvalue()
    assert shown.startswith("\rfulfillmap handle: ")
    assert shown.endswith("\r\x1b[Kfulfillmap handle: 5 lines, 0 failed\n")
    assert len(capsys.readouterr().out.splitlines()) == 5


def test_standard_input_streams_without_progress() -> None:
    lines = "\n".join(_compact(name) for name in EVENTS) + "\n"
    done = subprocess.run(
        [sys.executable, "-m", "fulfillmap", "handle"],
        input=lines,
        capture_output=True,
        text=True,
        check=False,
    )
    assert (done.returncode, done.stderr) == (0, "")
    assert [json.loads(line)["event"]["type"] for line in done.stdout.splitlines()] == [
        json.loads(_compact(name))["type"] for name in EVENTS
    ]


def test_actions_are_compact_json_lines_as_json_writes_them(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "events.jsonl"
    path.write_text("\n".join(_compact(name) for name in EVENTS) + "\n", encoding="utf-8")
    assert main(["handle", str(path)]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines == [
        json.dumps(json.loads(line), ensure_ascii=False, separators=(",", ":")) for line in lines
    ]
    assert len(lines) == len(EVENTS)


def test_json_lines_keep_the_json_rules(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    order = json.loads(_compact("order-accepted-event"))
    repeated = json.dumps(order, separators=(",", ":")).replace('{"id":', '{"id":"x","id":', 1)
    column = repeated.index('"id"', 2) + 1  # the second
    # 300 deep: orjson reads it, but its writer's TypeError used to end the whole batch
    deep = json.dumps({"id": "e-2", "type": "order.accepted", "data": {"object": {}}})
    deep = deep.replace("{}", "[" * 300 + "]" * 300)
    surrogate = json.dumps(order, separators=(",", ":")).replace('"id":', '"id":"\\ud800","x":', 1)
    path = tmp_path / "events.jsonl"
    lines = [repeated, _compact("pending-event"), deep, surrogate]
    path.write_text("\n".join(lines) + "\n", "utf-8")
    code, actions, err = _run(capsys, str(path))
    assert code == 1
    assert [a["action"] for a in actions] == ["record"]
    assert err.splitlines() == [
        'LINE 1: the line is not valid JSON: duplicate key "id" in one object '
        f"(the last would win silently) at column {column}",
        "LINE 3: the line nests arrays and objects more than 128 deep (the limit; "
        "FULFILLMAP_MAX_JSON_DEPTH changes it)",
        "LINE 4: the line holds a lone surrogate escape (\\ud800), which is not a character; "
        "a surrogate escape must be a high one followed by a low one",
    ]


def test_json_lines_of_nulls_are_bad_lines_not_one_bad_document(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "nulls.jsonl"
    path.write_text("null\nnull\n")
    code, actions, err = _run(capsys, str(path))
    assert (code, actions) == (1, [])
    assert err.splitlines() == [
        "LINE 1: malformed event: an event is a JSON object, not null",
        "LINE 2: malformed event: an event is a JSON object, not null",
    ]
