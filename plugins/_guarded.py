"""A plugin's JMESPath function as compiled mappings and jmespath's interpreter call it: its
exceptions reported as fulfillmap's. Apart from the registry's jmespath function table, so
that a compiled mapping loaded from the cache calls plugin functions without jmespath."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from fulfillmap.errors import FulfillmapError
from fulfillmap.plugins._types import JMESPathFunction

__all__ = ["describe", "guarded"]


def guarded(function: JMESPathFunction) -> Callable[..., Any]:
    """``function``'s Python function, its exceptions reported as ours: a ``FulfillmapError``
    naming the function (what jmespath's call and the generated code both call)."""
    call = function.function

    def run(*args: Any) -> Any:
        try:
            return call(*args)
        except FulfillmapError:
            raise
        except Exception as exc:  # a plugin's bug, reported as ours
            raise FulfillmapError(f"function {function.name}() failed: {describe(exc)}") from exc

    run.__made_by__ = (guarded, (function,))  # type: ignore[attr-defined] # how it is pickled
    return run


def describe(exc: BaseException) -> str:
    return f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__
