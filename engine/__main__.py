"""``python -m fulfillmap``: the same as the ``fulfillmap`` command."""

from fulfillmap.cli import main

raise SystemExit(main())
