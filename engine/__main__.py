"""``python -m fulfillmap``: the same as the ``fulfillmap`` command."""

from .cli import main

raise SystemExit(main())
