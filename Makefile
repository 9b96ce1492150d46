# The two commands: `make run` (gateway + demo on SQLite) and `make test` (every check).
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-$(shell cksum < pyproject.toml | cut -d' ' -f1)
PYTEST := $(BIN)/pytest -p no:cacheprovider

.PHONY: setup system-deps run test lint unit e2e bench clean

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

unit: setup system-deps
	$(PYTEST) tests

e2e: setup system-deps
	$(PYTEST) e2e
	$(PYTEST) examples  # the README's example consent tests, through the pytest plugin

# Browser tests run in their own pytest process, after the async suite.
test: lint unit e2e

bench: setup system-deps
	$(BIN)/python -m bench

clean:
	rm -rf $(VENV) var .mypy_cache .ruff_cache
