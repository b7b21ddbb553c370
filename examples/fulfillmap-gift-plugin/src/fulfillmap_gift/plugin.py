"""The plugin module named by the ``fulfillmap`` entry point in ``pyproject.toml``.

It provides one computed field and one JMESPath function:

- ``gift-note`` (use as ``{plugin: gift-note, args: {maxLength: 100}}``): the gift
  message the storefront kept for the order, passed as ``context["gift"]["message"]``
  (Digital River orders do not carry one); blanks collapsed, cut to ``maxLength``.
- ``gift_wrap(items)``: ``true`` when any line item's metadata asks for gift wrap
  (``metadata.giftWrap`` is ``true`` or ``"true"``), else null, so the field is omitted.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from fulfillmap.plugins import FieldFunction, FieldInput, JMESPathFunction, hookimpl

__all__ = ["fulfillmap_fields", "fulfillmap_functions", "gift_message", "gift_wrap"]

DEFAULT_MAX_LENGTH = 200


def gift_message(data: FieldInput) -> str | None:
    """The gift message from the context, or ``None`` (absent) when there is none."""
    gift = data.context.get("gift")
    if gift is None:
        return None
    if not isinstance(gift, Mapping):
        raise ValueError(f"context.gift must be an object, not {type(gift).__name__}")
    message = gift.get("message")
    if message is None:
        return None
    if not isinstance(message, str):
        raise ValueError(f"context.gift.message must be text, not {type(message).__name__}")
    limit = data.args.get("maxLength", DEFAULT_MAX_LENGTH)
    if not isinstance(limit, int) or isinstance(limit, bool) or limit < 1:
        raise ValueError(f"args.maxLength must be a whole number above 0, not {limit!r}")
    text = " ".join(message.split())
    return text[:limit] or None


def gift_wrap(items: Sequence[Any] | None) -> bool | None:
    """``True`` when a line item's ``metadata.giftWrap`` is true; otherwise null."""
    for item in items or ():
        metadata = item.get("metadata") if isinstance(item, Mapping) else None
        flag = metadata.get("giftWrap") if isinstance(metadata, Mapping) else None
        if flag is True or flag == "true":
            return True
    return None


@hookimpl
def fulfillmap_fields() -> Mapping[str, FieldFunction]:
    return {"gift-note": gift_message}


@hookimpl
def fulfillmap_functions() -> Sequence[JMESPathFunction]:
    return (
        JMESPathFunction(
            "gift_wrap",
            gift_wrap,
            (("array", "null"),),
            "true when a line item's metadata.giftWrap is true; else null.",
        ),
    )
