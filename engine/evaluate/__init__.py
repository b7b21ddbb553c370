"""Evaluation: JMESPath to Python, the code generator, CompiledMapping, traces.

Internal: the public API is ``fulfillmap.__all__``."""
