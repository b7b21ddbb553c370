"""``fulfillmap handle --ledger`` and ``fulfillmap ledger show|prune|migrate``."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest
from fulfillmap.cli import main

REPO = Path(__file__).resolve().parent.parent
EXAMPLES = REPO / "examples"
ORDER = "278815640336"
CABLES = "183926760336"


def _event(name: str) -> dict[str, Any]:
    return json.loads((EXAMPLES / f"{name}.json").read_text(encoding="utf-8"))


def _cancel(event_id: str, cancelled: int) -> dict[str, Any]:
    event = copy.deepcopy(_event("cancelled-event"))
    event["id"] = event_id
    for item in event["data"]["object"]["items"]:
        if item["upstreamId"] == CABLES:
            item["cancelled"], item["pending"] = cancelled, item["quantity"] - cancelled
    return event


@pytest.fixture
def stream(tmp_path: Path) -> Path:
    """A partial shipment and two partial cancels, with duplicates, as JSON Lines."""
    events = [
        _event("order-accepted-event"),
        _event("pending-event"),
        _event("shipped-event"),
        _event("shipped-event"),
        _cancel("cancel-1", 1),
        _cancel("cancel-1", 1),
        _cancel("cancel-2", 3),
    ]
    path = tmp_path / "events.jsonl"
    path.write_text("".join(json.dumps(e) + "\n" for e in events), encoding="utf-8")
    return path


def _run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_handle_with_a_ledger_prints_each_effect_once(
    stream: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    url = f"sqlite:///{tmp_path}/ledger.db"
    context = str(EXAMPLES / "order.context.json")
    code, out, err = _run(capsys, "handle", "--ledger", url, "--context", context, str(stream))
    assert (code, err) == (0, "")
    actions = [json.loads(line) for line in out.splitlines()]
    assert [(a["action"], a["path"]) for a in actions] == [
        ("request", "/fulfillment-orders"),
        ("record", None),
        ("request", "/fulfillments"),
        ("request", "/fulfillments"),
        ("request", "/fulfillments"),
    ]
    assert [a["body"]["items"] for a in actions[3:]] == [
        [{"itemId": CABLES, "cancelQuantity": 1}],
        [{"itemId": CABLES, "cancelQuantity": 2}],
    ]
    # the same stream again: everything is already done
    code, out, err = _run(capsys, "handle", "--ledger", url, "--context", context, str(stream))
    assert (code, out, err) == (0, "", "")


def test_ledger_show(
    stream: Path,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("FULFILLMAP_LEDGER", f"sqlite:///{tmp_path}/ledger.db")
    context = str(EXAMPLES / "order.context.json")
    assert _run(capsys, "handle", "--context", context, str(stream))[0] == 0
    code, out, err = _run(capsys, "ledger", "show", ORDER)
    assert (code, err) == (0, "")
    assert f"order {ORDER}   fulfillment order 5774321009" in out
    assert f"  {CABLES:<20}    3         0          3         0  650398674430 / " in out
    assert f"line {CABLES}: cancelQuantity 1 (cancelled counter now 1)" in out
    assert f"line {CABLES}: cancelQuantity 2 (cancelled counter now 3)" in out
    assert "line 183926740336: captured 2" in out
    code, out, err = _run(capsys, "ledger", "show", ORDER, "--format", "json")
    shown = json.loads(out)
    assert shown["lines"][CABLES]["cancelled"] == 3
    assert [e["kind"] for e in shown["effects"]] == [
        "create",
        "record",
        "capture",
        "cancel",
        "cancel",
    ]


def test_ledger_show_unknown_order(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    url = f"sqlite:///{tmp_path}/l.db"
    code, out, err = _run(capsys, "ledger", "show", "--ledger", url, "42")
    assert (code, out) == (1, "")
    assert err == (  # a mistyped path does not create an empty ledger
        f"fulfillmap: error: the ledger {url} does not exist (no file {tmp_path}/l.db; a "
        "relative path is from the current directory): check the URL\n"
    )
    assert not (tmp_path / "l.db").exists()
    assert _run(capsys, "ledger", "migrate", url)[0] == 0
    code, out, err = _run(capsys, "ledger", "show", "--ledger", url, "42")
    assert (code, out) == (1, "")
    assert err == f"fulfillmap: error: the ledger {url} has nothing for order 42\n"


def test_ledger_without_a_url(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("FULFILLMAP_LEDGER", raising=False)
    code, _out, err = _run(capsys, "ledger", "show", "42")
    assert code == 1
    assert err == "fulfillmap: error: no ledger: give --ledger URL or set $FULFILLMAP_LEDGER\n"


def test_ledger_migrate_and_prune(
    tmp_path: Path, stream: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    url = f"sqlite:///{tmp_path}/ledger.db"
    assert _run(capsys, "ledger", "migrate", url) == (
        0,
        f"migrated the ledger {url} from schema version 0 to 2\n",
        "",
    )
    assert (
        _run(capsys, "ledger", "migrate", url)[1]
        == f"the ledger {url} is up to date (schema version 2)\n"
    )
    _run(
        capsys,
        "handle",
        "--ledger",
        url,
        "--context",
        str(EXAMPLES / "order.context.json"),
        str(stream),
    )
    assert _run(capsys, "ledger", "prune", "--ledger", url, "--older-than", "90d")[1] == (
        "pruned 0 orders untouched for 90d\n"
    )
    assert _run(capsys, "ledger", "prune", "--ledger", url, "--older-than", "0s")[1] == (
        "pruned 1 order untouched for 0s\n"
    )


def test_prune_refuses_a_bad_age(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exited:
        main(["ledger", "prune", "--ledger", "memory:", "--older-than", "ninety days"])
    assert exited.value.code == 2
    assert "'ninety days' is not an age like 90d, 12w or 36h" in capsys.readouterr().err


def test_handle_with_a_ledger_reports_failures(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    event = _event("shipped-event")
    for item in event["data"]["object"]["items"]:  # no line can be captured (one: a warning)
        del item["fulfillmentOrderItemUpstreamId"]
    path = tmp_path / "bad.jsonl"
    path.write_text(json.dumps(event) + "\n" + json.dumps(_event("shipped-event")) + "\n")
    code, out, err = _run(capsys, "handle", "--ledger", "memory:", str(path))
    assert code == 1
    assert len(out.splitlines()) == 1
    assert err.startswith(
        "LINE 1: the fulfillment_order.shipped event evt_d290f1ee-6c54-4b01-90e6-d701748f0851: "
    )
