"""``Action`` to a type checker: the kind is a Literal, and once narrowed on it a request's
``method``, ``path`` and ``body`` are not Optional (mypy --strict on user code)."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

USER_CODE = """
import fulfillmap

def perform(action: fulfillmap.Action) -> str:
    if action.action == "request":
        return action.method + " " + action.path + str(action.body["orderId"])
    if action.action == "ignore":
        return action.reason.upper()
    return str(action.body)

def unnarrowed(action: fulfillmap.Action) -> str:
    return action.path.upper()

def wrong_kind(action: fulfillmap.Action) -> bool:
    return action.action == "requests"
"""


def test_narrowing_on_the_kind(tmp_path: Path) -> None:
    source = tmp_path / "user.py"
    source.write_text(textwrap.dedent(USER_CODE), encoding="utf-8")
    # in a child: mypy raises the recursion limit of the process it runs in
    command = [sys.executable, "-m", "mypy", "--strict", "--no-incremental", str(source)]
    done = subprocess.run(command, capture_output=True, text=True, cwd=tmp_path, check=False)
    out, status = done.stdout, done.returncode
    errors = [line.split(": error: ")[1] for line in out.splitlines() if ": error: " in line]
    assert status == 1
    assert errors == [
        'Item "None" of "str | None" has no attribute "upper"  [union-attr]',
        "Non-overlapping equality check (left operand type: \"Literal['request', 'record', "
        "'notify', 'ignore']\", right operand type: \"Literal['requests']\")  [comparison-overlap]",
    ]
