"""An example fulfillmap plugin: gift messages and gift wrap for fulfillment orders."""

from .plugin import gift_message, gift_wrap

__all__ = ["gift_message", "gift_wrap"]
