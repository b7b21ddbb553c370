"""fulfillmap's plugin system: the hook contract lives in :mod:`fulfillmap.plugins.hookspecs`.

Mark implementations with :data:`hookimpl`::

    from fulfillmap.plugins import hookimpl

    @hookimpl
    def fulfillmap_fields():
        return {"gift-message": lambda data: data.context.get("giftMessage")}

``hookimpl`` marks a function exactly as ``pluggy.HookimplMarker("fulfillmap")`` does (the
attribute ``fulfillmap_impl``, which ``pluggy.PluginManager.register`` reads), without
importing pluggy: a compiled mapping loaded from the cache imports the plugin modules whose
functions it calls, and needs no plugin manager.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Final, TypeVar, overload

from ._types import FieldFunction, FieldInput, JMESPathFunction, Shortcut, reads_only

__all__ = [
    "FieldFunction",
    "FieldInput",
    "JMESPathFunction",
    "Shortcut",
    "hookimpl",
    "reads_only",
]

_F = TypeVar("_F", bound=Callable[..., Any])


class _HookimplMarker:
    """``pluggy.HookimplMarker``'s decorator: the same options, the same attribute."""

    __slots__ = ("project_name",)

    def __init__(self, project_name: str) -> None:
        self.project_name: Final = project_name

    @overload
    def __call__(
        self,
        function: _F,
        hookwrapper: bool = ...,
        optionalhook: bool = ...,
        tryfirst: bool = ...,
        trylast: bool = ...,
        specname: str | None = ...,
        wrapper: bool = ...,
    ) -> _F: ...

    @overload
    def __call__(
        self,
        function: None = ...,
        hookwrapper: bool = ...,
        optionalhook: bool = ...,
        tryfirst: bool = ...,
        trylast: bool = ...,
        specname: str | None = ...,
        wrapper: bool = ...,
    ) -> Callable[[_F], _F]: ...

    def __call__(
        self,
        function: _F | None = None,
        hookwrapper: bool = False,
        optionalhook: bool = False,
        tryfirst: bool = False,
        trylast: bool = False,
        specname: str | None = None,
        wrapper: bool = False,
    ) -> _F | Callable[[_F], _F]:
        def mark(func: _F) -> _F:
            options = {
                "wrapper": wrapper,
                "hookwrapper": hookwrapper,
                "optionalhook": optionalhook,
                "tryfirst": tryfirst,
                "trylast": trylast,
                "specname": specname,
            }
            setattr(func, self.project_name + "_impl", options)
            return func

        return mark if function is None else mark(function)


hookimpl = _HookimplMarker("fulfillmap")
