"""The mapping language: YAML with marks, the language schema, expressions, the spec tree,
the checks, routes.

Internal: the public API is ``fulfillmap.__all__``."""
