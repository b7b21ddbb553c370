"""The jmespath function table of a registry: JMESPath's functions (a ``Decimal`` taken as a
number) and the plugins' functions. Imported with jmespath, when first needed: by the
registry, and by a compiled mapping loaded from the cache when it first calls through it."""

from __future__ import annotations

import functools
from typing import Any, cast

import jmespath.functions
from fulfillmap.plugins._guarded import guarded
from fulfillmap.plugins._types import JMESPathFunction

__all__ = ["declared", "function_table"]


class _Functions(jmespath.functions.Functions):
    """JMESPath's functions with a ``Decimal`` taken as the number it is.

    Integrators parse amounts with ``parse_float=Decimal`` (G3); jmespath's type checks know
    only ``int`` and ``float``, so ``sum()`` over Decimal counters would be a type error.
    A table with the plugins' functions pickles as the functions it was made from (the
    compiled-mapping cache stores it so), each function by its module and name.
    """

    declared: tuple[JMESPathFunction, ...] = ()

    def __reduce__(self) -> tuple[Any, ...]:
        return (function_table, (self.declared,))

    def _get_allowed_pytypes(self, types: Any) -> tuple[list[str], list[Any]]:
        allowed, subtypes = cast("Any", super())._get_allowed_pytypes(types)
        return _with_decimal(allowed), [_with_decimal(names) for names in subtypes]

    def _convert_to_jmespath_type(self, pyobject: str) -> str:
        if pyobject == "Decimal":
            return "number"
        return str(cast("Any", super())._convert_to_jmespath_type(pyobject))

    @jmespath.functions.signature({"types": []})
    def _func_type(self, arg: Any) -> str:
        return self._convert_to_jmespath_type(type(arg).__name__)


def _with_decimal(names: Any) -> list[str]:
    return [*names, "Decimal"] if "float" in names else list(names)


@functools.cache
def function_table(functions: tuple[JMESPathFunction, ...]) -> jmespath.functions.Functions:
    """A jmespath ``Functions`` instance that also knows the plugins' functions (one per
    set of functions: the compiled mappings loaded from the cache share it)."""
    methods: dict[str, Any] = {f"_func_{f.name}": _method(f) for f in functions}
    methods["declared"] = functions
    cls = type("PluginFunctions", (_Functions,), methods)
    return cast("jmespath.functions.Functions", cls())


def _method(function: JMESPathFunction) -> Any:
    run = guarded(function)

    def method(self: object, *args: Any) -> Any:
        return run(*args)

    method.signature = [  # type: ignore[attr-defined]
        {"types": [] if "any" in types else list(types)} for types in function.signature
    ]
    return method


def declared(table: object) -> tuple[JMESPathFunction, ...] | None:
    """The plugins' functions ``table`` was made of, when ``function_table`` made it."""
    return table.declared if isinstance(table, _Functions) else None
