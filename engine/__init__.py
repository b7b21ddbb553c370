"""fulfillmap: declarative mappings for Digital River coordinated fulfillments.

    >>> import fulfillmap
    >>> mapping = fulfillmap.load("order-to-fulfillment-order")
    >>> body = mapping.apply(order, {"shippingQuote": quote})   # doctest: +SKIP
    >>> action = fulfillmap.Engine().handle(event)              # doctest: +SKIP

The package's folders show the pipeline: ``language`` (YAML, the language schema, expressions,
the spec, the checks, routes) -> ``evaluate`` (the generated code, ``CompiledMapping``, traces)
-> ``events`` (routing webhook events) -> ``tooling`` (explain, lint, tests, coverage) -> ``cli``,
with ``errors`` at the bottom; plugins extend it through ``fulfillmap.plugins``.

``import fulfillmap`` is cheap: each public name is imported from its module on first use
(PEP 562), so a service that only maps does not pay for the event handler, and the command
line does not pay for what its command does not use. Type checkers see the real imports
instead (the module ``__getattr__`` exists only at run time), so a misspelt name or attribute
is an error in code that uses fulfillmap, never a silent ``Any``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from fulfillmap._types import JSON

if TYPE_CHECKING:
    from fulfillmap.errors import (
        EventError,
        FulfillmapError,
        FulfillmapWarning,
        MappingError,
        Problem,
        SpecError,
    )
    from fulfillmap.evaluate._mapping import CompiledMapping, Result, load
    from fulfillmap.evaluate._rules import Violation
    from fulfillmap.evaluate._trace import Attempt, FieldStep, RuleCheck, Trace
    from fulfillmap.events._action import (
        Action,
        IgnoreAction,
        NotifyAction,
        RecordAction,
        RequestAction,
    )
    from fulfillmap.events._handler import Engine
    from fulfillmap.events._ledger import Ledger, OrderRecord
    from fulfillmap.events._ledger_backend import LedgerError
    from fulfillmap.events._process import Outcome
    from fulfillmap.events._responses import DigitalRiverError, Verdict, classify_response
    from fulfillmap.language._limits import Limits, set_limits
    from fulfillmap.language._resources import shipped_mapping_names as shipped_mappings
    from fulfillmap.plugins._registry import plugin_manager

__all__ = [  # noqa: RUF022 (plain sorted order, as tests/test_package.py checks)
    "Action",
    "Attempt",
    "CompiledMapping",
    "DigitalRiverError",
    "Engine",
    "EventError",
    "FieldStep",
    "FulfillmapError",
    "FulfillmapWarning",
    "IgnoreAction",
    "JSON",
    "Ledger",
    "LedgerError",
    "Limits",
    "MappingError",
    "NotifyAction",
    "OrderRecord",
    "Outcome",
    "Problem",
    "RecordAction",
    "RequestAction",
    "Result",
    "RuleCheck",
    "SpecError",
    "Trace",
    "Verdict",
    "Violation",
    "classify_response",
    "load",
    "plugin_manager",
    "set_limits",
    "shipped_mappings",
]

#: public name -> (module, name in that module)
_LAZY = {
    "Action": ("events._action", "Action"),
    "DigitalRiverError": ("events._responses", "DigitalRiverError"),
    "IgnoreAction": ("events._action", "IgnoreAction"),
    "Ledger": ("events._ledger", "Ledger"),
    "LedgerError": ("events._ledger_backend", "LedgerError"),
    "NotifyAction": ("events._action", "NotifyAction"),
    "OrderRecord": ("events._ledger", "OrderRecord"),
    "Outcome": ("events._process", "Outcome"),
    "RecordAction": ("events._action", "RecordAction"),
    "RequestAction": ("events._action", "RequestAction"),
    "Verdict": ("events._responses", "Verdict"),
    "classify_response": ("events._responses", "classify_response"),
    "Attempt": ("evaluate._trace", "Attempt"),
    "CompiledMapping": ("evaluate._mapping", "CompiledMapping"),
    "Engine": ("events._handler", "Engine"),
    "EventError": ("errors", "EventError"),
    "FieldStep": ("evaluate._trace", "FieldStep"),
    "FulfillmapError": ("errors", "FulfillmapError"),
    "FulfillmapWarning": ("errors", "FulfillmapWarning"),
    "Limits": ("language._limits", "Limits"),
    "MappingError": ("errors", "MappingError"),
    "Problem": ("errors", "Problem"),
    "Result": ("evaluate._mapping", "Result"),
    "RuleCheck": ("evaluate._trace", "RuleCheck"),
    "SpecError": ("errors", "SpecError"),
    "Trace": ("evaluate._trace", "Trace"),
    "Violation": ("evaluate._rules", "Violation"),
    "load": ("evaluate._mapping", "load"),
    "plugin_manager": ("plugins._registry", "plugin_manager"),
    "set_limits": ("language._limits", "set_limits"),
    "shipped_mappings": ("language._resources", "shipped_mapping_names"),
}


if not TYPE_CHECKING:  # at run time only: to a type checker every name is imported above
    import importlib

    def __getattr__(name: str) -> object:
        try:
            module, attribute = _LAZY[name]
        except KeyError:
            raise AttributeError(f"module 'fulfillmap' has no attribute '{name}'") from None
        value = getattr(importlib.import_module(f"fulfillmap.{module}"), attribute)
        globals()[name] = value  # the next lookup is a plain module attribute
        return value


def __dir__() -> list[str]:
    return sorted({*globals(), *__all__})
