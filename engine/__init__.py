"""fulfillmap: declarative mappings for Digital River coordinated fulfillments.

    >>> import fulfillmap
    >>> mapping = fulfillmap.load("order-to-fulfillment-order")
    >>> body = mapping.apply(order, {"shippingQuote": quote})   # doctest: +SKIP

The pipeline is load -> validate -> compile -> apply (modules ``loader``, ``validator``,
``spec``/``compiler`` and ``mapping``); plugins extend it through ``fulfillmap.plugins``.
"""

from __future__ import annotations

from .errors import FulfillmapError, MappingError, Problem, SpecError
from .mapping import CompiledMapping, Result, load
from .registry import plugin_manager
from .resources import shipped_mapping_names as shipped_mappings
from .rules import Violation
from .trace import Attempt, FieldStep, RuleCheck, Trace

__all__ = [
    "Attempt",
    "CompiledMapping",
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
