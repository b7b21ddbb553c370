"""What to do with one event: an ``Action``, one class per kind.

``Action`` is a union discriminated by ``action``: narrow on it (``if action.action ==
"request":``) and the type checker knows that ``method``, ``path`` and ``body`` are there.
Every kind has ``to_json()``, the stable JSON form the README documents (every key always
present, null where it does not apply). Amounts read as ``Decimal`` (G3) stay ``Decimal``: write
the form with fulfillmap's JSON writer (as ``fulfillmap handle`` does) or ``json.dumps(...,
default=str)``-like code of your own that keeps their digits.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal, TypeAlias

from fulfillmap.evaluate._rules import Violation

__all__ = [
    "ACTIONS",
    "Action",
    "ActionKind",
    "IgnoreAction",
    "NotifyAction",
    "RecordAction",
    "RequestAction",
    "as_id",
]

ActionKind: TypeAlias = Literal["request", "record", "notify", "ignore"]
#: every value of ``Action.action``
ACTIONS: tuple[ActionKind, ...] = ("request", "record", "notify", "ignore")


@dataclass(frozen=True, slots=True, kw_only=True)
class _Base:
    #: the event's id and type
    event_id: str
    event_type: str
    #: identifies the effect, to drop duplicate deliveries (G11)
    idempotency_key: str
    #: the violations of the mapping's ``warn`` rules
    warnings: tuple[Violation, ...] = ()

    def _json(
        self,
        action: ActionKind,
        *,
        method: str | None = None,
        path: str | None = None,
        body: dict[str, Any] | None = None,
        mapping: str | None = None,
        reason: str | None = None,
    ) -> dict[str, Any]:
        return {
            "action": action,
            "method": method,
            "path": path,
            "body": body,
            "mapping": mapping,
            "event": {"id": self.event_id, "type": self.event_type},
            "idempotencyKey": self.idempotency_key,
            "warnings": [_violation_json(warning) for warning in self.warnings],
            "reason": reason,
        }


@dataclass(frozen=True, slots=True, kw_only=True)
class RequestAction(_Base):
    """Send ``body`` as ``method path`` to Digital River."""

    mapping: str
    method: str
    path: str
    body: dict[str, Any]
    action: Literal["request"] = "request"
    reason: None = None

    def to_json(self) -> dict[str, Any]:
        """The action as JSON; every key is always there (null where it does not apply)."""
        return self._json(
            self.action, method=self.method, path=self.path, body=self.body, mapping=self.mapping
        )


@dataclass(frozen=True, slots=True, kw_only=True)
class _Delivered(_Base):
    """An action whose ``body`` the shop delivers itself (it keeps it, or tells the customer)."""

    action: Literal["record", "notify"]
    mapping: str
    body: dict[str, Any]
    method: None = None
    path: None = None
    reason: None = None

    def to_json(self) -> dict[str, Any]:
        """The action as JSON; every key is always there (null where it does not apply)."""
        return self._json(self.action, body=self.body, mapping=self.mapping)


@dataclass(frozen=True, slots=True, kw_only=True)
class RecordAction(_Delivered):
    """Persist ``body`` (e.g. the fulfillment order's ids)."""

    action: Literal["record"] = "record"


@dataclass(frozen=True, slots=True, kw_only=True)
class NotifyAction(_Delivered):
    """Send ``body`` to the customer (e.g. a backorder notice)."""

    action: Literal["notify"] = "notify"


@dataclass(frozen=True, slots=True, kw_only=True)
class IgnoreAction(_Base):
    """Nothing to do; ``reason`` says why."""

    reason: str
    action: Literal["ignore"] = "ignore"
    mapping: None = None
    method: None = None
    path: None = None
    body: None = None

    def to_json(self) -> dict[str, Any]:
        """The action as JSON; every key is always there (null where it does not apply)."""
        return self._json(self.action, reason=self.reason)


#: what to do with one event; ``action`` tells the kinds apart
Action: TypeAlias = RequestAction | RecordAction | NotifyAction | IgnoreAction


def _violation_json(violation: Violation) -> dict[str, Any]:
    return {
        "rule": violation.rule,
        "severity": violation.severity,
        "message": violation.message,
        "dataPath": violation.data_path or None,
        "location": violation.location,
    }


def as_id(value: Any) -> str | None:
    """An id as text (ids may be numbers, G1); None when ``value`` is not an id."""
    if isinstance(value, str):
        return value or None
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    return None
