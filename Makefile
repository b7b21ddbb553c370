# fulfillmap developer commands. Everything installs into .venv; nothing global is relied on.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin

.PHONY: install demo test lint typecheck bench clean playground-bundle

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip

# A strict editable install: mypy can see the package, and the layout matches the wheel's.
# The example plugin is installed too, so that its tests load it through its entry point.
install: $(BIN)/python
	$(BIN)/python -m pip install -q -e ".[test]" --config-settings editable_mode=strict
	$(BIN)/python -m pip install -q ./examples/fulfillmap-gift-plugin

demo: install
	@echo "== order-to-fulfillment-order (examples/order.json, context examples/order.context.json)"
	@$(BIN)/fulfillmap map order-to-fulfillment-order examples/order.json --context examples/order.context.json
	@echo "== shipped-event-to-fulfillment (examples/shipped-event.json)"
	@$(BIN)/fulfillmap map shipped-event-to-fulfillment examples/shipped-event.json
	@echo "== cancelled-event-to-fulfillment (examples/cancelled-event.json)"
	@$(BIN)/fulfillmap map cancelled-event-to-fulfillment examples/cancelled-event.json
	@echo "== fulfillmap handle (each lifecycle event -> the Action to take, one JSON line each)"
	@for event in order-accepted pending backordered shipped cancelled; do \
		$(BIN)/fulfillmap handle examples/$$event-event.json --context examples/order.context.json; done
	@echo "== fulfillmap validate (the shipped mappings)"
	@$(BIN)/fulfillmap validate

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/lint-imports

typecheck: install
	$(BIN)/mypy

test: lint typecheck
	$(BIN)/pytest

# The benchmark (not a test): installs the engines it compares with, prints the table and
# whether every target is met. Copy its output into docs/performance.md.
# /usr/bin/time measures each child process's own peak memory.
bench: install
	@test -x /usr/bin/time || apt-get install -y -q time
	$(BIN)/python -m pip install -q -e ".[test,bench]" --config-settings editable_mode=strict
	$(BIN)/python bench/run.py

# The playground's vendored CodeMirror bundle (engine/tooling/playground/static/codemirror.js),
# rebuilt from frontend/ and its lock file. Only for changing it: installing never needs Node.
playground-bundle:
	cd frontend && npm ci --no-audit --no-fund && npm run build

clean:
	rm -rf $(VENV) build dist *.egg-info .pytest_cache .mypy_cache .ruff_cache
