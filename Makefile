# The two commands: `make run` (gateway + demo on SQLite) and `make test` (every check).
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-$(shell cksum < pyproject.toml | cut -d' ' -f1)
PYTEST := $(BIN)/pytest -p no:cacheprovider

.PHONY: setup system-deps run test lint unit year-ahead e2e bench clean

setup: $(STAMP)

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	rm -f $(VENV)/.installed-* && touch $@

system-deps:
	@bash .ci/system-deps

run: setup
	$(BIN)/consent-gateway serve --demo

lint: setup
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

# The unit suite and the examples in gateway/'s docstrings, with line and branch coverage of
# gateway/ (servers the tests start are measured too); the report lists what is not covered.
unit: setup system-deps
	rm -f .coverage .coverage.*
	$(BIN)/coverage run -m pytest -p no:cacheprovider --doctest-modules gateway tests
	$(BIN)/coverage combine --quiet
	$(BIN)/coverage report

# The unit suite a year from now (libfaketime; the suite's
# redis-server runs on the real clock, see tests/servers.py): nothing may depend on the date.
year-ahead: setup system-deps
	faketime -f +365d $(PYTEST) -q tests --ignore=tests/test_openapi_live.py

e2e: setup system-deps
	$(PYTEST) e2e
	$(PYTEST) examples  # the README's example consent tests, through the pytest plugin

# Browser tests run in their own pytest process, after the async suite.
test: lint unit year-ahead e2e

bench: setup system-deps
	$(BIN)/pip install --quiet 'py-spy==0.4.2'  # as pyproject's `bench` extra
	$(BIN)/python -m bench

clean:
	rm -rf $(VENV) var .mypy_cache .ruff_cache
