"""Shipped mapping specs (YAML); read with importlib.resources.files("fulfillmap.mappings")."""
