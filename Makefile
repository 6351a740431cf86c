# Two entry points (see README): `make demo` serves a demo school on the embedded SQLite default,
# `make test` runs the whole test suite. Both create the virtual environment themselves.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin

.PHONY: demo test test-shuffled lint bench vendor clean

$(BIN)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $@

# axe-core for the page tests (tests/web/) and htmx, from the npm registry at the versions of
# package-lock.json.
node_modules/.package-lock.json: package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error

# htmx is served from the Python package (no CDN): copied from the npm package it comes in.
vendor: node_modules/.package-lock.json
	cp node_modules/htmx.org/dist/htmx.min.js ejournal/web/static/htmx.min.js

demo: $(BIN)/.installed
	$(BIN)/ejournal serve --demo

# In two processes (pytest-xdist), a test file each at a time, so that a module's shared world is
# built once: about half the time waits on PostgreSQL or on a server a test started, and the other
# process works meanwhile. Two, CI's cores: more would open more PostgreSQL connections.
test: $(BIN)/.installed node_modules/.package-lock.json
	$(BIN)/python -m pytest -n 2 --dist loadfile $(PYTEST_ARGS)

# The suite in a new random order (pytest-randomly prints the seed; PYTEST_ARGS=--randomly-seed=N
# repeats one): finds tests that pass only after another.
test-shuffled: $(BIN)/.installed node_modules/.package-lock.json
	$(BIN)/python -m pytest -p randomly $(PYTEST_ARGS)

lint: $(BIN)/.installed
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy
	$(BIN)/lint-imports
	@complex="$$($(BIN)/radon cc --min D --show-complexity ejournal)"; \
	if [ -n "$$complex" ]; then echo "$$complex"; echo "radon: functions of grade D or worse"; exit 1; fi

bench: $(BIN)/.installed
	$(BIN)/python benchmarks/ingest.py

clean:
	rm -rf $(VENV) node_modules ejournal.db ejournal.db-*
