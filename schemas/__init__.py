"""Packaged JSON Schemas; read with importlib.resources.files("fulfillmap.schemas")."""
