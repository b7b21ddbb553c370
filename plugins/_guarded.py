"""A plugin's JMESPath function as compiled mappings and jmespath's interpreter call it: its
exceptions reported as fulfillmap's. Apart from the registry's jmespath function table, so
that a compiled mapping loaded from the cache calls plugin functions without jmespath."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from fulfillmap.errors import FulfillmapError
from fulfillmap.plugins._types import JMESPathFunction

__all__ = ["describe", "failed", "guarded"]


def guarded(function: JMESPathFunction) -> Callable[..., Any]:
    """``function``'s Python function, its exceptions reported as ours: a ``FulfillmapError``
    naming the function (what jmespath's call and the generated code both call)."""
    call = function.function

    def run(*args: Any) -> Any:
        try:
            return call(*args)
        except Exception as exc:
            raise failed(function.name, exc)  # noqa: B904 (its cause is set)

    run.__made_by__ = (guarded, (function,))  # type: ignore[attr-defined] # how it is pickled
    return run


def failed(name: str, exc: Exception) -> FulfillmapError:
    """What the function ``name`` that raised ``exc`` raises: ``exc`` itself when it is ours,
    else (a plugin's bug) a ``FulfillmapError`` naming the function, caused by ``exc``. The
    generated code calls plugins' functions itself, and this when one raises."""
    if isinstance(exc, FulfillmapError):
        return exc
    error = FulfillmapError(f"function {name}() failed: {describe(exc)}")
    error.__cause__ = exc
    return error


def describe(exc: BaseException) -> str:
    return f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__
