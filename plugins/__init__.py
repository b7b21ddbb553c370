"""fulfillmap's plugin system: the hook contract lives in :mod:`fulfillmap.plugins.hookspecs`.

Mark implementations with :data:`hookimpl`::

    from fulfillmap.plugins import hookimpl

    @hookimpl
    def fulfillmap_fields():
        return {"gift-message": lambda data: data.context.get("giftMessage")}
"""

from __future__ import annotations

import pluggy

from .hookspecs import FieldFunction, FieldInput, JMESPathFunction, reads_only

__all__ = ["FieldFunction", "FieldInput", "JMESPathFunction", "hookimpl", "reads_only"]

hookimpl = pluggy.HookimplMarker("fulfillmap")
