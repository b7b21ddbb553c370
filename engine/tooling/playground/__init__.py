"""``fulfillmap playground``: a local page to edit a mapping and see, as you type, its
output, its problems and its trace.

``_engine`` is the one module that calls the engine (the same functions as ``validate``,
``map``, ``trace`` and ``test``); ``_worker`` runs it in a process with a time limit;
``_files`` reads the example payloads and writes the mapping and its test file;
``_server`` serves the page (``static/``, with the vendored CodeMirror bundle built from
``frontend/`` by ``make playground-bundle``).
"""

from fulfillmap.tooling.playground._files import Opened, open_mapping
from fulfillmap.tooling.playground._server import HOST, Playground, serve

__all__ = ["HOST", "Opened", "Playground", "open_mapping", "serve"]
