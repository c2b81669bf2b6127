# linzhang: `make run` serves the embedded system, `make test` runs every check and the whole suite.
# Both create and fill .venv themselves on a fresh machine, installing exactly what uv.lock pins.
#
# Adding or changing a dependency: edit pyproject.toml, run `make lock`, commit both files.

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
# The one tool that reads the lock; bootstrapped into .venv from the package index when missing.
UV_VERSION := 0.13.9
UV := $(BIN)/uv
# Reinstall whenever the lock or pyproject.toml changes: STAMP for the application and its development
# tools (make test), RUN_STAMP for the application alone (make run; satisfied by STAMP too).
LOCK_HASH := $(shell cat pyproject.toml uv.lock 2>/dev/null | sha1sum | cut -c1-12)
STAMP := $(VENV)/.installed-$(LOCK_HASH)
RUN_STAMP := $(VENV)/.installed-run-$(LOCK_HASH)
PG_URL ?= postgresql+psycopg://postgres@127.0.0.1:5432/postgres
REDIS_URL ?= redis://127.0.0.1:6379/15
# uv manages .venv (the project environment) and never downloads a Python of its own.
export UV_PROJECT_ENVIRONMENT := $(VENV)
export UV_PYTHON_DOWNLOADS := never
STALE_LOCK_HINT := uv.lock does not match pyproject.toml: after editing the dependencies in pyproject.toml, run: make lock - and commit uv.lock with it (README, Dependencies).

.PHONY: run test lint lock lock-check test-sqlite test-postgresql services browser bench clean

# A bare environment (seeding pip into it takes longer than everything else), then uv into it with
# the interpreter's own pip - or, where the interpreter has none, with a pip seeded after all.
$(UV):
	test -x $(BIN)/python || $(PYTHON) -m venv --without-pip $(VENV)
	if $(PYTHON) -m pip --version >/dev/null 2>&1; then \
	  $(PYTHON) -m pip install --quiet --prefix $(VENV) 'uv==$(UV_VERSION)'; \
	else \
	  $(BIN)/python -m ensurepip --default-pip && $(BIN)/python -m pip install --quiet 'uv==$(UV_VERSION)'; \
	fi

$(STAMP): pyproject.toml uv.lock | $(UV)
	@$(UV) lock --check --quiet 2>/dev/null || { echo '$(STALE_LOCK_HINT)' >&2; exit 1; }
	$(UV) sync --frozen --extra dev --quiet
	rm -f $(VENV)/.installed-*
	touch $@ $(RUN_STAMP)

# The application's locked packages only (fewer to fetch on a fresh clone); --inexact keeps the
# development tools a previous `make test` installed.
$(RUN_STAMP): pyproject.toml uv.lock | $(UV)
	@$(UV) lock --check --quiet 2>/dev/null || { echo '$(STALE_LOCK_HINT)' >&2; exit 1; }
	$(UV) sync --frozen --inexact --quiet
	rm -f $(VENV)/.installed-run-*
	touch $@

# Resolve pyproject.toml's dependencies again and write uv.lock (with hashes); commit the result.
lock: | $(UV)
	$(UV) lock

# Fails, with the hint above, when pyproject.toml and uv.lock disagree.
lock-check: | $(UV)
	@$(UV) lock --check --quiet 2>/dev/null || { echo '$(STALE_LOCK_HINT)' >&2; exit 1; }

# `make run PORT=8001` (or HOST=0.0.0.0) serves elsewhere; by default [http] host and port. The first
# run serves at once and loads the demo behind it (pages say 演示数据加载中 meanwhile; ADR 0020).
run: $(RUN_STAMP)
	$(BIN)/linzhang serve --upgrade --demo $(if $(HOST),--host $(HOST)) $(if $(PORT),--port $(PORT))

test: lock-check lint test-sqlite test-postgresql

lint: lock-check $(STAMP)
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
