"""fulfillmap: declarative mappings for Digital River coordinated fulfillments.

    >>> import fulfillmap
    >>> mapping = fulfillmap.load("order-to-fulfillment-order")
    >>> body = mapping.apply(order, {"shippingQuote": quote})   # doctest: +SKIP
    >>> action = fulfillmap.Engine().handle(event)              # doctest: +SKIP

The pipeline is load -> validate -> compile -> apply (modules ``loader``, ``validator``,
``spec``/``compiler`` and ``mapping``); plugins extend it through ``fulfillmap.plugins``.
"""

from __future__ import annotations

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
