"""The plugin registry: what the registered plugins provide, gathered once.

Plugins come from the ``fulfillmap`` entry-point group (the built-in plugin included) or from
a plugin manager the caller builds. The registry is the only place the hooks are called.
"""

from __future__ import annotations

import functools
import warnings
import weakref
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import TYPE_CHECKING, Any, cast

from fulfillmap.errors import FulfillmapError
from fulfillmap.plugins import FieldFunction, JMESPathFunction
from fulfillmap.plugins._guarded import describe, guarded

if TYPE_CHECKING:  # a compiled mapping from the cache calls plugins without either
    import jmespath
    import pluggy

__all__ = ["Registry", "default_registry", "guarded", "plugin_manager", "registry_for"]

ENTRY_POINT_GROUP = "fulfillmap"


#: the installed plugins that failed to load, per plugin manager: one message each
_BROKEN: weakref.WeakKeyDictionary[pluggy.PluginManager, tuple[str, ...]] = (
    weakref.WeakKeyDictionary()
)


def plugin_manager(*, entry_points: bool = True) -> pluggy.PluginManager:
    """A plugin manager with fulfillmap's hooks and (by default) every installed plugin.

    An installed plugin that fails to import (or to register) is left out and reported once,
    by name and entry point, as a ``RuntimeWarning``: everything else still works, and a
    mapping that needs what it would provide is invalid with that message.
    """
    import pluggy
    from fulfillmap.plugins import hookspecs

    manager = pluggy.PluginManager("fulfillmap")
    manager.add_hookspecs(hookspecs)
    if entry_points:
        _load_entry_points(manager)
    manager.check_pending()
    return manager


def _load_entry_points(manager: pluggy.PluginManager) -> None:
    """``manager.load_setuptools_entrypoints``, where one broken plugin breaks nothing else."""
    import importlib.metadata  # not on the compiled-mapping cache's path: it scans nothing

    broken: list[str] = []
    for point in importlib.metadata.entry_points(group=ENTRY_POINT_GROUP):
        if manager.has_plugin(point.name) or manager.is_blocked(point.name):
            continue
        try:
            manager.register(point.load(), name=point.name)
        except Exception as exc:  # whatever a third party's import raises
            failure = (
                f"the installed plugin '{point.name}' (entry point {point.value}) failed to "
                f"load, so fulfillmap runs without it: {describe(exc)}"
            )
            broken.append(failure)
            warnings.warn(failure, RuntimeWarning, stacklevel=3)
    _BROKEN[manager] = tuple(broken)


@dataclass(frozen=True)
class Registry:
    """Computed fields and JMESPath functions by name, with the plugin providing each."""

    fields: Mapping[str, FieldFunction]
    functions: Mapping[str, JMESPathFunction]
    owners: Mapping[str, str] = field(repr=False)
    options: jmespath.Options = field(repr=False, compare=False)
    #: why each installed plugin that failed to load was left out
    broken: tuple[str, ...] = ()
    #: the modules that implement the hooks and define the functions (the compiled-mapping
    #: cache keys on their files)
    modules: tuple[str, ...] = field(default=(), repr=False, compare=False)

    @property
    def function_names(self) -> frozenset[str]:
        """Every function an expression may call: JMESPath's own and the plugins'."""
        import jmespath.functions

        builtins = jmespath.functions.Functions.FUNCTION_TABLE
        return frozenset(builtins) | frozenset(self.functions)

    def arity(self, name: str) -> int | None:
        """How many arguments function ``name`` takes (None: variadic or unknown)."""
        plugin = self.functions.get(name)
        if plugin is not None:
            return len(plugin.signature)
        import jmespath.functions

        spec = jmespath.functions.Functions.FUNCTION_TABLE.get(name)
        if spec is None or any(arg.get("variadic") for arg in spec["signature"]):
            return None
        return len(spec["signature"])


@functools.cache
def default_registry() -> Registry:
    """The registry of every installed plugin, built once per process."""
    return registry_for(plugin_manager())


def registry_for(manager: pluggy.PluginManager) -> Registry:
    """Call the hooks of ``manager`` and gather what they provide; name clashes are errors."""
    import jmespath
    import jmespath.functions
    from fulfillmap.plugins._functions import function_table

    fields: dict[str, FieldFunction] = {}
    functions: dict[str, JMESPathFunction] = {}
    owners: dict[str, str] = {}
    broken = list(_BROKEN.get(manager, ()))
    modules: set[str] = set()
    for impl in manager.hook.fulfillmap_fields.get_hookimpls():
        provided = cast("Mapping[str, FieldFunction]", _provided(impl, broken, {}))
        modules.add(impl.function.__module__)
        for name, function in provided.items():
            _claim(owners, f"field '{name}'", impl.plugin_name)
            fields[name] = function
            modules.add(getattr(function, "__module__", None) or "")
    for impl in manager.hook.fulfillmap_functions.get_hookimpls():
        declared = cast("Sequence[JMESPathFunction]", _provided(impl, broken, ()))
        modules.add(impl.function.__module__)
        for jmes in declared:
            if jmes.name in jmespath.functions.Functions.FUNCTION_TABLE:
                raise FulfillmapError(
                    f"plugin '{impl.plugin_name}' redefines JMESPath's built-in function "
                    f"{jmes.name}(); choose another name"
                )
            _claim(owners, f"function {jmes.name}()", impl.plugin_name)
            functions[jmes.name] = jmes
            modules.add(getattr(jmes.function, "__module__", None) or "")
    return Registry(
        fields=MappingProxyType(fields),
        functions=MappingProxyType(functions),
        owners=MappingProxyType(owners),
        options=jmespath.Options(custom_functions=function_table(tuple(functions.values()))),
        broken=tuple(broken),
        modules=tuple(sorted(modules - {""})),
    )


def _provided(impl: Any, broken: list[str], empty: Any) -> Any:
    """What a hook implementation returns; ``empty`` (and the reason in ``broken``, and a
    warning) when it raises, so that one broken plugin breaks nothing else."""
    try:
        return impl.function()
    except Exception as exc:  # a plugin's bug, reported once
        failure = (
            f"the plugin '{impl.plugin_name}' failed in {impl.function.__name__}(), so "
            f"fulfillmap runs without what it provides: {describe(exc)}"
        )
        broken.append(failure)
        warnings.warn(failure, RuntimeWarning, stacklevel=4)
        return empty


def _claim(owners: dict[str, str], what: str, plugin: str) -> None:
    if what in owners:
        raise FulfillmapError(f"plugins '{owners[what]}' and '{plugin}' both provide {what}")
    owners[what] = plugin
