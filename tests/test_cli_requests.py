"""``fulfillmap cancel`` and ``fulfillmap return``: the shop's requests from the command line."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from fulfillmap.cli import main

REPO = Path(__file__).resolve().parent.parent
EXAMPLES = REPO / "examples"
ORDER = "278815640336"
PHONE = "183926750336"
WIDGETS = "183926740336"


def _run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


@pytest.fixture
def url(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> str:
    """A ledger holding the example order, its fulfillment order (pending event) and a shipment."""
    url = f"sqlite:///{tmp_path}/ledger.db"
    context = str(EXAMPLES / "order.context.json")
    for name in ("order-accepted-event", "pending-event", "shipped-event"):
        path = str(EXAMPLES / f"{name}.json")
        assert _run(capsys, "handle", "--ledger", url, "--context", context, path)[0] == 0
    return url


def test_cancel_prints_the_action_once(url: str, capsys: pytest.CaptureFixture[str]) -> None:
    argv = ("cancel", "--ledger", url, ORDER, "183926760336=2", "--reason", "requested_by_customer")
    code, out, err = _run(capsys, *argv, "--request-id", "r-1")
    assert (code, err) == (0, "")
    action = json.loads(out)
    assert (action["action"], action["method"], action["path"]) == (
        "request",
        "POST",
        "/fulfillment-cancellations",
    )
    assert action["body"] == {
        "upstreamId": ORDER,
        "fulfillmentOrderId": "5774321009",
        "reason": "requested_by_customer",
        "items": [
            {
                "fulfillmentOrderItemId": "650398674430",
                "fulfillmentOrderItemUpstreamId": "183926760336",
                "quantity": 2,
            }
        ],
    }
    assert action["idempotencyKey"] == "r-1"
    code, out, err = _run(capsys, *argv, "--request-id", "r-1")
    assert (code, out) == (0, "")
    assert err.startswith("fulfillmap: shop.cancellation_requested r-1 was done at ")
    assert err.endswith(" by event r-1; nothing printed\n")


def test_return_prints_the_action(url: str, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = _run(capsys, "return", "--ledger", url, ORDER, f"{WIDGETS}=1")
    assert (code, err) == (0, "")
    action = json.loads(out)
    assert action["path"] == "/fulfillment-returns"
    assert action["body"]["items"] == [{"fulfillmentOrderItemId": "650398674428", "quantity": 1}]


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (
            ("cancel", ORDER, f"{PHONE}=1"),
            f"cannot cancel 1 of line {PHONE} of order {ORDER}: only 0 can still be cancelled "
            "(ordered 1: 1 shipped, 0 cancelled, 0 being cancelled); only pending and "
            "backordered units may be cancelled",
        ),
        (
            ("return", ORDER, f"{WIDGETS}=3"),
            f"cannot return 3 of line {WIDGETS} of order {ORDER}: only 2 can still be returned "
            "(2 shipped: 0 returned, 0 being returned); only shipped units not yet returned may "
            "be returned",
        ),
        (
            ("cancel", "42", f"{PHONE}=1"),
            "cannot cancel: the ledger knows nothing of order 42 (its fulfillment order was not "
            "created through this ledger, or the order was pruned)",
        ),
        (
            ("return", ORDER, "nope=1"),
            f"cannot return: order {ORDER} has no line nope (its lines: {WIDGETS}, {PHONE}, "
            "183926760336)",
        ),
        (
            ("cancel", ORDER, "183926760336=0"),
            f"cannot cancel line 183926760336 of order {ORDER}: the quantity must be above 0, not 0",
        ),
        (
            ("cancel", ORDER, "183926760336=1", "183926760336=1"),
            f"line 183926760336 of order {ORDER} is given twice",
        ),
    ],
)
def test_a_refusal_is_one_paragraph_and_prints_nothing(
    url: str, capsys: pytest.CaptureFixture[str], argv: tuple[str, ...], message: str
) -> None:
    code, out, err = _run(capsys, argv[0], "--ledger", url, *argv[1:])
    assert (code, out, err) == (1, "", f"fulfillmap: error: {message}\n")


def test_a_bad_line_argument_is_bad_usage(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exited:
        main(["cancel", "--ledger", "memory:", ORDER, "183926760336"])
    assert exited.value.code == 2
    assert "'183926760336' is not LINE=QTY" in capsys.readouterr().err


def test_ledger_show_lists_the_requests(url: str, capsys: pytest.CaptureFixture[str]) -> None:
    _run(capsys, "cancel", "--ledger", url, ORDER, "183926760336=1", "--request-id", "c-1")
    _run(capsys, "return", "--ledger", url, ORDER, f"{WIDGETS}=1", "--request-id", "r-1")
    code, out, err = _run(capsys, "ledger", "show", "--ledger", url, ORDER)
    assert (code, err) == (0, "")
    assert "cancellation shop.cancellation_requested c-1  by event c-1" in out
    assert "line 183926760336: asked to cancel 1" in out
    assert "return       shop.return_requested r-1  by event r-1" in out
    assert f"line {WIDGETS}: asked to return 1" in out
    assert f"  {WIDGETS:<20}    2         2          0         0  650398674428 / " in out
    assert "(1 being returned)" in out
    assert "(1 being cancelled)" in out
