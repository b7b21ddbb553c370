"""Digital River events: routing an event to its mapping and the Action to take.

Internal: the public API is ``fulfillmap.__all__``."""
