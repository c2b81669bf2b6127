# linzhang: `make run` serves the embedded system, `make test` runs every check and the whole suite.
# Both create and fill .venv themselves on a fresh machine.

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
# Reinstall whenever pyproject.toml changes.
STAMP := $(VENV)/.installed-$(shell cat pyproject.toml | sha1sum | cut -c1-12)
PG_URL ?= postgresql+psycopg://postgres@127.0.0.1:5432/postgres
REDIS_URL ?= redis://127.0.0.1:6379/15

.PHONY: run test lint test-sqlite test-postgresql services browser bench clean

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	rm -f $(VENV)/.installed-*
	touch $@

# `make run PORT=8001` (or HOST=0.0.0.0) serves elsewhere; by default [http] host and port.
run: $(STAMP)
	$(BIN)/linzhang db upgrade
	$(BIN)/linzhang demo
	$(BIN)/linzhang serve $(if $(HOST),--host $(HOST)) $(if $(PORT),--port $(PORT))

test: lint test-sqlite test-postgresql

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy
	$(BIN)/lint-imports

test-sqlite: $(STAMP) browser
	LINZHANG_TEST_BACKEND=sqlite $(BIN)/pytest

test-postgresql: $(STAMP) services browser
	LINZHANG_TEST_BACKEND=postgresql LINZHANG_TEST_PG_URL=$(PG_URL) LINZHANG_TEST_REDIS_URL=$(REDIS_URL) $(BIN)/pytest

services:
	scripts/ensure-services

# Debian's chromium for the browser tests (tests/browser/).
browser:
	scripts/ensure-browser

# Every benchmark at a quick size, then one table (figure, same-run baseline, goal, met);
# `make bench FULL=1` for the sizes the goals are stated at. Redis: BENCH_REDIS_URL.
BENCH_REDIS_URL ?= redis://127.0.0.1:6379/14
bench: $(STAMP) services
	$(BIN)/python bench/run.py --redis-url $(BENCH_REDIS_URL) $(if $(FULL),--full,)

clean:
	rm -rf $(VENV) var .pytest_cache .mypy_cache .ruff_cache .hypothesis
