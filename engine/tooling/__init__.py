"""Integrators' tools: rendering, explain, lint, reports, mapping tests, coverage, the pytest
plugin.

Internal: the public API is ``fulfillmap.__all__``."""
