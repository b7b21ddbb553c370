"""The extension contract: every hook fulfillmap calls, and the types they exchange (defined
in ``_types``, which needs no pluggy).

A plugin is a module or object with functions marked ``@fulfillmap.plugins.hookimpl`` and named
after the hooks below. Third-party plugins are found through the ``fulfillmap`` entry-point
group; the built-in plugins (``fulfillmap.plugins.builtin``) are registered the same way::

    [project.entry-points.fulfillmap]
    my-plugin = "my_package.fulfillmap_plugin"

Hooks are called with keyword arguments only and every implementation's result is collected.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import pluggy

from ._types import (
    FieldFunction,
    FieldInput,
    JMESPathFunction,
    Shortcut,
    is_reads_only,
    reads_only,
)

__all__ = [
    "FieldFunction",
    "FieldInput",
    "JMESPathFunction",
    "Shortcut",
    "fulfillmap_fields",
    "fulfillmap_functions",
    "hookspec",
    "is_reads_only",
    "reads_only",
]

hookspec = pluggy.HookspecMarker("fulfillmap")


@hookspec
def fulfillmap_fields() -> Mapping[str, FieldFunction]:  # type: ignore[empty-body]
    """Return the computed fields this plugin provides, by the name mappings use.

    A mapping uses one as ``{plugin: NAME, args: {...}}``. Names must be unique across all
    registered plugins; a clash is an error when the plugins are loaded.

    :return: a mapping of field name to field function
    """


@hookspec
def fulfillmap_functions() -> Sequence[JMESPathFunction]:  # type: ignore[empty-body]
    """Return extra JMESPath functions that mapping expressions may call.

    Names must not clash with JMESPath's built-in functions or with another plugin's.

    :return: the functions
    """
