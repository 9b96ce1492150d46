# The two commands: `make run` (gateway + demo on SQLite) and `make test` (every check).
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-$(shell cksum < pyproject.toml | cut -d' ' -f1)
PYTEST := $(BIN)/pytest -p no:cacheprovider
# The banner's build tools (esbuild, TypeScript), from package-lock.json; `npm ci` only when
# node_modules is missing or older than the lockfile.
NODE_STAMP := node_modules/.installed-$(shell cksum < package-lock.json | cut -d' ' -f1)

.PHONY: setup system-deps run test lint docs banner unit year-ahead e2e e2e-run coverage-total year-ahead-then-e2e bench mutate clean

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
	NO_MKDOCS_2_WARNING=1 $(BIN)/mkdocs build --strict --quiet  # a broken link or anchor fails
	node gateway/banner/build.mjs --check
	node_modules/.bin/tsc -p gateway/banner/jsconfig.json

# The documentation site in site/ (docs/, mkdocs.yml); regenerates the reference pages first.
docs: setup
	$(BIN)/python docs/generate.py
	NO_MKDOCS_2_WARNING=1 $(BIN)/mkdocs build --strict

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

# The browser tests, measured too (their own coverage files, .coverage-e2e.*, so that they may
# run while `make unit` combines its own); `make e2e` then prints gateway/'s coverage by
# everything (after `make unit`).
e2e: e2e-run
	@$(MAKE) --no-print-directory coverage-total

e2e-run: setup system-deps
	rm -f .coverage-e2e.*
	COVERAGE_FILE=.coverage-e2e $(BIN)/coverage run -m pytest -p no:cacheprovider e2e
	COVERAGE_FILE=.coverage-e2e $(BIN)/coverage run -m pytest -p no:cacheprovider examples  # the docs' example consent tests (docs/audit.md)

coverage-total: setup
	$(BIN)/coverage combine --quiet --append $(wildcard .coverage-e2e.*)
	@echo "gateway/ coverage, lines and branches, unit + doctests + browser: $$($(BIN)/coverage report --format=total)%"

# Two lanes side by side (one core each; `-O` prints each one's output whole when it ends): the
# unit suite with coverage, and the suite a year ahead followed by the browser tests. Then the
# total coverage of both.
test: lint
	$(MAKE) --no-print-directory -j2 -O unit year-ahead-then-e2e
	$(MAKE) --no-print-directory coverage-total

year-ahead-then-e2e:
	$(MAKE) --no-print-directory year-ahead
	$(MAKE) --no-print-directory e2e-run

# The bench's own setup, not in .ci/system-deps (CI does not run the bench): bench/peer-deps
# installs php-fpm and php-curl (Debian, as root) for the peer row, matomo-org/tracker-proxy,
# which is taken from BENCH_TRACKER_PROXY or cloned once into ~/.cache at the pinned commit;
# without them that row is skipped and RESULTS.md says why. BENCH_SERVER=granian runs every
# Python server of the bench on granian instead of uvicorn (bench/servers.py).
bench: setup system-deps
	$(BIN)/pip install --quiet 'py-spy==0.4.2' 'granian==2.8.7'  # as pyproject's `bench` extra
	@bash bench/peer-deps
	$(BIN)/python -m bench

# Mutation testing of the core modules listed in tests/mutation/modules.toml, each against only
# the tests that cover it; fails below 95 % per module. Not part of `make test` (minutes, not
# seconds): run it before changing one of those modules (docs/development.md). One module:
# make mutate MODULES=gateway/decision.py
mutate: setup
	$(BIN)/pip install --quiet 'mutmut==3.8.1'  # as pyproject's `mutate` extra
	nice -n 10 $(BIN)/python -m tests.mutation.run $(MODULES)

clean:
	rm -rf $(VENV) node_modules var site .mypy_cache .ruff_cache .coverage .coverage.* .coverage-e2e.* htmlcov
