"""Digital River's answers, classified for ``send`` (reference G12).

``send(action)`` returns the response body when Digital River answered 2xx, and otherwise
raises ``DigitalRiverError(status, body)``; ``Engine.process`` classifies it with
``classify_response``:

=========================================================  ===============  ================
answer                                                     verdict          outcome
=========================================================  ===============  ================
2xx                                                        ``done``         done
409 ``order_fulfilled``, ``order_complete``,               ``already-done`` duplicate
``order_cancelled``
409 ``item_fulfilled``, ``item_cancelled``                 ``already-done`` that line only
5xx, 429, 408, no answer (a network error)                 ``retry``        failed, retry
``quantity_too_large``, any other 4xx                      ``permanent``    failed, no retry
=========================================================  ===============  ================
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, Literal, TypeAlias

from fulfillmap.errors import FulfillmapError

__all__ = ["DigitalRiverError", "Verdict", "VerdictKind", "classify_response"]

VerdictKind: TypeAlias = Literal["done", "already-done", "retry", "permanent"]

#: 409 codes meaning the whole order (or fulfillment order) is already in that state
ORDER_DONE = frozenset({"order_fulfilled", "order_complete", "order_cancelled"})
#: 409 codes meaning one line is already in that state (the line is named in the message)
ITEM_DONE = frozenset({"item_fulfilled", "item_cancelled"})
_QUOTED = re.compile(r"'([^']+)'")


class DigitalRiverError(FulfillmapError):
    """Digital River answered ``status`` (not 2xx) with ``body`` (its error JSON, if any).

    ``send`` raises it; ``Engine.process`` turns it into an ``Outcome``.
    """

    def __init__(self, status: int, body: Any = None) -> None:
        self.status = status
        self.body = body
        verdict = classify_response(status, body)
        code = f" {verdict.code}" if verdict.code else ""
        super().__init__(f"Digital River answered {status}{code}: {verdict.message}")


@dataclass(frozen=True, slots=True)
class Verdict:
    """What a Digital River answer means for the effect that was sent."""

    kind: VerdictKind
    #: the first error's code (``item_fulfilled``), if any
    code: str | None = None
    #: for a line-level ``already-done``: the line id the message names (None: the whole)
    line: str | None = None
    #: the first error's message, or a description of the status
    message: str = ""

    @property
    def retry(self) -> bool:
        """Whether sending the same effect again later may succeed."""
        return self.kind == "retry"


def classify_response(status: int, body: Any = None) -> Verdict:
    """Classify Digital River's answer ``status`` / ``body`` (its ``{type, errors[]}`` JSON)."""
    code, message = _first_error(body)
    if 200 <= status < 300:
        return Verdict("done", message="done")
    if status == 409 and code in ORDER_DONE:
        return Verdict("already-done", code, message=message or "already done")
    if status == 409 and code in ITEM_DONE:
        found = _QUOTED.search(message)
        return Verdict("already-done", code, found.group(1) if found else None, message)
    if status >= 500 or status in (408, 429):
        return Verdict("retry", code, message=message or f"HTTP {status}, try again later")
    return Verdict("permanent", code, message=message or f"HTTP {status}")


def _first_error(body: Any) -> tuple[str | None, str]:
    """Digital River reports usually one error, the first problem (G12)."""
    errors = body.get("errors") if isinstance(body, dict) else None
    if not isinstance(errors, list) or not errors or not isinstance(errors[0], dict):
        return None, ""
    code = errors[0].get("code")
    message = errors[0].get("message")
    return (code if isinstance(code, str) else None), (message if isinstance(message, str) else "")
