# The two commands: `make run` (gateway + demo on SQLite) and `make test` (every check).
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-$(shell cksum < pyproject.toml | cut -d' ' -f1)
PYTEST := $(BIN)/pytest -p no:cacheprovider
# The banner's build tools (esbuild, TypeScript), from package-lock.json; `npm ci` only when
# node_modules is missing or older than the lockfile.
NODE_STAMP := node_modules/.installed-$(shell cksum < package-lock.json | cut -d' ' -f1)

.PHONY: setup system-deps run test lint banner unit year-ahead e2e bench clean

setup: $(STAMP)

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	rm -f $(VENV)/.installed-* && touch $@

system-deps:
	@bash .ci/system-deps

$(NODE_STAMP): package-lock.json | system-deps
	npm ci --no-audit --no-fund --loglevel=error
	rm -f node_modules/.installed-* && touch $@

# Rebuild gateway/banner/static/ from gateway/banner/src/ (commit both).
banner: $(NODE_STAMP)
	node gateway/banner/build.mjs

run: setup
	$(BIN)/consent-gateway serve --demo

lint: setup $(NODE_STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy
	node gateway/banner/build.mjs --check
	node_modules/.bin/tsc -p gateway/banner/jsconfig.json

# The unit suite and the examples in gateway/'s docstrings, with line and branch coverage of
# gateway/ (servers the tests start are measured too); the report lists what is not covered,
# and is printed even when a test failed (the target still fails).
unit: setup system-deps
	rm -f .coverage .coverage.*
	$(BIN)/coverage run -m pytest -p no:cacheprovider --doctest-modules gateway tests; \
	  status=$$?; $(BIN)/coverage combine --quiet && $(BIN)/coverage report; exit $$status

# The unit suite a year from now (libfaketime; the suite's redis-server runs on the real clock,
# see tests/servers.py): nothing may depend on the date. The live schemathesis run has no date
# logic and is very slow under libfaketime: it is left out of this pass. To run fewer (CI time):
# make year-ahead YEAR_AHEAD_TESTS='tests/email tests/admin ...'.
YEAR_AHEAD_TESTS ?= tests --ignore=tests/test_openapi_live.py
year-ahead: setup system-deps
	faketime -f +365d $(PYTEST) -q $(YEAR_AHEAD_TESTS)

# Measured too: the total printed last is gateway/'s coverage by everything (after `make unit`).
e2e: setup system-deps
	$(BIN)/coverage run -m pytest -p no:cacheprovider e2e
	$(BIN)/coverage run -m pytest -p no:cacheprovider examples  # the README's example consent tests
	$(BIN)/coverage combine --quiet --append
	@echo "gateway/ coverage, lines and branches, unit + doctests + browser: $$($(BIN)/coverage report --format=total)%"

# Browser tests run in their own pytest process, after the async suite.
test: lint unit year-ahead e2e

bench: setup system-deps
	$(BIN)/pip install --quiet 'py-spy==0.4.2'  # as pyproject's `bench` extra
	$(BIN)/python -m bench

clean:
	rm -rf $(VENV) node_modules var .mypy_cache .ruff_cache .coverage .coverage.* htmlcov
