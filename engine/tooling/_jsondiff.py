"""Where two JSON values differ, path by path (for mapping test reports).

Equality is JSON's, stricter than Python's: ``1`` is not ``1.0`` (an integer field sent as
``1.0`` is a real bug, G20) and ``true`` is not ``1``.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from fulfillmap.language._expressions import MISSING
from fulfillmap.paths import truncate

__all__ = ["Difference", "differences", "json_kind", "show"]

_SHOWN = 80


@dataclass(frozen=True, slots=True)
class Difference:
    """One place where the actual value is not the expected one."""

    path: str  #: ``items[0].quantity``; empty for the whole document
    expected: Any  #: ``MISSING`` when the key was not expected
    actual: Any  #: ``MISSING`` when the key is absent

    def __str__(self) -> str:
        where = self.path or "the output"
        if self.actual is MISSING:
            return f"{where}: expected {show(self.expected)}, got nothing (absent)"
        if self.expected is MISSING:
            return f"{where}: not expected, got {show(self.actual)}"
        expected, actual = show(self.expected), show(self.actual)
        if expected == actual or json_kind(self.expected) != json_kind(self.actual):
            expected += f" ({json_kind(self.expected)})"
            actual += f" ({json_kind(self.actual)})"
        return f"{where}: expected {expected}, got {actual}"


def differences(expected: Any, actual: Any, *, subset: bool = False) -> list[Difference]:
    """Every difference, in document order. With ``subset``, keys of ``actual`` that
    ``expected`` does not name are ignored (at any depth); arrays still match element by
    element and must be as long."""
    return list(_walk(expected, actual, "", subset))


def _walk(expected: Any, actual: Any, path: str, subset: bool) -> Iterator[Difference]:
    if isinstance(expected, dict) and isinstance(actual, dict):
        for key, value in expected.items():
            child = f"{path}.{key}" if path else key
            if key in actual:
                yield from _walk(value, actual[key], child, subset)
            else:
                yield Difference(child, value, MISSING)
        if not subset:
            for key, value in actual.items():
                if key not in expected:
                    yield Difference(f"{path}.{key}" if path else key, MISSING, value)
    elif isinstance(expected, list) and isinstance(actual, list):
        for index in range(max(len(expected), len(actual))):
            child = f"{path}[{index}]"
            if index >= len(actual):
                yield Difference(child, expected[index], MISSING)
            elif index >= len(expected):
                yield Difference(child, MISSING, actual[index])
            else:
                yield from _walk(expected[index], actual[index], child, subset)
    elif json_kind(expected) != json_kind(actual) or expected != actual:
        yield Difference(path, expected, actual)


def json_kind(value: Any) -> str:
    """The JSON type of a value, telling integers from decimals."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):
        return "integer"
    if isinstance(value, float | Decimal):  # read from a file, a fraction is a Decimal (G3)
        return "decimal"
    if isinstance(value, str):
        return "text"
    return "array" if isinstance(value, list) else "object"


def show(value: Any) -> str:
    """A value as compact JSON, cut short when long."""
    return truncate(value, _SHOWN)
