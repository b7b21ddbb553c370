"""fulfillmap: declarative mappings for Digital River coordinated fulfillments.

    >>> import fulfillmap
    >>> mapping = fulfillmap.load("order-to-fulfillment-order")
    >>> body = mapping.apply(order, {"shippingQuote": quote})   # doctest: +SKIP
    >>> action = fulfillmap.Engine().handle(event)              # doctest: +SKIP

The pipeline is load -> validate -> compile -> apply (modules ``loader``, ``validator``,
``spec``/``compiler`` and ``mapping``); plugins extend it through ``fulfillmap.plugins``.

``import fulfillmap`` is cheap: each public name is imported from its module on first use
(PEP 562), so a service that only maps does not pay for the event handler, and the command
line does not pay for what its command does not use.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .errors import EventError, FulfillmapError, MappingError, Problem, SpecError
    from .handler import Action, Engine
    from .mapping import CompiledMapping, Result, load
    from .registry import plugin_manager
    from .resources import shipped_mapping_names as shipped_mappings
    from .rules import Violation
    from .trace import Attempt, FieldStep, RuleCheck, Trace

__all__ = [
    "Action",
    "Attempt",
    "CompiledMapping",
    "Engine",
    "EventError",
    "FieldStep",
    "FulfillmapError",
    "MappingError",
    "Problem",
    "Result",
    "RuleCheck",
    "SpecError",
    "Trace",
    "Violation",
    "load",
    "plugin_manager",
    "shipped_mappings",
]

#: public name -> (module, name in that module)
_LAZY = {
    "Action": ("handler", "Action"),
    "Attempt": ("trace", "Attempt"),
    "CompiledMapping": ("mapping", "CompiledMapping"),
    "Engine": ("handler", "Engine"),
    "EventError": ("errors", "EventError"),
    "FieldStep": ("trace", "FieldStep"),
    "FulfillmapError": ("errors", "FulfillmapError"),
    "MappingError": ("errors", "MappingError"),
    "Problem": ("errors", "Problem"),
    "Result": ("mapping", "Result"),
    "RuleCheck": ("trace", "RuleCheck"),
    "SpecError": ("errors", "SpecError"),
    "Trace": ("trace", "Trace"),
    "Violation": ("rules", "Violation"),
    "load": ("mapping", "load"),
    "plugin_manager": ("registry", "plugin_manager"),
    "shipped_mappings": ("resources", "shipped_mapping_names"),
}


def __getattr__(name: str) -> Any:
    try:
        module, attribute = _LAZY[name]
    except KeyError:
        raise AttributeError(f"module 'fulfillmap' has no attribute '{name}'") from None
    value = getattr(importlib.import_module(f".{module}", __name__), attribute)
    globals()[name] = value  # the next lookup is a plain module attribute
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *__all__})
